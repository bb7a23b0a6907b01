"""The GitHub bridge over real HTTP: payloads shaped as GitHub's own examples, signed with a
test secret, sent to a real uvicorn server on 127.0.0.1 with a real database behind it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from dutydesk.app import create_app
from dutydesk.auth.models import User
from dutydesk.github.models import GithubDelivery
from dutydesk.notify.models import OutboxMessage
from dutydesk.notify.worker import fan_out
from dutydesk.policy import Policy
from dutydesk.state import AppState
from dutydesk.tickets import service
from dutydesk.tickets.models import Event, Ticket, Watcher
from dutydesk.tickets.recorder import get_ticket
from tests.github import payloads as gh
from tests.notify.receivers import Receiver, free_port

SECRET = "It's a Secret to Everybody"


@pytest.fixture(scope="session")
def policy(policy: Policy) -> Policy:
    raw = policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["github"] = {
        "repositories": ["Codertocat/Hello-World"],
        "labels": {"bug": "kind:bug", "flaky": "label:flaky"},
    }
    return Policy.model_validate(raw)


@contextmanager
def serving(state: AppState) -> Iterator[str]:
    """A real uvicorn server on a free loopback port; yields the desk's webhook URL."""
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(
            create_app(state, max_body_bytes=64 * 1024),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/api/v1/desks/infra/github/webhook"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(state: AppState, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DUTYDESK_GITHUB_WEBHOOK_SECRET", SECRET)
    with serving(state) as url:
        yield url


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(
    url: str,
    event: str,
    payload: Any,
    *,
    delivery: str | None = None,
    body: bytes | None = None,
    sign: str | None = SECRET,
    content_type: str = "application/json",
) -> httpx.Response:
    """As GitHub sends a delivery: the JSON body, its event, a delivery id, its signature."""
    data = body if body is not None else json.dumps(payload).encode()
    headers = {
        "Content-Type": content_type,
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "109948940",
    }
    if sign is not None:
        headers["X-Hub-Signature-256"] = signature(data, sign)
    return httpx.post(url, content=data, headers=headers, timeout=10)


def one_ticket(state: AppState, key: str = "INFRA-1") -> Ticket:
    with state.db.read() as s:
        t = get_ticket(s, key)
        s.expunge(t)
        return t


def count(state: AppState, table: Any) -> int:
    with state.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_ping_answers_and_the_route_is_in_the_openapi_document(server: str) -> None:
    r = send(server, "ping", gh.ping())
    assert r.status_code == 200 and r.json()["zen"] == "Anything added dilutes everything else."
    spec = httpx.get(server.split("/api/v1")[0] + "/api/v1/openapi.json").json()
    assert "post" in spec["paths"]["/api/v1/desks/{desk}/github/webhook"]


def test_an_opened_issue_files_a_ticket_by_the_rules_and_redelivery_changes_nothing(
    server: str, state: AppState
) -> None:
    delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    r = send(server, "issues", gh.issues_event("opened"), delivery=delivery)
    assert r.status_code == 200, r.text
    assert r.json()["ticket"] == "INFRA-1" and r.json()["status"] == "handled"
    t = one_ticket(state)
    assert t.title == "Spelling error in the README file"
    assert t.kind == "bug"  # GitHub's "bug" label, mapped by the desk
    assert t.priority is None and t.status == "New"  # a reporter sets no priority
    assert "https://github.com/Codertocat/Hello-World/issues/1" in t.description
    with state.db.read() as s:
        author = s.get(User, t.reporter_id)
        assert author is not None and author.name == "gh-codertocat"
        assert author.roles == ["reporter"] and author.display_name == "Codertocat (GitHub)"
        events = s.scalar(select(func.count()).select_from(Event)) or 0
    # The on-call hears of it, as of any filing.
    fan_out(state.db, state.policy)
    with state.db.read() as s:
        reasons = [r.payload.get("reason") for r in s.scalars(select(OutboxMessage))]
    assert "oncall" in reasons

    again = send(server, "issues", gh.issues_event("opened"), delivery=delivery)
    assert again.status_code == 200 and again.json()["status"] == "redelivered"
    assert count(state, Ticket) == 1 and count(state, Event) == events
    # A new delivery of the same issue files nothing either: it is bridged already.
    other = send(server, "issues", gh.issues_event("opened"))
    assert other.status_code == 202 and "already bridged" in other.json()["detail"]
    assert count(state, Ticket) == 1


