"""Start-up benchmark: `dutydesk serve` until its first 200, and the CLI's own start.

Each figure is the median of --repeat runs, printed beside two floors measured in the same run
on the same machine: an empty interpreter (`python -c pass`) and the bare imports dutydesk
stands on (`python -c "import fastapi, sqlalchemy, pydantic"`). Wall seconds are what the goal
is about; CPU seconds (the process's user + system time) say the same with less noise on a
shared machine, where other work stretches wall time but not CPU time.

    .venv/bin/python bench/bench_startup.py               # SQLite, and PostgreSQL when it answers
    .venv/bin/python bench/bench_startup.py --repeat 9 --no-pg

The server runs as in bench_api.py: a real `python -m dutydesk serve --port P` process on a
database from `dutydesk init` plus 200 demo tickets, polled with GET /api/v1/healthz every
20 ms until the first 200.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api import PG_ADMIN, PY, dutydesk, env_for, free_port

# A database of its own, so this can run while bench_api.py uses dutydesk_bench.
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dutydesk_startup"
TICK = os.sysconf("SC_CLK_TCK")

Sample = tuple[float, float]  # wall seconds, CPU seconds


def reset_pg() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute("DROP DATABASE IF EXISTS dutydesk_startup WITH (FORCE)")
        conn.execute("CREATE DATABASE dutydesk_startup")


def run_once(cmd: list[str], folder: Path, env: dict[str, str] | None = None) -> Sample:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=folder, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def serve_once(folder: Path, url: str) -> Sample:
    """Seconds from launching `dutydesk serve` to its first 200, and its CPU time by then."""
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "-m", "dutydesk", "serve", "--port", str(port)],
        cwd=folder,
        env=env_for(folder, url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/healthz", timeout=1).is_success:
                    return time.perf_counter() - t0, process_cpu(proc.pid)
            except httpx.HTTPError:
                pass
            if time.perf_counter() - t0 > 30 or proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"server did not start: {err}")
            time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(10)


def median(repeat: int, measure: Callable[[], Sample]) -> Sample:
    samples = [measure() for _ in range(repeat)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs per figure (median)")
    ap.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    args = ap.parse_args()
    n = args.repeat

    rows: list[tuple[str, Sample, str]] = []
    with tempfile.TemporaryDirectory(prefix="dd-startup-") as tmp:
        folder = Path(tmp)
        sqlite = f"sqlite:///{folder / 'dutydesk.db'}"
        env = env_for(folder, sqlite)
        dutydesk(folder, sqlite, "init")
        dutydesk(folder, sqlite, "--json", "demo", "--desk", "infra", "--tickets", "200")
        frameworks = [PY, "-c", "import fastapi, sqlalchemy, pydantic"]
        cli = [PY, "-m", "dutydesk"]

        # Floors first and again last: a machine that got busier mid-run shows as two floors.
        rows.append(
            ("python -c pass", median(n, lambda: run_once([PY, "-c", "pass"], folder)), "floor")
        )
        rows.append(
            (
                "import fastapi, sqlalchemy, pydantic",
                median(n, lambda: run_once(frameworks, folder)),
                "floor",
            )
        )
        rows.append(
            ("serve → first 200, SQLite", median(n, lambda: serve_once(folder, sqlite)), "≤ 1.5")
        )
        if not args.no_pg:
            try:
                reset_pg()
            except Exception as exc:  # no server here: say so and go on
                print(f"(PostgreSQL skipped: {type(exc).__name__}: {exc})")
            else:
                pg = folder / "pg"
                pg.mkdir()
                dutydesk(pg, PG_URL, "init")
                dutydesk(pg, PG_URL, "--json", "demo", "--desk", "infra", "--tickets", "200")
                rows.append(
                    (
                        "serve → first 200, PostgreSQL",
                        median(n, lambda: serve_once(pg, PG_URL)),
                        "≤ 1.5",
                    )
                )
        rows.append(
            ("dutydesk --help", median(n, lambda: run_once([*cli, "--help"], folder, env)), "–")
        )
        rows.append(
            (
                "dutydesk queue infra (local mode)",
                median(n, lambda: run_once([*cli, "queue", "infra"], folder, env)),
                "–",
            )
        )
        rows.append(
            (
                "import fastapi, sqlalchemy, pydantic (again)",
                median(n, lambda: run_once(frameworks, folder)),
                "floor",
            )
        )

    print(f"\nStart-up, median of {n} runs\n")
    print(f"| {'what':44} | wall s | CPU s | goal |")
    print(f"| {'-' * 44} | -----: | ----: | ---- |")
    for what, (wall, cpu), goal in rows:
        print(f"| {what:44} | {wall:6.2f} | {cpu:5.2f} | {goal} |")
    print(f"\n{' '.join([Path(sys.executable).name, *sys.argv])}")


if __name__ == "__main__":
    main()
