"""Triage assistance measured on real bug reports: duplicate suggestions and suggested
team and priority, each beside a baseline computed in the same run.

    python bench/triage_eval.py [--data DIR] [--split NAME] [--db sqlite|postgresql]

Reads DIR/dedup/corpus.jsonl, DIR/dedup/queries.NAME.jsonl, DIR/triage/train.jsonl and
DIR/triage/NAME.jsonl (defaults: --data ../shared/data/triage-eval, --split dev; the kit's
README explains the files). The corpus and the training issues go into a fresh database as
one desk's history; each duplicate query asks the product's similar-tickets service with
before = the query's filing time, and each triage issue asks the suggestions service (which
never sees the ``project`` field). Baselines: plain BM25 over title + body (all projects,
the same time rule), TF-IDF + logistic regression (scikit-learn, when installed) trained on
every labelled ticket of the history, and the majority priority. The last stdout line is one
JSON object. PostgreSQL: DUTYDESK_BENCH_DATABASE_URL (a database this run may fill; each run
uses a schema of its own and drops it), default postgresql+psycopg://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DESK = "apache"
TEAMS = ["AMQ", "HADOOP", "HDFS", "HIVE", "MAPREDUCE", "STORM", "YARN", "ZOOKEEPER"]
JIRA_PRIORITY = {"Blocker": "P0", "Critical": "P1", "Major": "P2", "Minor": "P3", "Trivial": "P3"}
POLICY = f"""
[desks.{DESK}]
title = "Apache bug reports"
columns = ["New", "Triaged", "In progress", "Done"]
priorities = ["P0", "P1", "P2", "P3"]
kinds = ["bug", "request", "question"]
teams = {json.dumps(TEAMS)}
order = ["priority", "created"]

[people.admin]
roles = ["admin"]
"""


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# --------------------------------------------------------------------------- the history


def history_records(
    corpus: list[dict[str, Any]], train: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Corpus and training issues as JSONL import records: the desk's triaged history."""
    out: dict[str, dict[str, Any]] = {}
    for c in corpus:
        out[c["id"]] = {
            "external_id": c["id"],
            "title": c["title"],
            "body": c["body"],
            "created": c["created"],
            "kind": "bug",
            "team": c["project"],
            "priority": JIRA_PRIORITY.get(c["priority"]),
            "resolved": c["resolved"],
            "resolution": "fixed" if c["resolved"] else None,
        }
    for t in train:
        out.setdefault(
            t["id"],
            {
                "external_id": t["id"],
                "title": t["title"],
                "body": t["body"],
                "created": t["created"],
                "kind": "bug",
                "team": t["team"],
                "priority": t["priority"],
                "resolved": None,
                "resolution": None,
            },
        )
    return sorted(out.values(), key=lambda r: r["created"])


def load_history(db: Any, policy: Any, records: list[dict[str, Any]]) -> int:
    """Import the records into the desk through the product's JSONL import (the path a team
    takes to bring its history in), then recount what suggestions learn from it, as
    ``dutydesk suggestions rebuild`` does after an import. Returns the tickets imported."""
    from dutydesk.imports.service import import_jsonl
    from dutydesk.state import AppState

    state = AppState(db=db, policy=policy)
    lines = (json.dumps(r) for r in records)
    result = import_jsonl(state, lines, desk=DESK, actor="admin")
    if result.rejected_count:
        first = result.rejected[0]
        raise SystemExit(f"import refused {result.rejected_count} rows, first: {first.as_dict()}")
    return result.created


