"""Messages made safe for chat: user text never pings a channel nor forms a lying link.

Messages are markdown composed of our words and user text (titles, comments, reasons). At
the channel, whatever the source:

* Slack: ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;``, ``&gt;`` — Slack's documented
  escapes — so ``<!channel>``, ``<!here>``, ``<@U123>`` and ``<https://evil|label>`` arrive as
  text; only then are markdown links turned into ``<url|label>``.
* Mattermost renders markdown and notifies on ``@all``, ``@channel``, ``@here`` and
  ``@username`` even from webhooks: a zero-width space after the ``@`` keeps the word
  readable and stops the mention; brackets and backslashes outside our own links are
  escaped, so no other link or image can form.
* Everywhere: a link whose text reads as an address other than its target shows its
  target instead, and an image becomes a link (no pixel is fetched).
"""

from __future__ import annotations

import re

from dutydesk.markdown import honest_label

ZWSP = "\u200b"
# An @ that starts a word (not the one in an e-mail address) followed by a name.
_MENTION = re.compile(r"(?<![\w.+-])@(?=[\w.-])")
# [label](url) or ![alt](url): no brackets in the label, no spaces or parentheses in the url.
# A CommonMark code span: a run of backticks closed by a run of the same length.
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_LINK = re.compile(r"(!?)\[([^\[\]\n]*)\]\(([^()\s]+)\)")


def neutralise_mentions(text: str) -> str:
    return _MENTION.sub("@" + ZWSP, text)


def slack_escape(text: str) -> str:
    """Plain text for Slack's mrkdwn (a slash command's answer, a webhook's text)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return neutralise_mentions(escaped)


_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_BULLET = re.compile(r"^([ \t]*)[*-][ \t]+", re.MULTILINE)
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def to_slack(markdown: str) -> str:
    """Our markdown as Slack mrkdwn: escaped text, headings as bold lines (Slack shows ``##``
    raw), • bullets, ``<url|text>`` links, single-star bold."""
    text = _HEADING.sub(lambda m: "**" + _BOLD.sub(r"\1", m[1]) + "**", markdown)
    text = _BULLET.sub(r"\1• ", text)
    text = slack_escape(text)

    def link(m: re.Match[str]) -> str:
        label, url = m.group(2), m.group(3).replace("|", "%7C")
        if m.group(1) or not label or not honest_label(label, url):
            return f"<{url}>"
        return f"<{url}|{label}>"

    text = _LINK.sub(link, text)
    return _BOLD.sub(r"*\1*", text)


def to_plain_text(markdown: str) -> str:
    """What a plain-text e-mail shows: headings underlined, no stars or backticks, links
    written out as ``text (url)`` (an image or a lying label as its address alone)."""

    def heading(m: re.Match[str]) -> str:
        title = _BOLD.sub(r"\1", m[1])
        return f"{title}\n{'-' * len(title)}"

    def link(m: re.Match[str]) -> str:
        label, url = m.group(2), m.group(3)
        if m.group(1) or not label or label == url or not honest_label(label, url):
            return url
        return f"{label} ({url})"

    text = _HEADING.sub(heading, markdown)
    text = _BULLET.sub(r"\1- ", text)
    text = _LINK.sub(link, text)
    text = _BOLD.sub(r"\1", text)
    return re.sub(r"`([^`]+)`", r"\1", text)


def to_mattermost(markdown: str) -> str:
    """Our markdown for Mattermost: honest links kept, every other bracket inert.

    Code spans stay as they are (nothing links inside them, and escapes would show).
    """
    parts: list[str] = []
    last = 0
    for m in _CODE_SPAN.finditer(markdown):
        parts += [_links(markdown[last : m.start()]), m.group(0)]
        last = m.end()
    parts.append(_links(markdown[last:]))
    return neutralise_mentions("".join(parts))


def _links(text: str) -> str:
    parts: list[str] = []
    last = 0
    for m in _LINK.finditer(text):
        parts.append(_inert(text[last : m.start()]))
        label, url = m.group(2), m.group(3)
        if m.group(1) or not label.strip() or not honest_label(label, url):
            parts.append(_inert(url))  # Mattermost links a bare address to itself
        else:
            parts.append(f"[{_inert(label)}]({url})")
        last = m.end()
    parts.append(_inert(text[last:]))
    return "".join(parts)


def _inert(text: str) -> str:
    """Backslash-escape what could open a link or image, and the backslash itself."""
    return re.sub(r"([\\\[\]])", r"\\\1", text)
