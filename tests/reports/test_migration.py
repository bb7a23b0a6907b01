"""Migration 0014 (release calendar, removable status notes) goes down and up again with the
notes kept, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command

from dutydesk.migrate import alembic_config, upgrade
from dutydesk.state import AppState
from tests.conftest import Api


def test_down_and_up_again_keeps_the_notes(api: Api, state: AppState) -> None:
    r = api.post("eva", "/api/v1/desks/set/status-notes", {"text": "Release 11.2 is cut Friday"})
    assert r.status_code == 201, r.text
    state.db.engine.dispose()
    command.downgrade(alembic_config(state.db.url), "0013")
    state.db.engine.dispose()
    upgrade(state.db.url)
    state.db.engine.dispose()
    notes = api.req("eva", "GET", "/api/v1/desks/set/status-notes").json()
    assert [n["text"] for n in notes] == ["Release 11.2 is cut Friday"]
    assert notes[0]["removed_at"] is None
    r = api.post("eva", "/api/v1/desks/set/releases", {"name": "11.2", "date": "2026-12-16"})
    assert r.status_code == 201, r.text