@contextmanager
def fresh_database(kind: str, policy: Any = None) -> Iterator[tuple[Any, Any]]:
    from sqlalchemy import create_engine, text

    from dutydesk.db import Database
    from dutydesk.migrate import upgrade
    from dutydesk.policy.loader import parse_policy
    from dutydesk.state import sync_policy

    policy = policy or parse_policy(POLICY, "triage-eval policy")
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'eval.db'}"
            upgrade(url)
            db = Database(url)
            sync_policy(db, policy, datetime.now(UTC))
            yield db, policy
            db.dispose()
        return
    base = os.environ.get(
        "DUTYDESK_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    schema = f"triage_eval_{os.getpid()}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        db = Database(url)
        sync_policy(db, policy, datetime.now(UTC))
        yield db, policy
        db.dispose()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


# --------------------------------------------------------------------------- baselines

_PLAIN = re.compile(r"\w+")


class PlainBM25:
    """Okapi BM25 (k1 1.2, b 0.75) over title + body, lower-cased words, nothing else."""

    def __init__(self, docs: list[tuple[str, str]]) -> None:
        self.post: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths: list[int] = []
        for i, (title, body) in enumerate(docs):
            words = _PLAIN.findall(f"{title} {body}".lower())
            self.lengths.append(len(words))
            for w, n in Counter(words).items():
                self.post[w].append((i, n))
        self.n = len(docs)
        self.avg = sum(self.lengths) / max(self.n, 1)

    def scores(self, text: str) -> dict[int, float]:
        out: dict[int, float] = defaultdict(float)
        for w in _PLAIN.findall(text.lower()):  # a repeated query word counts again
            postings = self.post.get(w)
            if not postings:
                continue
            idf = math.log(1 + (self.n - len(postings) + 0.5) / (len(postings) + 0.5))
            for i, tf in postings:
                norm = tf + 1.2 * (0.25 + 0.75 * self.lengths[i] / self.avg)
                out[i] += idf * tf * 2.2 / norm
        return out


def macro_f1(gold: list[str], guess: list[str]) -> float:
    labels = sorted(set(gold))
    f1s = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, guess, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, guess, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, guess, strict=True) if g == label and p != label)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s) if f1s else 0.0


def accuracy(gold: list[str], guess: list[str]) -> float:
    return sum(g == p for g, p in zip(gold, guess, strict=True)) / max(len(gold), 1)


def tfidf_logreg(
    history: list[dict[str, Any]], issues: list[dict[str, Any]], field: str
) -> list[str] | None:
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return None
    labelled = [h for h in history if h.get(field)]
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2)
    x = vec.fit_transform([f"{h['title']}\n{h['body']}" for h in labelled])
    model = LogisticRegression(max_iter=1000).fit(x, [h[field] for h in labelled])
    return [
        str(p) for p in model.predict(vec.transform([f"{i['title']}\n{i['body']}" for i in issues]))
    ]


# --------------------------------------------------------------------------- the run


def ranks_of(ranked: list[str], gold: set[str]) -> int | None:
    for k, key in enumerate(ranked):
        if key in gold:
            return k + 1
    return None


