"""The week's rituals from the command line, as a newcomer runs them: a real process on a real
SQLite file (the release calendar, the status post with --explain and its notes, a move into
Submitted with its PR link, a handoff note, a recurring calendar imported)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.test_cli import run


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("rituals")
    run(cwd, "init")
    return cwd


def test_release_calendar(home: Path) -> None:
    day = (datetime.now(UTC) + timedelta(days=40)).date()
    later = day + timedelta(days=3)
    refused = run(home, "--as", "finn", "release", "add", "11.2", "--date", str(day), ok=False)
    assert refused.returncode == 1 and "edit the release calendar" in refused.stderr
    run(home, "--as", "eva", "release", "add", "11.2", "--date", str(day))
    moved = run(
        home, "--as", "eva", "release", "move", "11.2", "--date", str(later), "--note", "slipped"
    )
    assert f"release 11.2 moved to {later}" in moved.stdout
    assert f"{later}  11.2" in run(home, "release", "list").stdout
    meetings = json.loads(run(home, "--json", "agenda", "set", "--meeting", "triage").stdout)
    assert meetings["meeting"] == "triage"


def test_status_post_explain_notes_and_the_pr_link(home: Path) -> None:
    filed = json.loads(
        run(
            home, "--as", "rita", "--json", "file", "set", "Badge count wrong", "--kind", "bug"
        ).stdout
    )
    key = filed["key"]
    run(home, "--as", "eva", "assign", key, "finn")
    run(home, "--as", "finn", "move", key, "In progress")
    refused = run(home, "--as", "finn", "move", key, "Submitted", ok=False)
    assert refused.returncode == 1 and "--pr URL" in refused.stderr
    run(home, "--as", "finn", "move", key, "Submitted", "--pr", "https://github.com/acme/x/pull/3")
    run(home, "--as", "eva", "report", "note", "Release 11.2 slipped three days")
    post = run(home, "report", "set-update", "--explain")
    assert "Bug fix PRs submitted in the last 7 days: 1 (0 reported by customer)" in post.stdout
    assert "* Release 11.2 slipped three days" in post.stdout
    assert "Bug fix PRs submitted: 1" in post.stderr and key in post.stderr
    assert "first PR link added: https://github.com/acme/x/pull/3" in post.stderr
    listed = json.loads(run(home, "--json", "report", "notes").stdout)
    note_id = listed[0]["id"]
    run(home, "--as", "eva", "report", "note-remove", str(note_id))
    assert "slipped" not in run(home, "report", "set-update").stdout


def test_handoff_note_and_a_recurring_import(home: Path, tmp_path: Path) -> None:
    filed = json.loads(
        run(
            home,
            "--as",
            "rita",
            "--json",
            "file",
            "infra",
            "Quota almost used up",
            "--criterion",
            "Degraded service",
        ).stdout
    )
    key = filed["key"]
    run(home, "--as", "ana", "handoff-note", key, "Vendor answers Tuesday")
    report = run(home, "handoff", "infra", "--markdown").stdout
    assert "### Handoff notes (1)" in report and f"{key} Quota almost used up" in report
    start = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y%m%dT100000")
    ics = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
            "VERSION:2.0",
            "X-WR-TIMEZONE:America/Los_Angeles",
            "BEGIN:VEVENT",
            f"DTSTART:{start}",
            "DURATION:P1D",
            "RRULE:FREQ=DAILY;COUNT=3",
            "UID:daily@google.com",
            "SUMMARY:Ana Alvarez on call",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    path = tmp_path / "google.ics"
    path.write_text(ics)
    dry = run(home, "--as", "dee", "oncall", "import-ics", "infra-oncall", str(path), "--dry-run")
    assert "would import 3 shift(s)" in dry.stdout and "would be refused" not in dry.stderr
