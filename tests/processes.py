"""Real dutydesk processes for tests: servers and workers on 127.0.0.1, started with the
test's database, stopped by the test; a fresh PostgreSQL database when one is needed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
from sqlalchemy import create_engine, make_url, text

from dutydesk.auth.service import create_token, user_by_name
from dutydesk.state import AppState

ROOT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(database_url: str, policy: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUTYDESK_")}
    env.update(
        DUTYDESK_DATABASE_URL=database_url,
        DUTYDESK_POLICY=str(policy),
        PYTHONPATH=str(ROOT / "src"),
        **extra,
    )
    return env


def dutydesk(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a dutydesk command to its end; fails the test with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "dutydesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"dutydesk {' '.join(args)}: {done.stderr}"
    return done


@dataclass
class Server:
    proc: subprocess.Popen[str]
    port: int
    log: IO[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def logs(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


# uvicorn finishes the requests in flight on SIGTERM, then ends by the same signal (so a
# supervisor sees the exit it asked for): that is a clean stop.
CLEAN_STOP = (0, -signal.SIGTERM)


def start(command: str, env: dict[str, str], log_dir: Path, *args: str) -> Server:
    """``dutydesk serve`` (waits until ready) or ``dutydesk worker``, logging to a file."""
    port = free_port()
    log = open(log_dir / f"{command}-{uuid.uuid4().hex[:6]}.log", "w+", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    extra = ["--port", str(port)] if command == "serve" else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "dutydesk", command, *extra, *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(proc, port, log)
    if command == "serve":
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"serve exited: {server.logs()}"
            with suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/api/v1/readyz", timeout=2).status_code == 200:
                    return server
            time.sleep(0.05)
        server.stop()
        raise AssertionError(f"serve did not become ready: {server.logs()}")
    return server


def tokens(state: AppState, *names: str) -> dict[str, str]:
    with state.db.write() as s:
        return {n: create_token(s, user_by_name(s, n), state.now(), "test") for n in names}


@contextmanager
def fresh_postgres(like_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``like_url`` (same options), dropped after."""
    url = make_url(like_url)
    name = f"{url.database}_t{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url.set(query={}), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
