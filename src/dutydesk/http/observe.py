"""The outermost middleware: a request id on every response, one access line and one latency
sample per request, and the last word on any error nothing else handled.

* ``X-Request-ID``: a sane one sent by the proxy in front is kept (so its logs and ours join
  up), otherwise one is made; it is on every response and every log line of the request.
* Latency is recorded per route *template* (``/api/v1/tickets/{key}``), never the raw path,
  so the number of series stays bounded whatever clients ask for.
* An unexpected exception becomes a 500 ``application/problem+json`` document carrying the
  request id, and is logged once with its traceback and the same id: the id a user reports
  finds the traceback.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dutydesk import logs, telemetry

access_log = logging.getLogger("dutydesk.access")
error_log = logging.getLogger("dutydesk.errors")

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
UNMATCHED = "(unmatched)"


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            try:
                text: str = value.decode("ascii")
            except UnicodeDecodeError:
                break
            if _SANE_ID.fullmatch(text):
                return text
            break
    return secrets.token_hex(8)


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


def internal_error(request_id: str) -> bytes:
    return json.dumps(
        {
            "type": "/problems/internal",
            "title": "Internal error",
            "status": 500,
            "detail": "the server failed to answer this request; "
            f"quote request id {request_id} when reporting it",
            "request_id": request_id,
        }
    ).encode()


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id_of(scope)
        token = logs.request_id.set(rid)
        header = (b"x-request-id", rid.encode())
        status = 499  # until an answer starts: a client that left early is logged as such
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception(
                "unhandled error on %s %s",
                scope.get("method"),
                scope.get("path"),
                extra={"route": route_of(scope), "request_id": rid},
            )
            if responded:  # half an answer went out: the connection must end, not lie
                raise
            body = internal_error(rid)
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            self._record(scope, rid, status, time.perf_counter() - started)
            logs.request_id.reset(token)

    def _record(self, scope: Scope, rid: str, status: int, seconds: float) -> None:
        method, route = scope.get("method", ""), route_of(scope)
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:  # labels() takes a lock and builds a key: once per series
            series = self._series[key] = (
                telemetry.REQUEST_SECONDS.labels(method, route),
                telemetry.REQUESTS.labels(method, route, str(status)),
            )
        series[0].observe(seconds)
        series[1].inc()
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "%s %s %d %.1f ms",
                method,
                scope.get("path", ""),
                status,
                seconds * 1000,
                extra={
                    "method": method,
                    "route": route,
                    "path": scope.get("path", ""),
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "client": (scope.get("client") or ("", 0))[0],
                    "request_id": rid,
                },
            )
