"""People, one's account, the inbox and the handbook from the CLI: a real process on a real
SQLite file, through the same API use cases as the pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import run


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("cli_account")
    run(cwd, "init")
    return cwd


def test_people_are_added_and_re_roled_with_an_audit_trail(home: Path) -> None:
    made = run(home, "user", "add", "nia", "--role", "responder", "--desk", "infra")
    assert "added nia (responder)" in made.stdout
    changed = run(home, "--json", "user", "change", "nia", "--role", "lead", "--all-desks")
    assert (
        json.loads(changed.stdout)["roles"] == ["lead"]
        and json.loads(changed.stdout)["desks"] == []
    )
    refused = run(home, "user", "change", "ana", "--role", "lead", ok=False)
    assert refused.returncode == 1 and "[people.ana]" in refused.stderr
    nothing = run(home, "user", "change", "nia", ok=False)
    assert "nothing to change" in nothing.stderr
    audit = run(home, "--json", "audit", "--user", "nia")
    assert [e["action"] for e in json.loads(audit.stdout)][:2] == [
        "user.roles_changed",
        "user.created",
    ]
    bad = run(home, "--as", "ana", "user", "add", "noa", ok=False)
    assert "may not add people" in bad.stderr


def test_password_prefs_inbox_and_sessions(home: Path) -> None:
    wrong = run(home, "--as", "rita", "password", "--stdin", stdin="nope\nnew secret 1\n", ok=False)
    assert "not your current password" in wrong.stderr
    done = run(home, "--as", "rita", "password", "--stdin", stdin="dutydesk\nnew secret 1\n")
    assert "password changed" in done.stdout
    prefs = run(
        home,
        "--as",
        "rita",
        "--json",
        "notify",
        "prefs",
        "--via",
        "email",
        "--mute",
        "watching",
        "--digest-window",
        "1 hour",
    )
    assert json.loads(prefs.stdout)["mute"] == ["watching"]
    assert json.loads(prefs.stdout)["digest_window"] == "1 hour"
    shown = run(home, "--as", "rita", "notify", "prefs")
    assert "digest window: 1 hour" in shown.stdout and "muted: watching" in shown.stdout
    inbox = run(home, "--as", "rita", "--json", "inbox", "--unread")
    assert json.loads(inbox.stdout)["unread"] == 0
    refused = run(home, "--as", "rita", "inbox", "read", ok=False)
    assert "--all" in refused.stderr
    assert "0 changed; 0 unread" in run(home, "--as", "rita", "inbox", "read", "--all").stdout
    assert json.loads(run(home, "--as", "rita", "--json", "sessions").stdout) == []
    assert "0 session(s) logged out" in run(home, "--as", "rita", "sessions", "revoke-all").stdout


def test_the_handbook_from_a_file(home: Path) -> None:
    page = home / "handbook.md"
    page.write_text("# How we work\n\n* Triage within 4 hours\n")
    assert (
        "saved version 1" in run(home, "--as", "ana", "handbook", "edit", "infra", str(page)).stdout
    )
    page.write_text("# How we work\n\n* Triage within 4 business hours\n")
    run(home, "--as", "dee", "handbook", "edit", "infra", str(page), "--summary", "business hours")
    stale = run(
        home, "--as", "ana", "handbook", "edit", "infra", str(page), "--base", "1", ok=False
    )
    assert "changed meanwhile" in stale.stderr
    assert "business hours" in run(home, "handbook", "show", "infra").stdout
    history = run(home, "handbook", "history", "infra").stdout
    assert "dee" in history and "ana" in history
    diff = run(home, "handbook", "diff", "infra", "2").stdout
    assert "- * Triage within 4 hours" in diff and "+ * Triage within 4 business hours" in diff
    reporter = run(home, "--as", "rita", "handbook", "edit", "infra", str(page), ok=False)
    assert "may not edit the handbook" in reporter.stderr
    empty = run(home, "handbook", "show", "set", ok=False)
    assert "handbook edit set" in empty.stderr
