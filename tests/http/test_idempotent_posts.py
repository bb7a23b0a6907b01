"""Every POST that creates something honours Idempotency-Key: a retry returns the first answer
and writes nothing; the same key with a different request is a 422.

The routes are walked from the OpenAPI document, so a new POST fails here until it is listed
below, with a sample request, or with the reason it creates nothing (or deduplicates by its
own means)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from dutydesk.models import Base
from dutydesk.state import AppState
from tests.conftest import Api
from tests.oncall.test_feeds import _export, pst

INFRA = "/api/v1/rotations/infra-oncall"


@dataclass(frozen=True)
class Sample:
    """Who sends it, the concrete path and body, and a different request on the same route."""

    user: str
    path: str
    body: dict[str, Any] | None
    other_path: str
    other_body: dict[str, Any] | None


def _ics() -> str:
    return _export((pst(7), pst(14), "On Call - Chen - Infra", "chen@example.com"))


# Route → a sample; ``{key}`` is a ticket filed for the test.
CREATING: dict[str, Callable[[str], Sample]] = {
    "/api/v1/desks/{desk}/tickets": lambda key: Sample(
        "rita",
        "/api/v1/desks/infra/tickets",
        {"title": "Builders are slow to start"},
        "/api/v1/desks/infra/tickets",
        {"title": "Builders are slow to stop"},
    ),
    "/api/v1/tickets/{key}/comments": lambda key: Sample(
        "rita",
        f"/api/v1/tickets/{key}/comments",
        {"body": "any news?"},
        f"/api/v1/tickets/{key}/comments",
        {"body": "any news at all?"},
    ),
    "/api/v1/desks/{desk}/status-notes": lambda key: Sample(
        "dee",
        "/api/v1/desks/infra/status-notes",
        {"text": "Quota requests doubled this week"},
        "/api/v1/desks/infra/status-notes",
        {"text": "Quota requests tripled this week"},
    ),
    "/api/v1/desks/{desk}/reports/toil/followed": lambda key: Sample(
        "ana",
        "/api/v1/desks/infra/reports/toil/followed",
        {"name": "Builder requests", "words": ["builder", "add"]},
        "/api/v1/desks/infra/reports/toil/followed",
        {"name": "Quota requests", "words": ["quota"]},
    ),
    "/api/v1/rotations/{name}/overrides": lambda key: Sample(
        "dee",
        f"{INFRA}/overrides",
        {"person": "ana", "start": "2026-11-25", "end": "2026-11-27"},
        f"{INFRA}/overrides",
        {"person": "ana", "start": "2026-11-28", "end": "2026-11-29"},
    ),
    "/api/v1/rotations/{name}/take": lambda key: Sample(
        "ana", f"{INFRA}/take", {}, f"{INFRA}/take", {"person": "ana"}
    ),
    "/api/v1/rotations/{name}/swaps": lambda key: Sample(
        "dee",
        f"{INFRA}/swaps",
        {"person_a": "ana", "shift_a": "2026-12-07", "person_b": "bo"},
        f"{INFRA}/swaps",
        {"person_a": "ana", "shift_a": "2026-12-07", "person_b": "chen"},
    ),
    "/api/v1/time-off": lambda key: Sample(
        "ana",
        "/api/v1/time-off",
        {"start": "2026-12-07", "end": "2026-12-13", "reason": "PTO"},
        "/api/v1/time-off",
        {"start": "2026-12-07", "end": "2026-12-14", "reason": "PTO"},
    ),
    "/api/v1/rotations/{name}/members": lambda key: Sample(
        "dee",
        f"{INFRA}/members",
        {"person": "bo", "action": "leave", "effective": "2027-01-01"},
        f"{INFRA}/members",
        {"person": "bo", "action": "leave", "effective": "2027-01-02"},
    ),
    "/api/v1/rotations/{name}/import": lambda key: Sample(
        "dee",
        f"{INFRA}/import",
        {"ics": _ics()},
        f"{INFRA}/import",
        {"ics": _ics(), "replace": True},
    ),
    "/api/v1/rotations/{name}/feed-tokens": lambda key: Sample(
        "ana", f"{INFRA}/feed-tokens", None, "/api/v1/rotations/set/feed-tokens", None
    ),
    "/api/v1/people/{name}/feed-tokens": lambda key: Sample(
        "ana", "/api/v1/people/ana/feed-tokens", None, "/api/v1/people/bo/feed-tokens", None
    ),
    "/api/v1/desks/{desk}/releases": lambda key: Sample(
        "dee",
        "/api/v1/desks/infra/releases",
        {"name": "2026.12", "date": "2026-12-16"},
        "/api/v1/desks/infra/releases",
        {"name": "2027.01", "date": "2027-01-16"},
    ),
    "/api/v1/tickets/{key}/handoff-note": lambda key: Sample(
        "ana",
        f"/api/v1/tickets/{key}/handoff-note",
        {"text": "waiting on the vendor's answer"},
        f"/api/v1/tickets/{key}/handoff-note",
        {"text": "the vendor answered"},
    ),
    "/api/v1/tickets/{key}/convert": lambda key: Sample(
        "ana",
        f"/api/v1/tickets/{key}/convert",
        {"kind": "story", "desk": "product"},
        f"/api/v1/tickets/{key}/convert",
        {"kind": "feature-request", "desk": "product"},
    ),
    "/api/v1/tokens": lambda key: Sample(
        "ana", "/api/v1/tokens", {"name": "ci"}, "/api/v1/tokens", {"name": "cd"}
    ),
    "/api/v1/users": lambda key: Sample(
        "admin", "/api/v1/users", {"name": "nia"}, "/api/v1/users", {"name": "noa"}
    ),
    "/api/v1/desks/{desk}/handbook": lambda key: Sample(
        "ana",
        "/api/v1/desks/infra/handbook",
        {"body": "# How we work", "base_version": 0},
        "/api/v1/desks/infra/handbook",
        {"body": "# How the infra desk works", "base_version": 0},
    ),
}

# POSTs that create nothing: they change or undo one thing, so a retry finds it done (they
# run through the same write path and honour a key all the same).
CHANGING = {
    "/api/v1/tickets/{key}/move",
    "/api/v1/tickets/{key}/assign",
    "/api/v1/tickets/{key}/triage",
    "/api/v1/tickets/{key}/block",
    "/api/v1/tickets/{key}/unblock",
    "/api/v1/tickets/{key}/watch",
    "/api/v1/tickets/{key}/rank",
    "/api/v1/rotations/{name}/overrides/{override_id}/undo",
    "/api/v1/rotations/{name}/swaps/{swap_id}/undo",
    "/api/v1/time-off/{time_off_id}/cancel",
    "/api/v1/tokens/{token_id}/revoke",
    "/api/v1/users/{name}/deactivate",
    "/api/v1/users/{name}/reactivate",
    "/api/v1/desks/{desk}/slo/recompute",
    "/api/v1/desks/{desk}/suggestions/rebuild",
    "/api/v1/admin/outbox/retry",
    "/api/v1/admin/outbox/{message_id}/retry",
    "/api/v1/desks/{desk}/status-notes/{note_id}/remove",
    "/api/v1/desks/{desk}/releases/{name}/move",
    "/api/v1/desks/{desk}/releases/{name}/remove",
    "/api/v1/me/sessions/{session_id}/revoke",
    "/api/v1/me/sessions/revoke-others",
    "/api/v1/me/inbox/read",
}
# POSTs that deduplicate by other means, or must not.
OWN_RULES = {
    "/api/v1/auth/login": "each log-in opens its own session",
    "/api/v1/auth/logout": "ends the session; a retry finds it ended",
    "/api/v1/chat/slack/command": "chat retries are deduplicated by the platform's trigger id",
    "/api/v1/chat/mattermost/command": "chat retries are deduplicated by the platform's ids",
    "/api/v1/desks/{desk}/github/webhook": "redeliveries are deduplicated by X-GitHub-Delivery",
    "/api/v1/desks/{desk}/imports": "records are keyed by external id: a re-run adds nothing",
    "/api/v1/desks/{desk}/status-post/publish": "a week's post goes out once: it uses the "
    "scheduled post's message keys",
    "/api/v1/me/password": "a retry is refused: the old password no longer matches",
}


def _post_routes(api: Api) -> set[str]:
    spec = api.client.get("/api/v1/openapi.json").json()
    return {path for path, ops in spec["paths"].items() if "post" in ops}


def test_every_post_route_is_classified(api: Api) -> None:
    posts = _post_routes(api)
    known = set(CREATING) | CHANGING | set(OWN_RULES)
    assert posts - known == set(), "new POST routes: list them in this test"
    assert known - posts == set(), "routes listed here that no longer exist"
    assert not (set(CREATING) & CHANGING) and not (set(OWN_RULES) & (set(CREATING) | CHANGING))


def _rows(state: AppState) -> dict[str, int]:
    with state.db.read() as s:
        return {
            t.name: int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


def _send(api: Api, user: str, path: str, body: dict[str, Any] | None, key: str) -> Any:
    headers = {"Idempotency-Key": key}
    if body is None:
        return api.req(user, "POST", path, headers=headers)
    return api.req(user, "POST", path, json=body, headers=headers)


def test_every_creating_post_replays_its_first_answer(api: Api, state: AppState) -> None:
    ticket = api.file("rita", title="Runner pool is draining")["key"]
    for route, make in CREATING.items():
        sample = make(ticket)
        key = f"retry-{route}"
        first = _send(api, sample.user, sample.path, sample.body, key)
        assert first.status_code in (200, 201), (route, first.text)
        before = _rows(state)
        again = _send(api, sample.user, sample.path, sample.body, key)
        assert again.status_code == first.status_code, (route, again.text)
        assert again.headers.get("idempotent-replayed") == "true", route
        secret_free = {k: v for k, v in first.json().items() if k not in ("token", "url")}
        assert {k: v for k, v in again.json().items() if k in secret_free} == secret_free, route
        assert _rows(state) == before, (route, "a retry wrote rows")
        assert again.json().get("token") is None, (route, "a replay repeated a secret")
        changed = _send(api, sample.user, sample.other_path, sample.other_body, key)
        assert changed.status_code == 422, (route, changed.text)
        assert changed.json()["errors"][0]["field"] == "Idempotency-Key", route
        assert _rows(state) == before, (route, "a refused retry wrote rows")
