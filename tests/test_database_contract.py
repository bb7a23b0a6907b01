"""A configured PostgreSQL that does not answer fails the run loudly; it never skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_unreachable_test_database_fails_the_run() -> None:
    root = Path(__file__).parents[1]
    env = {
        **os.environ,
        "DUTYDESK_TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/test",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/tickets/test_concurrency.py",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "does not answer" in proc.stdout + proc.stderr
    assert "passed" not in proc.stdout.splitlines()[-1]
