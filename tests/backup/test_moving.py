"""Backup, restore, export and db copy on a database with every kind of row."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from dutydesk.backup.copy import TargetNotEmpty, copy_database
from dutydesk.backup.export import export_jsonl
from dutydesk.backup.snapshot import BackupError, backup, restore
from dutydesk.db import Database, make_engine
from dutydesk.state import AppState
from tests.conftest import PG_URL, Api
from tests.processes import fresh_postgres


def busy_desk(api: Api) -> list[str]:
    """Tickets with comments (public and internal), triage, a resolution, and a ticket closed
    as a duplicate of a later one (a row that refers forward in its own table)."""
    keys = [api.file(title=f"Builders slow to start, case {i}")["key"] for i in range(4)]
    api.post("ana", f"/api/v1/tickets/{keys[0]}/comments", {"body": "Looking **now**"})
    api.post("ana", f"/api/v1/tickets/{keys[0]}/comments", {"body": "note", "public": False})
    api.post("ana", f"/api/v1/tickets/{keys[1]}/triage", {"priority": "P1", "assignee": "bo"})
    r = api.post(
        "ana",
        f"/api/v1/tickets/{keys[0]}/triage",
        {"duplicate_of": keys[3]},
    )
    assert r.status_code == 200, r.text
    return keys


def exported(url: str) -> list[dict[str, object]]:
    engine = make_engine(url)
    try:
        out = io.StringIO()
        export_jsonl(engine, out)
    finally:
        engine.dispose()
    return [json.loads(line) for line in out.getvalue().splitlines()]


@contextmanager
def empty_target(tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        with fresh_postgres(PG_URL) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'target.db'}"


def test_export_is_every_ticket_with_events_and_comments_in_a_stable_order(
    api: Api, state: AppState
) -> None:
    keys = busy_desk(api)
    lines = exported(state.db.url)
    assert [line["key"] for line in lines] == keys  # desk, then number
    first = lines[0]
    assert first["duplicate_of"] == keys[3] and first["resolution"] == "duplicate"
    assert [c["public"] for c in first["comments"]][:2] == [True, False]  # type: ignore[index]
    seqs = [e["seq"] for e in first["events"]]  # type: ignore[union-attr]
    assert seqs == list(range(1, len(seqs) + 1))
    assert first["reporter"] == "rita" and "reporter_id" not in first
    assert exported(state.db.url) == lines  # the same data, the same lines


def test_backup_then_restore_gives_the_same_export(
    api: Api, state: AppState, tmp_path: Path
) -> None:
    busy_desk(api)
    snap = backup(state.db.url, tmp_path / "dutydesk.backup")
    assert snap.format == ("pg_dump" if PG_URL and shutil.which("pg_dump") else "sqlite")
    assert not list(tmp_path.glob(".*partial"))
    with empty_target(tmp_path) as target:
        if PG_URL:  # the dump carries its schema; read it back through the same search_path
            target = target + "?" + state.db.url.split("?", 1)[1]
        assert restore(snap.path, target) == snap.format
        assert exported(target) == exported(state.db.url)
        with pytest.raises(TargetNotEmpty):
            restore(snap.path, target)  # it holds rows now
        restore(snap.path, target, force=True)
        assert exported(target) == exported(state.db.url)


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(BackupError, match="neither"):
        restore(junk, f"sqlite:///{tmp_path / 'x.db'}")


def test_db_copy_moves_every_row_verified_and_the_copy_works(
    api: Api, state: AppState, tmp_path: Path
) -> None:
    keys = busy_desk(api)
    with empty_target(tmp_path) as target:
        report = copy_database(state.db.engine, target)
        assert report.tables["tickets"].rows == len(keys)
        assert report.tables["events"].rows > len(keys)
        assert exported(target) == exported(state.db.url)
        with pytest.raises(TargetNotEmpty, match="comments"):
            copy_database(state.db.engine, target)
        # The copy is a working dutydesk: search finds a copied ticket, and the next filing
        # takes the next id and number.
        copied = Database(target)
        try:
            moved = AppState(db=copied, policy=state.policy, clock=state.clock)
            from fastapi.testclient import TestClient

            from dutydesk.app import create_app

            with TestClient(create_app(moved)) as client:
                there = Api(client, api.tokens)
                found = there.req("ana", "GET", "/api/v1/tickets", params={"q": "builders slow"})
                assert found.status_code == 200, found.text
                assert len(found.json()["items"]) >= 3
                assert there.file(title="Filed after the move")["key"] == "INFRA-5"
        finally:
            copied.dispose()


def test_a_verified_copy_notices_a_difference(api: Api, state: AppState, tmp_path: Path) -> None:
    from dutydesk.backup.copy import snapshot, verify

    busy_desk(api)
    with empty_target(tmp_path) as target:
        copy_database(state.db.engine, target)
        engine = make_engine(target)
        try:
            with engine.begin() as conn:
                conn.execute(text("UPDATE comments SET body = 'changed' WHERE id = 1"))
            from dutydesk.backup.copy import CopyMismatch

            with snapshot(state.db.engine) as src, pytest.raises(CopyMismatch, match="comments"):
                verify(src, engine)
        finally:
            engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="the fallback for a PostgreSQL without pg_dump")
def test_without_pg_dump_a_postgresql_backup_is_a_verified_sqlite_file(
    api: Api, state: AppState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy_desk(api)
    monkeypatch.setenv("PATH", "")  # no pg_dump to be found
    snap = backup(state.db.url, tmp_path / "dutydesk.backup")
    assert snap.format == "sqlite"
    assert exported(f"sqlite:///{snap.path}") == exported(state.db.url)
    with fresh_postgres(PG_URL) as target:  # and back into PostgreSQL, by the verified copy
        assert restore(snap.path, target) == "sqlite"
        assert exported(target) == exported(state.db.url)
