"""How ticket text becomes search terms (pure): the same words, stems and stop words for the
duplicate search, the field suggestions and the words shown to explain a match.

Stems use the Porter algorithm, the one SQLite's FTS5 ``porter`` tokenizer applies, so a
term read here names the same entry in the full-text index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STEMMER = snowballstemmer.stemmer("porter")
_ENGLISH = snowballstemmer.stemmer("english")

# Words too common in tickets to tell two apart ("down", "out", "off" stay: an outage's words).
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "don",
        "during",
        "each",
        "else",
        "etc",
        "even",
        "ever",
        "every",
        "few",
        "for",
        "from",
        "further",
        "get",
        "gets",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "isn",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "like",
        "may",
        "me",
        "might",
        "more",
        "most",
        "must",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "over",
        "own",
        "per",
        "please",
        "same",
        "shall",
        "she",
        "should",
        "since",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "very",
        "via",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "yet",
        "you",
        "your",
        "yours",
    ]
)
MIN_LENGTH = 2
MAX_WORD = 40  # longer "words" are hashes, base64 or paths run together: never a shared topic


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The index's stem of a lower-case word (cached: tickets repeat their vocabulary)."""
    return str(_STEMMER.stemWord(word))


@lru_cache(maxsize=65536)
def english_stem(word: str) -> str:
    """PostgreSQL's ``english`` configuration stems with Snowball English, not Porter."""
    return str(_ENGLISH.stemWord(word))


def words(text: str) -> list[str]:
    """Lower-case words worth indexing, in order, stop words and one-letter words dropped."""
    return [
        w
        for w in (m.lower() for m in _WORD.findall(text))
        if MIN_LENGTH <= len(w) <= MAX_WORD and w not in STOP_WORDS
    ]


@dataclass(frozen=True)
class QueryTerm:
    """One stem of a draft: a word that spells it, and how much the draft leans on it."""

    stem: str
    word: str
    weight: float


def query_terms(title: str, body: str, *, body_weight: float = 0.5) -> list[QueryTerm]:
    """The draft's stems with a weight: a title word counts ``1``, a body word ``body_weight``,
    repeats add with diminishing effect (square root), so one long paste does not dominate."""
    counts: dict[str, float] = {}
    spelled: dict[str, str] = {}
    for field_words, weight in ((words(title), 1.0), (words(body), body_weight)):
        for w in field_words:
            s = stem(w)
            counts[s] = counts.get(s, 0.0) + weight
            spelled.setdefault(s, w)
    return [QueryTerm(s, spelled[s], min(c, 9.0) ** 0.5) for s, c in counts.items()]


def stems(text: str) -> set[str]:
    return {stem(w) for w in words(text)}


def english_stems(text: str) -> set[str]:
    return {english_stem(w) for w in words(text)}


def shared_words(terms: Iterable[QueryTerm], title: str, body: str, limit: int = 6) -> list[str]:
    """The draft's words that a ticket also uses, title matches first: why it was suggested."""
    in_title, in_body = stems(title), stems(body)
    ranked = sorted(
        (t for t in terms if t.stem in in_title or t.stem in in_body),
        key=lambda t: (t.stem not in in_title, -t.weight),
    )
    return [t.word for t in ranked[:limit]]
