"""`dutydesk similar` and `dutydesk suggestions` as a newcomer runs them: a real process on a
real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import run


def test_similar_and_suggestions_from_the_command_line(tmp_path: Path) -> None:
    run(tmp_path, "init")
    for title, team in [
        ("Android push notifications arrive twice", "mobile"),
        ("Playbook checklist items lose their order", "playbooks"),
    ]:
        key = json.loads(run(tmp_path, "--json", "--as", "sam", "file", "set", title).stdout)["key"]
        run(tmp_path, "--as", "finn", "triage", key, "--priority", "P2", "--team", team)
    later = json.loads(
        run(
            tmp_path, "--json", "--as", "sam", "file", "set", "Push notifications twice on android"
        ).stdout
    )
    assert [h["key"] for h in later["hints"]["similar"]] == ["SET-1"]

    found = json.loads(run(tmp_path, "--json", "similar", later["key"]).stdout)
    assert [f["key"] for f in found] == ["SET-1"] and "push" in found[0]["words"]
    table = run(tmp_path, "similar", "--desk", "set", "--title", "playbook checklist").stdout
    assert "SET-2" in table and "checklist" in table
    refused = run(tmp_path, "similar", ok=False)
    assert refused.returncode != 0 and "--desk" in refused.stderr + refused.stdout

    shown = json.loads(run(tmp_path, "--json", "suggestions", "show", later["key"]).stdout)
    assert {s["field"]: s["value"] for s in shown}["team"] == "mobile"
    assert "learned from 2" in run(tmp_path, "suggestions", "rebuild", "--desk", "set").stdout
    run(tmp_path, "--as", "finn", "triage", later["key"], "--priority", "P2", "--team", "mobile")
    report = json.loads(run(tmp_path, "--json", "report", "suggestions", "--desk", "set").stdout)
    assert {f["field"]: f["accepted"] for f in report["fields"]}["team"] == 1
