"""The pure rules of triage assistance, in tables: words and stems, duplicate ranking, and the
complement naive Bayes scores behind suggestions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dutydesk.triage.analysis import query_terms, shared_words, stem, words
from dutydesk.triage.learning import best, complement_nb, features
from dutydesk.triage.ranking import Weights, rank

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The NameNode is DOWN!", ["namenode", "down"]),
        ("a b c of the", []),
        ("snake_case and x-y", ["snake", "case"]),
        ("Ünïcode wörds", ["ünïcode", "wörds"]),
    ],
)
def test_words_lower_case_without_stop_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [("connection", "connections"), ("failing", "failed"), ("replicate", "replication")],
)
def test_inflections_share_a_stem(a: str, b: str) -> None:
    assert stem(a) == stem(b)


def test_title_words_weigh_more_than_body_words_and_repeats_diminish() -> None:
    terms = {t.stem: t for t in query_terms("DataNode heartbeat", "heartbeat lost " * 8)}
    assert terms[stem("datanode")].weight == 1.0
    assert terms[stem("lost")].weight == pytest.approx(2.0)  # 8 × 0.5, square root
    assert terms[stem("heartbeat")].weight == pytest.approx(5**0.5)  # 1 + 8 × 0.5


def test_shared_words_put_title_matches_first() -> None:
    terms = query_terms("block report timeout", "namenode restarts")
    assert shared_words(terms, "Namenode block reports", "timeout seen") == [
        "block",
        "report",
        "namenode",
        "timeout",
    ]
    assert shared_words(terms, "unrelated", "") == []


# (id, relevance, created_at, resolved_at, is_open, team)
@pytest.mark.parametrize(
    ("hits", "team", "expected"),
    [
        # equal text match: the one still open at the draft's time first
        (
            [
                (1, 10.0, NOW - 9 * DAY, NOW - DAY, False, None),
                (2, 10.0, NOW - 9 * DAY, None, True, None),
            ],
            None,
            [2, 1],
        ),
        # resolved after the draft was written counts as open then
        (
            [
                (1, 10.0, NOW - 9 * DAY, NOW + DAY, False, None),
                (2, 10.0, NOW - 9 * DAY, NOW - DAY, False, None),
            ],
            None,
            [1, 2],
        ),
        # equal otherwise: the more recent first
        (
            [(1, 10.0, NOW - 900 * DAY, None, True, None), (2, 10.0, NOW - DAY, None, True, None)],
            None,
            [2, 1],
        ),
        # the draft's team breaks the tie
        (
            [(1, 10.0, NOW - DAY, None, True, "a"), (2, 10.0, NOW - DAY, None, True, "b")],
            "b",
            [2, 1],
        ),
        # a much better text match beats every bonus
        (
            [
                (1, 30.0, NOW - 900 * DAY, NOW - DAY, False, "a"),
                (2, 5.0, NOW - DAY, None, True, "b"),
            ],
            "b",
            [1, 2],
        ),
        ([], None, []),
    ],
)
def test_ranking(hits: list, team: str | None, expected: list[int]) -> None:
    assert [s.id for s in rank(hits, NOW, team)] == expected


def test_ranking_keeps_the_limit_and_can_turn_bonuses_off() -> None:
    hits = [(i, float(i), NOW - i * DAY, None, True, None) for i in range(1, 9)]
    assert [s.id for s in rank(hits, NOW, limit=3)] == [8, 7, 6]
    plain = Weights(open_then=0, recency=0, same_team=0)
    assert [s.score for s in rank(hits[:2], NOW, weights=plain)] == [2.0, 1.0]


def test_complement_nb_picks_the_value_whose_words_the_draft_uses() -> None:
    counts = {
        ("hdfs", "namenod"): 30,
        ("hdfs", "block"): 20,
        ("yarn", "contain"): 40,
        ("yarn", "block"): 2,
    }
    words_of = {"hdfs": 60, "yarn": 50}
    scores = complement_nb({"namenod": 2, "block": 1}, counts, words_of, 100)
    assert max(scores, key=scores.__getitem__) == "hdfs"
    scores = complement_nb({"contain": 1}, counts, words_of, 100)
    assert max(scores, key=scores.__getitem__) == "yarn"
    # words the history never used change nothing
    assert complement_nb({"zebra": 3}, counts, words_of, 100) == {"hdfs": 0.0, "yarn": 0.0}


@pytest.mark.parametrize(
    ("scores", "value", "low", "high"),
    [
        ({"a": 10.0, "b": 0.0}, "a", 0.9, 1.0),
        ({"a": 1.0, "b": 1.0}, "b", 0.5, 0.5),
        ({"x": 3.0}, "x", 1.0, 1.0),
    ],
)
def test_confidence_is_the_winner_share(
    scores: dict[str, float], value: str, low: float, high: float
) -> None:
    got, confidence = best(scores, 4)
    assert got == value and low <= confidence <= high


def test_features_count_stems_and_cap_long_pastes() -> None:
    assert features("Block reports", "block report lost") == {"block": 2, "report": 2, "lost": 1}
    assert len(features("", " ".join(f"w{i}x" for i in range(1000)))) == 400
