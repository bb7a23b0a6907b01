"""A reporter answers a notification by mail: the worker sends it to a real SMTP server the
test starts, the reply (quoting it, as mail programs do) goes through the real
``dutydesk mailgate`` command, and lands as a comment on the right ticket."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import dutydesk
from dutydesk.mailgate.models import MailMessage
from dutydesk.notify.worker import Worker
from dutydesk.state import AppState
from dutydesk.tickets import service
from tests.conftest import EXAMPLE, Api, ManualClock
from tests.mailgate import messages as m
from tests.notify.receivers import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    s = SmtpServer().start()
    yield s
    s.stop()


@pytest.fixture
def worker(state: AppState, smtp: SmtpServer) -> Iterator[Worker]:
    w = Worker(state.db, state.policy, state.clock, env={"DUTYDESK_SMTP_URL": smtp.url})
    yield w
    w.close()


def mailgate(
    state: AppState, message: bytes, desk: str = "infra"
) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "DUTYDESK_DATABASE_URL": state.db.engine.url.render_as_string(hide_password=False),
        "DUTYDESK_POLICY": str(EXAMPLE),
        "PYTHONPATH": str(Path(dutydesk.__file__).parents[1]),  # this checkout's package
    }
    env.pop("DUTYDESK_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "dutydesk", "mailgate", "--desk", desk],
        input=message,
        env=env,
        capture_output=True,
        timeout=120,
        cwd=Path(__file__).parent,
    )


def test_a_reply_to_a_notification_becomes_a_comment_with_the_quote_trimmed(
    api: Api, state: AppState, clock: ManualClock, worker: Worker, smtp: SmtpServer
) -> None:
    filed = mailgate(state, m.PLAIN)
    assert filed.returncode == 0, filed.stderr
    assert b"filed INFRA-1" in filed.stdout
    r = api.post("ana", "/api/v1/tickets/INFRA-1/comments", {"body": "Rebooted bot 12. Better?"})
    assert r.status_code == 201, r.text
    clock.advance(minutes=3)
    worker.run_once()
    [notice] = [x for x in smtp.messages if x["To"] == "rita@example.com"]

    # Threaded under Rita's own mail and the ticket; a reply goes to the desk's address.
    mid = str(notice["Message-ID"])
    assert mid.endswith("@dutydesk.example.com>")
    assert notice["In-Reply-To"] == "<CAB1x7=plain@mail.example.com>"
    assert str(notice["References"]).split() == [
        "<CAB1x7=plain@mail.example.com>",
        "<ticket.infra-1@dutydesk.example.com>",
    ]
    assert notice["Reply-To"] == "infra@dutydesk.example.com"
    with state.db.read() as s:
        sent = s.get(MailMessage, mid.strip("<>"))
        assert sent is not None and sent.direction == "out"

    # Rita's mail program quotes the notice under an attribution line; the subject no longer
    # names the ticket, so only In-Reply-To can find it.
    text = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    quoted = "\n".join("> " + line for line in text.strip().splitlines())
    reply = m.reply(
        "Re: that bot",
        mid,
        "Yes, bot 12 is taking jobs again. Thanks!\n\n"
        f"On Mon, Nov 23, 2026 at 9:45 AM dutydesk <dutydesk@example.com> wrote:\n{quoted}\n",
    )
    out = mailgate(state, reply)
    assert out.returncode == 0, out.stderr
    assert b"commented on INFRA-1" in out.stdout
    with state.db.read() as s:
        said = [(c.body, who) for c, who in service.comments(s, "INFRA-1", True)]
        assert s.scalar(
            select(MailMessage).where(MailMessage.message_id == "reply.1@mail.example.com")
        )
    assert said[-1] == ("Yes, bot 12 is taking jobs again. Thanks!", "rita")

    # Our own notice piped back in (a forwarding loop) is recognised and dropped.
    loop = notice.as_bytes()
    back = mailgate(state, loop)
    assert back.returncode == 0 and b"automatic" in back.stdout


@pytest.mark.parametrize(
    ("message", "code", "says"),
    [(m.raw("To: infra@x\nSubject: hi\n\nhello\n"), 65, "no From header")],
)
def test_the_command_exits_with_a_sysexits_code_and_says_why(
    state: AppState, message: bytes, code: int, says: str
) -> None:
    out = mailgate(state, message)
    assert out.returncode == code
    assert says.encode() in out.stderr


def test_a_desk_without_mail_and_an_unknown_desk_are_configuration_errors(
    state: AppState,
) -> None:
    out = mailgate(state, m.PLAIN, desk="set")
    assert out.returncode == 78 and b"[desks.set.mail]" in out.stderr
    out = mailgate(state, m.PLAIN, desk="nope")
    assert out.returncode == 78 and b"no desk named 'nope'" in out.stderr
