"""Periodic jobs and timers, run by the worker at chosen instants (the injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime

from dutydesk.notify.worker import Worker
from dutydesk.state import AppState
from tests.conftest import Api, ManualClock
from tests.notify.receivers import Receiver, SmtpServer


def texts(receiver: Receiver, path: str) -> list[str]:
    out = []
    for r in receiver.requests:
        if r.path == path:
            out.append(r.json.get("text", ""))
    return out


def mails(smtp: SmtpServer, to: str) -> list[str]:
    return [
        m.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for m in smtp.messages
        if m["To"] == to
    ]


def test_status_post_and_agendas_are_posted_once_whatever_the_number_of_workers(
    api: Api, state: AppState, clock: ManualClock, env: dict[str, str], receiver: Receiver
) -> None:
    api.file("rita", desk="set", title="Crash when opening a pinned channel", kind="bug")
    clock.now = datetime(2026, 12, 1, 16, 1, tzinfo=UTC)  # Tue 11:01 Toronto: status meeting over
    workers = [Worker(state.db, state.policy, state.clock, env=env) for _ in range(2)]
    try:
        for w in workers + workers:
            w.run_once()
    finally:
        for w in workers:
            w.close()
    got = texts(receiver, "/set")
    [post] = [t for t in got if t.startswith("#set-update")]
    assert post.startswith(
        "#set-update #set-update-2026-12-01\n\nBugs resolved in the last 7 days: 0"
    )
    agendas = [t for t in got if "meeting, Tue 2026-12-01" in t]
    assert len(agendas) == 2  # triage (10:00) and status (10:30)
    triage = next(t for t in agendas if "triage meeting" in t)
    assert "Awaiting triage (1):" in triage and "Crash when opening a pinned channel" in triage


def test_triage_slo_at_risk_then_breach_reach_the_oncall_and_the_desk(
    api: Api, clock: ManualClock, worker: Worker, receiver: Receiver, smtp: SmtpServer
) -> None:
    key = api.file("rita", title="Build dashboard is down")["key"]  # Mon 09:00 PST: due 13:00
    worker.run_once()
    clock.now = datetime(2026, 11, 23, 20, 1, tzinfo=UTC)  # 12:01 PST: 3/4 of the time is gone
    worker.run_once()
    clock.advance(minutes=3)
    worker.run_once()
    [risk] = [b for b in mails(smtp, "chen@example.com") if "at risk" in b]
    assert f"{key} is at risk of missing its triage SLO (due Mon 13:00 PST)" in risk
    clock.now = datetime(2026, 11, 23, 21, 1, tzinfo=UTC)  # 13:01 PST
    worker.run_once()
    [breach] = [b for b in mails(smtp, "chen@example.com") if "missed" in b]
    assert f"{key} missed its triage SLO (due Mon 13:00 PST)" in breach
    assert [t for t in texts(receiver, "/infra") if "missed its triage SLO" in t]


def test_end_of_day_nudge_for_top_priority_tickets_without_an_update_today(
    api: Api, clock: ManualClock, worker: Worker, smtp: SmtpServer
) -> None:
    quiet = api.file("rita", title="Almost out of quota")["key"]
    busy = api.file("rita", title="Degraded bots")["key"]
    for key in (quiet, busy):
        assert (
            api.post(
                "bo", f"/api/v1/tickets/{key}/triage", {"priority": "P0", "assignee": "ana"}
            ).status_code
            == 200
        )
    clock.now = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)  # Tue 11:00 PST
    assert (
        api.post(
            "ana", f"/api/v1/tickets/{busy}/comments", {"body": "Rebooted half the pool"}
        ).status_code
        == 201
    )
    clock.now = datetime(2026, 11, 25, 0, 31, tzinfo=UTC)  # Tue 16:31 PST, 30 minutes before close
    worker.run_once()
    nudges = [b for b in mails(smtp, "ana@example.com") if "final status update" in b]
    assert len(nudges) == 1
    assert (
        f"{quiet} (P0) has no update today: leave a final status update before 17:00" in nudges[0]
    )
    assert busy not in nudges[0]


def test_update_due_reaches_the_assignee_before_and_after_the_cadence(
    api: Api, clock: ManualClock, worker: Worker, smtp: SmtpServer
) -> None:
    quiet = api.file("rita", title="Almost out of quota")["key"]
    busy = api.file("rita", title="Degraded bots")["key"]
    for key in (quiet, busy):
        r = api.post("bo", f"/api/v1/tickets/{key}/triage", {"priority": "P0", "assignee": "ana"})
        assert r.status_code == 200  # an update: the P0 cadence (1 business day) starts
    worker.run_once()
    clock.now = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # Mon 11:00 PST
    r = api.post("ana", f"/api/v1/tickets/{busy}/comments", {"body": "Rebooted half the pool"})
    assert r.status_code == 201
    clock.now = datetime(2026, 11, 23, 23, 1, tzinfo=UTC)  # Mon 15:01: 6 of 8 hours gone
    worker.run_once()
    clock.advance(minutes=3)
    worker.run_once()
    clock.now = datetime(2026, 11, 24, 1, 1, tzinfo=UTC)  # Mon 17:01
    worker.run_once()
    text = "".join(mails(smtp, "ana@example.com"))
    assert text.count(f"{quiet} (P0) needs an update by Mon 17:00 PST") == 1
    assert text.count(f"{quiet} (P0) is overdue for an update (was due Mon 17:00 PST)") == 1
    # The comment at 11:00 restarted busy's cadence: due Tue 11:00, at risk from Mon 17:00.
    assert f"{busy} (P0) needs an update by Tue 11:00 PST" in text
    assert f"{busy} (P0) is overdue" not in text


def test_handoff_reminder_a_business_day_before_and_at_the_start(
    state: AppState, clock: ManualClock, worker: Worker, receiver: Receiver, smtp: SmtpServer
) -> None:
    clock.now = datetime(2026, 11, 27, 18, 1, tzinfo=UTC)  # Fri 10:01 PST; dee starts Mon 10:00
    worker.run_once()
    [soon] = mails(smtp, "dee@example.com")
    assert "Your on-call shift for infra starts soon: Mon 2026-11-30 10:00" in soon
    clock.now = datetime(2026, 11, 30, 17, 31, tzinfo=UTC)  # Mon 09:31: the handoff agenda is out
    worker.run_once()
    # Slack shows markdown headings raw: the agenda's headings arrive as bold lines.
    [posted] = [
        t for t in texts(receiver, "/infra") if t.startswith("*Handoff: Infra ticket queue")
    ]
    assert "##" not in posted and "\n*Open P0/P1" in posted
    clock.now = datetime(2026, 11, 30, 18, 1, tzinfo=UTC)
    worker.run_once()
    assert any("starts now" in b for b in mails(smtp, "dee@example.com"))


def test_claimed_but_idle_tickets_are_reported_to_the_oncall(
    api: Api, clock: ManualClock, worker: Worker, smtp: SmtpServer
) -> None:
    key = api.file("rita", title="Grant access to the signing bucket")["key"]
    assert (
        api.post(
            "bo", f"/api/v1/tickets/{key}/triage", {"priority": "P1", "assignee": "ana"}
        ).status_code
        == 200
    )
    assert api.post("ana", f"/api/v1/tickets/{key}/move", {"to": "In progress"}).status_code == 200
    clock.now = datetime(2026, 11, 27, 17, 31, tzinfo=UTC)  # Fri 09:31 PST, 3 business days on
    worker.run_once()
    clock.advance(minutes=3)
    worker.run_once()
    [idle] = [b for b in mails(smtp, "chen@example.com") if "idle" in b]
    assert f"{key} claimed by ana, idle" in idle


def test_a_worker_that_was_down_does_not_post_stale_periodic_jobs(
    clock: ManualClock, worker: Worker, receiver: Receiver
) -> None:
    clock.now = datetime(2026, 12, 3, 16, 1, tzinfo=UTC)  # Thu: Tuesday's post is 2 days old
    worker.run_once()
    assert not [t for t in texts(receiver, "/set") if t.startswith("#set-update")]
