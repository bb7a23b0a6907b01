"""Internal comments reach only people who may read them: mail, chat and webhooks checked whole."""

from __future__ import annotations

from email.message import EmailMessage

from dutydesk.notify.worker import Worker
from tests.conftest import Api, ManualClock
from tests.notify.receivers import Receiver, SmtpServer

SECRET = "xylophonist"


def _text(mail: EmailMessage) -> str:
    return "\n".join(part.get_content() for part in mail.walk() if not part.is_multipart())


def test_watchers_reporters_and_mentioned_outsiders_never_hear_an_internal_note(
    api: Api, clock: ManualClock, worker: Worker, receiver: Receiver, smtp: SmtpServer
) -> None:
    # finn responds on another desk: an outsider here. chen responds on this one.
    key = api.file("rita", title="Builder is slow")["key"]
    watchers = {"watchers": ["rita", "finn", "chen"]}
    assert api.req("bo", "PATCH", f"/api/v1/tickets/{key}", json=watchers).status_code == 200
    assert api.post("bo", f"/api/v1/tickets/{key}/triage", {"priority": "P1"}).status_code == 200
    worker.run_once()
    clock.advance(seconds=30)
    note = {"body": f"@rita @finn @chen the customer is a {SECRET}", "public": False}
    assert api.post("ana", f"/api/v1/tickets/{key}/comments", note).status_code == 201
    public = {"body": "Looking into it now"}
    assert api.post("ana", f"/api/v1/tickets/{key}/comments", public).status_code == 201
    clock.advance(minutes=3)
    worker.run_once()

    by_person = {m["To"]: _text(m) for m in smtp.messages}
    assert "Looking into it now" in by_person["rita@example.com"]
    assert "Looking into it now" in by_person["finn@example.com"]
    assert SECRET in by_person["chen@example.com"]  # an insider hears the note
    for outsider in ("rita@example.com", "finn@example.com"):
        assert SECRET not in by_person[outsider]
    for m in smtp.messages:
        assert SECRET not in m["Subject"]
    # Desk channels and the signed event webhook are read by everyone on them.
    assert receiver.requests, "the desk channel heard of the new ticket"
    for r in receiver.requests:
        assert SECRET.encode() not in r.body, r.path
