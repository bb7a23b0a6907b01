"""Taking access away, through the real API on a real database: deactivation, tokens with an
expiry, revocation, the audit log, and people who leave the policy file."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from dutydesk.auth.service import open_session, user_by_name
from dutydesk.http.deps import SESSION_COOKIE
from dutydesk.policy import Policy
from dutydesk.state import AppState, sync_policy
from tests.conftest import Api, ManualClock


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return dict(r.json())


def audit(api: Api, **params: Any) -> list[dict[str, Any]]:
    r = api.req("admin", "GET", "/api/v1/audit", params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


def session_client(api: Api, state: AppState, name: str) -> TestClient:
    with state.db.write() as s:
        cookie, _csrf = open_session(s, user_by_name(s, name), state.now())
    client = TestClient(api.client.app)
    client.cookies.set(SESSION_COOKIE, cookie)
    return client


def test_deactivation_stops_tokens_and_sessions_and_keeps_history(
    api: Api, state: AppState
) -> None:
    ticket = api.file("ana", title="Quota nearly out on the build pool")
    api.post("ana", f"/api/v1/tickets/{ticket['key']}/comments", {"body": "looking"})
    browser = session_client(api, state, "ana")
    assert browser.get("/api/v1/me").status_code == 200
    assert api.req("ana", "GET", "/api/v1/me").status_code == 200

    # Only admins may, and nobody may lock themselves out.
    assert problem(api.post("dee", "/api/v1/users/ana/deactivate", {}), 403)
    assert (
        "yourself"
        in problem(api.post("admin", "/api/v1/users/admin/deactivate", {}), 409)["detail"]
    )
    done = api.post("admin", "/api/v1/users/ana/deactivate", {"reason": "left the company"})
    assert done.status_code == 200, done.text
    assert done.json()["active"] is False
    assert done.json()["deactivated_reason"] == "left the company"

    refused = problem(api.req("ana", "GET", "/api/v1/me"), 401)
    assert refused["reason"] == "token-revoked"
    assert problem(browser.get("/api/v1/me"), 401)["detail"].startswith("your session")
    # History keeps their name.
    comments = api.req("dee", "GET", f"/api/v1/tickets/{ticket['key']}/comments").json()["items"]
    assert comments[0]["author"] == "ana"
    assert api.req("dee", "GET", f"/api/v1/tickets/{ticket['key']}").json()["reporter"] == "ana"
    users = {u["name"]: u for u in api.req("dee", "GET", "/api/v1/users").json()}
    assert users["ana"]["active"] is False

    entry = audit(api, user="ana", action="user.deactivated")[0]
    assert entry["actor"] == "admin" and entry["subject"] == "ana"
    assert entry["detail"]["tokens_revoked"] == 1 and entry["detail"]["sessions_ended"] == 1

    back = api.post("admin", "/api/v1/users/ana/reactivate")
    assert back.status_code == 200 and back.json()["active"] is True
    # Old credentials stay ended: they log in and make new tokens.
    assert problem(api.req("ana", "GET", "/api/v1/me"), 401)
    assert problem(browser.get("/api/v1/me"), 401)
    assert audit(api, limit=1)[0]["action"] == "user.reactivated"


def test_a_deactivated_person_cannot_be_assigned_or_put_on_call(api: Api) -> None:
    api.post("admin", "/api/v1/users/bo/deactivate", {})
    ticket = api.file("rita")
    refused = problem(
        api.post("dee", f"/api/v1/tickets/{ticket['key']}/assign", {"assignee": "bo"}), 422
    )
    assert refused["errors"][0]["field"] == "assignee" and "deactivated" in refused["detail"]
    override = {"person": "bo", "start": "2026-11-25", "end": "2026-11-26"}
    refused = problem(api.post("dee", "/api/v1/rotations/infra-oncall/overrides", override), 422)
    assert refused["errors"][0]["field"] == "person" and "deactivated" in refused["detail"]


def test_a_deactivated_admin_may_do_nothing(api: Api, state: AppState) -> None:
    from dutydesk.auth.service import has_role

    with state.db.write() as s:
        admin = user_by_name(s, "admin")
        admin.active = False
        assert not has_role(admin, "reporter")


def test_tokens_listed_without_secrets_expire_and_are_revoked(api: Api, clock: ManualClock) -> None:
    made = api.post("ana", "/api/v1/tokens", {"name": "laptop", "expires_in": "1h"})
    assert made.status_code == 201, made.text
    token = made.json()
    assert token["token"].startswith("ddk_") and token["state"] == "active"
    assert token["expires_at"].startswith("2026-11-23T18:00")
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert api.client.get("/api/v1/me", headers=bearer).json()["name"] == "ana"

    listed = api.req("ana", "GET", "/api/v1/tokens").json()
    assert [t["name"] for t in listed] == ["tests", "laptop"]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert listed[1]["last_used_at"] is not None  # used once above

    clock.advance(hours=2)
    expired = problem(api.client.get("/api/v1/me", headers=bearer), 401)
    assert expired["reason"] == "token-expired" and "expired" in expired["detail"]
    assert api.req("ana", "GET", "/api/v1/tokens").json()[1]["state"] == "expired"

    # Revoking: your own, or anyone's as an admin; never someone else's otherwise.
    other = api.post("bo", "/api/v1/tokens", {"name": "ci"}).json()
    assert other["expires_at"] is None
    assert problem(api.post("ana", f"/api/v1/tokens/{other['id']}/revoke"), 403)
    assert problem(api.post("ana", "/api/v1/tokens", {"user": "bo"}), 403)
    gone = api.req("admin", "DELETE", f"/api/v1/tokens/{other['id']}")
    assert gone.status_code == 200 and gone.json()["state"] == "revoked"
    revoked = problem(
        api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {other['token']}"}), 401
    )
    assert revoked["reason"] == "token-revoked"
    assert problem(api.req("admin", "GET", "/api/v1/tokens", params={"user": "nobody"}), 404)
    assert problem(api.req("admin", "DELETE", "/api/v1/tokens/99999999999999999999"), 422)
    assert problem(api.post("admin", "/api/v1/tokens/0/revoke"), 422)
    assert len(api.req("admin", "GET", "/api/v1/tokens", params={"all": "true"}).json()) >= 3

    actions = [(e["action"], e["actor"], e["subject"]) for e in audit(api)]
    assert actions[:3] == [
        ("token.revoked", "admin", "bo"),
        ("token.created", "bo", "bo"),
        ("token.created", "ana", "ana"),
    ]
    assert problem(api.req("dee", "GET", "/api/v1/audit"), 403)


def test_token_lifetimes_are_checked(api: Api) -> None:
    for bad in ("soon", "0d", "20 years", "2 business days", "99999999999999999999d"):
        refused = problem(api.post("ana", "/api/v1/tokens", {"expires_in": bad}), 422)
        assert refused["errors"][0]["field"] == "expires_in"
    assert api.post("ana", "/api/v1/tokens", {"expires_in": "never"}).json()["expires_at"] is None


def test_a_retried_token_creation_makes_one_token_and_does_not_replay_the_secret(
    api: Api,
) -> None:
    key = {"Idempotency-Key": "token-once"}
    first = api.post("ana", "/api/v1/tokens", {"name": "ci"}, headers=key)
    again = api.post("ana", "/api/v1/tokens", {"name": "ci"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert "token" in first.json() and "token" not in again.json()
    assert again.json()["id"] == first.json()["id"]
    assert len(api.req("ana", "GET", "/api/v1/tokens").json()) == 2  # the fixture's and this


def test_leaving_the_policy_file_takes_access_away_and_coming_back_returns_it(
    api: Api, state: AppState, policy: Policy, clock: ManualClock
) -> None:
    browser = session_client(api, state, "rita")
    assert api.req("ana", "GET", "/api/v1/me").status_code == 200
    raw = policy.model_dump(by_alias=True)
    del raw["people"]["rita"]
    raw["people"]["dee"]["roles"] = ["responder"]
    without = Policy.model_validate(raw)
    sync_policy(state.db, without, clock.advance(minutes=1))  # as `serve` does at start-up
    state.tokens.clear()  # a new process starts with an empty cache

    assert problem(api.req("rita", "GET", "/api/v1/me"), 401)["reason"] == "token-revoked"
    assert problem(browser.get("/api/v1/me"), 401)
    assert api.req("ana", "GET", "/api/v1/me").status_code == 200  # still declared
    left = audit(api, user="rita", action="user.deactivated")[0]
    assert left["actor"] is None and left["detail"]["reason"] == "removed from the policy file"
    role = audit(api, action="user.roles_changed")[0]
    assert role["subject"] == "dee" and role["detail"]["roles"] == {
        "before": ["lead"],
        "after": ["responder"],
    }

    sync_policy(state.db, policy, clock.advance(minutes=1))
    users = {u["name"]: u for u in api.req("ana", "GET", "/api/v1/users").json()}
    assert users["rita"]["active"] is True

    # Someone an admin deactivated stays deactivated while still in the file.
    api.post("admin", "/api/v1/users/ana/deactivate", {})
    sync_policy(state.db, policy, clock.advance(minutes=1))
    users = {u["name"]: u for u in api.req("bo", "GET", "/api/v1/users").json()}
    assert users["ana"]["active"] is False


def test_calendar_links_die_with_their_maker(api: Api) -> None:
    link = api.post("ana", "/api/v1/people/ana/feed-tokens").json()
    path = f"/api/v1/people/ana/calendar.ics?token={link['token']}"
    assert api.client.get(path).status_code == 200
    api.post("admin", "/api/v1/users/ana/deactivate", {})
    assert problem(api.client.get(path), 401)
