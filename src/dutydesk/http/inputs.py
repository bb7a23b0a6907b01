"""Refuse NUL characters anywhere in a request (path, query, form, multipart text field or
JSON body) at the door.

PostgreSQL cannot store NUL in text and SQLite truncates at it in places, so no route may pass
one on; checking here, before routing, covers every route (pages and chat commands too) and
names the field: the query parameter, the form field or the JSON path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from email.message import Message as MimePart
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dutydesk.http.problems import send_problem
from dutydesk.inputs import NUL, NUL_MESSAGE, nul_path

FORM = b"application/x-www-form-urlencoded"
MULTIPART = b"multipart/form-data"


def _checked(content_type: bytes) -> bool:
    """Bodies a route reads as text: forms, and JSON, which FastAPI also assumes when no
    content type is given (and for any ``application/*+json``)."""
    media = content_type.split(b";")[0].strip()
    return not media or media in (FORM, MULTIPART, b"application/json") or media.endswith(b"+json")


def _query_field(query: bytes) -> str | None:
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return name or "(query)"
    return None


def _multipart_field(content_type: bytes, body: bytes) -> str | None:
    """The text field of a multipart form that holds a NUL (files may hold anything)."""
    if b"\x00" not in body:
        return None
    head = b"Content-Type: " + content_type + b"\r\n\r\n"
    parsed = BytesParser(policy=HTTP).parsebytes(head + body)
    if not parsed.is_multipart():
        return None
    for part in parsed.iter_parts():
        if not isinstance(part, MimePart) or part.get_filename() is not None:
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and b"\x00" in payload:
            return str(part.get_param("name", header="content-disposition") or "(form)")
    return None


def _body_field(content_type: bytes, body: bytes) -> str | None:
    if content_type.startswith(FORM):
        return _query_field(body)
    if content_type.startswith(MULTIPART):
        return _multipart_field(content_type, body)
    if b"\\u0000" not in body:  # JSON writes NUL only as an escape; a raw NUL is not JSON
        return None
    try:
        found = nul_path(json.loads(body))
    except ValueError:
        return None  # not JSON: the route's own parsing refuses it with a better message
    if found is None:
        return None
    return ".".join(str(p) for p in found) or "(body)"


class RefuseNul:
    """Answers 422 naming the field that holds a NUL; a body it reads is handed on whole."""

    def __init__(self, app: ASGIApp, unbuffered: Sequence[str] = ()) -> None:
        self.app = app
        # Paths whose bodies stream to a service that checks each record itself (imports).
        self.unbuffered = [re.compile(pattern) for pattern in unbuffered]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = "path" if NUL in scope.get("path", "") else _query_field(scope["query_string"])
        if field is not None:
            await _drain(receive)  # read the body anyway, so the connection stays usable
            await _refuse(send, field)
            return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").lower()
        has_body = b"transfer-encoding" in headers or headers.get(b"content-length", b"0") != b"0"
        streamed = any(p.fullmatch(scope.get("path", "")) for p in self.unbuffered)
        if not (has_body and _checked(content_type)) or streamed:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        field = _body_field(content_type, body)
        if field is not None:
            await _refuse(send, field)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _drain(receive: Receive) -> None:
    more = True
    while more:
        message = await receive()
        more = message["type"] == "http.request" and message.get("more_body", False)


async def _refuse(send: Send, field: str) -> None:
    await send_problem(
        send,
        {
            "type": "/problems/invalid",
            "title": "The request is not valid",
            "status": 422,
            "detail": f"{field}: {NUL_MESSAGE}",
            "errors": [{"field": field, "message": NUL_MESSAGE}],
        },
    )
