"""E-mail in through the in-process API (``mailgate.service.take``) on a real database:
real-world shaped messages, replies, auto-replies, limits and malformed mail."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from dutydesk.auth.models import User
from dutydesk.mailgate.models import MailAttachment, MailMessage
from dutydesk.mailgate.parse import EX_DATAERR, EX_NOPERM, EX_NOUSER, MailRefused
from dutydesk.mailgate.service import take
from dutydesk.policy import Policy
from dutydesk.state import AppState
from dutydesk.tickets import service
from dutydesk.tickets.models import Comment, Ticket
from dutydesk.tickets.recorder import get_ticket
from tests.mailgate import messages as m


def ticket(state: AppState, key: str) -> Ticket:
    with state.db.read() as s:
        t = get_ticket(s, key)
        s.expunge(t)
        return t


def reporter(state: AppState, key: str) -> User:
    with state.db.read() as s:
        user = s.get(User, get_ticket(s, key).reporter_id)
        assert user is not None
        s.expunge(user)
        return user


def comments(state: AppState, key: str) -> list[tuple[str, str | None]]:
    with state.db.read() as s:
        return [(c.body, name) for c, name in service.comments(s, key, include_internal=True)]


def counts(state: AppState) -> dict[str, int]:
    with state.db.read() as s:
        return {
            t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in (Ticket, Comment, User, MailMessage, MailAttachment)
        }


def test_plain_mail_from_a_user_files_a_ticket_as_that_user(state: AppState) -> None:
    out = take(state, "infra", m.PLAIN)
    assert out.action == "filed" and out.key == "INFRA-1"
    t = ticket(state, "INFRA-1")
    assert t.title == "Devicelab bot 12 offline since Monday"
    assert "Bot 12 has not picked up a job" in t.description
    assert t.priority is None and t.status == "New"  # reporters never set priority
    assert reporter(state, "INFRA-1").name == "rita"
    with state.db.read() as s:
        row = s.get(MailMessage, "CAB1x7=plain@mail.example.com")
        assert row is not None and row.direction == "in"


def test_the_same_mail_delivered_twice_files_once(state: AppState) -> None:
    assert take(state, "infra", m.PLAIN).action == "filed"
    again = take(state, "infra", m.PLAIN)
    assert again.action == "ignored" and "already taken" in again.detail
    assert counts(state)["tickets"] == 1


@pytest.mark.parametrize(
    ("message", "title", "words"),
    [
        (m.ALTERNATIVE, "Quota for the perf bucket is almost gone", "at 97% of its quota"),
        (m.HTML_ONLY, "Builder config request", "* pool: luci.flutter.prod"),
        (
            m.LATIN1,
            "Café machine builder fails à l'étape 2",
            "La compilación falla en el paso 2: señal 11.",
        ),
        (m.SHIFT_JIS, "ビルドが失敗しています", "ビルドが失敗しています。ログを確認してください。"),
    ],
    ids=["multipart-alternative", "html-only", "iso-8859-1", "shift-jis"],
)
def test_bodies_and_subjects_in_any_shape_and_charset(
    state: AppState, message: bytes, title: str, words: str
) -> None:
    out = take(state, "infra", message)
    t = ticket(state, str(out.key))
    assert t.title == title
    assert words in t.description
    assert "<b>" not in t.description and "alert(1)" not in t.description
    assert "margin" not in t.description  # styles are not text


def test_an_unknown_sender_files_as_a_guest_reporter(state: AppState) -> None:
    out = take(state, "infra", m.LATIN1)
    guest = reporter(state, str(out.key))
    assert guest.name == "mail-jose-example-es"
    assert guest.roles == ["reporter"] and guest.email == "jose@example.es"
    assert guest.display_name == "José García"
    assert guest.password_hash is None


def test_a_desk_that_rejects_strangers_bounces_them_and_writes_nothing(
    state: AppState, policy: Policy
) -> None:
    raw = policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["mail"]["unknown_senders"] = "reject"
    strict = AppState(db=state.db, policy=Policy.model_validate(raw), clock=state.clock)
    before = counts(state)
    with pytest.raises(MailRefused) as refused:
        take(strict, "infra", m.LATIN1)
    assert refused.value.code == EX_NOUSER
    assert "jose@example.es is not a user of desk 'infra'" in refused.value.message
    assert counts(state) == before
    assert take(strict, "infra", m.PLAIN).action == "filed"  # users still get through


def test_attachments_under_the_limit_are_kept_over_it_listed(state: AppState) -> None:
    small, big = b"FAIL: test_flaky (timeout)\n", bytes(range(256)) * 5000  # 1.2 MiB
    out = take(state, "infra", m.with_attachments(small, big))
    t = ticket(state, str(out.key))
    assert "* short.log (27 bytes)" in t.description
    assert "* full.log.gz (1.2 MiB, over the 1.0 MiB limit: not kept)" in t.description
    with state.db.read() as s:
        rows = {a.filename: a for a in s.scalars(select(MailAttachment))}
    assert rows["short.log"].data == small and rows["short.log"].size == len(small)
    assert rows["full.log.gz"].data is None and rows["full.log.gz"].size == len(big)


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: list",
        "X-Autoreply: yes",
        "X-Dutydesk-Delivery: 0b7d1c52-6c1e-4a56-9b8e-1f0f3c1f9a11",
    ],
)
def test_auto_replies_and_loops_are_ignored(state: AppState, header: str) -> None:
    out = take(state, "infra", m.auto_reply(header))
    assert out.action == "ignored" and "automatic" in out.detail
    assert counts(state)["tickets"] == 0


def test_auto_submitted_no_is_a_person(state: AppState) -> None:
    assert take(state, "infra", m.auto_reply("Auto-Submitted: no")).action == "filed"


def test_our_own_message_ids_coming_back_are_ignored(state: AppState) -> None:
    ours = m.reply(
        "Fwd: something",
        None,
        "looped",
        message_id="<0b7d1c52-6c1e-4a56-9b8e-1f0f3c1f9a11@dutydesk.example.com>",
    )
    out = take(state, "infra", ours)
    assert out.action == "ignored" and "our own" in out.detail


def test_a_reply_naming_the_key_in_its_subject_comments_with_the_quote_trimmed(
    state: AppState,
) -> None:
    take(state, "infra", m.PLAIN)
    body = (
        "It is back since 10:00, thanks!\n\n"
        "On Mon, Nov 23, 2026 at 9:30 AM Ana <ana@example.com> wrote:\n"
        "> Rebooted bot 12.\n> Can you check?\n"
    )
    out = take(state, "infra", m.reply("Re: [INFRA-1] Devicelab bot 12 offline", None, body))
    assert out.action == "commented" and out.key == "INFRA-1"
    assert comments(state, "INFRA-1") == [("It is back since 10:00, thanks!", "rita")]


def test_a_reply_found_by_in_reply_to_alone(state: AppState) -> None:
    take(state, "infra", m.PLAIN)
    out = take(
        state,
        "infra",
        m.reply("Re: bot offline", "<CAB1x7=plain@mail.example.com>", "Also bot 13.\n-- \nRita"),
    )
    assert out.action == "commented" and comments(state, "INFRA-1") == [("Also bot 13.", "rita")]


def test_a_stranger_may_not_comment_on_someone_elses_ticket(state: AppState) -> None:
    take(state, "infra", m.PLAIN)
    before = counts(state)
    with pytest.raises(MailRefused) as refused:
        take(state, "infra", m.reply("Re: [INFRA-1] x", None, "me too", sender="x@evil.example"))
    assert refused.value.code == EX_NOPERM
    assert "may comment only on tickets they filed or watch" in refused.value.message
    assert counts(state) == before  # not even the guest was kept


def test_a_reply_with_nothing_but_the_quote_is_refused(state: AppState) -> None:
    take(state, "infra", m.PLAIN)
    with pytest.raises(MailRefused) as refused:
        take(state, "infra", m.reply("Re: [INFRA-1] x", None, "> only the quote\n"))
    assert refused.value.code == EX_DATAERR and "no words of its own" in refused.value.message


BROKEN: list[tuple[str, bytes, str]] = [
    ("empty", b"", "the message is empty"),
    ("no-header", b"just some words\r\nand more\r\n", "no header section"),
    ("no-from", m.raw("To: infra@x\nSubject: hi\n\nhello\n"), "no From header"),
    ("bad-from", m.raw("From: =?utf-8?q?broken\nSubject: hi\n\nhello\n"), "not one e-mail address"),
    (
        "two-senders",
        m.raw("From: a@example.com, b@example.com\nSubject: hi\n\nhello\n"),
        "not one e-mail address",
    ),
]


@pytest.mark.parametrize(("name", "message", "why"), BROKEN, ids=[b[0] for b in BROKEN])
def test_malformed_mail_is_a_data_error_and_writes_nothing(
    state: AppState, name: str, message: bytes, why: str
) -> None:
    before = counts(state)
    with pytest.raises(MailRefused) as refused:
        take(state, "infra", message)
    assert refused.value.code == EX_DATAERR and why in refused.value.message
    assert counts(state) == before


def test_mail_bombs_are_refused_by_size_and_by_parts(state: AppState, policy: Policy) -> None:
    raw: dict[str, Any] = policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["mail"].update(max_message_bytes=4096, max_parts=5)
    small = AppState(db=state.db, policy=Policy.model_validate(raw), clock=state.clock)
    with pytest.raises(MailRefused, match="this desk takes at most 4096"):
        take(small, "infra", m.PLAIN + b"x" * 5000)
    parts = "".join(
        f"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=f{i}\r\n\r\nx\r\n"
        for i in range(6)
    )
    bomb = m.raw(
        "From: rita@example.com\nSubject: parts\nContent-Type: multipart/mixed; boundary=b\n\n"
    )
    with pytest.raises(MailRefused, match="7 MIME parts; this desk takes at most 5"):
        take(small, "infra", bomb + parts.encode() + b"--b--\r\n")
    assert counts(state)["tickets"] == 0


def test_a_desk_without_mail_is_a_configuration_error(state: AppState) -> None:
    with pytest.raises(MailRefused) as refused:
        take(state, "set", m.PLAIN)
    assert refused.value.code == 78 and "[desks.set.mail]" in refused.value.message


def test_headers_broken_in_the_usual_ways_still_file_readable_text(state: AppState) -> None:
    raw = (
        b"From: Rita <rita@example.com>\r\n"
        b"Subject: Caf\xc3\xa9 builder =?utf-8?B?!!!?= down\r\n"  # raw UTF-8 and a bad encoded word
        b"Content-Type: text/plain; charset=no-such-charset\r\n\r\n"
        b"Le caf\xe9 est en panne.\r\n"
    )
    out = take(state, "infra", raw)
    t = ticket(state, str(out.key))
    assert t.title.startswith("Café builder") and t.title.endswith("down")
    assert t.description == "Le café est en panne."  # undeclared Latin-1, read as Latin-1
