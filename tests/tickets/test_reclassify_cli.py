"""``dutydesk edit``, ``convert`` and ``watch`` as a newcomer types them, on a real SQLite
file (the commands speak the REST API of an in-process app, as the CLI does by default)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.oncall.test_oncall_cli import cli


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("reclassify-cli")
    cli(cwd, "init")
    return cwd


def _json(home: Path, *args: str) -> Any:
    return json.loads(cli(home, "--json", *args).stdout)


def test_reclassify_from_the_cli(home: Path) -> None:
    key = _json(home, "--as", "rita", "file", "set", "Crash when opening a channel")["key"]
    refused = cli(
        home, "--as", "rita", "file", "set", "Crash again", "--label", "community-server", ok=False
    )
    assert refused.returncode == 1
    assert "triager" in refused.stderr and "community-server" in refused.stderr
    shown = cli(
        home,
        "--as",
        "eva",
        "edit",
        key,
        "--kind",
        "bug",
        "--fix-target",
        "hotfix",
        "--label",
        "community-server",
        "--customer",
        "--pr",
        "https://github.com/example/app/pull/7",
        "--watcher",
        "finn",
        "--category",
        "crash",
    )
    assert f"{key} edited" in shown.stdout and "fix_target" in shown.stdout
    t = _json(home, "show", key)
    assert t["kind"] == "bug" and t["fix_target"] == "hotfix" and t["customer_reported"]
    assert t["labels"] == ["community-server"] and t["category"] == "crash"
    assert t["pr_links"] == ["https://github.com/example/app/pull/7"]
    assert set(t["watchers"]) >= {"rita", "finn"}
    assert t["queue_class"] == "community-quality"
    cli(home, "--as", "eva", "edit", key, "--remove-label", "community-server", "--no-customer")
    t = _json(home, "show", key)
    assert t["labels"] == [] and not t["customer_reported"] and t["queue_class"] == "bug"
    # A reporter may not set the fix target after filing either; the error says who can.
    denied = cli(home, "--as", "rita", "edit", key, "--fix-target", "release", ok=False)
    assert denied.returncode == 1 and "responder" in denied.stderr
    nothing = cli(home, "--as", "eva", "edit", key, ok=False)
    assert nothing.returncode == 1 and "--fix-target" in nothing.stderr


def test_convert_and_watch_from_the_cli(home: Path) -> None:
    key = _json(home, "--as", "rita", "file", "set", "Let admins pin messages")["key"]
    out = cli(home, "--as", "eva", "convert", key, "--kind", "feature-request").stdout
    assert "converted" in out and "PRODUCT-" in out
    t = _json(home, "show", key)
    assert t["resolution"] == "converted" and t["converted_to"].startswith("PRODUCT-")
    assert _json(home, "show", t["converted_to"])["converted_from"] == key
    other = _json(home, "--as", "rita", "file", "set", "Let admins star messages")["key"]
    here = cli(home, "--as", "eva", "convert", other, "--here").stdout
    assert "in place" in here
    watched = cli(home, "--as", "sam", "watch", other).stdout
    assert "watching" in watched and "sam" in watched
    off = cli(home, "--as", "sam", "watch", other, "--off").stdout
    assert "stopped watching" in off


def test_triage_sets_the_triager_fields_from_the_cli(home: Path) -> None:
    key = _json(home, "--as", "rita", "file", "set", "Server crash loop", "--kind", "bug")["key"]
    cli(
        home,
        "--as",
        "eva",
        "triage",
        key,
        "--priority",
        "P1",
        "--fix-target",
        "release",
        "--label",
        "community-server",
        "--team",
        "set",
    )
    t = _json(home, "show", key)
    assert (t["fix_target"], t["labels"], t["queue_class"]) == (
        "release",
        ["community-server"],
        "community-quality",
    )
