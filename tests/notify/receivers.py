"""Real receivers on 127.0.0.1 for delivery tests: a threaded HTTP server and an SMTP server."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.processes import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery_id(self) -> str:
        return self.headers["x-dutydesk-delivery"]


class Receiver:
    """Records every POST; answers ``status`` after ``delay`` seconds. Restartable on its port.

    ``hold_after=N`` answers the first N requests, then holds every later one unanswered
    until :meth:`release`: a test can then act while a delivery is certainly in flight.
    """

    def __init__(
        self, delay: float = 0.0, status: int = 200, hold_after: int | None = None
    ) -> None:
        self.port = free_port()
        self.delay, self.status = delay, status
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.hold_after = hold_after
        self.arrived = 0
        self.held = 0  # requests waiting at the gate right now
        self.holding = threading.Event()  # set when the first request is held
        self.gate = threading.Event()  # set: held requests go on

    def release(self) -> None:
        self.gate.set()

    def _wait_at_gate(self) -> None:
        with self.lock:
            self.arrived += 1
            if self.hold_after is None or self.arrived <= self.hold_after:
                return
            self.held += 1
            self.holding.set()
        self.gate.wait(60)  # bounded: a forgotten release cannot hang the suite
        with self.lock:
            self.held -= 1

    def wait_held(self, n: int, timeout: float) -> bool:
        """Whether ``n`` requests are held at once within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.held >= n:
                    return True
            time.sleep(0.01)
        return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stall

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: nothing was delivered
                    self.close_connection = True
                    return
                outer._wait_at_gate()
                if outer.delay:
                    time.sleep(outer.delay)
                with outer.lock:
                    outer.requests.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                self.send_response(outer.status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.gate.set()  # nothing stays held past the test
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def ids(self, path: str | None = None) -> list[str]:
        with self.lock:
            return [r.delivery_id for r in self.requests if path is None or r.path == path]

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.02)


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on a free 127.0.0.1 port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.box = _Mailbox()
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return self.box.messages

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
