"""Access from the command line, as a real process on a real SQLite file: tokens with an
expiry, listed and revoked; a person deactivated and reactivated; the audit log."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import run


def test_tokens_deactivation_and_audit_through_the_cli(tmp_path: Path) -> None:
    run(tmp_path, "init")
    secret = run(tmp_path, "token", "create", "ana", "--name", "ci", "--expires", "90d").stdout
    assert secret.startswith("ddk_")
    bad = run(tmp_path, "token", "create", "ana", "--expires", "soon", ok=False)
    assert bad.returncode == 1 and "--expires" in bad.stderr

    listed = json.loads(run(tmp_path, "--json", "token", "list", "--user", "ana").stdout)
    assert [(t["name"], t["state"]) for t in listed] == [("ci", "active")]
    assert listed[0]["expires_at"] is not None and "token" not in listed[0]
    table = run(tmp_path, "token", "list", "--all").stdout
    assert "ddk_" in table and secret.strip() not in table  # the prefix, never the secret

    run(tmp_path, "user", "deactivate", "ana", "--reason", "left the team")
    users = json.loads(run(tmp_path, "--json", "users").stdout)
    assert {u["name"]: u["active"] for u in users}["ana"] is False
    listed = json.loads(run(tmp_path, "--json", "token", "list", "--user", "ana").stdout)
    assert listed[0]["state"] == "revoked"
    refused = run(tmp_path, "--as", "ana", "queue", "infra", ok=False)
    assert refused.returncode == 1 and "ana is deactivated" in refused.stderr
    self_lockout = run(tmp_path, "user", "deactivate", "admin", ok=False)
    assert "ask another admin" in self_lockout.stderr
    run(tmp_path, "user", "reactivate", "ana")

    second = run(tmp_path, "token", "create", "bo").stdout.strip()
    token_id = json.loads(run(tmp_path, "--json", "token", "list", "--user", "bo").stdout)[0]["id"]
    assert second.startswith("ddk_")
    run(tmp_path, "token", "revoke", str(token_id))
    audit = json.loads(run(tmp_path, "--json", "audit").stdout)
    assert [e["action"] for e in audit] == [
        "token.revoked",
        "token.created",
        "user.reactivated",
        "user.deactivated",
        "token.created",
    ]
    assert audit[3]["detail"]["reason"] == "left the team" and audit[3]["actor"] == "admin"
    assert audit[4]["actor"] is None  # made on the server's command line
    assert "(server)" in run(tmp_path, "audit", "--action", "token.created").stdout
