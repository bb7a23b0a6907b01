"""The outbox and the worker against real receivers (HTTP on 127.0.0.1, aiosmtpd)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from dutydesk.notify import outbox, service
from dutydesk.notify.models import NotifyChange, OutboxMessage
from dutydesk.notify.worker import Worker, fan_out
from dutydesk.state import AppState
from tests.conftest import Api, ManualClock
from tests.notify.receivers import Receiver, SmtpServer


def rows(app: AppState, **where: Any) -> list[OutboxMessage]:
    with app.db.read() as s:
        stmt = select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)
        return list(s.scalars(stmt))


def posts(receiver: Receiver, path: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Bodies received on ``path``; for the signed webhook, filtered by message kind."""
    out = []
    for r in receiver.requests:
        if r.path != path:
            continue
        body = r.json
        if kind is None or body.get("kind", kind) == kind:
            out.append({**body, "_id": r.delivery_id, "_headers": r.headers})
    return out


def ticket_posts(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    return [
        p
        for p in posts(receiver, path)
        if "INFRA-" in p.get("text", "") or "SET-" in p.get("text", "")
    ]


def queued(app: AppState) -> int:
    with app.db.read() as s:
        return len(s.scalars(select(NotifyChange.id)).all())


def test_a_change_is_queued_with_it_or_not_at_all_and_fanned_out_once(
    api: Api, state: AppState
) -> None:
    key = api.file("rita")["key"]
    assert (queued(state), len(rows(state))) == (1, 0)  # committed with the filing, not yet heard
    r = api.post("bo", f"/api/v1/tickets/{key}/move", {"to": "Done"})  # no resolution: refused
    assert r.status_code == 409
    assert queued(state) == 1  # a refused change queues nothing
    listed = api.req("admin", "GET", "/api/v1/admin/outbox").json()
    assert listed["changes_queued"] == 1  # admins see what the worker has yet to fan out
    assert fan_out(state.db, state.policy) == (1, False)
    before = len(rows(state))
    assert before >= 1 and queued(state) == 0  # the desk posts and the on-call's notice
    r = api.post("bo", f"/api/v1/tickets/{key}/triage", {"priority": "P1", "assignee": "ana"})
    assert r.status_code == 200
    fan_out(state.db, state.policy)
    added = {m.recipient for m in rows(state)[before:]}
    rita, ana, bo = _ids(state, "rita", "ana", "bo")
    assert {f"user:{rita}", f"user:{ana}"} <= added
    assert f"user:{bo}" not in added  # bo triaged; bo hears nothing of it


def test_a_change_fanned_out_twice_writes_its_rows_once(api: Api, state: AppState) -> None:
    api.file("rita")
    with state.db.read() as s:
        [(_, payload)] = service.queued_changes(s, 10)
        first = service.expand(s, state.policy, [payload])
    fan_out(state.db, state.policy)  # another worker got there first
    with state.db.write() as s:
        outbox.insert_ignore(s, first)
    assert len(rows(state)) == len(first) >= 2


def _ids(state: AppState, *names: str) -> list[int]:
    from dutydesk.auth.models import User

    with state.db.read() as s:
        found = dict(s.execute(select(User.name, User.id).where(User.name.in_(names))).all())
    return [found[n] for n in names]


def test_chat_webhook_signed_webhook_and_email_carry_the_delivery_id(
    api: Api,
    state: AppState,
    clock: ManualClock,
    worker: Worker,
    receiver: Receiver,
    smtp: SmtpServer,
) -> None:
    key = api.file("rita", title="Devicelab bot 12 is offline")["key"]
    stats = worker.run_once()
    assert stats.dead == 0 and stats.retried == 0
    [slack] = ticket_posts(receiver, "/infra")
    assert (
        slack["text"]
        == f"New ticket <http://127.0.0.1:8080/tickets/{key}|{key}>: Devicelab bot 12 is offline (rita)"
    )
    assert slack["_headers"]["idempotency-key"] == slack["_id"]

    [hook] = posts(receiver, "/events", "desk.new")
    assert hook["id"] == hook["_id"] and hook["data"]["ticket"] == key
    h = hook["_headers"]
    raw = next(r.body for r in receiver.requests if r.delivery_id == hook["_id"])
    mac = hmac.new(b"s3cret", h["x-dutydesk-timestamp"].encode() + b"." + raw, hashlib.sha256)
    assert h["x-dutydesk-signature"] == "sha256=" + mac.hexdigest()

    assert smtp.messages == []  # the on-call's notice waits for its batching window
    clock.advance(minutes=3)
    worker.run_once()
    [mail] = smtp.messages
    assert mail["To"] == "bo@example.com"  # on call until Monday 10:00
    assert mail["Subject"] == f"New ticket to triage: {key} Devicelab bot 12 is offline (rita)"
    [delivery] = rows(state, channel="@email")
    assert mail["Message-ID"] == f"<{delivery.delivery_id}@dutydesk.example.com>"
    assert "New ticket to triage" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<strong>" in mail.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_changes_within_the_window_reach_a_person_as_one_message(
    api: Api, clock: ManualClock, worker: Worker, smtp: SmtpServer
) -> None:
    key = api.file("rita")["key"]
    assert (
        api.post(
            "bo", f"/api/v1/tickets/{key}/triage", {"priority": "P1", "assignee": "ana"}
        ).status_code
        == 200
    )
    clock.advance(seconds=40)
    assert (
        api.post(
            "ana", f"/api/v1/tickets/{key}/comments", {"body": "Looking now, need the bot id"}
        ).status_code
        == 201
    )
    clock.advance(seconds=40)
    assert (
        api.post(
            "ana", f"/api/v1/tickets/{key}/block", {"reason": "waiting on the bot id"}
        ).status_code
        == 200
    )
    worker.run_once()
    assert [m for m in smtp.messages if m["To"] == "rita@example.com"] == []
    clock.advance(minutes=2)
    worker.run_once()
    [mail] = [m for m in smtp.messages if m["To"] == "rita@example.com"]
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert mail["Subject"] == f"{key} has been triaged: priority P1, owner ana"
    assert body.count("\n- ") == 3  # plain text: no markdown bullets, links or stars
    assert "**" not in body and "](" not in body
    assert f"{key} has been triaged: priority P1, owner ana" in body
    assert "comment by ana: Looking now, need the bot id" in body
    assert f"{key} is blocked: waiting on the bot id" in body


