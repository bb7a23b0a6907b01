"""Title rules and duplicate ranking (pure): no database, no app."""

from __future__ import annotations

import pytest

from dutydesk.triage.titles import significant_words, vague_title_hint


@pytest.mark.parametrize(
    "title",
    ["quick request", "test doesn't work?", "Help!!", "urgent: please fix", "bug", "it is broken"],
)
def test_vague_titles_get_a_nudge(title: str) -> None:
    hint = vague_title_hint(title)
    assert hint is not None and "what and where" in hint


@pytest.mark.parametrize(
    "title",
    [
        "Add a LUCI builder for linux web engine",
        "Debug gallery startup",
        "Crash when opening a channel with 10k members",
        "",
    ],
)
def test_specific_titles_pass(title: str) -> None:
    assert vague_title_hint(title) is None


def test_significant_words_drop_filler_and_keep_specific_ones() -> None:
    words = significant_words("Please add a LUCI builder for the linux web engine")
    assert "luci" in words and "builder" in words and "linux" in words
    assert not {"please", "add", "a", "the", "for"} & set(words)
    assert significant_words("builder builder BUILDER") == ["builder"]
