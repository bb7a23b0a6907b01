"""Ranking duplicate candidates (pure): which earlier tickets most likely repeat a draft.

The full-text engine's relevance is the base; three things the engine cannot see adjust it,
each measured on real duplicate reports (bench/triage_eval.py):

* a ticket still open when the draft was written is far likelier to be the one it repeats
  (most duplicates are filed while the first report is still open);
* recent tickets are likelier than old ones (a fault is reported again while it lasts);
* a ticket of the same team (feature area) is likelier than one of another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

CLOSED_WINDOW = timedelta(days=365)  # closed tickets older than this are not suggested


@dataclass(frozen=True)
class Weights:
    open_then: float = 0.5  # bonus share for a ticket open at the draft's time
    recency: float = 0.5  # bonus share for a ticket filed just before, halving over
    half_life_days: float = 180.0
    same_team: float = 0.3  # bonus share for a ticket of the draft's team


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Scored:
    id: int
    score: float
    open_then: bool


def rank(
    hits: Sequence[tuple[int, float, datetime, datetime | None, bool, str | None]],
    before: datetime,
    team: str | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
    limit: int = 5,
) -> list[Scored]:
    """Order candidates ``(id, relevance, created_at, resolved_at, is_open, team)``.

    "Open then" is judged as of ``before``: a ticket resolved after it was still open when
    the draft was written, whatever its status now.
    """
    out: list[Scored] = []
    for tid, relevance, created, resolved, is_open, their_team in hits:
        open_then = is_open or (resolved is not None and resolved >= before)
        age_days = max(0.0, (before - created).total_seconds() / 86400)
        factor = 1.0
        if open_then:
            factor += weights.open_then
        factor += weights.recency / (1.0 + age_days / weights.half_life_days)
        if team is not None and their_team == team:
            factor += weights.same_team
        out.append(Scored(tid, max(relevance, 0.0) * factor, open_then))
    out.sort(key=lambda s: (-s.score, -s.id))
    return out[:limit]
