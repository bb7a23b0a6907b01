"""Ranking duplicate candidates (pure): which open tickets most likely repeat a new title."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def rank_candidates(hits: Mapping[str, Sequence[int]], limit: int = 5) -> list[int]:
    """Tickets found by the most title words first; ties keep the search engine's order."""
    score: dict[int, tuple[int, int]] = {}
    for words_seen, (_, ids) in enumerate(hits.items()):
        for pos, tid in enumerate(ids):
            count, best = score.get(tid, (0, 10**9))
            score[tid] = (count + 1, min(best, pos * 100 + words_seen))
    ordered = sorted(score.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
    return [tid for tid, _ in ordered[:limit]]
