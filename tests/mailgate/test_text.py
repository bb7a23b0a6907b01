"""Reply trimming and HTML to text: pure rules, tested in tables."""

from __future__ import annotations

import pytest

from dutydesk.mailgate.text import html_to_text, trim_reply

REPLIES = [
    (
        "gmail",
        "Works now.\n\nOn Mon, Nov 23, 2026 at 9:45 AM Ana <ana@example.com> wrote:\n> Rebooted.\n",
        "Works now.",
    ),
    (
        "gmail-wrapped-attribution",
        "Works now.\n\nOn Mon, Nov 23, 2026 at 9:45 AM dutydesk via infra <\ninfra@dutydesk.example.com> wrote:\n> Rebooted.\n",
        "Works now.",
    ),
    (
        "apple-mail",
        "Thanks!\n\n> On 23 Nov 2026, at 09:45, Ana <ana@example.com> wrote:\n> \n> Rebooted.\n",
        "Thanks!",
    ),
    (
        "outlook",
        "Confirmed.\n\n________________________________\nFrom: dutydesk <dutydesk@example.com>\nSent: Monday, November 23, 2026 9:45 AM\nTo: Rita\nSubject: INFRA-1\n\nRebooted.",
        "Confirmed.",
    ),
    (
        "outlook-header-block",
        "Confirmed.\n\nFrom: dutydesk <dutydesk@example.com>\nSent: Monday, November 23, 2026 9:45 AM\n\nRebooted.",
        "Confirmed.",
    ),
    (
        "original-message",
        "Yes.\n-----Original Message-----\nFrom: x\nRebooted.",
        "Yes.",
    ),
    ("german", "Danke.\n\nAm 23.11.2026 um 09:45 schrieb Ana <ana@example.com>:\n> Neu.", "Danke."),
    ("signature", "Bot 13 too.\n\n-- \nRita Reporter\nBuild team", "Bot 13 too."),
    ("mobile", "ok\n\nSent from my iPhone", "ok"),
    ("interleaved", "> Is it up?\nYes.\n> Which bot?\nBot 12.", "Yes.\nBot 12."),
    ("nothing-new", "> only\n> the quote", ""),
    (
        "no-quote",
        "Line one.\nOn second thought, line two.",
        "Line one.\nOn second thought, line two.",
    ),
]


@pytest.mark.parametrize(("name", "text", "new"), REPLIES, ids=[r[0] for r in REPLIES])
def test_a_reply_keeps_only_its_new_words(name: str, text: str, new: str) -> None:
    assert trim_reply(text) == new


HTML = [
    ("paragraphs", "<p>One</p><p>Two</p>", "One\n\nTwo"),
    ("line-break", "One<br>Two", "One\nTwo"),
    ("list", "<ul><li>a</li><li>b</li></ul>", "* a\n\n* b"),
    ("entities", "<p>5 &lt; 6 &amp; caf&eacute;</p>", "5 < 6 & café"),
    ("script-style", "<style>p{x}</style><script>x()</script><p>kept</p>", "kept"),
    ("link", '<a href="https://ci.example/1">build 1</a>', "build 1 (https://ci.example/1)"),
    ("quote", "<p>new</p><blockquote>old</blockquote>", "new\n\n> old"),
]


@pytest.mark.parametrize(("name", "html", "text"), HTML, ids=[h[0] for h in HTML])
def test_html_becomes_readable_text(name: str, html: str, text: str) -> None:
    assert html_to_text(html) == text
