"""`dutydesk oncall triage` suggests triage for new tickets, not a bare assignment."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import URGENT
from tests.test_cli import run


def test_new_tickets_get_a_triage_command(tmp_path: Path) -> None:
    run(tmp_path, "init")
    run(tmp_path, "--as", "rita", "file", "infra", "Builders slow to start", "--criterion", URGENT)
    out = run(tmp_path, "--as", "ana", "oncall", "triage", "infra").stdout
    line = next(x for x in out.splitlines() if "INFRA-1" in x)
    assert "→ `dutydesk triage INFRA-1 --priority … --assignee " in line
    assert "dutydesk assign" not in out
