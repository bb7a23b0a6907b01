"""API benchmarks for the foundation: intake, queue and list latency, single-ticket reads and
comment writes, memory and start-up.

Every figure is printed next to its goal and, where one exists, a reference measured in the
same run on the same machine (these machines are shared and noisy: read the ratios).

    .venv/bin/python bench/bench_api.py                  # SQLite 10k and 100k, PostgreSQL 100k
    .venv/bin/python bench/bench_api.py --sizes 10000 --no-pg --seconds 5 --rounds 1  # a look

Servers run as real `dutydesk serve` processes on 127.0.0.1; intake is driven by aiohttp, reads by httpx, over loopback.
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
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dutydesk_bench"
SETTLE_SECONDS = 3.0

BARE_APP = textwrap.dedent("""
    import sqlite3, threading
    from fastapi import FastAPI
    from pydantic import BaseModel

    app = FastAPI()
    local = threading.local()
    # The file, WAL mode and table exist before the first request: threads connecting at
    # once would otherwise race to switch the journal mode (SQLITE_BUSY, no busy handler).
    setup = sqlite3.connect("bare.db", isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, title TEXT, body TEXT)")
    setup.close()

    def conn():
        c = getattr(local, "c", None)
        if c is None:
            c = local.c = sqlite3.connect("bare.db", isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA busy_timeout=10000"); c.execute("PRAGMA synchronous=NORMAL")
        return c

    class In(BaseModel):
        title: str
        description: str = ""

    @app.post("/tickets", status_code=201)
    def file(body: In):
        cur = conn().execute("INSERT INTO t (title, body) VALUES (?, ?)", (body.title, body.description))
        return {"id": cur.lastrowid, "title": body.title}
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(folder: Path, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DUTYDESK_DATABASE_URL": url,
        "DUTYDESK_POLICY": str(folder / "dutydesk.toml"),
    }


def dutydesk(folder: Path, url: str, *args: str) -> str:
    proc = subprocess.run(
        [PY, "-m", "dutydesk", *args],
        cwd=folder,
        env=env_for(folder, url),
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


@contextmanager
def server(
    cmd: list[str], folder: Path, env: dict[str, str], port: int
) -> Iterator[tuple[int, float]]:
    """Start a server process; yield (pid, seconds until the first 200)."""
    started = time.perf_counter()
    # The server's log goes to a file: an unread pipe fills up and stalls the server.
    log = (folder / f"server-{port}.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = started + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/v1/healthz", timeout=1)
                if r.status_code in (200, 404):
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() > deadline or proc.poll() is not None:
                raise RuntimeError(
                    f"server did not start: {(folder / f'server-{port}.log').read_text()}"
                )
            time.sleep(0.02)
        yield proc.pid, time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured_intake(
    pid: int, base: str, path: str, headers: dict[str, str], seconds: float
) -> tuple[float, float]:
    """(tickets/s, server CPU ms per ticket) over one intake run."""
    before, started = cpu_seconds(pid), time.perf_counter()
    rate = asyncio.run(intake(base, path, headers, seconds))
    took = time.perf_counter() - started
    return rate, 1000 * (cpu_seconds(pid) - before) / (rate * took)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def intake(
    base: str, path: str, headers: dict[str, str], seconds: float, in_flight: int = 32
) -> float:
    """Tickets filed per second with ``in_flight`` requests kept open by an aiohttp driver
    (one event loop, no per-request client overhead: it outpaces both servers, so requests
    wait in the server, not in the driver)."""
    done = 0
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(base, headers=headers, connector=connector) as session:

        async def loop(i: int) -> None:
            nonlocal done
            n = 0
            while time.perf_counter() < stop:
                body = {"title": f"Builder {i}-{n} slow to start", "description": "Why: blocked."}
                async with session.post(path, json=body) as r:
                    await r.read()
                    assert r.status == 201, await r.text()
                n += 1
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(loop(i) for i in range(in_flight)))
        return done / (time.perf_counter() - t0)


@dataclass
class IntakeRound:
    ours: float
    bare: float
    ours_cpu: float
    bare_cpu: float
    # the filing alone (``?hints=false``: no duplicate and title hints read after it)
    plain: float
    plain_cpu: float

    @property
    def ratio(self) -> float:
        return self.ours / self.bare

    @property
    def per_core(self) -> float:
        """Filings per core-second against bare inserts per core-second."""
        return self.bare_cpu / self.ours_cpu


def intake_rounds(folder: Path, rounds: int, seconds: float) -> list[IntakeRound]:
    """Each round runs the bare endpoint, then dutydesk, each in a fresh server process."""
    url = f"sqlite:///{folder / 'dutydesk.db'}"
    token = prepare(folder, url, 0)
    (folder / "bare_app.py").write_text(BARE_APP)
    results = []
    for _ in range(rounds):
        port = free_port()
        bare_cmd = [
            PY,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with server(bare_cmd, folder, dict(os.environ), port) as (pid, _):
            bare, bare_cpu = measured_intake(
                pid, f"http://127.0.0.1:{port}", "/tickets", {}, seconds
            )
        port = free_port()
        cmd = [PY, "-m", "dutydesk", "serve", "--port", str(port)]
        with server(cmd, folder, env_for(folder, url), port) as (pid, _):
            ours, ours_cpu = measured_intake(
                pid,
                f"http://127.0.0.1:{port}",
                "/api/v1/desks/infra/tickets",
                {"Authorization": f"Bearer {token}"},
                seconds,
            )
            plain, plain_cpu = measured_intake(
                pid,
                f"http://127.0.0.1:{port}",
                "/api/v1/desks/infra/tickets?hints=false",
                {"Authorization": f"Bearer {token}"},
                seconds,
            )
        results.append(IntakeRound(ours, bare, ours_cpu, bare_cpu, plain, plain_cpu))
    return results


def latencies(
    client: httpx.Client, method: str, path: str, n: int, **kw: object
) -> tuple[float, float]:
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        r = client.request(method, path.format(i=i, n=i + 1), **kw)  # type: ignore[arg-type]
        samples.append((time.perf_counter() - t0) * 1000)
        assert r.status_code < 300, r.text
    return p50_p95(samples)


def latencies_for(client: httpx.Client, path: str, seconds: float) -> tuple[float, float]:
    """(p50, p95) of GETs of ``path`` sent one after another for ``seconds``."""
    samples = []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        t0 = time.perf_counter()
        r = client.get(path)
        samples.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text
    return p50_p95(samples)


def p50_p95(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def prepare(folder: Path, url: str, tickets: int) -> str:
    dutydesk(folder, url, "init")
    if tickets:
        dutydesk(folder, url, "--json", "demo", "--desk", "infra", "--tickets", str(tickets))
    return dutydesk(folder, url, "token", "create", "admin").strip()


def reset_pg() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS dutydesk_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE dutydesk_bench")


def read_bench(label: str, folder: Path, url: str, size: int, rows: list[list[str]]) -> None:
    token = prepare(folder, url, size)
    port = free_port()
    cmd = [PY, "-m", "dutydesk", "serve", "--port", str(port)]
    with server(cmd, folder, env_for(folder, url), port) as (pid, startup):
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as c:
            # The first seconds after start: the embedded worker's first tick catches up on
            # the bulk-loaded history (SLO timers, end-of-day nudges, digests) beside us.
            w50, w95 = latencies_for(c, "/api/v1/desks/infra/queue?limit=50", SETTLE_SECONDS)
            rows.append(
                [
                    label,
                    f"{size:,}",
                    f"queue, first {SETTLE_SECONDS:.0f} s",
                    f"{w50:.1f}",
                    f"{w95:.1f}",
                    "-",
                ]
            )
            q50, q95 = latencies(c, "GET", "/api/v1/desks/infra/queue?limit=50", 200)
            f50, f95 = latencies(
                c,
                "GET",
                "/api/v1/tickets?desk=infra&status=In%20progress&priority=P1&limit=50",
                200,
            )
            s50, s95 = latencies(c, "GET", "/api/v1/tickets?desk=infra&q=quota&limit=20", 100)
            rows.append(
                [label, f"{size:,}", "queue first page", f"{q50:.1f}", f"{q95:.1f}", "≤ 20"]
            )
            rows.append([label, f"{size:,}", "filtered list", f"{f50:.1f}", f"{f95:.1f}", "≤ 20"])
            rows.append([label, f"{size:,}", "full-text search", f"{s50:.1f}", f"{s95:.1f}", "-"])
            if size >= 100_000:
                g50, g95 = latencies(c, "GET", "/api/v1/tickets/INFRA-{n}", 300)
                c50, c95 = latencies(
                    c,
                    "POST",
                    "/api/v1/tickets/INFRA-{n}/comments",
                    200,
                    json={"body": "Status: still investigating."},
                )
                rows.append(
                    [label, f"{size:,}", "GET one ticket", f"{g50:.1f}", f"{g95:.1f}", "≤ 5"]
                )
                rows.append(
                    [label, f"{size:,}", "POST comment", f"{c50:.1f}", f"{c95:.1f}", "≤ 10"]
                )
            rows.append(
                [
                    label,
                    f"{size:,}",
                    "server RSS after reads (MB)",
                    f"{rss_mb(pid):.0f}",
                    "",
                    "≤ 150",
                ]
            )
            rows.append(
                [label, f"{size:,}", "start-up to first 200 (s)", f"{startup:.2f}", "", "≤ 1.5"]
            )


def table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each intake run")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved intake rounds")
    args = ap.parse_args()
    print("command:", " ".join([Path(PY).name, *sys.argv]))

    # 1. Intake: dutydesk next to a bare FastAPI endpoint doing one SQLite insert, in
    # interleaved rounds (bare, ours, bare, ours…): the machine's load drifts within minutes.
    with tempfile.TemporaryDirectory() as tmp:
        rounds = intake_rounds(Path(tmp), args.rounds, args.seconds)
    print(
        f"\n1. HTTP intake, aiohttp driver with 32 requests in flight over loopback, SQLite "
        f"({args.rounds} rounds)"
    )
    table(
        [
            [
                f"round {i + 1}",
                f"{r.ours:.0f}",
                f"{r.plain:.0f}",
                f"{r.bare:.0f}",
                f"{r.ratio:.2f}x",
                f"{r.ours_cpu:.2f} / {r.plain_cpu:.2f} / {r.bare_cpu:.2f}",
                f"{r.per_core:.2f}x",
            ]
            for i, r in enumerate(rounds)
        ],
        [
            "POST /desks/infra/tickets",
            "filings/s",
            "without hints /s",
            "bare FastAPI+insert /s",
            "ratio",
            "server CPU ms/req (ours / no hints / bare)",
            "per core",
        ],
    )
    ratios = [r.ratio for r in rounds]
    cores = [r.per_core for r in rounds]
    print(
        f"median ratio {statistics.median(ratios):.2f}x (range {min(ratios):.2f}-"
        f"{max(ratios):.2f}x); per core (bare CPU per insert / our CPU per filing) "
        f"{statistics.median(cores):.2f}x; the driver shares the same 2 cores"
    )

    rows: list[list[str]] = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            read_bench("sqlite", folder, f"sqlite:///{folder / 'dutydesk.db'}", size, rows)
    if not args.no_pg:
        reset_pg()
        with tempfile.TemporaryDirectory() as tmp:
            read_bench("postgresql", Path(tmp), PG_URL, max(args.sizes), rows)
    print("\n2-4. Latency over HTTP (ms), memory and start-up")
    table(rows, ["db", "tickets", "what", "p50", "p95", "goal"])
    by = {(r[0], r[1], r[2]): r for r in rows}
    if len(args.sizes) >= 2:
        small, big = f"{min(args.sizes):,}", f"{max(args.sizes):,}"
        for what in ("queue first page", "filtered list"):
            a, b = by[("sqlite", small, what)], by[("sqlite", big, what)]
            print(
                f"growth {small} → {big} ({what}, p95): {float(b[4]) / float(a[4]):.2f}x "
                "(goal ≤ 1.5x)"
            )


if __name__ == "__main__":
    main()
