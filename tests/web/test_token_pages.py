"""/me/tokens: a person lists, creates (the secret shown once) and revokes their API tokens."""

from __future__ import annotations

import re

from tests.web.conftest import Web


def test_create_list_and_revoke_tokens_from_the_page(web: Web) -> None:
    ana = web.as_("ana")
    assert 'href="/me/tokens"' in ana.get("/me").text
    page = ana.get("/me/tokens")
    assert page.status_code == 200 and "You have no tokens." in page.text

    made = ana.post("/me/tokens", {"name": "laptop CLI", "expires": "30d"})
    assert made.status_code == 201
    assert made.headers["cache-control"] == "no-store"
    secret = re.search(r'<code id="new-token" class="secret">(ddk_[^<]+)</code>', made.text)
    assert secret is not None
    bearer = {"Authorization": f"Bearer {secret.group(1)}"}
    assert ana.client.get("/api/v1/me", headers=bearer).json()["name"] == "ana"

    listed = ana.get("/me/tokens").text
    assert "laptop CLI" in listed and secret.group(1) not in listed  # shown once only
    assert "Wed 23 Dec 2026" in listed  # 30 days from the test clock's Monday 23 Nov

    bad = ana.post("/me/tokens", {"name": "x", "expires": "forever"})
    assert bad.status_code == 422 and "expires_in" in bad.text

    token_id = re.search(r'action="/me/tokens/(\d+)/revoke"', listed)
    assert token_id is not None
    assert web.as_("bo").post(f"/me/tokens/{token_id.group(1)}/revoke").status_code == 403
    done = ana.post(f"/me/tokens/{token_id.group(1)}/revoke")
    assert done.status_code == 303 and done.headers["location"] == "/me/tokens"
    assert ana.client.get("/api/v1/me", headers=bearer).status_code == 401
    assert ">revoked<" in ana.get("/me/tokens").text
    # Without the page's CSRF token nothing is made.
    forged = ana.client.post("/me/tokens", data={"name": "x"}, follow_redirects=False)
    assert forged.status_code == 403
