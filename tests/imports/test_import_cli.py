"""``dutydesk import`` as a newcomer runs it: a real process on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import run

FIXTURES = Path(__file__).parent / "fixtures"


def test_dry_run_then_import_then_again(tmp_path: Path) -> None:
    run(tmp_path, "init")
    rows = [
        {"external_id": "1", "title": "First", "created": "2025-01-01T00:00:00Z"},
        {"external_id": "2", "title": "Second", "created": "2025-01-02", "priority": "P7"},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    dry = run(tmp_path, "import", "jsonl", str(path), "--desk", "infra", "--dry-run", ok=False)
    assert dry.returncode == 2  # rows were refused
    assert "would create 1" in dry.stdout and "line 2 (2): priority" in dry.stderr
    first = run(tmp_path, "--json", "import", "jsonl", str(path), "--desk", "infra", ok=False)
    assert json.loads(first.stdout)["created"] == 1
    again = run(tmp_path, "--json", "import", "jsonl", str(path), "--desk", "infra", ok=False)
    assert json.loads(again.stdout)["unchanged"] == 1
    shown = run(tmp_path, "--json", "list", "--desk", "infra")
    assert "First" in shown.stdout
    gh = run(tmp_path, "import", "github", str(FIXTURES / "gh_issue_list.json"), "--desk", "infra")
    assert "created 2" in gh.stdout
    missing = run(tmp_path, "import", "jsonl", "nope.jsonl", "--desk", "infra", ok=False)
    assert missing.returncode == 1 and "no file" in missing.stderr


def test_import_streams_to_a_running_server(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import time

    import httpx

    from tests.test_cli import DUTYDESK

    run(tmp_path, "init")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DUTYDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'dutydesk.db'}",
        "DUTYDESK_POLICY": str(tmp_path / "dutydesk.toml"),
    }
    server = subprocess.Popen(
        [*DUTYDESK, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/api/v1/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        admin = run(tmp_path, "token", "create", "admin").stdout.strip()
        ana = run(tmp_path, "token", "create", "ana").stdout.strip()
        fixture = str(FIXTURES / "gh_issue_list.json")
        remote = ["--url", base, "--json", "import", "github", fixture, "--desk", "infra"]
        done = run(tmp_path, "--token", admin, *remote, "--label-map", "outage=category:outage")
        assert json.loads(done.stdout)["created"] == 2
        again = run(tmp_path, "--token", admin, *remote, "--label-map", "outage=category:outage")
        assert json.loads(again.stdout)["unchanged"] == 2
        refused = run(tmp_path, "--token", ana, *remote, ok=False)
        assert refused.returncode == 1 and "admin" in refused.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)
