"""Recurring-requests clustering over real, varied titles (the hard case: few repeats), beside
the pair cover it replaced, measured in the same run on the same titles.

    python bench/bench_clusters.py TITLES.jsonl [--n 10000] [--rounds 3] [--reference REF.py]

TITLES.jsonl: one object per line with a ``title`` (e.g. the Apache Jira corpus of the
triage-eval kit, dedup/corpus.jsonl); the last ``--n`` titles are clustered. ``--reference``
names a copy of an earlier ``reports/recurring.py`` to time beside it (e.g. from
``git show f98d996:src/dutydesk/reports/recurring.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dutydesk.reports import recurring  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("reference_recurring", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["reference_recurring"] = mod
    spec.loader.exec_module(mod)
    return mod


def timed(mod: ModuleType, titles: list[str], rounds: int) -> tuple[float, int, int]:
    docs = [
        mod.Doc(i, i, t, "New", None, T0, None, *mod.title_stems(t)) for i, t in enumerate(titles)
    ]
    runs, groups = [], []
    for _ in range(rounds):
        began = time.perf_counter()
        groups = mod.cluster(docs)
        runs.append(time.perf_counter() - began)
    return statistics.median(runs) * 1000, len(groups), sum(map(len, groups))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("titles")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reference")
    a = ap.parse_args()
    with open(a.titles, encoding="utf-8") as f:
        titles = [json.loads(line)["title"] for line in f][-a.n :]
    mods = [("this tree", recurring)]
    if a.reference:
        mods.insert(0, ("reference", load(a.reference)))
    print(f"{len(titles)} titles, median of {a.rounds}")
    for name, mod in mods:
        ms, clusters, clustered = timed(mod, titles, a.rounds)
        print(f"  {name:10} {ms:8.0f} ms  {clusters:5} clusters  {clustered:6} titles in one")


if __name__ == "__main__":
    main()
