"""The streamed import endpoint's size limit over real HTTP: a raw socket client speaks
HTTP/1.1 to a real uvicorn server, so a chunked body really arrives chunk by chunk and the
refusal is seen the moment the server sends it, while the client is still sending."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from sqlalchemy import func
from sqlalchemy import select as sql_select

from dutydesk.app import create_app
from dutydesk.auth.service import create_token, user_by_name
from dutydesk.state import AppState
from dutydesk.tickets.models import Ticket
from tests.processes import free_port

GB = 10**9
MIB = 1 << 20


@contextmanager
def serving(state: AppState, max_import_bytes: int) -> Iterator[int]:
    """A real uvicorn server on a free loopback port, in this process (so its memory is
    measured with tracemalloc); yields the port."""
    port = free_port()
    app = create_app(state, max_body_bytes=64 * 1024, max_import_bytes=max_import_bytes)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
        time.sleep(0.02)
    try:
        yield port
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def admin_token(state: AppState) -> str:
    with state.db.write() as s:
        return create_token(s, user_by_name(s, "admin"), state.now(), "tests")


def _response(sock: socket.socket, deadline: float) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response (Content-Length framed, as the problem documents are)."""
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        part = sock.recv(65536)
        assert part, f"the server closed the connection without an answer: {data!r}"
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return int(status_line.split()[1]), headers, body


def post_streamed(
    port: int,
    token: str,
    chunks: Iterator[bytes],
    *,
    content_length: int | None = None,
    timeout: float = 120,
) -> tuple[int, dict[str, str], bytes, int]:
    """POST an import, sending ``chunks`` (chunked unless ``content_length`` is given) until
    the server answers; returns (status, headers, body, body bytes sent before the answer)."""
    deadline = time.monotonic() + timeout
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        # A declared length is sent as curl sends a large upload: the headers with
        # ``Expect: 100-continue`` first, the body only once the server asks for it.
        framing = (
            f"Content-Length: {content_length}\r\nExpect: 100-continue\r\n"
            if content_length is not None
            else "Transfer-Encoding: chunked\r\n"
        )
        sock.sendall(
            (
                "POST /api/v1/desks/infra/imports?format=jsonl HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\n"
                f"Authorization: Bearer {token}\r\n"
                "Content-Type: application/x-ndjson\r\n"
                f"{framing}\r\n"
            ).encode()
        )
        sent = 0
        if content_length is not None:
            status, headers, body = _response(sock, deadline)
            if status != 100:
                return status, headers, body, sent
        for chunk in chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # the server answered while the body was still coming
            assert time.monotonic() < deadline, f"no answer after {sent} bytes"
            frame = chunk if content_length is not None else b"%x\r\n%s\r\n" % (len(chunk), chunk)
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break  # refused and closed: the answer is waiting in the receive buffer
            sent += len(chunk)
        else:
            if content_length is None:
                sock.sendall(b"0\r\n\r\n")
        status, headers, body = _response(sock, deadline)
        return status, headers, body, sent
    finally:
        sock.close()


def rows(start: int = 0) -> Iterator[bytes]:
    """Valid JSONL rows, about 300 bytes each, for ever (the test stops reading)."""
    i = start
    while True:
        yield (
            json.dumps(
                {
                    "external_id": f"S{i}",
                    "title": f"Streamed ticket {i}",
                    "body": "x" * 200,
                    "created": "2025-01-01T00:00:00Z",
                }
            )
            + "\n"
        ).encode()
        i += 1


def gigabyte() -> Iterator[bytes]:
    """1 GB of body, generated 64 KiB at a time (one endless line: nothing on disk, nothing
    held by the client)."""
    piece = b"y" * (64 * 1024)
    for _ in range(GB // len(piece)):
        yield piece
    yield b"y" * (GB % len(piece))


def tickets(state: AppState) -> int:
    with state.db.read() as s:
        return int(s.scalar(sql_select(func.count()).select_from(Ticket)) or 0)


def test_a_chunked_import_crossing_the_limit_gets_a_413_mid_stream(state: AppState) -> None:
    limit = 40_000  # fewer bytes than one batch of rows: the refused import writes nothing
    with serving(state, limit) as port:
        status, headers, body, sent = post_streamed(port, admin_token(state), rows())
    assert status == 413, body
    assert headers["content-type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["status"] == 413 and str(limit) in problem["detail"]
    assert sent > limit  # the refusal came while the body streamed, not before it
    assert sent < limit + 8 * MIB  # ... and soon after the limit was crossed
    assert tickets(state) == 0


def test_a_chunked_import_under_the_limit_goes_in(state: AppState) -> None:
    """The same client and server: what goes through the limit is imported (the refusal
    above is the limit's doing, not the client's)."""

    def twenty() -> Iterator[bytes]:
        source = rows()
        for _ in range(20):
            yield next(source)

    with serving(state, 40_000) as port:
        status, _, body, _ = post_streamed(port, admin_token(state), twenty())
    assert status == 200, body
    assert json.loads(body)["created"] == 20 and tickets(state) == 20


def test_a_declared_gigabyte_is_refused_before_its_body_is_sent(state: AppState) -> None:
    with serving(state, 16 * MIB) as port:
        status, _, body, sent = post_streamed(
            port, admin_token(state), gigabyte(), content_length=GB, timeout=30
        )
    assert status == 413 and str(16 * MIB) in json.loads(body)["detail"]
    assert sent == 0  # answered from the headers: not a byte of the body was asked for
    assert tickets(state) == 0


def test_a_streamed_gigabyte_is_refused_at_the_limit_with_bounded_memory(
    state: AppState,
) -> None:
    limit = 16 * MIB
    with serving(state, limit) as port:
        token = admin_token(state)
        tracemalloc.start()
        try:
            status, _, body, sent = post_streamed(port, token, gigabyte())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert status == 413 and str(limit) in json.loads(body)["detail"]
    assert limit < sent < limit + 16 * MIB  # refused at the limit, not after 1 GB
    # Server and client together, in this process: a few chunks and one capped line, never
    # the body (16 MiB read, 1 GB offered).
    assert peak < 8 * MIB, f"peak traced memory {peak / MIB:.1f} MiB"
    assert tickets(state) == 0
