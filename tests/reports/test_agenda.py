"""Agenda selection (pure) and the agenda/meetings API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dutydesk.reports.agenda import Row, render, select_status, select_triage, select_weekly_triage
from tests.conftest import Api, ManualClock

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def row(key: str, **kw: object) -> Row:
    base: dict[str, object] = {
        "key": key,
        "title": f"title {key}",
        "kind": "bug",
        "priority": "P1",
        "status": "To do",
        "assignee": None,
        "team": "mobile",
        "blocked": False,
        "blocked_reason": None,
        "triaged": True,
        "in_queue": True,
        "created_at": NOW - timedelta(days=2),
        "last_activity": NOW - timedelta(days=1),
    }
    base.update(kw)
    return Row(**base)  # type: ignore[arg-type]


def test_triage_agenda_lists_untriaged_unowned_and_non_bugs() -> None:
    rows = [
        row("SET-1", triaged=False, priority=None),
        row("SET-2", team=None),
        row("SET-3", kind="question"),
        row("SET-4", kind="feature-request"),  # already a conversion target
        row("SET-5"),
    ]
    sections = select_triage(rows, NOW, has_teams=True)
    got = {s.title: [i.split()[0] for i in s.items] for s in sections}
    assert got == {
        "Awaiting triage (1)": ["SET-1"],
        "No owning team (1)": ["SET-2"],
        "Non-bugs to convert (1)": ["SET-3"],
    }
    assert "(filed 2d 0h ago)" in sections[0].items[0]


def test_status_agenda_groups_members_work_and_blockers() -> None:
    rows = [
        row("SET-1", status="In progress", assignee="gus"),
        row("SET-2", status="Submitted", assignee="gus"),
        row(
            "SET-3",
            status="In progress",
            assignee="finn",
            blocked=True,
            blocked_reason="needs logs",
        ),
    ]
    sections = select_status(rows, ["In progress", "Submitted"], "To do", free=["ivan"])
    assert [s.title for s in sections] == [
        "finn",
        "gus",
        "Blockers (1)",
        "Nothing in To do",
        "Free to take feature-team work",
    ]
    assert sections[0].items == ["SET-3 title SET-3 (In progress) — blocked: needs logs"]
    assert sections[-2].items == ["the queue is empty"]  # nobody with work is called free
    assert sections[-1].items == ["ivan (on call, no open ticket assigned)"]


def test_weekly_triage_shows_queue_and_backlog_and_renders_markdown() -> None:
    rows = [
        row("INFRA-1", status="New"),
        row("INFRA-2", priority="P3", in_queue=False),
        row("INFRA-3", priority=None, triaged=False, in_queue=False, status="New"),
    ]
    sections = select_weekly_triage(rows, NOW)
    assert [(s.title, [i.split()[0] for i in s.items]) for s in sections] == [
        ("Queue (1)", ["INFRA-1"]),
        ("Awaiting triage in the backlog (no queue criterion ticked) (1)", ["INFRA-3"]),
        ("Backlog (below the queue's admission priorities) (1)", ["INFRA-2"]),
    ]
    text = render("Infra: weekly-triage meeting", sections)
    assert text.startswith(
        "**Infra: weekly-triage meeting**\n\nQueue (1):\n* INFRA-1 [P1] title INFRA-1 (New, 2d 0h old)"
    )


def test_agenda_and_meetings_api(api: Api, clock: ManualClock) -> None:
    key = api.file("rita")["key"]
    assert api.post("bo", f"/api/v1/tickets/{key}/triage", {"priority": "P3"}).status_code == 200
    r = api.req("dee", "GET", "/api/v1/desks/infra/agenda", params={"meeting": "weekly-triage"})
    assert r.status_code == 200, r.text
    agenda = r.json()
    assert agenda["start"].startswith("2026-11-25T11:00:00-08:00")
    backlog = next(s for s in agenda["sections"] if s["title"].startswith("Backlog"))
    assert backlog["items"][0].startswith(f"[{key}](")
    meetings = api.req("dee", "GET", "/api/v1/desks/set/meetings", params={"days": 3}).json()
    assert [(m["meeting"], m["start"][:16]) for m in meetings] == [
        ("triage", "2026-11-24T10:00"),
        ("status", "2026-11-24T10:30"),
        ("triage", "2026-11-26T10:00"),
        ("status", "2026-11-26T10:30"),
    ]
    bad = api.req("dee", "GET", "/api/v1/desks/infra/agenda", params={"meeting": "standup"})
    assert bad.status_code == 422 and "has no meeting 'standup'" in bad.json()["detail"]
