"""What a ticket's title says, read without a database: the words worth searching on for
duplicates, and whether it is too vague to triage ("quick request", "test doesn't work?").

Generic and filler words are listed here once; both rules read them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_GENERIC = {
    "quick",
    "request",
    "requests",
    "question",
    "help",
    "issue",
    "issues",
    "problem",
    "problems",
    "bug",
    "test",
    "tests",
    "doesnt",
    "doesn",
    "dont",
    "not",
    "work",
    "works",
    "working",
    "broken",
    "fix",
    "please",
    "urgent",
    "asap",
    "stuff",
    "thing",
    "things",
    "something",
    "todo",
    "small",
    "simple",
    "hi",
    "hello",
    "hey",
    "error",
    "errors",
    "failing",
    "fails",
    "fail",
    "failed",
    "update",
    "change",
    "ticket",
    "task",
    "misc",
    "various",
    "check",
    "need",
    "needed",
    "wrong",
    "weird",
    "strange",
    "again",
    "still",
    "some",
    "it",
    "this",
    "that",
    "my",
    "our",
}
_STOP = {
    "a",
    "an",
    "the",
    "and",
    "or",
    "for",
    "to",
    "of",
    "in",
    "on",
    "at",
    "by",
    "with",
    "is",
    "are",
    "be",
    "was",
    "from",
    "as",
    "we",
    "i",
    "you",
    "can",
    "could",
    "would",
    "should",
    "do",
    "does",
    "did",
    "s",
    "t",
    "up",
    "into",
    "out",
    "about",
    "new",
    "add",
    "get",
    "set",
    "make",
    "run",
    "use",
    "all",
    "any",
    "when",
    "how",
    "why",
    "what",
    "where",
    "which",
    "who",
}
_WORDS = re.compile(r"[A-Za-z0-9_]+(?:['’][A-Za-z]+)?")


def _words(text: str) -> list[str]:
    return [w.lower().replace("'", "").replace("’", "") for w in _WORDS.findall(text)]


def vague_title_hint(title: str) -> str | None:
    """A nudge for titles that say nothing specific ("quick request", "test doesn't work?").

    A title is vague when, once filler and generic words are dropped, fewer than two words
    remain that name *what* and *where*. The nudge never blocks filing.
    """
    words = _words(title)
    if not words:
        return None
    specific = [w for w in words if w not in _GENERIC and w not in _STOP and len(w) > 1]
    if len(specific) >= 2:
        return None
    return (
        "This title could describe many tickets. Say what and where, e.g. "
        "“Add a LUCI builder for linux web engine” or “Debug gallery startup on devicelab "
        "bot X” rather than “quick request” or “test doesn't work?”."
    )


def significant_words(title: str, limit: int = 6) -> list[str]:
    """The words of a title worth searching on for duplicates, longest (most specific) first."""
    seen: list[str] = []
    for w in _words(title):
        if len(w) < 3 or w in _STOP or w in _GENERIC or w in seen:
            continue
        seen.append(w)
    return sorted(seen, key=len, reverse=True)[:limit]


def sections_hint(sections: Sequence[str]) -> str | None:
    """The one wording of the hint about description prompts left empty, wherever filing
    hints are shown (the CLI, chat)."""
    if not sections:
        return None
    return f"the description has nothing under {', '.join(sections)}"
