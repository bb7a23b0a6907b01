"""Markdown to safe HTML: CommonMark with raw HTML off, then sanitized by nh3 anyway."""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {
    "a",
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "img",
}
_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}


# Built once: nh3.clean() would convert the allow-lists on every call.
_cleaner = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRS,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
)


# Text CommonMark would turn into nothing but paragraphs: ASCII letters, digits, spaces and
# punctuation that starts no construct (no emphasis, code, links, HTML, entities, escapes).
_PLAIN_CHARS = re.compile(r"[A-Za-z0-9 ,.;:'\"?!/()%\n-]*")
# ... and no line that could open a block: indented, a list item, a rule or setext
# underline (-), an ordered list (1. or 1)), or ending in spaces (a hard break).
_BLOCK_LINE = re.compile(r"^(?: |-|\d+[.)])|[ ]$", re.M)


def render(text: str) -> str:
    return _cleaner.clean(_plain(text) or _md.render(text))


def _plain(text: str) -> str | None:
    """Most descriptions are a sentence or two of plain text: rendered here as the
    paragraphs CommonMark would make (same output, checked by a property test), about
    seven times faster than the full parser. None when the text may hold any markdown."""
    if not _PLAIN_CHARS.fullmatch(text) or _BLOCK_LINE.search(text):
        return None
    paragraphs = [p for p in (p.strip("\n") for p in text.split("\n\n")) if p]
    if not paragraphs:
        return None
    return "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
