"""The SET weekly status post, exactly in the DESIGN.md §6 template, from the event history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from dutydesk.reports.status_post import FieldChange, TicketHistory, compose, fix_submitted
from tests.conftest import Api, ManualClock

T0 = datetime(
    2026, 12, 1, 16, 0, tzinfo=UTC
)  # Tue Dec 1, 11:00 in Toronto: the status meeting ends


def hist(key: str, *changes: tuple[float, str, Any, Any], **kw: Any) -> TicketHistory:
    base: dict[str, Any] = {
        "key": key,
        "title": f"title {key}",
        "kind": "bug",
        "customer_reported": False,
        "status": "Done",
        "resolution": "fixed",
        "assignee": "finn",
        "blocked": False,
        "blocked_reason": None,
        "order_key": key,
        "created_at": T0 - timedelta(days=30),
    }
    base.update(kw)
    return TicketHistory(
        changes=tuple(FieldChange(T0 + timedelta(days=d), f, b, a) for d, f, b, a in changes),
        **base,
    )


def compose_at(histories: list[TicketHistory], notes: list[str] = []) -> str:  # noqa: B006
    return compose(
        histories,
        notes,
        end=T0,
        local_date=date(2026, 12, 1),
        tag="set-update",
        started="In progress",
        intake="To do",
        submitted="Submitted",
        resolutions=["fixed"],
    ).text


def test_template_is_exact() -> None:
    histories = [
        hist("SET-1", (-2, "resolution", None, "fixed"), customer_reported=True),
        hist("SET-2", (-3, "resolution", None, "fixed")),
        hist("SET-3", (-9, "resolution", None, "fixed")),  # before the window
        hist("SET-4", (-1, "resolution", None, "duplicate"), resolution="duplicate"),  # not fixed
        hist("SET-5", (-1, "resolution", None, "fixed"), kind="story"),  # not a bug
        hist(
            "SET-6",
            (-4, "status", "In progress", "Submitted"),
            status="Submitted",
            resolution=None,
            customer_reported=True,
        ),
        hist(
            "SET-7",
            (-5, "status", "To do", "In progress"),
            status="In progress",
            resolution=None,
            assignee="gus",
            blocked=True,
            blocked_reason="waiting on logs",
        ),
        hist("SET-8", status="To do", resolution=None, assignee=None, order_key="a"),
        hist("SET-9", status="To do", resolution=None, assignee=None, order_key="b", blocked=True),
    ]
    assert compose_at(histories, ["Release 11.2 is cut on Friday"]) == (
        "#set-update #set-update-2026-12-01\n"
        "\n"
        "Bugs resolved in the last 7 days: 2 (1 reported by customers)\n"
        "Bug fix PRs submitted in the last 7 days: 1 (1 reported by customer)\n"
        "\n"
        "In progress fixes:\n"
        "* SET-7 title SET-7 (gus)\n"
        "\n"
        "Next in the queue:\n"
        "* SET-8 title SET-8\n"
        "\n"
        "Notes:\n"
        "* Release 11.2 is cut on Friday\n"
        "* SET-7 is blocked: waiting on logs\n"
    )


def test_later_events_are_undone_for_a_past_week() -> None:
    # Resolved in the window, reopened after the post: it still counts for that week.
    reopened = hist(
        "SET-1",
        (-2, "resolution", None, "fixed"),
        (2, "resolution", "fixed", None),
        (2, "status", "Done", "To do"),
        status="To do",
        resolution=None,
    )
    # In progress at the post, submitted after it.
    moved = hist(
        "SET-2",
        (-5, "status", "To do", "In progress"),
        (1, "status", "In progress", "Submitted"),
        status="Submitted",
        resolution=None,
    )
    # Resolved and reopened inside the window: not resolved at the post.
    bounced = hist(
        "SET-3",
        (-3, "resolution", None, "fixed"),
        (-1, "resolution", "fixed", None),
        status="To do",
        resolution=None,
        order_key="z",
    )
    text = compose_at([reopened, moved, bounced])
    assert "Bugs resolved in the last 7 days: 1 (0 reported by customers)" in text
    assert "Bug fix PRs submitted in the last 7 days: 0 (0 reported by customer)" in text
    assert "In progress fixes:\n* SET-2 title SET-2 (finn)\n" in text
    assert "Next in the queue:\n* SET-3 title SET-3\n" in text
    assert "Notes:\n* none\n" in text


def test_empty_week_says_none() -> None:
    assert compose_at([]).endswith(
        "In progress fixes:\n* none\n\nNext in the queue:\n* none\n\nNotes:\n* none\n"
    )


# ----------------------------------------------------------------------------- from the API


def at(clock: ManualClock, when: datetime) -> None:
    assert when >= clock.now
    clock.now = when


def flow(api: Api, key: str, *steps: tuple[str, dict[str, Any]]) -> None:
    for action, body in steps:
        r = api.post("eva", f"/api/v1/tickets/{key}/{action}", body)
        assert r.status_code == 200, r.text


def test_status_post_from_real_history(api: Api, clock: ManualClock) -> None:
    day = timedelta(days=1)
    start = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    a = api.file(
        "rita",
        desk="set",
        title="Crash when opening a pinned channel",
        kind="bug",
        customer_reported=True,
    )["key"]
    b = api.file("rita", desk="set", title="Search ignores quoted phrases", kind="bug")["key"]
    c = api.file("rita", desk="set", title="Push notifications arrive twice", kind="bug")["key"]
    d = api.file("rita", desk="set", title="Refactor websocket reconnect", kind="tech-debt")["key"]
    g = api.file("rita", desk="set", title="Emoji picker freezes", kind="bug")["key"]
    flow(
        api,
        a,
        ("assign", {"assignee": "finn"}),
        ("move", {"to": "In progress"}),
        ("move", {"to": "Submitted", "pr_link": "https://github.com/acme/chat/pull/1"}),
    )
    at(clock, start + 2 * day)  # Wed Nov 25: inside the window of the Dec 1 post
    flow(api, a, ("move", {"to": "Done", "resolution": "fixed"}))
    flow(api, g, ("move", {"to": "Done", "resolution": "duplicate", "duplicate_of": a}))
    at(clock, start + 3 * day)
    flow(
        api,
        b,
        ("assign", {"assignee": "gus"}),
        ("move", {"to": "In progress"}),
        ("move", {"to": "Submitted", "pr_link": "https://github.com/acme/chat/pull/2"}),
    )
    at(clock, start + 4 * day)
    flow(
        api,
        c,
        ("assign", {"assignee": "ivan"}),
        ("move", {"to": "In progress"}),
        ("block", {"reason": "waiting on device logs"}),
    )
    at(clock, start + 7 * day)  # Mon Nov 30
    r = api.post("eva", "/api/v1/desks/set/status-notes", {"text": "Release 11.2 is cut on Friday"})
    assert r.status_code == 201, r.text
    at(clock, start + 9 * day)  # Wed Dec 2: later changes must not leak into the Dec 1 post
    flow(
        api,
        c,
        ("unblock", {}),
        ("move", {"to": "Submitted", "pr_link": "https://github.com/acme/chat/pull/3"}),
    )
    flow(api, d, ("assign", {"assignee": "kai"}), ("move", {"to": "In progress"}))

    r = api.req("eva", "GET", "/api/v1/desks/set/status-post", params={"date": "2026-12-01"})
    assert r.status_code == 200, r.text
    post = r.json()
    assert datetime.fromisoformat(post["window"]["to"]) == T0  # the status meeting's end
    assert post["text"] == (
        "#set-update #set-update-2026-12-01\n"
        "\n"
        "Bugs resolved in the last 7 days: 1 (1 reported by customers)\n"
        "Bug fix PRs submitted in the last 7 days: 1 (0 reported by customer)\n"
        "\n"
        "In progress fixes:\n"
        f"* [{c}](http://127.0.0.1:8080/tickets/{c}) Push notifications arrive twice (ivan)\n"
        "\n"
        "Next in the queue:\n"
        f"* [{d}](http://127.0.0.1:8080/tickets/{d}) Refactor websocket reconnect\n"
        "\n"
        "Notes:\n"
        "* Release 11.2 is cut on Friday\n"
        f"* {c} is blocked\n"
    )
    assert [x["key"] for x in post["bugs_resolved"]] == [a]
    assert [x["key"] for x in post["bug_fix_prs_submitted"]] == [b]


def test_only_leads_add_notes(api: Api) -> None:
    r = api.post("finn", "/api/v1/desks/set/status-notes", {"text": "hello"})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_fix_is_submitted_once_at_its_first_link_or_move() -> None:
    link = ["https://github.com/acme/chat/pull/1"]
    moved_first = hist(
        "SET-1",
        (-6, "status", "In progress", "Submitted"),
        (-1, "pr_links", [], link),  # the link came later: the move was the submission
        pr_links=tuple(link),
    )
    linked_first = hist(
        "SET-2",
        (-9, "pr_links", [], link),  # before the window: not this week's
        (-2, "status", "In progress", "Submitted"),
        pr_links=tuple(link),
    )
    filed_with_link = hist("SET-3", pr_links=tuple(link), created_at=T0 - timedelta(days=3))
    never = hist("SET-4", (-2, "status", "To do", "In progress"))
    assert fix_submitted(moved_first, "Submitted") == (
        T0 - timedelta(days=6),
        "moved into Submitted",
    )
    assert fix_submitted(linked_first, "Submitted") == (
        T0 - timedelta(days=9),
        f"first PR link added: {link[0]}",
    )
    assert fix_submitted(filed_with_link, "Submitted") == (
        T0 - timedelta(days=3),
        "filed with a PR link",
    )
    assert fix_submitted(never, "Submitted") is None
    post = compose(
        [moved_first, linked_first, filed_with_link, never],
        [],
        end=T0,
        local_date=date(2026, 12, 1),
        tag="set-update",
        started="In progress",
        intake="To do",
        submitted="Submitted",
        resolutions=["fixed"],
    )
    assert [c.key for c in post.submitted] == ["SET-1", "SET-3"]
