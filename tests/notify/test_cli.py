"""The notification commands as a newcomer runs them: real processes on a temp SQLite file."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.test_cli import run


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("notify-cli")
    run(cwd, "init")
    run(cwd, "--as", "rita", "file", "set", "Crash when opening a pinned channel", "--kind", "bug")
    return cwd


def test_worker_once_at_a_chosen_instant_parks_unconfigured_channels(home: Path) -> None:
    proc = run(home, "--json", "worker", "--once", "--now", "2026-11-24T11:05-05:00")
    stats = json.loads(proc.stdout)
    assert stats["parked"] >= 1 and stats["dead"] == 0  # no webhook URLs in this environment
    listed = run(home, "--json", "notify", "outbox", "--state", "parked")
    items = json.loads(listed.stdout)["items"]
    assert any(i["last_error"] == "not configured: set SET_MATTERMOST_WEBHOOK_URL" for i in items)


def next_tuesday() -> str:
    """A meeting day after the fixture's ticket was filed (it is filed at the real now)."""
    today = date.today()
    return (today + timedelta(days=(1 - today.weekday()) % 7 or 7)).isoformat()


def test_status_post_and_agenda_print_plain_text(home: Path) -> None:
    day = next_tuesday()
    post = run(home, "report", "set-update", "--date", day).stdout
    assert post.splitlines()[:3] == [
        f"#set-update #set-update-{day}",
        "",
        "Bugs resolved in the last 7 days: 0 (0 reported by customers)",
    ]
    assert (
        "Next in the queue:\n* [SET-1](http://127.0.0.1:8080/tickets/SET-1) Crash when opening a pinned channel\n"
        in post
    )
    agenda = run(home, "agenda", "set", "--date", day, "--meeting", "triage").stdout
    weekday = date.fromisoformat(day).strftime("%a")
    assert agenda.startswith(f"**Sustained engineering: triage meeting, {weekday} {day} 10:00")
    assert "Awaiting triage (1):" in agenda


def test_errors_are_one_clear_line(home: Path) -> None:
    bad = run(home, "worker", "--once", "--now", "tuesday", ok=False)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
    assert "2026-12-01T09:00-08:00" in bad.stderr
    none = run(home, "notify", "retry", ok=False)
    assert none.returncode == 1 and "--dead or --parked" in none.stderr
    assert (
        run(home, "chat", "link", "rita", "--platform", "slack", "--id", "U024BE7LH").returncode
        == 0
    )
