"""``dutydesk report toil`` as a newcomer runs it: a real process on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.test_cli import run


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("toil-cli")
    run(cwd, "init")
    for name in ("mac arm", "linux arm", "windows"):
        run(
            cwd,
            "--as",
            "rita",
            "file",
            "infra",
            f"Add a LUCI builder for {name}",
            "--category",
            "config-request",
            "--criterion",
            "Build break or regression",
        )
    return cwd


def test_tables_csv_and_json(home: Path) -> None:
    shown = run(home, "report", "toil", "infra").stdout
    assert "Toil on infra" in shown and "config-request" in shown
    assert "Recurring requests" in shown and "add luci builder" in shown
    rows = list(csv.DictReader(io.StringIO(run(home, "report", "toil", "infra", "--csv").stdout)))
    assert {r["category"]: r["filed"] for r in rows}["config-request"] == "3"
    weeks = run(home, "report", "toil", "infra", "--csv", "--table", "clusters").stdout
    (cluster,) = list(csv.DictReader(io.StringIO(weeks)))
    assert cluster["count"] == "3" and cluster["words"].startswith("add luci builder")
    data = json.loads(run(home, "report", "toil", "infra", "--json", "--no-clusters").stdout)
    assert data["summary"]["filed"] == 3 and data["recurring"] is None


def test_errors_name_the_fix(home: Path) -> None:
    bad = run(
        home, "report", "toil", "infra", "--from", "2026-12-01", "--to", "2026-11-01", ok=False
    )
    assert bad.returncode != 0 and "from" in bad.stderr and "after" in bad.stderr
    table = run(home, "report", "toil", "infra", "--csv", "--table", "nope", ok=False)
    assert "--table 'nope'" in table.stderr and "categories" in table.stderr
    nodesk = run(home, "report", "toil", "nope", ok=False)
    assert "nope" in nodesk.stderr


def test_rebuild_stores_what_is_missing(home: Path) -> None:
    import sqlite3

    run(home, "--as", "ana", "move", "INFRA-1", "Done", "--resolution", "fixed")
    db = sqlite3.connect(home / "dutydesk.db")
    try:
        (stored,) = db.execute("select count(*) from ticket_times").fetchone()
        assert stored == 1  # written by the move itself
        with db:
            db.execute("delete from ticket_times")
    finally:
        db.close()
    written = json.loads(run(home, "--json", "report", "rebuild").stdout)["written"]
    assert written["infra"] == 1 and sum(written.values()) == 1
    shown = run(home, "report", "rebuild", "--desk", "infra").stdout
    assert "infra: 0 done tickets timed" in shown
    bad = run(home, "report", "rebuild", "--desk", "nope", ok=False)
    assert bad.returncode != 0 and "--desk" in bad.stderr and "nope" in bad.stderr
