"""Markdown to safe HTML: CommonMark with raw HTML off, then sanitized by nh3 anyway.

Two things no sanitizer catches are rewritten in the token stream first: images from another
origin (a tracking pixel reports who read a ticket, and when) become plain links, and a link
whose text reads as a web address other than its target shows its real target instead.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from urllib.parse import unquote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# Text that reads as an address: a scheme, www., or host.name with a dot and a letter TLD.
_LOOKS_LIKE_URL = re.compile(
    r"[a-z][a-z0-9+.-]*:\S|www\.|[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:[/:?#]|\s|$)", re.I
)


def same_origin(url: str) -> bool:
    """A path on this server (``/static/x.png``, ``img.png``): no scheme, no host."""
    parts = urlsplit(url.strip())
    return not parts.scheme and not parts.netloc and not url.strip().startswith("//")


def image_allowed(url: str, hosts: Collection[str] = ()) -> bool:
    """This server's images, and https images of the allowed hosts (policy ``web``)."""
    if same_origin(url):
        return True
    parts = urlsplit(url.strip())
    return parts.scheme == "https" and (parts.hostname or "") in hosts


def _normalized(url: str) -> str:
    url = unquote(url.strip()).lower()
    url = re.sub(r"^(?:[a-z][a-z0-9+.-]*:)?(?://)?(?:www\.)?", "", url)
    return url.rstrip("/")


def honest_label(label: str, target: str) -> bool:
    """Whether link text may stand: it does not read as an address other than the target."""
    return not _LOOKS_LIKE_URL.search(label) or _normalized(label) == _normalized(target)


def _rewrite(children: list[Token], image_hosts: Collection[str]) -> list[Token]:
    out: list[Token] = []
    for tok in children:
        if tok.type == "image" and not image_allowed(str(tok.attrGet("src") or ""), image_hosts):
            src = str(tok.attrGet("src") or "")
            link = Token("link_open", "a", 1, attrs={"href": src})
            out += [link, Token("text", "", 0, content=tok.content or src)]
            out.append(Token("link_close", "a", -1))
        else:
            out.append(tok)
    # Then every link's text, judged against its target.
    fixed: list[Token] = []
    opened: int | None = None
    for tok in out:
        if tok.type == "link_open":
            opened = len(fixed)
        elif tok.type == "link_close" and opened is not None:
            href = str(fixed[opened].attrGet("href") or "")
            label = "".join(t.content for t in fixed[opened + 1 :] if t.type != "softbreak")
            if not honest_label(label, href):
                del fixed[opened + 1 :]
                fixed.append(Token("text", "", 0, content=href))
            opened = None
        fixed.append(tok)
    return fixed


def _honest_links(state: StateCore) -> None:
    for token in state.tokens:
        if token.type == "inline" and token.children:
            token.children = _rewrite(token.children, state.env.get("image_hosts", ()))


_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_md.core.ruler.push("honest_links", _honest_links)
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


def render(text: str, image_hosts: Collection[str] = ()) -> str:
    """Safe HTML; images only from this server and ``image_hosts`` (https)."""
    plain = _plain(text)
    if plain is not None:
        return _cleaner.clean(plain)
    return _cleaner.clean(_md.render(text, {"image_hosts": frozenset(image_hosts)}))


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
