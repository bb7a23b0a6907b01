"""`dutydesk report queue|oncall|set` in a real process on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.test_cli import run


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("report-cli")
    run(cwd, "init")
    run(
        cwd,
        "--as",
        "rita",
        "file",
        "infra",
        "Builders out of quota",
        "--criterion",
        "Imminent incident (e.g. almost out of quota)",
    )
    run(
        cwd,
        "--as",
        "rita",
        "file",
        "infra",
        "Mirror the toolchain bucket",
        "--criterion",
        "Degraded service",
    )
    return cwd


def test_queue_tables_json_and_csv(home: Path) -> None:
    text = run(home, "report", "queue", "infra").stdout
    assert "infra queue report" in text
    assert "Open tickets by column at the end of each week" in text and "SLO attainment" in text
    data = json.loads(run(home, "report", "queue", "infra", "--json").stdout)
    assert data["flow"][-1]["columns"]["New"] == 2 and data["unowned_total"] == 2
    rows = list(csv.DictReader(io.StringIO(run(home, "report", "queue", "infra", "--csv").stdout)))
    assert len(rows) == len(data["flow"]) and rows[-1]["New"] == "2" and rows[-1]["open"] == "2"
    ages = run(home, "report", "queue", "infra", "--csv", "--table", "age").stdout
    assert list(csv.reader(io.StringIO(ages)))[1] == ["under 1 day", "2", "0", "0", "2"]


def test_oncall_and_set_csv(home: Path) -> None:
    people = list(
        csv.DictReader(io.StringIO(run(home, "report", "oncall", "infra", "--csv").stdout))
    )
    assert {p["person"] for p in people} <= {"ana", "bo", "chen", "dee"} and people
    assert all(float(p["hours"]) > 0 for p in people)
    weekly = run(
        home, "report", "set", "set", "--from", "2026-11-02", "--to", "2026-11-15", "--csv"
    ).stdout
    rows = list(csv.reader(io.StringIO(weekly)))
    assert [r[0] for r in rows] == ["week", "2026-W45", "2026-W46", "all"]


def test_errors_name_the_fix(home: Path) -> None:
    proc = run(home, "report", "queue", "infra", "--table", "age", ok=False)
    assert proc.returncode == 1 and "--table picks the table --csv writes" in proc.stderr
    proc = run(home, "report", "queue", "infra", "--csv", "--table", "nope", ok=False)
    assert "no table 'nope'" in proc.stderr and "flow" in proc.stderr
    proc = run(home, "report", "set", "nope", ok=False)
    assert "no desk named 'nope'" in proc.stderr
    proc = run(home, "report", "set", "set", "--from", "2026-12-01", "--to", "2026-11-01", ok=False)
    assert "from" in proc.stderr
