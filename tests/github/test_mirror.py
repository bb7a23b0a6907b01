"""Status written back to GitHub: a real HTTP server on 127.0.0.1 stands in for the GitHub
REST API (the desk's ``api_url``), answering the documented endpoints as GitHub does; the
worker's tick sends the calls. Off unless the desk writes back and the token is set."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from dutydesk.auth.service import user_by_name
from dutydesk.github import mirror
from dutydesk.github.models import GithubMirrorCursor
from dutydesk.github.service import GATEWAY, Delivery, handle
from dutydesk.notify.worker import Worker
from dutydesk.policy import Policy
from dutydesk.state import AppState
from dutydesk.tickets import service
from dutydesk.tickets.recorder import get_ticket
from dutydesk.tickets.schemas import TriageIn
from tests.conftest import ManualClock
from tests.github import payloads as gh
from tests.processes import free_port

TOKEN = "ghp_mirror_test_token"
ENV = {"DUTYDESK_GITHUB_TOKEN": TOKEN}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class GithubApi:
    """The slice of GitHub's REST API that write-back uses, with the issues' labels and state
    kept as GitHub keeps them (removing a label the issue lacks is a 404, as on GitHub)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.labels: dict[str, list[str]] = {}
        self.state: dict[str, str] = {}
        self.fail_next: list[int] = []  # statuses to answer to the next calls, once each
        self.lock = threading.Lock()
        self.port = free_port()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(size) if size else b""
                body = json.loads(raw) if raw else None
                with api.lock:
                    api.calls.append(
                        Call(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                    if api.fail_next:
                        self._answer(api.fail_next.pop(0), {"message": "Server Error"})
                        return
                    status, answer = api.route(self.command, self.path, body)
                self._answer(status, answer)

            do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if len(parts) < 5 or parts[0] != "repos" or parts[3] != "issues":
            return 404, {"message": "Not Found"}
        issue = "/".join(parts[1:3]) + "#" + parts[4]
        labels = self.labels.setdefault(issue, [])
        rest = parts[5:]
        if method == "POST" and rest == ["comments"]:
            return 201, {"id": len(self.calls), "body": body["body"]}
        if method == "PATCH" and not rest:
            self.state[issue] = body["state"]
            return 200, {"number": int(parts[4]), "state": body["state"]}
        if method == "POST" and rest == ["labels"]:
            labels += [n for n in body["labels"] if n not in labels]
            return 200, [{"name": n} for n in labels]
        if method == "DELETE" and len(rest) == 2 and rest[0] == "labels":
            name = unquote(rest[1])
            if name not in labels:
                return 404, {"message": "Label does not exist"}
            labels.remove(name)
            return 200, [{"name": n} for n in labels]
        return 404, {"message": "Not Found"}

    def take(self) -> list[tuple[str, str, Any]]:
        with self.lock:
            out = [(c.method, c.path, c.body) for c in self.calls]
            self.calls.clear()
        return out

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github_api() -> Iterator[GithubApi]:
    api = GithubApi()
    yield api
    api.stop()


def writing(state: AppState, api_url: str, write_back: bool = True) -> AppState:
    raw = state.policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["github"] = {
        "repositories": ["Codertocat/Hello-World"],
        "write_back": write_back,
        "api_url": api_url,
    }
    raw["people"]["bo"]["github"] = "Codertocat"  # the on-call, who closes on GitHub too
    return AppState(db=state.db, policy=Policy.model_validate(raw), clock=state.clock)


def bridge(app: AppState, action: str = "opened", **kw: Any) -> None:
    rules = app.policy.desks["infra"].github
    assert rules is not None
    delivery = Delivery(f"d-{action}-{kw}", "issues", gh.issues_event(action, **kw))
    with app.write(GATEWAY) as ctx:
        handle(ctx, "infra", rules, delivery)


def as_(state: AppState, name: str) -> Any:
    with state.db.read() as s:
        user = user_by_name(s, name)
    return state.write(user)


def status(app: AppState, key: str = "INFRA-1") -> str:
    with app.db.read() as s:
        return get_ticket(s, key).status


def settled(clock: ManualClock) -> datetime:
    """Later than the mirror's settling time: the changes made so far are old enough."""
    clock.advance(seconds=10)
    return clock()


def tick(worker: Worker, clock: ManualClock) -> None:
    settled(clock)
    worker.tick()


ISSUE = "/repos/Codertocat/Hello-World/issues/1"


def test_priority_closing_and_reopening_are_mirrored_by_the_worker(
    state: AppState, github_api: GithubApi, clock: ManualClock
) -> None:
    on = writing(state, github_api.url)
    bridge(on)
    worker = Worker(on.db, on.policy, on.clock, env=ENV)
    tick(worker, clock)  # the first pass starts at the newest event: history is not replayed
    assert github_api.take() == []

    clock.advance(minutes=1)
    with as_(on, "bo") as ctx:
        service.triage(ctx, "INFRA-1", TriageIn(priority="P1"), None)
    tick(worker, clock)
    [(method, path, body)] = github_api.take()
    assert (method, path, body) == ("POST", f"{ISSUE}/labels", {"labels": ["priority:P1"]})

    clock.advance(minutes=1)
    with as_(on, "bo") as ctx:
        service.triage(ctx, "INFRA-1", TriageIn(priority="P0"), None)
    tick(worker, clock)
    assert github_api.take() == [
        ("DELETE", f"{ISSUE}/labels/priority%3AP1", None),
        ("POST", f"{ISSUE}/labels", {"labels": ["priority:P0"]}),
    ]
    assert github_api.labels["Codertocat/Hello-World#1"] == ["priority:P0"]

    clock.advance(minutes=1)
    with as_(on, "bo") as ctx:
        service.move(ctx, "INFRA-1", "Done", "fixed", None, None)
    tick(worker, clock)
    assert github_api.take() == [
        ("POST", f"{ISSUE}/comments", {"body": "Closed in dutydesk: INFRA-1 (fixed)."}),
        ("PATCH", ISSUE, {"state": "closed", "state_reason": "completed"}),
    ]

    clock.advance(minutes=1)
    with as_(on, "bo") as ctx:
        service.move(ctx, "INFRA-1", "New", None, None, None)
    github_api.fail_next = [502]  # GitHub fails once: the pass stops and the call waits
    tick(worker, clock)
    assert github_api.take() == [("PATCH", ISSUE, {"state": "open", "state_reason": "reopened"})]
    tick(worker, clock)
    assert github_api.take() == [("PATCH", ISSUE, {"state": "open", "state_reason": "reopened"})]
    assert github_api.state["Codertocat/Hello-World#1"] == "open"
    tick(worker, clock)
    assert github_api.take() == []  # sent once


def test_calls_carry_the_token_and_githubs_headers(
    state: AppState, github_api: GithubApi, clock: ManualClock
) -> None:
    on = writing(state, github_api.url)
    bridge(on)
    mirror.run(on.db, on.policy, settled(clock), ENV)
    clock.advance(minutes=1)
    with as_(on, "bo") as ctx:
        service.triage(ctx, "INFRA-1", TriageIn(priority="P2"), None)
    young = mirror.run(on.db, on.policy, clock(), ENV)  # a change of this very instant waits
    assert young is not None and young.sent == [] and github_api.calls == []
    done = mirror.run(on.db, on.policy, settled(clock), ENV)
    assert done is not None and len(done.sent) == 1
    [call] = github_api.calls
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.headers["accept"] == "application/vnd.github+json"
    assert call.headers["x-github-api-version"] == "2022-11-28"
    assert call.headers["content-type"] == "application/json"


def test_what_github_did_is_not_sent_back_and_refusals_are_skipped(
    state: AppState, github_api: GithubApi, clock: ManualClock
) -> None:
    on = writing(state, github_api.url)
    bridge(on)
    mirror.run(on.db, on.policy, settled(clock), ENV)
    clock.advance(minutes=1)
    bridge(on, "closed", state="closed", state_reason="completed")  # closed on GitHub
    assert status(on) == "Done"
    clock.advance(minutes=1)
    bridge(on, "reopened")
    assert status(on) == "New"
    assert mirror.run(on.db, on.policy, settled(clock), ENV) is not None
    assert github_api.take() == []  # GitHub's own closing and reopening: not echoed

    clock.advance(minutes=1)
    with as_(on, "bo") as ctx:
        service.triage(ctx, "INFRA-1", TriageIn(priority="P1"), None)
    github_api.fail_next = [403]  # refused for good (e.g. the token may not label)
    done = mirror.run(on.db, on.policy, settled(clock), ENV)
    assert done is not None and [c.path for c, _ in done.skipped] == [f"{ISSUE}/labels"]
    github_api.take()
    mirror.run(on.db, on.policy, settled(clock), ENV)
    assert github_api.take() == []  # skipped, not retried for ever


def test_off_without_write_back_or_token_and_for_unbridged_tickets(
    state: AppState, github_api: GithubApi, clock: ManualClock
) -> None:
    off = writing(state, github_api.url, write_back=False)
    bridge(off)
    assert mirror.run(off.db, off.policy, settled(clock), ENV) is None
    on = writing(state, github_api.url)
    assert mirror.run(on.db, on.policy, settled(clock), {}) is None  # no token
    with state.db.read() as s:
        assert s.scalar(select(GithubMirrorCursor)) is None  # never started
    mirror.run(on.db, on.policy, settled(clock), ENV)
    clock.advance(minutes=1)
    with as_(on, "rita") as ctx:
        from dutydesk.tickets import filing
        from dutydesk.tickets.schemas import FileTicket

        plain = filing.file_ticket(ctx, "infra", FileTicket(title="Not from GitHub")).key
    with as_(on, "bo") as ctx:
        service.triage(ctx, plain, TriageIn(priority="P1"), None)
    mirror.run(on.db, on.policy, settled(clock), ENV)
    assert github_api.take() == []


def test_two_workers_send_each_call_once(
    state: AppState, github_api: GithubApi, clock: ManualClock
) -> None:
    on = writing(state, github_api.url)
    bridge(on)
    mirror.run(on.db, on.policy, settled(clock), ENV)
    clock.advance(minutes=1)
    with as_(on, "bo") as ctx:
        service.triage(ctx, "INFRA-1", TriageIn(priority="P1"), None)
    results: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(mirror.run(on.db, on.policy, settled(clock), ENV))
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(github_api.take()) == 1
    assert sum(1 for r in results if r is not None) >= 1