def test_comments_follow_the_issue_and_a_participant_becomes_a_watcher(
    server: str, state: AppState
) -> None:
    assert send(server, "issues", gh.issues_event("opened")).status_code == 200
    r = send(server, "issue_comment", gh.comment_event())
    assert r.status_code == 200 and r.json()["detail"] == "commented on INFRA-1"
    stranger = gh.comment_event("Same here on Windows.", commenter="octo-stranger", comment_id=7)
    assert send(server, "issue_comment", stranger).status_code == 200
    bot = gh.comment_event("Stale issue.", commenter="stale[bot]", commenter_type="Bot")
    assert send(server, "issue_comment", bot).status_code == 202
    with state.db.read() as s:
        said = [(c.body.split("\n")[0], who) for c, who in service.comments(s, "INFRA-1", True)]
        watcher = s.scalar(select(User).where(User.name == "gh-octo-stranger"))
        assert watcher is not None
        assert s.get(Watcher, (one_ticket(state).id, watcher.id)) is not None
    assert said == [
        ("You are totally right! I'll get this fixed right away.", "gh-codertocat"),
        ("Same here on Windows.", "gh-octo-stranger"),
    ]
    unbridged = gh.comment_event(number=99)
    assert send(server, "issue_comment", unbridged).status_code == 202


def test_closing_and_reopening_follow_the_workflow_or_are_recorded_as_refused(
    server: str, state: AppState
) -> None:
    assert send(server, "issues", gh.issues_event("opened")).status_code == 200
    # A guest reporter may not close a ticket: the refusal is recorded, GitHub hears 200.
    by_reporter = gh.issues_event("closed", state="closed", state_reason="not_planned")
    r = send(server, "issues", by_reporter)
    assert r.status_code == 200 and "not here" in r.json()["detail"]
    assert one_ticket(state).status == "New"
    with state.db.read() as s:
        refused = s.scalar(select(Event).where(Event.type == "github_not_mirrored"))
        assert refused is not None and refused.data["github_action"] == "closed"
        assert "may not move tickets" in refused.data["reason"]

    # Ana (github login ana-alvarez in policy) is a responder: her closing is a move.
    by_ana = gh.issues_event(
        "closed", sender="ana-alvarez", state="closed", state_reason="completed"
    )
    assert send(server, "issues", by_ana).json()["detail"] == "closed INFRA-1 (fixed)"
    t = one_ticket(state)
    assert (t.status, t.resolution) == ("Done", "fixed")
    wont = gh.issues_event("closed", sender="ana-alvarez", state="closed")
    assert send(server, "issues", wont).status_code == 202  # already Done

    reopened = gh.issues_event("reopened", sender="ana-alvarez")
    assert send(server, "issues", reopened).json()["detail"] == "reopened INFRA-1"
    t = one_ticket(state)
    assert (t.status, t.resolution) == ("New", None)
    not_planned = gh.issues_event(
        "closed", sender="ana-alvarez", state="closed", state_reason="not_planned"
    )
    send(server, "issues", not_planned)
    assert one_ticket(state).resolution == "wont-fix"


def test_unbridged_events_repositories_and_pull_requests_are_ignored(
    server: str, state: AppState
) -> None:
    assert send(server, "star", {"action": "created"}).status_code == 202
    assert send(server, "issues", gh.issues_event("edited")).status_code == 202
    other_repo = gh.issues_event("opened", repo="someone/else")
    assert send(server, "issues", other_repo).status_code == 202
    assert count(state, Ticket) == 0 and count(state, GithubDelivery) == 0