def dedup_scores(first_hits: list[int | None]) -> dict[str, float]:
    n = max(len(first_hits), 1)
    return {
        "recall@1": round(sum(1 for r in first_hits if r and r <= 1) / n, 4),
        "recall@5": round(sum(1 for r in first_hits if r and r <= 5) / n, 4),
        "recall@10": round(sum(1 for r in first_hits if r and r <= 10) / n, 4),
        "mrr": round(sum(1 / r for r in first_hits if r) / n, 4),
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="../shared/data/triage-eval")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = ap.parse_args()
    data = Path(args.data)
    needed = [
        data / "dedup" / "corpus.jsonl",
        data / "dedup" / f"queries.{args.split}.jsonl",
        data / "triage" / "train.jsonl",
        data / "triage" / f"{args.split}.jsonl",
    ]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        print(f"skipped: the evaluation data is not here ({', '.join(missing)})")
        print(json.dumps({"skipped": "no evaluation data", "missing": missing}))
        return 0

    from dutydesk.triage.learning import rebuild, suggest
    from dutydesk.triage.service import similar_tickets

    corpus, queries, train, issues = (read_jsonl(p) for p in needed)
    history = history_records(corpus, train)
    print(
        f"history {len(history)} tickets, {len(queries)} duplicate queries, {len(issues)} triage issues, db {args.db}"
    )
    with fresh_database(args.db) as (db, policy):
        t0 = time.perf_counter()
        imported = load_history(db, policy, history)
        t1 = time.perf_counter()
        with db.write() as s:
            learned = rebuild(s, DESK)  # what `dutydesk suggestions rebuild` runs after an import
        print(
            f"imported {imported} tickets through the JSONL import in {t1 - t0:.1f} s, suggestions learned from {learned} tickets in {time.perf_counter() - t1:.1f} s"
        )

        product_hits: list[int | None] = []
        lookup_ms: list[float] = []
        with db.read() as s:
            for q in queries:
                t = time.perf_counter()
                found = similar_tickets(
                    s,
                    DESK,
                    q["title"],
                    q["body"],
                    instant(q["created"]),
                    team=q["project"],
                    limit=10,
                    same_instant_below=None,  # strictly before, as the kit's rule says
                )
                lookup_ms.append((time.perf_counter() - t) * 1000)
                keys = [f.external_id or f.key for f in found]
                product_hits.append(ranks_of(keys, set(q["duplicate_of"])))
            team_guess, prio_guess = [], []
            for issue in issues:
                got = {
                    x.field: x.value
                    for x in suggest(s, policy, DESK, issue["title"], issue["body"])
                }
                team_guess.append(got.get("team", ""))
                prio_guess.append(got.get("priority", ""))

    # Plain BM25 baseline, same time rule, all projects together.
    bm25 = PlainBM25([(c["title"], c["body"]) for c in corpus])
    created = [c["created"] for c in corpus]
    bm25_hits: list[int | None] = []
    for q in queries:
        sc = bm25.scores(f"{q['title']} {q['body']}")
        top = sorted((i for i in sc if created[i] < q["created"]), key=lambda i: -sc[i])[:10]
        bm25_hits.append(ranks_of([corpus[i]["id"] for i in top], set(q["duplicate_of"])))

    team_gold = [i["team"] for i in issues]
    prio_gold = [i["priority"] for i in issues]
    team_lr = tfidf_logreg(history, issues, "team")
    prio_lr = tfidf_logreg(history, issues, "priority")
    majority = Counter(h["priority"] for h in history if h["priority"]).most_common(1)[0][0]
    dedup = dedup_scores(product_hits)
    base = dedup_scores(bm25_hits)
    lookup_ms.sort()
    p95 = lookup_ms[min(len(lookup_ms) - 1, int(0.95 * len(lookup_ms)))]

    print()
    print("| duplicates | R@1 | R@5 | R@10 | MRR |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, d in (("dutydesk similar", dedup), ("plain BM25 baseline", base)):
        print(
            f"| {name} | {d['recall@1']:.3f} | {d['recall@5']:.3f} | {d['recall@10']:.3f} | {d['mrr']:.3f} |"
        )
    print()
    print("| suggestion | macro-F1 | accuracy |")
    print("| --- | ---: | ---: |")
    rows = [
        ("team: dutydesk", team_gold, team_guess),
        ("priority: dutydesk", prio_gold, prio_guess),
        ("priority: majority baseline", prio_gold, [majority] * len(prio_gold)),
    ]
    if team_lr is not None and prio_lr is not None:
        rows[1:1] = [("team: TF-IDF + logistic regression", team_gold, team_lr)]
        rows.append(("priority: TF-IDF + logistic regression", prio_gold, prio_lr))
    for name, gold, guess in rows:
        print(f"| {name} | {macro_f1(gold, guess):.3f} | {accuracy(gold, guess):.3f} |")
    print(
        f"\nsimilar-tickets lookup: median {lookup_ms[len(lookup_ms) // 2]:.1f} ms, p95 {p95:.1f} ms over {len(lookup_ms)} lookups ({args.db}, {len(history)} tickets)"
    )
    result = {
        "dedup": {**dedup, "bm25_recall@5": base["recall@5"]},
        "team": {
            "macro_f1": round(macro_f1(team_gold, team_guess), 4),
            "accuracy": round(accuracy(team_gold, team_guess), 4),
            "baseline_macro_f1": round(macro_f1(team_gold, team_lr), 4) if team_lr else None,
        },
        "priority": {
            "macro_f1": round(macro_f1(prio_gold, prio_guess), 4),
            "accuracy": round(accuracy(prio_gold, prio_guess), 4),
        },
        "lookup_p95_ms": round(p95, 2),
        "n_queries": len(queries),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
