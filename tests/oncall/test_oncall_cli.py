"""``dutydesk oncall`` and ``dutydesk handoff`` as a newcomer runs them: real processes, a real
SQLite file, the real clock (so expectations are computed from now)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar, Event
from typer.testing import CliRunner

DUTYDESK = [sys.executable, "-m", "dutydesk"]
EXAMPLE = Path(__file__).parents[2] / "examples" / "dutydesk.toml"


def env_for(cwd: Path) -> dict[str, str]:
    return {
        "DUTYDESK_DATABASE_URL": f"sqlite:///{cwd / 'dutydesk.db'}",
        "DUTYDESK_POLICY": str(cwd / "dutydesk.toml"),
        "COLUMNS": "200",
    }


def run(cwd: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """A real process, as a newcomer types it (slow: used once)."""
    env = {**os.environ, **env_for(cwd)}
    env.pop("DUTYDESK_URL", None)
    proc = subprocess.run(
        [*DUTYDESK, *args], cwd=cwd, env=env, text=True, capture_output=True, timeout=120
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def cli(cwd: Path, *args: str, ok: bool = True) -> Result:
    """The same command line in this process (the app's start-up costs a second a process)."""
    from dutydesk.cli import app
    from dutydesk.settings import get_settings

    get_settings.cache_clear()
    try:
        found = CliRunner().invoke(app, list(args), env={**env_for(cwd), "DUTYDESK_URL": None})
    finally:
        get_settings.cache_clear()
    result = Result(found.exit_code, found.stdout, found.stderr)
    if ok:
        assert result.returncode == 0, (result.stderr, found.exception)
    return result


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("oncall-cli")
    cli(cwd, "init")
    return cwd


def test_who_is_on_call_and_the_handoff_post(home: Path) -> None:
    now = json.loads(cli(home, "--json", "oncall", "now", "set").stdout)
    assert [x["layer"] for x in now["layers"]] == [
        "lead",
        "channels",
        "playbooks",
        "mobile",
        "platform",
    ]
    table = cli(home, "oncall", "now").stdout
    assert "infra-oncall" in table and "primary" in table
    md = cli(home, "handoff", "infra", "--markdown").stdout
    assert md.startswith("## Handoff: Infra ticket queue — ")
    assert "### Awaiting triage (0)" in md
    two_weeks_ago = (datetime.now(UTC) - timedelta(days=14)).isoformat()
    past = cli(home, "handoff", "infra", "--markdown", "--at", two_weeks_ago).stdout
    assert past.splitlines()[2].startswith("*A past handoff: tickets as they were at ")
    assert "A past handoff" not in md


def test_override_errors_are_one_clear_line(home: Path) -> None:
    proc = run(
        home,
        "--as",
        "ana",
        "oncall",
        "override",
        "infra-oncall",
        "bo",
        "--until",
        "2099-01-01",
        ok=False,
    )
    assert proc.returncode == 1
    assert "only bo, or a lead of desk infra" in proc.stderr and "HTTP 403" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_import_ics_reports_unknown_names_and_stores_nothing(home: Path, tmp_path: Path) -> None:
    start = (datetime.now(UTC) + timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    cal = Calendar()
    cal.add("prodid", "-//Grafana OnCall//EN")
    cal.add("version", "2.0")
    for i, name in enumerate(["[L1] ana", "[L1] Mystery Person"]):
        ev = Event()
        ev.add("uid", f"shift-{i}")
        ev.add("dtstart", start + timedelta(days=i))
        ev.add("dtend", start + timedelta(days=i + 1))
        ev.add("summary", name)
        cal.add_component(ev)
    path = tmp_path / "export.ics"
    path.write_bytes(cal.to_ical())
    refused = cli(home, "--as", "dee", "oncall", "import-ics", "infra-oncall", str(path), ok=False)
    assert refused.returncode == 1
    assert "unknown people in the calendar: Mystery Person" in refused.stderr
    dry = cli(home, "--as", "dee", "oncall", "import-ics", "infra-oncall", str(path), "--dry-run")
    assert "would import 1 shift(s)" in dry.stdout
    assert "unknown person: Mystery Person (map with --alias 'Mystery Person=USER')" in dry.stderr
    listed = json.loads(cli(home, "--json", "oncall", "overrides", "infra-oncall").stdout)
    assert listed == []
    done = cli(
        home,
        "--as",
        "dee",
        "--json",
        "oncall",
        "import-ics",
        "infra-oncall",
        str(path),
        "--alias",
        "Mystery Person=chen",
    )
    assert [x["person"] for x in json.loads(done.stdout)["imported"]] == ["ana", "chen"]


def test_check_warns_about_rotation_gaps(tmp_path: Path) -> None:
    later = (datetime.now(UTC) + timedelta(days=40)).date()
    monday = later - timedelta(days=later.weekday())
    text = EXAMPLE.read_text().replace('start = "2026-01-05"', f'start = "{monday.isoformat()}"')
    (tmp_path / "dutydesk.toml").write_text(text)
    proc = cli(tmp_path, "check")
    assert "ok — 3 desk(s)" in proc.stdout
    assert "warning: rotations.infra-oncall: nobody is on call on layer 'primary'" in proc.stderr


def test_free_people_and_double_bookings_from_the_command_line(home: Path) -> None:
    free = cli(home, "oncall", "free", "set").stdout
    assert "free to take feature-team work" in free
    now = json.loads(cli(home, "--json", "oncall", "now", "set").stdout)
    person = next(x["person"] for x in now["layers"] if x["layer"] == "channels")
    day = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    made = cli(
        home, "--as", "admin", "oncall", "override", "set", person,
        "--layer", "playbooks", "--from", day, "--until", day,
    )  # fmt: skip
    assert f"{person} is on call on set/channels and set/playbooks at once" in made.stdout
    gaps = cli(home, "oncall", "gaps", "--days", "30", ok=False)
    assert gaps.returncode == 2
    assert "double-booked" in gaps.stdout and person in gaps.stdout
