"""Files that came with mail: listed on a ticket, kept ones downloaded (never rendered)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from dutydesk.auth.service import has_role
from dutydesk.http.deps import Actor, State
from dutydesk.inputs import RowId
from dutydesk.mailgate import attachments
from dutydesk.mailgate.schemas import AttachmentOut
from dutydesk.tickets.recorder import get_ticket

router = APIRouter(prefix="/api/v1", tags=["mail"])


@router.get("/tickets/{key}/attachments", response_model=list[AttachmentOut])
def list_attachments(key: str, state: State, actor: Actor) -> list[AttachmentOut]:
    with state.db.read() as s:
        internal = has_role(actor, "responder", get_ticket(s, key).desk)
        return [
            AttachmentOut(
                id=a.id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                kept=a.kept,
                url=a.url,
                created_at=a.created_at,
            )
            for a in attachments.listing(s, key, internal=internal)
        ]


@router.get(
    "/tickets/{key}/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_attachment(key: str, attachment_id: RowId, state: State, actor: Actor) -> Response:
    with state.db.read() as s:
        internal = has_role(actor, "responder", get_ticket(s, key).desk)
        found = attachments.download(s, key, attachment_id, internal=internal)
    return Response(found.data, media_type=found.content_type, headers=found.headers())
