"""Migration 0017 (inbox, handbook, sessions) goes down and up again on both databases, keeping what it did not add."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from dutydesk.migrate import alembic_config, upgrade
from dutydesk.state import AppState
from tests.conftest import Api


def test_the_admin_migration_goes_down_and_up(api: Api, state: AppState) -> None:
    key = api.file("rita", title="Builders are slow to start")["key"]
    assert api.post("ana", "/api/v1/desks/infra/handbook", {"body": "# x", "base_version": 0})
    state.db.engine.dispose()
    command.downgrade(alembic_config(state.db.url), "0016")
    found = inspect(state.db.engine)
    tables = set(found.get_table_names())
    assert "handbook_versions" not in tables and "inbox_items" not in tables
    assert "last_seen_at" not in {c["name"] for c in found.get_columns("web_sessions")}
    assert "digest_window" not in {c["name"] for c in found.get_columns("notify_preferences")}
    assert "ix_outbox_state_id" not in {i["name"] for i in found.get_indexes("outbox")}
    state.db.engine.dispose()
    upgrade(state.db.url)
    state.db.engine.dispose()
    assert "ix_outbox_state_id" in {
        i["name"] for i in inspect(state.db.engine).get_indexes("outbox")
    }
    assert api.req("rita", "GET", f"/api/v1/tickets/{key}").status_code == 200
    assert api.req("rita", "GET", "/api/v1/desks/infra/handbook").json() is None  # dropped
    again = api.post("ana", "/api/v1/desks/infra/handbook", {"body": "# y", "base_version": 0})
    assert again.status_code == 201
