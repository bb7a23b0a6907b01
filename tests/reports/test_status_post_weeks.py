"""Status posts for consecutive weeks cross-checked against the event history.

A realistic month on the SET desk is built through the API (PR links added on their own and
with a move, a fix that spans two weeks, a reopened ticket, a bug and an escalation, a ticket
routed to a feature team, a duplicate). Each post's figures are then compared with a count
made independently from the ``events`` table, for past weeks, this week and a future one.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from dutydesk.reports.status_post import post_window
from dutydesk.state import AppState
from dutydesk.tickets.models import Event, Ticket
from tests.conftest import Api, ManualClock
from tests.oncall.test_cli_on_test_db import cli_on

PR = "https://github.com/acme/chat/pull/{}"
BUG_KINDS = ("bug", "escalation")  # the example policy's status_post.bug_kinds
WEEKS = [date(2026, 11, 24), date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 15)]


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def step(api: Api, who: str, key: str, action: str, body: dict[str, Any]) -> None:
    ok(api.post(who, f"/api/v1/tickets/{key}/{action}", body))


def patch(api: Api, who: str, key: str, body: dict[str, Any]) -> None:
    ok(api.req(who, "PATCH", f"/api/v1/tickets/{key}", json=body))


def independent_counts(
    state: AppState, start: datetime, end: datetime
) -> tuple[dict[str, bool], dict[str, bool]]:
    """Resolved and submitted bugs of the window ``(start, end]``, read straight from the
    events table: key -> customer-reported (no kind or customer flag changes in this history).

    Resolved: a resolution set to ``fixed`` inside the window, still ``fixed`` at ``end``.
    Submitted: the ticket's first PR link or first move into Submitted, whichever is earlier,
    falls inside the window."""
    with state.db.read() as s:
        tickets = {t.id: t for t in s.scalars(select(Ticket).where(Ticket.desk == "set"))}
        events = list(s.scalars(select(Event).order_by(Event.ticket_id, Event.seq)))
    by_ticket: dict[int, list[Event]] = defaultdict(list)
    for e in events:
        if e.ticket_id in tickets and e.type == "changed":
            by_ticket[e.ticket_id].append(e)
    resolved: dict[str, bool] = {}
    submitted: dict[str, bool] = {}
    for tid, evs in by_ticket.items():
        t = tickets[tid]
        if t.kind not in BUG_KINDS:
            continue
        res = [e for e in evs if e.field == "resolution" and e.at <= end]
        if (
            res
            and res[-1].after == "fixed"
            and any(start < e.at for e in res if e.after == "fixed")
        ):
            resolved[t.key] = t.customer_reported
        firsts = [
            e.at
            for e in evs
            if (e.field == "pr_links" and not e.before and e.after)
            or (e.field == "status" and e.after == "Submitted")
        ]
        if firsts and start < min(firsts) <= end:
            submitted[t.key] = t.customer_reported
    return resolved, submitted


def post(api: Api, day: date) -> dict[str, Any]:
    return ok(api.req("eva", "GET", "/api/v1/desks/set/status-post", params={"date": str(day)}))


def test_three_weeks_of_posts_add_up_against_the_event_history(
    api: Api, clock: ManualClock, state: AppState
) -> None:
    windows = [post_window(state.policy, "set", d) for d in WEEKS]
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert end == start  # consecutive windows meet exactly
    day = timedelta(days=1)
    w2, w3 = (w[0] + timedelta(hours=1) for w in windows[1:3])
    clock.now = datetime(2026, 11, 23, 17, tzinfo=UTC)  # Mon, inside the Nov 24 window

    def file(title: str, kind: str = "bug", **kw: Any) -> str:
        return str(api.file("rita", desk="set", title=title, kind=kind, **kw)["key"])

    crash = file("Crash when opening a pinned channel", customer_reported=True)
    search = file("Search ignores quoted phrases")
    reopened = file("Unread badge stays after reading")
    escalation = file("Customer cannot export audit log", kind="escalation", customer_reported=True)
    debt = file("Refactor websocket reconnect", kind="tech-debt")
    routed = file("Channel sidebar flickers on resize")
    waiting = file("Emoji picker freezes on large servers")
    dup = file("Pinned channel crash on open")
    later = file("Video calls drop after ten minutes")  # SET's until it is routed in week 3

    # Week of Nov 24: a fix submitted with its move; a link added before any move; a fix
    # submitted and done, to be reopened next week.
    step(api, "eva", crash, "assign", {"assignee": "finn"})
    step(api, "finn", crash, "move", {"to": "In progress"})
    refused = api.post("finn", f"/api/v1/tickets/{crash}/move", {"to": "Submitted"})
    assert refused.status_code == 409 and "pr_link" in refused.json()["detail"]
    step(api, "finn", crash, "move", {"to": "Submitted", "pr_link": PR.format(1)})
    step(api, "eva", search, "assign", {"assignee": "gus"})
    step(api, "gus", search, "move", {"to": "In progress"})
    patch(api, "gus", search, {"pr_links": [PR.format(2)]})  # the fix's PR is up; no move yet
    step(api, "eva", reopened, "assign", {"assignee": "ivan"})
    step(api, "ivan", reopened, "move", {"to": "In progress"})
    step(api, "ivan", reopened, "move", {"to": "Submitted", "pr_link": PR.format(3)})
    step(api, "ivan", reopened, "move", {"to": "Done", "resolution": "fixed"})
    patch(api, "eva", routed, {"team": "channels"})  # a feature team's work: leaves SET's queue

    clock.now = w2 + day  # week of Dec 1
    step(api, "finn", crash, "move", {"to": "Done", "resolution": "fixed"})
    step(api, "gus", search, "move", {"to": "Submitted"})  # linked last week: counted then
    step(api, "eva", dup, "move", {"to": "Done", "resolution": "duplicate", "duplicate_of": crash})
    step(api, "ivan", reopened, "move", {"to": "To do"})  # reopened: the fix did not hold
    step(api, "ivan", reopened, "move", {"to": "In progress"})
    clock.now += day
    step(api, "ivan", reopened, "move", {"to": "Submitted", "pr_link": PR.format(4)})
    step(api, "eva", escalation, "assign", {"assignee": "kai"})
    step(api, "kai", escalation, "move", {"to": "In progress"})
    step(api, "kai", escalation, "move", {"to": "Submitted", "pr_link": PR.format(5)})
    step(api, "eva", debt, "assign", {"assignee": "kai"})
    step(api, "kai", debt, "move", {"to": "In progress"})
    step(api, "kai", debt, "move", {"to": "Submitted", "pr_link": PR.format(6)})

    clock.now = w3 + day  # week of Dec 8 (this week's post is still ahead)
    step(api, "ivan", reopened, "move", {"to": "Done", "resolution": "fixed"})
    step(api, "kai", escalation, "move", {"to": "Done", "resolution": "fixed"})
    step(api, "gus", search, "move", {"to": "Done", "resolution": "fixed"})
    step(api, "eva", waiting, "assign", {"assignee": "jo"})
    step(api, "jo", waiting, "move", {"to": "In progress"})
    patch(api, "eva", later, {"team": "mobile"})

    posts = [post(api, d) for d in WEEKS]
    assert [p["made"] for p in posts] == [True, True, False, False]
    previous: set[str] = set()
    for (start, end), p in zip(windows, posts, strict=True):
        assert (p["window"]["from"], p["window"]["to"]) == (start.isoformat(), end.isoformat())
        resolved, submitted = independent_counts(state, start, end)
        assert {c["key"]: c["customer"] for c in p["bugs_resolved"]} == resolved
        assert {c["key"]: c["customer"] for c in p["bug_fix_prs_submitted"]} == submitted
        text = p["text"]
        n_res, n_sub = len(resolved), len(submitted)
        assert (
            f"Bugs resolved in the last 7 days: {n_res} "
            f"({sum(resolved.values())} reported by customers)"
        ) in text
        assert (
            f"Bug fix PRs submitted in the last 7 days: {n_sub} "
            f"({sum(submitted.values())} reported by customer)"
        ) in text
        explain = p["explain"]
        assert [c["key"] for c in explain["bug_fix_prs_submitted"]] == list(submitted)
        assert previous.isdisjoint(submitted)  # no fix counted in two consecutive posts
        previous = set(submitted)
        assert routed not in [t["key"] for t in explain["next_in_queue"]]

    # What was built, week by week, so a wrong independent count cannot pass unnoticed.
    got = [
        (
            sorted(c["key"] for c in p["bugs_resolved"]),
            sorted(c["key"] for c in p["bug_fix_prs_submitted"]),
        )
        for p in posts
    ]
    assert got == [
        (sorted([reopened]), sorted([crash, search, reopened])),
        (sorted([crash]), sorted([escalation])),
        (sorted([reopened, escalation, search]), []),
        ([], []),
    ]
    now_listed = [t["key"] for t in posts[2]["explain"]["in_progress"]]
    assert now_listed == [waiting]
    assert [t["key"] for t in posts[1]["explain"]["in_progress"]] == []
    assert waiting not in [t["key"] for t in posts[2]["explain"]["next_in_queue"]]
    assert waiting in [t["key"] for t in posts[1]["explain"]["next_in_queue"]]
    assert later in [t["key"] for t in posts[1]["explain"]["next_in_queue"]]  # as it was then
    assert later not in [t["key"] for t in posts[2]["explain"]["next_in_queue"]]

    # The command line prints the same posts, and --explain names every ticket behind them.
    run = cli_on(state)
    for d, p in zip(WEEKS, posts, strict=True):
        shown = run("status-post", "--date", str(d), "--explain")
        assert shown.stdout == p["text"]
        assert f"window: after {p['window']['from']} up to {p['window']['to']}" in shown.stderr
        for c in p["bug_fix_prs_submitted"]:
            assert f"  {c['key']} {c['title']}" in shown.stderr
    assert run("report", "set-update", "--date", "2026-12-01").stdout == posts[1]["text"]
