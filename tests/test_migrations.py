"""Every migration goes down and up again: a release can be rolled back on both engines."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from dutydesk.migrate import alembic_config, current_revision, head_revision, upgrade
from tests.conftest import PG_URL


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    schema = f"dutydesk_migrations_{os.getpid()}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def test_the_whole_chain_goes_down_to_nothing_and_up_again(empty_url: str) -> None:
    upgrade(empty_url)
    engine = create_engine(empty_url)
    try:
        with engine.connect() as conn:
            assert current_revision(conn.engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {"tickets", "events", "desk_counters"} <= tables
        command.downgrade(alembic_config(empty_url), "base")
        engine.dispose()
        left = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        upgrade(empty_url)
        engine.dispose()
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()
