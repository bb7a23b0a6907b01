"""Mail text made plain: HTML to text, and a reply's quote and signature trimmed (pure)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "pre",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "section", "article", "header", "footer",
}  # fmt: skip
_SKIP = {"script", "style", "head", "title"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.quote_depth = 0
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "blockquote":
            self.quote_depth += 1
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n* ")
        elif tag in _BLOCKS:
            self.out.append("\n")
        elif tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self.out.append("\n")
        elif tag in _BLOCKS:
            self.out.append("\n")
        elif tag == "a":
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        text = re.sub(r"\s+", " ", data)
        if self.quote_depth:
            # Quoted text keeps its mark, so trimming a reply treats it as a quote.
            text = text.replace("\n", "\n> ")
            if not self.out or self.out[-1].endswith("\n"):
                text = "> " + text.lstrip()
        if self.href and self.href.startswith(("http://", "https://")) and self.href != data:
            text = f"{text} ({self.href})"
        self.out.append(text)


def html_to_text(html: str) -> str:
    """Readable text from an HTML mail body: blocks become lines, scripts and styles go."""
    parser = _TextCollector()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.out).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# Where the quoted original starts, in the forms the common mail programs write it.
_WROTE = re.compile(r"((\bwrote|a écrit|escribió)\s?|\bschrieb\b.{0,200}):\s*$", re.IGNORECASE)
_SEPARATOR = re.compile(r"^(-{2,}\s*Original Message\s*-{2,}|_{20,})$", re.IGNORECASE)
_HEADER_BLOCK = re.compile(r"^(Sent|Date|To|Subject|Cc):\s", re.IGNORECASE)
_SENT_FROM = re.compile(r"^Sent from my \w+", re.IGNORECASE)


def _quote_starts(lines: list[str], i: int) -> bool:
    line = lines[i].strip()
    if _SEPARATOR.match(line):
        return True
    if _WROTE.search(line) and len(line) < 300:
        return True  # "On Mon, 1 Dec 2026, Ana <ana@example.com> wrote:"
    following = [x.strip() for x in lines[i + 1 : i + 4]]
    if line.startswith("On ") and following and _WROTE.search(following[0]):
        return True  # the attribution wrapped onto a second line
    # Outlook's header block above the original
    return line.startswith("From: ") and any(_HEADER_BLOCK.match(x) for x in following)


def trim_reply(text: str) -> str:
    """The new words of a reply: the quoted original (from its attribution line on), quoted
    lines and the signature (after a ``-- `` line, RFC 3676) go."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        bare = line.rstrip()
        if bare == "--" or _SENT_FROM.match(bare) or _quote_starts(lines, i):
            break
        if bare.lstrip().startswith(">"):
            continue
        kept.append(bare)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
