"""Status posts for consecutive weeks add up: each window is its week, a fix counts once (when
it was first submitted), and explain names every ticket behind every number. The release
calendar moves the daily meetings; a past agenda shows what was true then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dutydesk.notify.jobs import write
from dutydesk.notify.rows import Job
from dutydesk.reports.jobs import run_status_post
from dutydesk.state import AppState
from tests.conftest import Api, ManualClock

DAY = timedelta(days=1)
MON = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Mon Nov 23, 12:00 in Toronto
PR = "https://github.com/acme/chat/pull/"


def at(clock: ManualClock, when: datetime) -> None:
    assert when >= clock.now
    clock.now = when


def act(api: Api, key: str, action: str, body: dict[str, Any], who: str = "eva") -> None:
    r = api.post(who, f"/api/v1/tickets/{key}/{action}", body)
    assert r.status_code == 200, r.text


def post(api: Api, day: str | None = None) -> dict[str, Any]:
    r = api.req("eva", "GET", "/api/v1/desks/set/status-post", params={"date": day} if day else {})
    assert r.status_code == 200, r.text
    return r.json()


def keys(items: list[dict[str, Any]]) -> list[str]:
    return [i["key"] for i in items]


def test_three_consecutive_weeks_add_up(api: Api, clock: ManualClock) -> None:
    a = api.file("rita", desk="set", title="Crash on pinned channel", kind="bug")["key"]
    b = api.file("rita", desk="set", title="Search drops quotes", kind="bug")["key"]
    c = api.file(
        "rita",
        desk="set",
        title="Customer cannot log in",
        kind="escalation",
        customer_reported=True,
    )["key"]
    d = api.file("rita", desk="set", title="Write the retry story", kind="story")["key"]
    for k in (a, b, c, d):
        act(api, k, "assign", {"assignee": "finn"})
        act(api, k, "move", {"to": "In progress"})
    at(clock, MON + 2 * DAY)  # Wed Nov 25: week of the Dec 1 post
    act(api, a, "move", {"to": "Submitted", "pr_link": PR + "1"})
    at(clock, MON + 3 * DAY)
    r = api.req("eva", "PATCH", f"/api/v1/tickets/{b}", json={"pr_links": [PR + "2"]})
    assert r.status_code == 200, r.text  # the fix is up: submitted now, moved later
    at(clock, MON + 9 * DAY)  # Wed Dec 2: week of the Dec 8 post
    act(api, b, "move", {"to": "Submitted"})  # has its link: not counted a second time
    act(api, a, "move", {"to": "Done", "resolution": "fixed"})
    at(clock, MON + 10 * DAY)
    act(api, c, "move", {"to": "Submitted", "pr_link": PR + "3"})
    at(clock, MON + 16 * DAY)  # Wed Dec 9: week of the Dec 15 post
    act(api, c, "move", {"to": "Done", "resolution": "fixed"})
    act(api, d, "move", {"to": "Done", "resolution": "fixed"})  # a story: not a bug
    at(clock, MON + 17 * DAY)  # Thu Dec 10

    w1, w2, w3 = post(api, "2026-12-01"), post(api, "2026-12-08"), post(api, "2026-12-15")
    assert w1["window"]["to"] == w2["window"]["from"] and w2["window"]["to"] == w3["window"]["from"]
    assert (w1["made"], w2["made"], w3["made"]) == (True, True, False)
    assert post(api) == w3  # this week's post is the one still to be made
    assert keys(w1["bug_fix_prs_submitted"]) == sorted([a, b], key=lambda k: k)
    assert keys(w2["bug_fix_prs_submitted"]) == [c]
    assert keys(w3["bug_fix_prs_submitted"]) == []
    assert keys(w1["bugs_resolved"]) == [] and keys(w2["bugs_resolved"]) == [a]
    assert keys(w3["bugs_resolved"]) == [c]  # an escalation is a bug (bug_kinds); d is not
    counted = [k for w in (w1, w2, w3) for k in keys(w["bug_fix_prs_submitted"])]
    assert len(counted) == len(set(counted)) == 3
    assert "Bug fix PRs submitted in the last 7 days: 1 (1 reported by customer)" in w2["text"]
    assert "Bugs resolved in the last 7 days: 1 (1 reported by customers)" in w3["text"]
    why = {c["key"]: c["why"] for c in w1["explain"]["bug_fix_prs_submitted"]}
    assert why == {a: f"bug, first PR link added: {PR}1", b: f"bug, first PR link added: {PR}2"}
    assert keys(w2["explain"]["bug_fix_prs_submitted_by_customers"]) == [c]
    assert keys(w3["explain"]["bugs_resolved_by_customers"]) == [c]
    # In progress at the Dec 1 post: b, c and d (a had gone to Submitted).
    assert sorted(keys(w1["explain"]["in_progress"])) == sorted([b, c, d])


def test_moving_into_submitted_asks_for_a_pr_link(api: Api) -> None:
    k = api.file("rita", desk="set", title="Badge count wrong", kind="bug")["key"]
    act(api, k, "assign", {"assignee": "finn"})
    act(api, k, "move", {"to": "In progress"})
    r = api.post("eva", f"/api/v1/tickets/{k}/move", {"to": "Submitted"})
    assert r.status_code == 409 and r.json()["rule"] == "pr-link-required"
    assert "--pr URL" in r.json()["detail"]
    r = api.post("eva", f"/api/v1/tickets/{k}/move", {"to": "Submitted", "pr_link": "not a url"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("pr_link")
    act(api, k, "move", {"to": "Submitted", "pr_link": PR + "9"})
    t = api.req("eva", "GET", f"/api/v1/tickets/{k}").json()
    assert t["status"] == "Submitted" and t["pr_links"] == [PR + "9"]


def test_notes_removed_leave_later_posts_but_not_made_ones(api: Api, clock: ManualClock) -> None:
    r = api.post("eva", "/api/v1/desks/set/status-notes", {"text": "Release 11.2 slips a week"})
    assert r.status_code == 201, r.text
    note = r.json()["id"]
    assert api.post("finn", f"/api/v1/desks/set/status-notes/{note}/remove").status_code == 403
    at(clock, MON + 2 * DAY)  # after the Nov 24 post, before the Dec 1 one
    assert "* Release 11.2 slips a week" in post(api, "2026-11-24")["text"]
    r = api.post("eva", f"/api/v1/desks/set/status-notes/{note}/remove")
    assert r.status_code == 200, r.text
    assert "slips" in post(api, "2026-11-24")["text"]  # the made post keeps it
    r = api.post("eva", "/api/v1/desks/set/status-notes", {"text": "Mobile 3.1 is out"})
    assert [n["text"] for n in api.req("eva", "GET", "/api/v1/desks/set/status-notes").json()] == [
        "Mobile 3.1 is out"
    ]
    assert api.post("eva", f"/api/v1/desks/set/status-notes/{note}/remove").status_code == 409


def meetings(api: Api, days: int, past: int = 0) -> list[tuple[str, str]]:
    r = api.req("eva", "GET", "/api/v1/desks/set/meetings", params={"days": days, "past": past})
    assert r.status_code == 200, r.text
    return [(m["meeting"], m["start"][:10]) for m in r.json() if m["meeting"] == "triage"]


def test_release_calendar_drives_the_daily_triage(api: Api, clock: ManualClock) -> None:
    r = api.post("eva", "/api/v1/desks/set/releases", {"name": "11.2", "date": "2026-12-04"})
    assert r.status_code == 201, r.text
    assert (
        api.post(
            "finn", "/api/v1/desks/set/releases", {"name": "x", "date": "2026-12-04"}
        ).status_code
        == 403
    )
    dup = api.post("eva", "/api/v1/desks/set/releases", {"name": "11.2", "date": "2026-12-05"})
    assert dup.status_code == 409 and "move it instead" in dup.json()["detail"]
    days = [d for _, d in meetings(api, 20)]
    # Tue/Thu, plus every business day of the 5 before Fri Dec 4; none daily before Dec 16:
    # the calendar, not the policy's day of the month, says when releases are.
    assert days == [
        "2026-11-24",
        "2026-11-26",
        "2026-11-27",
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
        "2026-12-08",
        "2026-12-10",
    ]
    r = api.post(
        "eva",
        "/api/v1/desks/set/releases/11.2/move",
        {"date": "2026-12-11", "note": "QA found a blocker"},
    )
    assert r.status_code == 200 and r.json()["date"] == "2026-12-11"
    days = [d for _, d in meetings(api, 20)]
    assert "2026-11-27" not in days and "2026-12-04" in days and "2026-12-09" in days
    cal = api.req("eva", "GET", "/api/v1/desks/set/releases").json()
    assert [(h["action"], h["actor"], h["before"], h["after"]) for h in cal["history"]] == [
        ("moved", "eva", "2026-12-04", "2026-12-11"),
        ("added", "eva", None, "2026-12-04"),
    ]
    assert (
        api.post("eva", "/api/v1/desks/set/releases/9.9/move", {"date": "2026-12-11"}).status_code
        == 404
    )
    bad = api.post("eva", "/api/v1/desks/set/releases", {"name": "12.0", "date": "2026-13-01"})
    assert bad.status_code == 422


def test_a_past_agenda_shows_what_was_true_then(api: Api, clock: ManualClock) -> None:
    k = api.file("rita", desk="set", title="Reactions vanish after reload", kind="bug")["key"]
    at(clock, MON + 2 * DAY)  # Wed: after Tuesday's triage, before Thursday's
    act(api, k, "triage", {"priority": "P2", "team": "mobile"})
    act(api, k, "assign", {"assignee": "ivan"})
    act(api, k, "move", {"to": "In progress"})
    at(clock, MON + 4 * DAY)  # Fri
    act(api, k, "move", {"to": "Submitted", "pr_link": PR + "5"})
    act(api, k, "move", {"to": "Done", "resolution": "fixed"})

    def agenda(day: str, meeting: str) -> dict[str, Any]:
        r = api.req(
            "eva", "GET", "/api/v1/desks/set/agenda", params={"date": day, "meeting": meeting}
        )
        assert r.status_code == 200, r.text
        return r.json()

    tuesday = agenda("2026-11-24", "triage")
    awaiting = tuesday["sections"][0]
    assert awaiting["title"] == "Awaiting triage (1)" and awaiting["keys"] == [k]
    thursday = agenda("2026-11-26", "status")
    assert any(s["title"] == "ivan" and s["keys"] == [k] for s in thursday["sections"])
    assert "(In progress)" in thursday["text"]
    assert agenda("2026-11-26", "triage")["sections"][0]["keys"] == []
    # Today the ticket is done: the next meeting does not name it.
    nxt = api.req("eva", "GET", "/api/v1/desks/set/agenda", params={"meeting": "status"}).json()
    assert k not in nxt["text"]


def test_post_now_then_the_scheduled_post_posts_nothing_twice(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    assert api.post("finn", "/api/v1/desks/set/status-post/publish", {}).status_code == 403
    r = api.post("eva", "/api/v1/desks/set/status-post/publish", {})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "desk": "set",
        "date": "2026-11-24",
        "channels": ["set-chat"],
        "messages": 1,
        "already_posted": False,
    }
    assert api.post("eva", "/api/v1/desks/set/status-post/publish", {}).json()["already_posted"]
    # Tue Nov 24, 11:00 in Toronto: the status meeting ends and the scheduled post runs.
    at(clock, datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    with state.db.write() as s:
        for day, expected in (("2026-11-24", 0), ("2026-12-01", 1)):
            job = Job(
                f"job:status-post:set:{day}", {"job": "status-post", "desk": "set", "date": day}
            )
            rows = run_status_post(s, state.policy, job, clock.now)
            assert len(rows) == 1  # the scheduled run still builds its post ...
            assert write(s, state.policy, rows, clock.now) == expected  # ... posted once
