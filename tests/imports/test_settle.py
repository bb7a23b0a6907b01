"""After a bulk import on PostgreSQL the planner has statistics for the new rows (and the
full-text indexes' pending entries are merged), whether or not autovacuum runs."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from dutydesk.imports import service
from dutydesk.imports.service import import_jsonl
from dutydesk.state import AppState
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only (statistics, GIN lists)")


def test_a_bulk_import_leaves_statistics_for_the_new_rows(
    state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "SETTLE_ROWS", 30)
    rows = [
        json.dumps(
            {
                "external_id": f"B{i}",
                "title": f"org.apache.hadoop.hdfs.DFSClient fails on node {i}",
                "created": "2025-01-01T00:00:00Z",
            }
        )
        for i in range(30)
    ]
    with state.db.read() as s:
        unknown = s.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = 'tickets'::regclass")
        ).scalar()
    assert unknown != 30
    assert import_jsonl(state, rows, desk="infra").created == 30
    with state.db.read() as s:
        # ANALYZE ran: the planner's row count is the table's, not a guess.
        assert (
            s.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = 'tickets'::regclass")
            ).scalar()
            == 30
        )
        # The split vector finds a class name inside a dotted path.
        assert (
            s.execute(
                text(
                    "SELECT count(*) FROM tickets"
                    " WHERE search_vector_words @@ plainto_tsquery('english', 'DFSClient')"
                )
            ).scalar()
            == 30
        )
