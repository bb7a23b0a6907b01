"""Markdown rendering: the plain-text shortcut gives exactly what the full parser gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dutydesk import markdown

# Everything the shortcut accepts, and the characters and line starts it must turn away.
PIECES = [*"ab Z09,.;:'\"?!/()%-\n", "  ", "\n\n", "1. ", "2)", "---", " -", "*", "&", "é"]
PLAIN = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
SAFE = st.lists(st.sampled_from([*"ab Z09,.;:'\"?!/()%-", "\n", "\n\n", "\n\n\n"]), max_size=40)


@settings(max_examples=3000, deadline=None)
@given(PLAIN)
def test_the_plain_text_shortcut_renders_what_commonmark_renders(text: str) -> None:
    full = markdown._cleaner.clean(markdown._md.render(text))
    assert markdown.render(text) == full


@settings(max_examples=2000, deadline=None)
@given(SAFE.map("".join))
def test_sentences_of_safe_characters_render_as_commonmark_paragraphs(text: str) -> None:
    assert markdown.render(text) == markdown._cleaner.clean(markdown._md.render(text))


def test_plain_sentences_take_the_shortcut_and_markdown_does_not() -> None:
    assert markdown._plain('Builds fail: "quota" (50%) since 09:00.\n\nSee logs') is not None
    for text in ("use *this*", "- a list", "1. first", "    code", "a  \nb", "[x](y)", "a & b"):
        assert markdown._plain(text) is None, text
    assert markdown.render("a *b*") == "<p>a <em>b</em></p>\n"
    assert markdown.render("<script>x</script>") == "<p>&lt;script&gt;x&lt;/script&gt;</p>\n"
