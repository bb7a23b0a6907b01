"""`dutydesk slo` and `dutydesk calendar explain` in a real process on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import run


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("slo-cli")
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
    return cwd


def test_slo_table_and_json(home: Path) -> None:
    table = run(home, "slo", "infra").stdout
    assert "infra:" in table and "breached" in table and "at risk" in table
    assert "INFRA-1" in table and "triage" in table and "Builders out of quota" in table
    data = json.loads(run(home, "slo", "infra", "--json").stdout)
    assert sum(data["counts"].values()) == 1
    [c] = data["clocks"]
    assert (c["ticket"], c["name"], c["target"]) == ("INFRA-1", "triage", "4 business hours")
    assert c["state"] in ("running", "at_risk", "breached")


def test_slo_attainment_recompute_and_errors(home: Path) -> None:
    report = json.loads(run(home, "--json", "slo", "attainment", "infra", "--weeks", "4").stdout)
    assert len(report["weeks"]) == 4
    text = run(home, "slo", "recompute").stdout
    assert "infra: 1 open tickets, 1 running or paused clocks" in text
    proc = run(home, "slo", "nope", ok=False)
    assert proc.returncode == 1 and "no desk named 'nope'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_calendar_explain_prints_each_interval(home: Path) -> None:
    out = run(
        home, "calendar", "explain", "pacific", "--from", "2026-11-25T16:30-08:00", "--add", "4h"
    ).stdout
    assert out.splitlines() == [
        "pacific (America/Los_Angeles): 4h of business time from Wed 2026-11-25 16:30 PST",
        "  Wed 2026-11-25 16:30 PST → Wed 2026-11-25 17:00 PST      30m  (30m so far)",
        "  closed Thu 2026-11-26 (holiday)",
        "  Fri 2026-11-27 09:00 PST → Fri 2026-11-27 12:30 PST   3h 30m  (4h 0m so far)",
        "due Fri 2026-11-27 12:30 PST (2026-11-27T20:30:00Z)",
    ]


def test_calendar_explain_errors_are_one_line(home: Path) -> None:
    for args, words in [
        (["--from", "2026-11-27T16:30"], "has no UTC offset"),
        (["--from", "2026-11-27T16:30-08:00", "--add", "soon"], "is not a duration"),
    ]:
        proc = run(home, "calendar", "explain", "pacific", *args, ok=False)
        assert proc.returncode == 1 and words in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    proc = run(home, "calendar", "explain", "mars", ok=False)
    assert proc.returncode == 1 and "no calendar named 'mars'" in proc.stderr


def test_calendar_explain_triage_due_if_filed(home: Path) -> None:
    out = run(home, "calendar", "explain", "pacific", "--filed", "2026-11-28T10:00-08:00").stdout
    assert out.splitlines() == [
        "pacific (America/Los_Angeles): triage due if filed at Sat 2026-11-28 10:00 PST "
        "(desk infra: 4 business hours, outside hours end of next business day)",
        "  rule: filed while closed: the close of the first business day that opens after "
        "filing, Mon 2026-11-30",
        "  that day opens Mon 2026-11-30 09:00 PST",
        "  closed Sat 2026-11-28 (no hours)",
        "  closed Sun 2026-11-29 (no hours)",
        "  Mon 2026-11-30 09:00 PST → Mon 2026-11-30 17:00 PST    8h 0m  (8h 0m so far)",
        "due Mon 2026-11-30 17:00 PST (2026-12-01T01:00:00Z)",
    ]
    both = run(
        home,
        "calendar",
        "explain",
        "pacific",
        "--filed",
        "2026-11-28T10:00-08:00",
        "--from",
        "2026-11-28T10:00-08:00",
        ok=False,
    )
    assert both.returncode == 1 and "either --from" in both.stderr
