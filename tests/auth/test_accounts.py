"""People through the API: admins add them and change their roles and desks (audited; people
the policy file declares are changed there); everyone changes their own password and ends
their browser sessions."""

from __future__ import annotations

from dutydesk.auth.service import open_session, user_by_name
from dutydesk.http.deps import SESSION_COOKIE
from dutydesk.state import AppState
from tests.conftest import Api


def test_an_admin_adds_a_person_who_logs_in_and_is_re_roled(api: Api) -> None:
    body = {
        "name": "nia",
        "display_name": "Nia Novak",
        "email": "nia@example.com",
        "roles": ["reporter"],
        "password": "correct horse",
    }
    assert api.post("ana", "/api/v1/users", body).status_code == 403  # responders may not
    made = api.post("admin", "/api/v1/users", body)
    assert made.status_code == 201, made.text
    assert made.json()["managed_by_policy"] is False and made.json()["roles"] == ["reporter"]
    assert api.post("admin", "/api/v1/users", body).status_code == 409
    login = api.client.post(
        "/api/v1/auth/login", json={"username": "nia", "password": "correct horse"}
    )
    assert login.status_code == 200

    changed = api.req(
        "admin", "PATCH", "/api/v1/users/nia", json={"roles": ["responder"], "desks": ["infra"]}
    )
    assert changed.status_code == 200 and changed.json()["desks"] == ["infra"]
    audit = api.req("admin", "GET", "/api/v1/audit", params={"user": "nia"}).json()
    assert [e["action"] for e in audit][:2] == ["user.roles_changed", "user.created"]
    assert audit[0]["actor"] == "admin"
    assert audit[0]["detail"]["roles"] == {"before": ["reporter"], "after": ["responder"]}
    listed = {u["name"]: u for u in api.req("admin", "GET", "/api/v1/admin/users").json()}
    assert listed["nia"]["roles"] == ["responder"] and listed["ana"]["managed_by_policy"]
    assert api.req("rita", "GET", "/api/v1/admin/users").status_code == 403


def test_bad_people_input_names_the_field(api: Api) -> None:
    cases = [
        ({"name": "Nia Novak"}, "name"),
        ({"name": "nia", "desks": ["nowhere"]}, "desks"),
        ({"name": "nia", "roles": []}, "roles"),
        ({"name": "nia", "password": "short"}, "password"),
        ({"name": "ana"}, "name"),  # declared in the policy file
    ]
    for body, field in cases:
        r = api.post("admin", "/api/v1/users", body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, body
    r = api.post("admin", "/api/v1/users", {"name": "nia", "roles": ["boss"]})
    assert r.status_code == 422 and "roles" in r.text
    assert api.req("admin", "PATCH", "/api/v1/users/ghost", json={"team": "x"}).status_code == 404


def test_people_from_the_policy_file_are_changed_there(api: Api) -> None:
    r = api.req("admin", "PATCH", "/api/v1/users/ana", json={"roles": ["lead"]})
    assert r.status_code == 409 and "[people.ana]" in r.json()["detail"]
    # Sending what is already there is not a change.
    same = api.req("admin", "PATCH", "/api/v1/users/ana", json={"roles": ["responder"]})
    assert same.status_code == 200
    own = api.req("admin", "PATCH", "/api/v1/users/admin", json={"roles": ["lead"]})
    assert own.status_code == 409


def test_password_change_needs_the_old_one_and_ends_other_sessions(
    api: Api, state: AppState
) -> None:
    with state.db.write() as s:
        rita = user_by_name(s, "rita")
        other_cookie, _ = open_session(s, rita, state.now(), "Firefox on a laptop")
        here_cookie, here_csrf = open_session(s, rita, state.now(), "Chromium")
    wrong = api.post(
        "rita", "/api/v1/me/password", {"old_password": "nope", "new_password": "new secret 1"}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "old_password"
    short = api.post(
        "rita", "/api/v1/me/password", {"old_password": "dutydesk", "new_password": "short"}
    )
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "new_password"

    # From the browser session "here": the other one ends, this one stays.
    browser = {SESSION_COOKIE: here_cookie}
    api.client.cookies.update(browser)
    try:
        listed = api.client.get("/api/v1/me/sessions").json()
        assert {s["user_agent"] for s in listed} == {"Firefox on a laptop", "Chromium"}
        assert [s["current"] for s in listed if s["user_agent"] == "Chromium"] == [True]
        done = api.client.post(
            "/api/v1/me/password",
            json={"old_password": "dutydesk", "new_password": "new secret 1"},
            headers={"X-CSRF-Token": here_csrf},
        )
        assert done.status_code == 200 and done.json() == {"sessions_ended": 1}
        assert [s["user_agent"] for s in api.client.get("/api/v1/me/sessions").json()] == [
            "Chromium"
        ]
    finally:
        api.client.cookies.clear()
    old = api.client.post("/api/v1/auth/login", json={"username": "rita", "password": "dutydesk"})
    assert old.status_code == 401
    new = api.client.post(
        "/api/v1/auth/login", json={"username": "rita", "password": "new secret 1"}
    )
    assert new.status_code == 200
    api.client.cookies.clear()
    actions = [e["action"] for e in api.req("admin", "GET", "/api/v1/audit").json()]
    assert "user.password_changed" in actions
    assert other_cookie  # ended above


def test_sessions_are_listed_and_ended_one_or_all(api: Api, state: AppState) -> None:
    with state.db.write() as s:
        bo = user_by_name(s, "bo")
        for agent in ("phone", "laptop", "desktop"):
            open_session(s, bo, state.now(), agent)
    listed = api.req("bo", "GET", "/api/v1/me/sessions").json()
    assert len(listed) == 3 and not any(s["current"] for s in listed)  # a token is no session
    phone = next(s["id"] for s in listed if s["user_agent"] == "phone")
    assert api.post("ana", f"/api/v1/me/sessions/{phone}/revoke").status_code == 404  # not hers
    ended = api.post("bo", f"/api/v1/me/sessions/{phone}/revoke")
    assert ended.status_code == 200 and ended.json()["id"] == phone
    assert len(api.req("bo", "GET", "/api/v1/me/sessions").json()) == 2
    assert api.post("bo", "/api/v1/me/sessions/revoke-others").json() == {"ended": 2}
    assert api.req("bo", "GET", "/api/v1/me/sessions").json() == []
    assert api.post("bo", "/api/v1/me/sessions/999999/revoke").status_code == 404


def test_sessions_name_the_browser_in_a_few_words() -> None:
    from dutydesk.auth.accounts import browser_label

    chrome = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    )
    edge = chrome + " Edg/131.0.0.0"
    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
    )
    assert browser_label(chrome) == "Chrome on Linux"
    assert browser_label(edge) == "Edge on Linux"
    assert browser_label(firefox) == "Firefox on Windows"
    assert browser_label(iphone) == "Safari on iPhone"
    assert browser_label("python-httpx/0.28.1") == "python-httpx/0.28.1"
    assert browser_label(None) == browser_label("") == "unknown browser"
