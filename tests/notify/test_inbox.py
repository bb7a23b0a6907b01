"""The in-product inbox and each person's preferences, through the real worker, a real SMTP
server and a real chat receiver: what a person muted reaches no channel and no inbox; their
digest window decides when their message leaves."""

from __future__ import annotations

from sqlalchemy import select

from dutydesk.auth.models import User
from dutydesk.notify import rules
from dutydesk.notify.models import InboxItem
from dutydesk.notify.worker import Worker
from dutydesk.state import AppState
from tests.conftest import Api, ManualClock
from tests.notify.receivers import SmtpServer


def to(smtp: SmtpServer, address: str) -> list[object]:
    return [m for m in smtp.messages if m["To"] == address]


def test_the_inbox_lists_notices_with_unread_state(
    api: Api, clock: ManualClock, worker: Worker, smtp: SmtpServer
) -> None:
    key = api.file("rita", title="Grant the release manager access to the signing bucket")["key"]
    assert api.post("ana", f"/api/v1/tickets/{key}/triage", {"priority": "P1"}).status_code == 200
    r = api.post("bo", f"/api/v1/tickets/{key}/comments", {"body": "@rita which bucket exactly?"})
    assert r.status_code == 201
    worker.run_once()  # fans out at once; delivery waits for the batching window

    page = api.req("rita", "GET", "/api/v1/me/inbox").json()
    assert page["unread"] == len(page["items"]) >= 2
    assert {i["reason"] for i in page["items"]} >= {"reporter", "mention"}
    assert all(i["ticket"] == key and not i["read"] for i in page["items"])
    assert any("bo mentioned you" in line for i in page["items"] for line in i["lines"])
    # Newest first; nobody else sees them.
    ids = [i["id"] for i in page["items"]]
    assert ids == sorted(ids, reverse=True)
    assert api.req("finn", "GET", "/api/v1/me/inbox").json()["items"] == []

    # Mark one read, then another person's id changes nothing.
    done = api.post("rita", "/api/v1/me/inbox/read", {"ids": [ids[0]]}).json()
    assert done == {"changed": 1, "unread": page["unread"] - 1}
    assert api.post("bo", "/api/v1/me/inbox/read", {"ids": [ids[1]]}).json()["changed"] == 0
    unread = api.req("rita", "GET", "/api/v1/me/inbox", params={"unread": "true"}).json()
    assert [i["id"] for i in unread["items"]] == ids[1:]
    # Unread again, then all read.
    assert api.post("rita", "/api/v1/me/inbox/read", {"ids": [ids[0]], "read": False}).json()[
        "unread"
    ] == len(ids)
    assert api.post("rita", "/api/v1/me/inbox/read", {"all": True}).json() == {
        "changed": len(ids),
        "unread": 0,
    }
    bad = api.post("rita", "/api/v1/me/inbox/read", {})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "ids"

    # The inbox is written once even if the worker expands again; the e-mail still goes.
    clock.advance(minutes=3)
    worker.run_once()
    assert len(to(smtp, "rita@example.com")) == 1
    assert api.req("rita", "GET", "/api/v1/me/inbox").json()["unread"] == 0


def test_a_muted_event_reaches_neither_smtp_nor_the_inbox(
    api: Api, state: AppState, clock: ManualClock, worker: Worker, smtp: SmtpServer
) -> None:
    r = api.req(
        "chen",
        "PUT",
        "/api/v1/me/notifications",
        json={"via": ["email"], "mute": ["watching"]},
    )
    assert r.status_code == 200 and r.json()["mute"] == ["watching"]
    key = api.file("rita", title="Presubmit queue is backed up for android")["key"]
    watch = api.req("chen", "PATCH", f"/api/v1/tickets/{key}", json={"watchers": ["chen"]})
    assert watch.status_code == 200, watch.text
    assert api.post("bo", f"/api/v1/tickets/{key}/comments", {"body": "looking"}).status_code == 201
    # Assigned to him: he still hears that, as the assignee.
    assert (
        api.post(
            "bo", f"/api/v1/tickets/{key}/triage", {"priority": "P1", "assignee": "chen"}
        ).status_code
        == 200
    )
    clock.advance(minutes=3)
    worker.run_once()
    mails = to(smtp, "chen@example.com")
    assert len(mails) == 1
    body = str(mails[0])
    assert "assigned to you by bo" in body and "comment by bo" not in body
    with state.db.read() as s:
        chen = s.scalar(select(User).where(User.name == "chen"))
        assert chen is not None
        items = s.scalars(select(InboxItem).where(InboxItem.user_id == chen.id)).all()
    assert [i.reason for i in items] == ["assignee"]
    assert not any("comment by bo" in line for i in items for line in i.lines)

    # Muted the other way round: nothing of it at all.
    smtp.messages.clear()
    api.req(
        "chen",
        "PUT",
        "/api/v1/me/notifications",
        json={"via": ["email"], "mute": ["watching", "assignee"]},
    )
    other = api.file("rita", title="Quota almost exhausted in us-east")["key"]
    api.post("bo", f"/api/v1/tickets/{other}/triage", {"priority": "P1", "assignee": "chen"})
    clock.advance(minutes=3)
    worker.run_once()
    assert to(smtp, "chen@example.com") == []
    with state.db.read() as s:
        assert (
            s.scalar(
                select(InboxItem).where(InboxItem.ticket == other, InboxItem.user_id == chen.id)
            )
            is None
        )