@pytest.mark.parametrize(
    ("case", "status", "says"),
    [
        ("bad-signature", 401, "does not match the body"),
        ("missing-signature", 401, "X-Hub-Signature-256 is missing"),
        ("wrong-content-type", 415, "application/json"),
        ("oversized-body", 413, ""),
        ("malformed-json", 422, "body: the payload is not valid JSON"),
        ("not-an-object", 422, "the payload is a JSON object"),
        ("missing-fields", 422, "issue"),
        ("missing-event-header", 422, "x-github-event"),
    ],
)
def test_bad_deliveries_get_a_problem_document_and_write_nothing(
    server: str, state: AppState, case: str, status: int, says: str
) -> None:
    good = gh.issues_event("opened")
    if case == "bad-signature":
        r = send(server, "issues", good, sign="not the secret")
    elif case == "missing-signature":
        r = send(server, "issues", good, sign=None)
    elif case == "wrong-content-type":
        form = b"payload=" + json.dumps(good).encode()
        r = send(
            server, "issues", None, body=form, content_type="application/x-www-form-urlencoded"
        )
    elif case == "oversized-body":
        r = send(server, "issues", {**good, "padding": "x" * 70_000})
    elif case == "malformed-json":
        r = send(server, "issues", None, body=b'{"action": "opened", "issue": {')
    elif case == "not-an-object":
        r = send(server, "issues", [1, 2, 3])
    elif case == "missing-fields":
        r = send(server, "issues", {"action": "opened", "repository": gh.repository()})
    else:
        body = json.dumps(good).encode()
        r = httpx.post(
            server,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Delivery": "d-1",
                "X-Hub-Signature-256": signature(body),
            },
        )
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert says in r.text
    assert count(state, Ticket) == 0 and count(state, GithubDelivery) == 0


