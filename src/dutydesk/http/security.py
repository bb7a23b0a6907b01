"""Browser hardening headers on every response: pages, API, static files and errors alike.

Pages load scripts, styles and images from this server only (htmx and Sortable are served
from /static/vendor; no page carries inline script, handler attributes or inline style), may
not be framed, and send no referrer to other sites. Non-HTML responses get ``default-src
'none'``: a JSON or text body opened in a tab can run nothing. The interactive API docs load
Swagger UI from its CDN, with their one inline script allowed by its hash.

Installed around the whole application, outside Starlette's error middleware, so even an
unexpected error's 500 carries the headers.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def page_policy(image_hosts: Iterable[str] = ()) -> str:
    """The pages' policy; images also from the hosts policy ``web.image_hosts`` allows."""
    images = " ".join(["'self'", "data:", *(f"https://{h}" for h in image_hosts)])
    return _PAGE_POLICY.replace("img-src 'self' data:", f"img-src {images}")


_PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_POLICY = page_policy()
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"
DOCS_CDN = "https://cdn.jsdelivr.net"

_OTHER = OTHER_POLICY.encode()
COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def docs_policy(html: bytes) -> str:
    """Swagger UI's page: its CDN files, and its inline scripts by hash (they name our
    OpenAPI address, so they are hashed as served)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src {DOCS_CDN} {hashes}; style-src {DOCS_CDN}; "
        f"img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    def __init__(
        self,
        app: ASGIApp,
        docs_path: str | None = None,
        image_hosts: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        self.app = app
        self.docs_path = docs_path
        self.image_hosts = image_hosts
        self._pages: dict[tuple[str, ...], bytes] = {}

    def _page_policy(self) -> bytes:
        hosts = tuple(self.image_hosts())  # read per request: the policy may be reloaded
        found = self._pages.get(hosts)
        if found is None:
            found = self._pages[hosts] = page_policy(hosts).encode()
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.docs_path and scope.get("path") == self.docs_path:
            await self._docs(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = _without_ours(message.get("headers", []))
                ctype = _content_type(headers)
                html = ctype.startswith(b"text/html")
                policy = self._page_policy() if html else _OTHER
                headers += [*COMMON, (b"content-security-policy", policy)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hold the (small) docs page until its body is known, to hash its inline script."""
        start: Message | None = None
        body = b""

        async def held(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body += message.get("body", b"")
                if message.get("more_body"):
                    return
                assert start is not None
                headers = _without_ours(start.get("headers", []))
                headers += [*COMMON, (b"content-security-policy", docs_policy(body).encode())]
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, held)


def _without_ours(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    ours = {name for name, _ in COMMON} | {b"content-security-policy"}
    return [(k, v) for k, v in headers if k.lower() not in ours]


def _content_type(headers: list[tuple[bytes, bytes]]) -> bytes:
    return next((v.lower() for k, v in headers if k.lower() == b"content-type"), b"")


def install(app: FastAPI, image_hosts: Callable[[], Sequence[str]] = tuple) -> None:
    """Wrap the whole middleware stack, Starlette's error handling included."""
    build: Callable[[], ASGIApp] = app.build_middleware_stack

    def hardened() -> ASGIApp:
        return SecurityHeaders(build(), docs_path=app.docs_url, image_hosts=image_hosts)

    app.build_middleware_stack = hardened  # type: ignore[method-assign]