def test_a_personal_digest_window_holds_the_message(
    api: Api, clock: ManualClock, worker: Worker, smtp: SmtpServer
) -> None:
    r = api.req(
        "rita",
        "PUT",
        "/api/v1/me/notifications",
        json={"via": ["email"], "digest_window": "1 hour"},
    )
    assert r.status_code == 200
    assert (
        r.json()["digest_window"] == "1 hour" and r.json()["default_digest_window"] == "2 minutes"
    )
    key = api.file("rita", title="Grant the release manager access to the signing bucket")["key"]
    api.post("ana", f"/api/v1/tickets/{key}/triage", {"priority": "P1"})
    clock.advance(minutes=3)
    worker.run_once()
    assert to(smtp, "rita@example.com") == []  # the policy's 2 minutes passed; hers did not
    assert api.req("rita", "GET", "/api/v1/me/inbox").json()["unread"] == 1  # the inbox is at once
    api.post("bo", f"/api/v1/tickets/{key}/comments", {"body": "which bucket?"})
    clock.advance(minutes=58)
    worker.run_once()
    mails = to(smtp, "rita@example.com")
    assert len(mails) == 1  # both changes in one message
    assert "triaged" in str(mails[0]) and "which bucket?" in str(mails[0])

    for bad in ("forever", "2 days", "-5 minutes"):
        r = api.req(
            "rita", "PUT", "/api/v1/me/notifications", json={"via": ["email"], "digest_window": bad}
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "digest_window", bad
    r = api.req(
        "rita",
        "PUT",
        "/api/v1/me/notifications",
        json={"via": ["email"], "digest_window": "0 minutes"},
    )
    assert r.status_code == 200


def test_who_hears_drops_only_the_muted_reason() -> None:
    ticket = rules.TicketFacts(
        key="INFRA-1",
        desk="infra",
        title="t",
        priority="P1",
        status="Triaged",
        reporter_id=1,
        assignee_id=2,
        assignee="ana",
        watchers=frozenset({2, 3}),
    )
    changes = [
        rules.Change("changed", "assignee", None, "ana"),
        rules.Change("changed", "status", "New", "Triaged"),
    ]
    heard, _ = rules.who_hears(ticket, 9, "bo", changes, muted={2: {"watching"}, 3: {"watching"}})
    assert [(n.user_id, n.reason) for n in heard] == [(2, "assignee")]
    assert heard[0].lines == ("INFRA-1 was assigned to you by bo: t",)
    everyone, _ = rules.who_hears(ticket, 9, "bo", changes)
    assert {n.user_id for n in everyone} == {2, 3}
    assert rules.hears({"watching"}, "assignee") and not rules.hears({"watching"}, "watching")


def test_job_notices_obey_the_same_preferences(api: Api, state: AppState) -> None:
    """Reminders from scheduled jobs (SLO, update due, handoff …) go through the same
    preferences as ticket changes: a muted reason is not written, the window is theirs."""
    from datetime import timedelta

    from dutydesk.auth.service import user_by_name
    from dutydesk.notify import jobs
    from dutydesk.notify.models import OutboxMessage
    from dutydesk.notify.rows import notice_row

    api.req("rita", "PUT", "/api/v1/me/notifications", json={"via": ["email"], "mute": ["slo"]})
    api.req(
        "ana", "PUT", "/api/v1/me/notifications", json={"via": ["email"], "digest_window": "1 hour"}
    )
    now = state.now()
    with state.db.write() as s:
        rita, ana = user_by_name(s, "rita"), user_by_name(s, "ana")
        rows = [
            notice_row(state.policy, who, "slo", f"slo:test:{who.id}", ["INFRA-1 at risk"], now)
            for who in (rita, ana)
        ]
        urgent = notice_row(
            state.policy, ana, "update-due", "due:test", ["INFRA-2 update due"], now, urgent=True
        )
        assert jobs.write(s, state.policy, [*rows, urgent], now) == 2
    with state.db.read() as s:
        written = {r.dedupe_key: r for r in s.scalars(select(OutboxMessage))}
        inbox = {i.dedupe_key for i in s.scalars(select(InboxItem))}
    assert set(written) == {f"slo:test:{ana.id}", "due:test"} == inbox
    assert written[f"slo:test:{ana.id}"].due_at == now + timedelta(hours=1)
    assert written["due:test"].due_at == now  # urgent: at once, whatever the window