def test_an_unconfigured_channel_parks_its_messages_until_an_admin_retries(
    api: Api, state: AppState, env: dict[str, str], receiver: Receiver
) -> None:
    api.file("rita")
    partial = {k: v for k, v in env.items() if k != "INFRA_SLACK_WEBHOOK_URL"}
    w = Worker(state.db, state.policy, state.clock, env=partial)
    try:
        stats = w.run_once()
    finally:
        w.close()
    assert stats.parked >= 1 and posts(receiver, "/infra") == []
    listed = api.req("admin", "GET", "/api/v1/admin/outbox", params={"state": "parked"}).json()
    assert listed["items"] and all(i["channel"] == "infra-chat" for i in listed["items"])
    assert listed["items"][0]["last_error"] == "not configured: set INFRA_SLACK_WEBHOOK_URL"
    assert listed["items"][0]["attempts"] == 0
    channels = {c["name"]: c for c in api.req("admin", "GET", "/api/v1/admin/channels").json()}
    assert set(channels) >= {"infra-chat", "set-chat", "events", "@email"}

    r = api.post("admin", "/api/v1/admin/outbox/retry", {"state": "parked"})
    assert r.json()["retried"] == len(listed["items"])
    w = Worker(state.db, state.policy, state.clock, env=env)
    try:
        w.run_once()
    finally:
        w.close()
    assert len(ticket_posts(receiver, "/infra")) == 1


def test_failures_back_off_then_dead_letter_then_a_manual_retry_delivers_with_the_same_id(
    api: Api, state: AppState, clock: ManualClock, worker: Worker, receiver: Receiver
) -> None:
    receiver.status = 503
    api.file("rita", title="Presubmit queue is backed up")
    fan_out(state.db, state.policy)
    [msg] = [m for m in rows(state, channel="infra-chat") if "Presubmit" in m.payload["markdown"]]
    due = []
    for _ in range(10):
        worker.run_once()
        with state.db.read() as s:
            m = s.get(OutboxMessage, msg.id)
            assert m is not None
        due.append((m.attempts, m.state, m.due_at - clock.now))
        if m.state == "dead":
            break
        clock.advance(seconds=1)
    assert [d[0] for d in due] == [1, 2, 3, 4]
    assert [d[2] for d in due[:3]] == [
        timedelta(milliseconds=50),
        timedelta(milliseconds=100),
        timedelta(milliseconds=200),
    ]
    assert due[-1][1] == "dead" and "HTTP 503" in (m.last_error or "")
    dead = api.req("admin", "GET", "/api/v1/admin/outbox", params={"state": "dead"}).json()["items"]
    assert [
        d["id"] for d in dead if d["channel"] == "infra-chat" and "Presubmit" in d["subject"]
    ] == [msg.id]
    assert api.req("bo", "GET", "/api/v1/admin/outbox").status_code == 403

    assert api.post("admin", f"/api/v1/admin/outbox/{msg.id}/retry").json() == {"retried": 1}
    receiver.status = 200
    worker.run_once()
    sent = [
        r.delivery_id for r in receiver.requests if r.path == "/infra" and b"Presubmit" in r.body
    ]
    assert len(sent) == 5 and set(sent) == {msg.delivery_id}  # every attempt, one id


def test_a_permanent_refusal_dead_letters_at_once(
    api: Api, state: AppState, worker: Worker, receiver: Receiver
) -> None:
    receiver.status = 404
    api.file("rita")
    stats = worker.run_once()
    assert stats.retried == 0 and stats.dead >= 1
    assert all(m.attempts == 1 for m in rows(state, state="dead"))


def test_personal_preferences_mute_and_chat_direct_messages(
    api: Api, clock: ManualClock, worker: Worker, receiver: Receiver, smtp: SmtpServer
) -> None:
    r = api.req(
        "rita", "PUT", "/api/v1/me/notifications", json={"via": ["email"], "mute": ["reporter"]}
    )
    assert r.status_code == 200 and r.json()["source"] == "user"
    key = api.file("rita", desk="set", title="Crash on login", kind="bug")["key"]
    assert api.post("eva", f"/api/v1/tickets/{key}/triage", {"priority": "P1"}).status_code == 200
    assert (
        api.post(
            "finn", f"/api/v1/tickets/{key}/comments", {"body": "@eva is this a release blocker?"}
        ).status_code
        == 201
    )
    clock.advance(minutes=3)
    worker.run_once()
    assert [m for m in smtp.messages if m["To"] == "rita@example.com"] == []  # muted
    dm = [p for p in posts(receiver, "/set") if p.get("channel") == "@eva.eriksen"]
    assert len(dm) == 1 and "finn mentioned you" in dm[0]["text"]  # eva: email and a Mattermost DM
    assert any(m["To"] == "eva@example.com" for m in smtp.messages)
    bad = api.req("rita", "PUT", "/api/v1/me/notifications", json={"via": ["chat"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "chat_channel"
