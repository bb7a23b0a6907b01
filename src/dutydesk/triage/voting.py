"""Turning the nearest triaged tickets into one suggestion per field (pure).

Each neighbour votes for its value with its match score raised to a power (the best matches
count most). Priorities are skewed — most tickets are ordinary — so a priority's votes are
divided by a root of how common it is in the desk's history, or the common one would always
win.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FIELDS = ("team", "kind", "priority")
SHARPNESS = 2.0  # votes weigh score**SHARPNESS
PRIOR_DAMPING = {"priority": 0.5}  # votes / share**damping, per field


@dataclass(frozen=True)
class Vote:
    value: str
    score: float


@dataclass(frozen=True)
class Decided:
    value: str
    confidence: float
    voters: int


def vote(field: str, votes: Sequence[Vote], shares: Mapping[str, float]) -> Decided | None:
    """The value with the most weight, and its share of all weight as the confidence.

    ``shares`` is how common each value is in the desk's history (0..1).
    """
    if not votes:
        return None
    weight: Counter[str] = Counter()
    for v in votes:
        weight[v.value] += max(v.score, 1e-9) ** SHARPNESS
    damping = PRIOR_DAMPING.get(field, 0.0)
    if damping:
        for value in weight:
            weight[value] /= max(shares.get(value, 0.0), 0.01) ** damping
    total = sum(weight.values())
    value, best = max(weight.items(), key=lambda kv: (kv[1], kv[0]))
    return Decided(value, round(best / total, 3) if total else 0.0, len(votes))
