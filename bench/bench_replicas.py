"""Intake on PostgreSQL with one vs two `dutydesk serve` replicas, driven by an asyncio +
aiohttp load generator that keeps more requests in flight than the servers can answer.

For each configuration it reports filings per second, latency (p50, p95), and CPU per
request of the servers (every replica's /proc/PID/stat) and of PostgreSQL (every `postgres`
process), so the scaling can be read even on two shared cores and projected to more. The
reference in the same run is `GET /api/v1/healthz` (one database round trip, no write) on the
same servers and driver.

    .venv/bin/python bench/bench_replicas.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
EXAMPLE = ROOT / "examples" / "dutydesk.toml"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Waits:
    samples: list[tuple[int, int]]

    @property
    def mean(self) -> float:
        return statistics.fmean(w for w, _ in self.samples) if self.samples else 0.0

    @property
    def backends(self) -> float:
        return statistics.fmean(b for _, b in self.samples) if self.samples else 0.0


@contextmanager
def lock_waits(pg: str) -> Iterator[Waits]:
    """Samples pg_stat_activity four times a second: backends of the run's database that
    wait on a lock (what serialized intake when the desk counter row was locked)."""
    waits = Waits([])
    stop = threading.Event()
    url = make_url(pg)
    engine = create_engine(url)

    def sample() -> None:
        with engine.connect() as conn:
            while not stop.wait(0.25):
                waiting, total = conn.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) "
                        "FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": url.database},
                ).one()
                waits.samples.append((int(waiting), int(total)))
                conn.rollback()

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield waits
    finally:
        stop.set()
        thread.join()
        engine.dispose()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_cpu() -> float:
    """CPU of every postgres process (backends come and go; the sum over the survivors of a
    run plus those that ended is not readable, so backends must outlive the run: pools do)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in raw:
            fields = raw.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def env_for(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUTYDESK_")}
    env.update(
        DUTYDESK_DATABASE_URL=url,
        DUTYDESK_POLICY=str(EXAMPLE),
        DUTYDESK_ACCESS_LOG="0",
        PYTHONPATH=str(ROOT / "src"),
    )
    return env


def prepare(url: str) -> str:
    fresh_database(url)
    env = env_for(url)
    with tempfile.TemporaryDirectory() as home:
        subprocess.run(
            [PY, "-m", "dutydesk", "init"], cwd=home, env=env, check=True, capture_output=True
        )
        done = subprocess.run(
            [PY, "-m", "dutydesk", "token", "create", "rita"],
            cwd=home,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    return done.stdout.strip()


@contextmanager
def replica(url: str) -> Iterator[tuple[int, str]]:
    port = free_port()
    proc = subprocess.Popen(
        [PY, "-m", "dutydesk", "serve", "--port", str(port)],
        env=env_for(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/v1/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise RuntimeError("replica did not start")
        yield proc.pid, base
    finally:
        proc.terminate()
        proc.wait(30)


@dataclass
class Run:
    rate: float
    p50: float
    p95: float
    server_cpu_ms: float  # per request, all replicas
    db_cpu_ms: float  # per request, all postgres processes
    errors: int


async def drive(
    bases: list[str], method: str, path: str, token: str, seconds: float, concurrency: int
) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:

        async def loop(i: int) -> None:
            nonlocal errors
            base = bases[i % len(bases)]
            n = 0
            while time.perf_counter() < stop:
                n += 1
                began = time.perf_counter()
                body = {"title": f"Builder {i}-{n} slow to start", "description": "Why: blocked."}
                async with session.request(
                    method, base + path, json=body if method == "POST" else None
                ) as r:
                    await r.read()
                    if r.status >= 300:
                        errors += 1
                        continue
                latencies.append(time.perf_counter() - began)

        await asyncio.gather(*(loop(i) for i in range(concurrency)))
    return len(latencies), latencies, errors


def measure(
    pids: list[int],
    bases: list[str],
    method: str,
    path: str,
    token: str,
    seconds: float,
    concurrency: int,
) -> Run:
    server_before = sum(cpu_seconds(p) for p in pids)
    db_before = postgres_cpu()
    started = time.perf_counter()
    done, latencies, errors = asyncio.run(drive(bases, method, path, token, seconds, concurrency))
    took = time.perf_counter() - started
    server = sum(cpu_seconds(p) for p in pids) - server_before
    db = postgres_cpu() - db_before
    latencies.sort()
    return Run(
        rate=done / took,
        p50=1000 * statistics.median(latencies),
        p95=1000 * latencies[int(0.95 * len(latencies))],
        server_cpu_ms=1000 * server / max(done, 1),
        db_cpu_ms=1000 * db / max(done, 1),
        errors=errors,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/dutydesk_bench"
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    token = prepare(args.pg)
    rows: list[tuple[str, int, Run]] = []
    for _ in range(args.rounds):
        for n in (1, 2):
            with ExitStack() as stack:
                started = [stack.enter_context(replica(args.pg)) for _ in range(n)]
                pids, bases = [p for p, _ in started], [b for _, b in started]
                time.sleep(1.0)  # settle (holiday tables load on a thread at start)
                for label, method, path in (
                    ("healthz", "GET", "/api/v1/healthz"),
                    ("intake", "POST", "/api/v1/desks/infra/tickets"),
                    # the filing alone, without the duplicate and title hints read after it
                    ("bare", "POST", "/api/v1/desks/infra/tickets?hints=false"),
                ):
                    with lock_waits(args.pg) as waits:
                        run = measure(
                            pids, bases, method, path, token, args.seconds, args.concurrency
                        )
                    rows.append((label, n, run))
                    print(
                        f"{label:8} {n} replica(s): {run.rate:7.0f}/s  p50 {run.p50:6.1f} ms  "
                        f"p95 {run.p95:6.1f} ms  server {run.server_cpu_ms:5.2f} ms CPU/req  "
                        f"postgres {run.db_cpu_ms:5.2f} ms CPU/req  errors {run.errors}  "
                        f"backends waiting on a lock {waits.mean:4.1f} of {waits.backends:4.1f}",
                        flush=True,
                    )
    print("\nmedians over rounds")
    for label in ("healthz", "intake", "bare"):
        for n in (1, 2):
            runs = [r for lab, k, r in rows if lab == label and k == n]
            rate = statistics.median(r.rate for r in runs)
            p95 = statistics.median(r.p95 for r in runs)
            server = statistics.median(r.server_cpu_ms for r in runs)
            db = statistics.median(r.db_cpu_ms for r in runs)
            print(
                f"{label:8} {n} replica(s): {rate:7.0f}/s  p95 {p95:6.1f} ms  "
                f"server {server:5.2f} ms CPU/req  postgres {db:5.2f} ms CPU/req"
            )


if __name__ == "__main__":
    main()