def test_a_desk_without_the_bridge_or_without_its_secret_refuses_clearly(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = send(server.replace("/infra/", "/set/"), "issues", gh.issues_event("opened"))
    assert r.status_code == 404 and "[desks.set.github]" in r.json()["detail"]
    monkeypatch.delenv("DUTYDESK_GITHUB_WEBHOOK_SECRET")
    r = send(server, "issues", gh.issues_event("opened"))
    assert r.status_code == 404 and "set DUTYDESK_GITHUB_WEBHOOK_SECRET" in r.json()["detail"]


def test_write_back_is_off_by_default_and_comments_on_the_issue_when_turned_on(
    state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    github_api = Receiver(status=201).start()  # stands in for api.github.com, on loopback
    try:
        raw = state.policy.model_dump(by_alias=True)
        raw["desks"]["infra"]["github"].update(write_back=True, api_url=github_api.url)
        writing = AppState(db=state.db, policy=Policy.model_validate(raw), clock=state.clock)
        monkeypatch.setenv("DUTYDESK_GITHUB_WEBHOOK_SECRET", SECRET)
        with serving(writing) as url:
            # On, but without its token: nothing is sent.
            assert send(url, "issues", gh.issues_event("opened")).status_code == 200
            monkeypatch.setenv("DUTYDESK_GITHUB_TOKEN", "ghp_test_token")
            assert send(url, "issues", gh.issues_event("opened", number=2)).status_code == 200
            github_api.wait_for(1, timeout=10)
        [posted] = github_api.requests
        assert posted.path == "/repos/Codertocat/Hello-World/issues/2/comments"
        assert posted.headers["authorization"] == "Bearer ghp_test_token"
        assert json.loads(posted.body) == {"body": "Filed as INFRA-2 on the dutydesk 'infra' desk."}
    finally:
        github_api.stop()


def test_a_desk_that_files_on_a_label_files_only_when_that_label_is_added(
    state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = state.policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["github"].update(file_on=["labeled"], label="infra")
    labelled = AppState(db=state.db, policy=Policy.model_validate(raw), clock=state.clock)
    monkeypatch.setenv("DUTYDESK_GITHUB_WEBHOOK_SECRET", SECRET)
    with serving(labelled) as url:
        assert send(url, "issues", gh.issues_event("opened")).status_code == 202
        assert send(url, "issues", gh.issues_event("labeled", label="bug")).status_code == 202
        r = send(url, "issues", gh.issues_event("labeled", label="infra", labels=("bug", "infra")))
        assert r.status_code == 200 and r.json()["ticket"] == "INFRA-1"
    assert count(state, Ticket) == 1


def test_copies_of_one_delivery_arriving_together_file_one_ticket(
    server: str, state: AppState
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    payload = gh.issues_event("opened")
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda _: send(server, "issues", payload, delivery="same-delivery"), range(4))
        )
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 200]
    assert sorted(r.json()["status"] for r in answers) == ["handled"] + ["redelivered"] * 3
    assert count(state, Ticket) == 1 and count(state, GithubDelivery) == 1


class _GraphQL(BaseHTTPRequestHandler):
    """GitHub's GraphQL endpoint on loopback: answers the issue the bridge asks for."""

    asked: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["content-length"])))
        _GraphQL.asked.append({"auth": self.headers["authorization"], **query})
        answer = {
            "data": {
                "node": {
                    "number": 7,
                    "title": "Runner pool for web engine is out of capacity",
                    "body": "Jobs wait 40 minutes for a runner.",
                    "url": "https://github.com/Codertocat/Hello-World/issues/7",
                    "state": "OPEN",
                    "stateReason": None,
                    "author": {"login": "Codertocat"},
                    "labels": {"nodes": [{"name": "bug"}]},
                    "repository": {"nameWithOwner": "Codertocat/Hello-World"},
                }
            }
        }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_an_issue_added_to_the_desks_project_files_a_ticket(
    state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = ThreadingHTTPServer(("127.0.0.1", 0), _GraphQL)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    try:
        raw = state.policy.model_dump(by_alias=True)
        raw["desks"]["infra"]["github"].update(
            file_on=["project"],
            project="PVT_kwDOAWcTxs07Gw",
            api_url=f"http://127.0.0.1:{api.server_address[1]}",
        )
        on_project = AppState(db=state.db, policy=Policy.model_validate(raw), clock=state.clock)
        monkeypatch.setenv("DUTYDESK_GITHUB_WEBHOOK_SECRET", SECRET)
        with serving(on_project) as url:
            draft = gh.project_item_event(content_type="DraftIssue")
            assert send(url, "projects_v2_item", draft).status_code == 202
            other = gh.project_item_event(project="PVT_someone_else")
            assert send(url, "projects_v2_item", other).status_code == 202
            no_token = send(url, "projects_v2_item", gh.project_item_event())
            assert no_token.status_code == 503 and "DUTYDESK_GITHUB_TOKEN" in no_token.text
            monkeypatch.setenv("DUTYDESK_GITHUB_TOKEN", "ghp_test_token")
            r = send(url, "projects_v2_item", gh.project_item_event())
            assert r.status_code == 200 and r.json()["ticket"] == "INFRA-1"
        [asked] = _GraphQL.asked
        assert asked["auth"] == "Bearer ghp_test_token"
        assert asked["variables"] == {"id": "I_kwDOAWcTxs5Ad7Bx"}
        t = one_ticket(state)
        assert (t.title, t.kind) == ("Runner pool for web engine is out of capacity", "bug")
    finally:
        api.shutdown()
        api.server_close()


def test_a_bridged_ticket_names_its_issue_in_the_ticket_api(server: str, state: AppState) -> None:
    from dutydesk.auth.service import create_token, user_by_name

    assert send(server, "issues", gh.issues_event("opened")).status_code == 200
    with state.db.write() as s:
        token = create_token(s, user_by_name(s, "bo"), state.now(), "tests")
    base = server.split("/api/v1")[0]
    got = httpx.get(
        f"{base}/api/v1/tickets/INFRA-1", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert got.status_code == 200 and got.json()["source"] == {
        "system": "github-webhook",
        "external_id": "Codertocat/Hello-World#1",
        "url": "https://github.com/Codertocat/Hello-World/issues/1",
    }
