"""Pure view helpers: no database, no app."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dutydesk.oncall import schedule as sched
from dutydesk.policy import Policy
from dutydesk.policy.rotations import rotation_from_policy
from dutydesk.tickets.models import Comment, Event, Ticket
from dutydesk.web import cards, present, queue_query, rotations, timeline, vendor

NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def test_format_when_uses_the_zone_and_names_it() -> None:
    assert present.format_when(NOW, "America/Los_Angeles") == "Mon 23 Nov 2026 09:00 PST"
    assert present.format_when(None) == "—"
    assert present.format_when(NOW).endswith("UTC")
    assert present.format_when(NOW.isoformat(), "America/Toronto") == "Mon 23 Nov 2026 12:00 EST"


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/desks/infra/board", "/desks/infra/board"),
        ("/tickets/INFRA-1?x=1", "/tickets/INFRA-1?x=1"),
        ("https://evil.example/", "/me"),
        ("//evil.example/x", "/me"),
        ("/\\evil.example", "/me"),
        ("javascript:alert(1)", "/me"),
        ("", "/me"),
        (None, "/me"),
    ],
)
def test_safe_next_only_follows_local_paths(target: str | None, safe: str) -> None:
    assert present.safe_next(target) == safe


def test_priority_class() -> None:
    assert present.priority_class("P0") == "prio-p0"
    assert present.priority_class(None) == "prio-none"
    assert present.priority_class('P9" onmouseover="x') == "prio-other"


def _ticket(**kw: object) -> Ticket:
    base: dict[str, object] = {
        "desk": "infra",
        "number": 1,
        "title": "t",
        "kind": "request",
        "priority": None,
        "status": "New",
        "assignee_id": None,
        "team": None,
        "blocked": False,
        "blocked_reason": None,
        "created_at": NOW - timedelta(hours=3),
        "version": 1,
        "triaged_at": None,
        "reporter_id": 9,
    }
    base.update(kw)
    return Ticket(**base)


def test_board_columns_group_cards_in_policy_order(policy: Policy) -> None:
    desk = policy.desks["infra"]
    names = {7: "ana"}
    shown = [
        cards.card_of(_ticket(number=1, status="In progress", assignee_id=7), names, desk, NOW),
        cards.card_of(_ticket(number=2), names, desk, NOW),
        cards.card_of(_ticket(number=3), names, desk, NOW),
        cards.card_of(_ticket(number=4, status="Gone"), names, desk, NOW),
    ]
    cols = cards.board_columns(desk, shown, {"New": 250})
    assert [c.name for c in cols] == ["New", "Triaged", "In progress", "Done"]
    new, triaged, doing, done = cols
    assert [c.key for c in new.cards] == ["INFRA-2", "INFRA-3"]
    assert new.rankable and not doing.rankable and done.is_done
    assert new.total == 250 and new.more == 248
    assert doing.cards[0].assignee == "ana" and doing.cards[0].age == "3h"
    assert doing.needs_assignee and not new.needs_assignee
    assert triaged.cards == [] and triaged.more == 0
    assert new.cards[0].moves == ("Triaged", "In progress", "Done")
    assert new.dom_id == "col-new" and doing.dom_id == "col-in-progress"


def _event(
    seq: int,
    type_: str,
    field: str | None = None,
    before: object = None,
    after: object = None,
    minutes: int = 0,
    **data: object,
) -> Event:
    return Event(
        ticket_id=1,
        seq=seq,
        at=NOW + timedelta(minutes=minutes),
        actor_id=1,
        type=type_,
        field=field,
        before=before,
        after=after,
        data=data,
    )


def test_timeline_merges_one_action_and_places_comments() -> None:
    c1 = Comment(
        id=10,
        ticket_id=1,
        author_id=1,
        body="hi",
        body_html="<p>hi</p>",
        public=True,
        created_at=NOW + timedelta(minutes=5),
    )
    c2 = Comment(
        id=11,
        ticket_id=1,
        author_id=2,
        body="secret",
        body_html="<p>secret</p>",
        public=False,
        created_at=NOW + timedelta(minutes=6),
    )
    events = [
        (_event(1, "filed", after="INFRA-1", criteria=["Degraded service"]), "rita"),
        (_event(2, "changed", "priority", None, "P1", minutes=1), "ana"),
        (_event(3, "changed", "triaged_at", None, "2026-01-01T00:00:00", minutes=1), "ana"),
        (_event(4, "triaged", None, None, "P1", minutes=1), "ana"),
        (_event(5, "changed", "status", "New", "Triaged", minutes=1), "ana"),
        (_event(6, "commented", minutes=5, comment_id=10, kind="comment"), "ana"),
        (_event(7, "commented", minutes=6, comment_id=11, kind="comment"), "bo"),
        (_event(8, "changed", "duplicate_of", None, "INFRA-9", minutes=7), "bo"),
    ]
    # The viewer may see only the public comment: the internal one and its event are left out.
    items = timeline.timeline(events, [(c1, "ana")])
    assert [i.kind for i in items] == ["event", "event", "comment", "event"]
    assert items[0].text == "filed this ticket (criteria: Degraded service)"
    assert items[1].actor == "ana"
    assert items[1].text == "set priority to P1; triaged it as P1; moved it from New to Triaged"
    assert items[2].html == "<p>hi</p>"
    assert items[3].parts == (("marked it a duplicate of INFRA-9", "INFRA-9"),)
    with_internal = timeline.timeline(events, [(c1, "ana"), (c2, "bo")])
    assert [i.public for i in with_internal if i.kind == "comment"] == [True, False]


@pytest.mark.parametrize(
    ("event", "words"),
    [
        (
            _event(1, "admission", "in_queue", True, False, to="backlog", reason="priority P3"),
            "moved it to the weekly triage backlog (priority P3)",
        ),
        (
            _event(1, "blocked", "blocked_reason", None, "waiting on IT"),
            "marked it blocked: waiting on IT",
        ),
        (_event(1, "unblocked"), "unblocked it"),
        (_event(1, "ranked", before_key="SET-2"), "moved it above SET-2"),
        (_event(1, "ranked", after_key="SET-3"), "moved it below SET-3"),
        (_event(1, "converted", "kind", "bug", "story"), "converted it from bug to story"),
        (
            _event(1, "duplicate_linked", "duplicates", None, "SET-4"),
            "SET-4 was closed as a duplicate of this ticket",
        ),
        (_event(1, "changed", "assignee", "ana", None), "cleared assignee (was ana)"),
        (_event(1, "changed", "labels", ["a"], ["a", "b"]), "changed labels from a to a, b"),
        (_event(1, "changed", "description", "x", "y"), "edited the description"),
        (
            _event(1, "returned", "status", None, "New", reason="unassigned while in progress"),
            "it went back to New (unassigned while in progress)",
        ),
        (
            _event(1, "imported", source="github", external_id="o/r#4", url="https://x.test/4"),
            "imported it from github as o/r#4 (https://x.test/4)",
        ),
        (_event(1, "something_new"), "something new"),
    ],
)
def test_describe_event(event: Event, words: str) -> None:
    assert timeline.describe_event(event)[0] == words


def test_queue_query_round_trips_through_the_url() -> None:
    q = queue_query.QueueQuery.parse(
        {"view": "backlog", "priority": "P2", "blocked": "yes", "q": " disk ", "junk": "x"}
    )
    assert q.filters() == {"priority": ["P2"], "q": "disk", "blocked": True}
    assert q.url("infra") == "/desks/infra/queue?view=backlog&priority=P2&blocked=yes&q=disk"
    assert queue_query.QueueQuery.parse({}).url("set") == "/desks/set/queue"
    assert (
        queue_query.QueueQuery.parse({"view": "nonsense", "blocked": "maybe"})
        == queue_query.QueueQuery()
    )
    assert not queue_query.QueueQuery().active and q.active


def test_saved_filter_params() -> None:
    assert queue_query.saved_filter_params({"desk": "infra", "in_queue": False, "open": True}) == {
        "view": "backlog"
    }
    assert queue_query.saved_filter_params(
        {"desk": "set", "kind": "bug", "resolved_within": "7d", "customer_reported": True}
    ) == {"kind": "bug", "view": "closed"}
    assert queue_query.saved_filter_params({"priority": ["P0", "P1"], "blocked": False}) == {
        "priority": "P0",
        "blocked": "no",
    }


def test_month_grid_and_navigation() -> None:
    weeks = present.month_grid(2026, 2)
    assert len(weeks) == 5 and weeks[0][6] == date(2026, 2, 1) and weeks[0][0] is None
    assert present.parse_month("2026-12", date(2026, 1, 1)) == (2026, 12)
    assert present.parse_month("2026-13", date(2026, 1, 5)) == (2026, 1)
    assert present.parse_month(None, date(2026, 3, 5)) == (2026, 3)
    assert present.shift_month(2026, 12, 1) == "2027-01"
    assert present.shift_month(2026, 1, -1) == "2025-12"


def _compiled(policy: Policy) -> dict[str, sched.Schedule | str]:
    return {
        name: sched.Schedule(rotation_from_policy(name, rot.model_dump(exclude_defaults=True)))
        for name, rot in policy.rotations.items()
    }


def test_rotations_from_the_example_policy(policy: Policy) -> None:
    compiled = _compiled(policy)
    desks = {d.desk: d for d in rotations.desk_rotations(policy, compiled, NOW)}
    infra, set_ = desks["infra"], desks["set"]
    assert [d.person for d in infra.now] == ["bo"]  # Monday 09:00 PST: the 10:00 handoff is next
    assert infra.upcoming[0].person == "chen"
    assert {d.layer for d in set_.now} == {"lead", "channels", "playbooks", "mobile", "platform"}
    lead = next(d for d in set_.now if d.layer == "lead")
    assert lead.label.startswith("lead (")
    assert rotations.on_call_desks(policy, compiled, "bo", NOW) == ["infra"]
    assert rotations.on_call_desks(policy, compiled, "rita", NOW) == []
    assert infra.overrides == []
    broken = rotations.desk_rotations(policy, {"set": "bad rotation"}, NOW)
    assert [d.error for d in broken] == ["not declared", "bad rotation"]


def test_month_days_marks_handoffs(policy: Policy) -> None:
    found = _compiled(policy)["infra-oncall"]
    assert not isinstance(found, str)
    days = rotations.month_days(found, 2026, 11)
    assert days[date(2026, 11, 23)][0].handoff_at == "10:00"
    assert days[date(2026, 11, 24)][0].handoff_at is None
    assert days[date(2026, 11, 23)][0].person != days[date(2026, 11, 22)][0].person
    weeks = rotations.calendar_weeks(days, 2026, 11)
    assert all(len(w) == 7 for w in weeks)


def test_vendor_copy(tmp_path: Path) -> None:
    nm = tmp_path / "node_modules"
    (nm / "htmx.org" / "dist").mkdir(parents=True)
    (nm / "htmx.org" / "dist" / "htmx.min.js").write_text("htmx")
    with pytest.raises(FileNotFoundError, match="sortablejs"):
        vendor.copy_vendor(nm, tmp_path / "out")
    (nm / "sortablejs").mkdir()
    (nm / "sortablejs" / "Sortable.min.js").write_text("sortable")
    with pytest.raises(FileNotFoundError, match=r"chart\.js"):
        vendor.copy_vendor(nm, tmp_path / "out")
    (nm / "chart.js" / "dist").mkdir(parents=True)
    (nm / "chart.js" / "dist" / "chart.umd.min.js").write_text("chart")
    written = vendor.copy_vendor(nm, tmp_path / "out")
    assert sorted(p.name for p in written) == [
        "Sortable.min.js",
        "chart.umd.min.js",
        "htmx.min.js",
    ]
    assert (tmp_path / "out" / "htmx.min.js").read_text() == "htmx"


def test_nearest_clock_prefers_breached_then_least_time_left() -> None:
    clocks = [
        {"name": "triage", "state": "met", "remaining_seconds": -5},
        {"name": "update", "state": "running", "remaining_seconds": 3600},
        {"name": "resolve", "state": "at_risk", "remaining_seconds": 600},
    ]
    assert cards.nearest_clock(clocks)["name"] == "resolve"  # type: ignore[index]
    clocks.append({"name": "late", "state": "breached", "remaining_seconds": -60})
    assert cards.nearest_clock(clocks)["name"] == "late"  # type: ignore[index]
    assert cards.nearest_clock([{"name": "x", "state": "paused"}]) is None
    assert cards.nearest_clock([]) is None
