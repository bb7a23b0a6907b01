"""JSONL import through the service, on a real database: creation with history, idempotent
re-runs, updates, refusals with line numbers, duplicates by external id, dry runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dutydesk.imports.models import TicketSource
from dutydesk.imports.service import import_jsonl
from dutydesk.notify.models import NotifyChange
from dutydesk.state import AppState
from dutydesk.tickets.models import Comment, Event, Ticket


def rec(ext: str, **kw: Any) -> dict[str, Any]:
    return {
        "external_id": ext,
        "title": f"Ticket {ext}",
        "body": "b",
        "created": "2025-03-01T10:00:00Z",
        **kw,
    }


def lines(*records: dict[str, Any]) -> list[str]:
    return [json.dumps(r) for r in records]


def ticket(state: AppState, ext: str) -> Ticket:
    with state.db.read() as s:
        src = s.scalar(select(TicketSource).where(TicketSource.external_id == ext))
        assert src is not None
        t = s.get(Ticket, src.ticket_id)
        assert t is not None
        return t


def test_a_closed_ticket_keeps_its_history_and_says_it_was_imported(state: AppState) -> None:
    r = rec(
        "GH-1",
        reporter="octo cat",
        priority="P1",
        resolution="Fixed",
        resolved="2025-03-03T09:00:00+00:00",
        labels=["infra"],
        component="Build",
        url="https://github.com/o/r/issues/1",
        comments=[
            {"author": "bo", "created": "2025-03-02T08:00:00Z", "body": "on it"},
            {"author": "stranger", "created": "2025-03-01T12:00:00Z", "body": "me too"},
        ],
    )
    result = import_jsonl(state, lines(r), desk="infra", actor="admin")
    assert (result.created, result.rejected) == (1, [])
    t = ticket(state, "GH-1")
    assert t.status == "Done" and t.resolution == "fixed" and not t.is_open
    assert t.created_at.isoformat() == "2025-03-01T10:00:00+00:00"
    assert t.labels == ["infra", "component:Build"] and t.priority == "P1"
    with state.db.read() as s:
        events = s.scalars(select(Event).where(Event.ticket_id == t.id).order_by(Event.seq)).all()
        kinds = [(e.type, e.field) for e in events]
        assert kinds[0] == ("filed", None) and kinds[-1] == ("imported", None)
        assert events[-1].data["url"] == "https://github.com/o/r/issues/1"
        stamps = [e.at for e in events[:-1]]
        assert stamps == sorted(stamps)  # history in its original order
        authors = s.execute(
            select(Comment.body, Comment.created_at)
            .where(Comment.ticket_id == t.id)
            .order_by(Comment.created_at)
        ).all()
        assert [a[0] for a in authors] == ["me too", "on it"]
        # historical tickets are not news: nothing queued for the on-call
        assert s.scalar(select(func.count()).select_from(NotifyChange)) == 0


def test_rerun_adds_nothing_and_a_changed_row_updates(state: AppState) -> None:
    first = lines(rec("A"), rec("B", priority="P2"))
    import_jsonl(state, first, desk="infra", actor="admin")
    again = import_jsonl(state, first, desk="infra", actor="admin")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = lines(
        rec(
            "A",
            title="Renamed",
            comments=[{"author": "ana", "created": "2025-03-05T00:00:00Z", "body": "x"}],
        ),
        rec("B", priority="P2"),
    )
    third = import_jsonl(state, changed, desk="infra", actor="admin")
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    t = ticket(state, "A")
    assert t.title == "Renamed"
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2
        assert (
            s.scalar(select(func.count()).select_from(Comment).where(Comment.ticket_id == t.id))
            == 1
        )
    fourth = import_jsonl(state, changed, desk="infra", actor="admin")
    assert fourth.unchanged == 2


def test_bad_rows_are_refused_with_their_line_and_the_rest_go_in(
    state: AppState, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b"\n".join(
            [
                json.dumps(rec("ok-1")).encode(),
                b'{"external_id": "x", "summary": "renamed column", "created": "2025-01-01"}',
                json.dumps(rec("bad-prio", priority="Blocker")).encode(),
                b'{"external_id": "trunc", "title": "cut off',
                json.dumps(rec("ok-1")).encode(),
                '{"external_id": "latin", "title": "caf\xe9"}'.encode("latin-1"),
                json.dumps(rec("done-no-res", status="Done")).encode(),
                json.dumps(rec("ok-2")).encode(),
            ]
        )
    )
    result = import_jsonl(state, path, desk="infra", actor="admin")
    assert result.created == 2
    by_line = {r.line: r for r in result.rejected}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7]
    assert "summary" in by_line[2].reason
    assert "Blocker" in by_line[3].reason
    assert "JSON" in by_line[4].reason
    assert "line 1" in by_line[5].reason
    assert "UTF-8" in by_line[6].reason
    assert "resolution" in by_line[7].reason
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2


def test_duplicates_link_by_external_id_even_forward(state: AppState) -> None:
    result = import_jsonl(
        state,
        lines(rec("dup", duplicate_of=["orig"]), rec("orig"), rec("lost", duplicate_of="nowhere")),
        desk="infra",
        actor="admin",
    )
    assert result.created == 3
    dup, orig = ticket(state, "dup"), ticket(state, "orig")
    assert dup.resolution == "duplicate" and dup.duplicate_of_id == orig.id
    assert any("nowhere" in w for w in result.warnings)


def test_a_dry_run_reports_and_stores_nothing(state: AppState) -> None:
    import_jsonl(state, lines(rec("A")), desk="infra", actor="admin")
    result = import_jsonl(
        state,
        lines(rec("A", title="new title"), rec("B"), rec("C", priority="nope")),
        desk="infra",
        actor="admin",
        dry_run=True,
    )
    assert (result.created, result.updated, result.rejected_count) == (1, 1, 1)
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
    assert ticket(state, "A").title == "Ticket A"


def test_rows_over_the_limits_are_refused_without_holding_them(state: AppState) -> None:
    huge_line = json.dumps(rec("huge", body="y" * 1_200_000))
    long_body = json.dumps(rec("long", body="y" * 60_000))
    result = import_jsonl(state, [huge_line, long_body, json.dumps(rec("fine"))], desk="infra")
    assert result.created == 1
    reasons = {r.line: r.reason for r in result.rejected}
    assert "over" in reasons[1] and "body" in reasons[2]


def test_a_mapping_naming_values_the_desk_lacks_is_a_policy_error() -> None:
    import pytest

    from dutydesk.policy.imports import ImportMapping

    mapping = ImportMapping(
        labels={"bug": "kind:nope", "x": "colour:red"}, priorities={"Blocker": "P9"}
    )
    problems = mapping.errors(
        kinds=["bug"], priorities=["P0"], categories=[], teams=[], columns=["New", "Done"]
    )
    assert len(problems) == 3 and "nope" in problems[0] and "FIELD:VALUE" in problems[1]
    assert "P9" in problems[2]
    with pytest.raises(ValueError):
        from dutydesk.policy.models import DeskPolicy

        DeskPolicy.model_validate({"columns": ["New", "Done"], "imports": {"kinds": {"Bug": "x"}}})
