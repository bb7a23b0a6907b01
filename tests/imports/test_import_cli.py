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
