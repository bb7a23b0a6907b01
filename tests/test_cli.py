"""The CLI as a newcomer uses it: a real process, a real SQLite file in a temp folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DUTYDESK = [sys.executable, "-m", "dutydesk"]


def run(
    cwd: Path, *args: str, stdin: str | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DUTYDESK_DATABASE_URL": f"sqlite:///{cwd / 'dutydesk.db'}",
        "DUTYDESK_POLICY": str(cwd / "dutydesk.toml"),
        "COLUMNS": "200",
    }
    env.pop("DUTYDESK_URL", None)
    proc = subprocess.run(
        [*DUTYDESK, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=120,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("cli")
    run(cwd, "init")
    return cwd


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    (tmp_path / "dutydesk.toml").write_text(
        (Path(__file__).parents[1] / "examples" / "dutydesk.toml").read_text()
    )
    proc = run(tmp_path, "serve", ok=False)
    assert proc.returncode == 1
    assert "dutydesk db upgrade" in proc.stderr


def test_check_reports_errors_with_location_and_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[desks.ops]\ncolumns = ["New", "Done"]\nadmit = ["P7"]\n')
    proc = run(tmp_path, "check", str(bad), ok=False)
    assert proc.returncode == 1
    assert "bad.toml:1: desks.ops" in proc.stderr and "P7" in proc.stderr


def test_file_triage_move_and_show_through_the_cli(home: Path) -> None:
    filed = json.loads(
        run(
            home,
            "--as",
            "rita",
            "--json",
            "file",
            "infra",
            "Builders slow to start",
            "-d",
            "Since Monday",
            "--criterion",
            "Degraded service",
        ).stdout
    )
    key = filed["key"]
    run(home, "--as", "ana", "triage", key, "--priority", "P1", "--assignee", "bo")
    run(home, "--as", "bo", "move", key, "In progress")
    run(home, "--as", "bo", "comment", key, "Restarted the pool")
    proc = run(home, "--as", "bo", "move", key, "Done", ok=False)
    assert proc.returncode == 1 and "requires a resolution" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2  # one clear line, not a traceback
    run(home, "--as", "bo", "move", key, "Done", "--resolution", "fixed")
    shown = json.loads(run(home, "--json", "show", key, "--history").stdout)
    assert shown["status"] == "Done" and shown["assignee"] == "bo"
    assert shown["events"][0]["type"] == "filed"
    table = run(home, "list", "--desk", "infra", "--closed").stdout
    assert key in table and "Builders slow" in table


def test_reporter_errors_are_one_line(home: Path) -> None:
    proc = run(home, "--as", "rita", "triage", "INFRA-1", "--priority", "P0", ok=False)
    assert proc.returncode == 1
    assert "may not triage tickets" in proc.stderr and "Traceback" not in proc.stderr


def test_users_token_and_remote_flags(home: Path) -> None:
    run(
        home,
        "users",
        "add",
        "zoe",
        "--role",
        "responder",
        "--desk",
        "infra",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    users = json.loads(run(home, "--json", "users").stdout)
    zoe = next(u for u in users if u["name"] == "zoe")
    assert zoe["roles"] == ["responder"] and zoe["desks"] == ["infra"]
    token = run(home, "token", "create", "zoe").stdout
    assert token.startswith("ddk_") and token.count("\n") == 1
    proc = run(home, "users", "add", "zoe", "--role", "responder", ok=False)
    assert "already exists" in proc.stderr
    proc = run(home, "users", "add", "yan", "--role", "boss", ok=False)
    assert "role 'boss' is unknown" in proc.stderr
    proc = run(home, "--url", "http://127.0.0.1:9", "queue", "infra", ok=False)
    assert "needs a token" in proc.stderr


def test_serve_refuses_an_invalid_policy_with_the_check_message(tmp_path: Path) -> None:
    (tmp_path / "dutydesk.toml").write_text('[desks.ops]\ncolumns = ["New", "Done"]\ncolour = 1\n')
    served = run(tmp_path, "serve", ok=False)
    checked = run(tmp_path, "check", ok=False)
    assert served.returncode == checked.returncode == 1
    assert "unknown key 'colour'" in served.stderr
    assert served.stderr.strip() == checked.stderr.strip()


def test_cli_talks_to_a_running_server_with_a_token(home: Path) -> None:
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DUTYDESK_DATABASE_URL": f"sqlite:///{home / 'dutydesk.db'}",
        "DUTYDESK_POLICY": str(home / "dutydesk.toml"),
    }
    server = subprocess.Popen(
        [*DUTYDESK, "serve", "--port", str(port)],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/api/v1/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        token = run(home, "token", "create", "ana").stdout.strip()
        filed = json.loads(
            run(
                home,
                "--url",
                base,
                "--token",
                token,
                "--json",
                "file",
                "infra",
                "Emulator pool almost out of quota",
                "--criterion",
                "Imminent incident (e.g. almost out of quota)",
            ).stdout
        )
        assert filed["reporter"] == "ana"
        queue = json.loads(
            run(home, "--url", base, "--token", token, "--json", "queue", "infra").stdout
        )
        assert filed["key"] in [t["key"] for t in queue["items"]]
        bad = run(home, "--url", base, "--token", "ddk_wrong", "queue", "infra", ok=False)
        assert "token is unknown" in bad.stderr and "HTTP 401" in bad.stderr
    finally:
        server.terminate()
        server.wait(10)


def test_check_builds_every_calendar_and_serve_refuses_what_check_refuses(
    tmp_path: Path,
) -> None:
    policy = (Path(__file__).parents[1] / "examples" / "dutydesk.toml").read_text()
    (tmp_path / "dutydesk.toml").write_text(policy.replace('country = "US"', 'country = "XX"'))
    checked = run(tmp_path, "check", ok=False)
    assert checked.returncode == 1
    assert "calendars.pacific.holidays.country: no holiday data for 'XX'" in checked.stderr
    assert "ISO 3166" in checked.stderr
    explained = run(tmp_path, "calendar", "explain", "pacific", "--add", "4h", ok=False)
    served = run(tmp_path, "serve", ok=False)
    assert explained.returncode == served.returncode == 1
    assert "Traceback" not in explained.stderr + served.stderr
    assert served.stderr.strip() == explained.stderr.strip() == checked.stderr.strip()


def test_check_hints_keep_their_brackets(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[calendars.pacific]\ntimezone = "UTC"\nhours = { mon = "09:00-17:00" }\n'
        '[desks.ops]\ncalendar = "pacifc"\ncolumns = ["New", "In progess", "Done"]\n'
        '[desks.web]\ncalendar = "pacifc"\ncolumns = ["New", "Done"]\n'
    )
    proc = run(tmp_path, "check", str(bad), ok=False)
    assert "declare [calendars.pacifc]" in proc.stderr  # rich markup must not eat it
    assert "the desk's [workflow] table: started = 'In progess'" in proc.stderr
    assert "2 problem(s)" in proc.stderr


def test_a_refused_reorder_names_the_rule_in_the_teams_words(home: Path) -> None:
    def file(title: str, *extra: str) -> str:
        out = run(home, "--as", "sam", "--json", "file", "set", title, "--kind", "bug", *extra)
        return str(json.loads(out.stdout)["key"])

    customer = file("Crash when pinning a post", "--customer")
    other = file("Crash when muting a thread")
    proc = run(home, "--as", "eva", "rank", other, "--before", customer, ok=False)
    assert proc.returncode == 1
    assert (
        "customer-reported bugs stay above other bugs; change “reported by a customer” to move it"
        in proc.stderr
    )
    assert "None" not in proc.stderr and "class '" not in proc.stderr
