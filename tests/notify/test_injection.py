"""Titles and comments are not an injection channel: the exact payloads chat and mail receive."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from markdown_it import MarkdownIt

from dutydesk.markdown import honest_label
from dutydesk.notify.chat_text import ZWSP, to_mattermost, to_slack
from dutydesk.notify.worker import Worker
from tests.conftest import Api, ManualClock
from tests.notify.receivers import Receiver, SmtpServer
from tests.notify.test_slash import SECRET, TOKEN, mattermost, slack

EVIL = (
    "<!channel> @all Reset your password: <https://evil.example|https://dutydesk.example/login>"
    " [https://dutydesk.example/reset](https://evil.example/r) <@U123> <!here> @here @channel"
    " ![p](https://evil.example/pixel.png) &amp;"
)
BROADCASTS = ("@all", "@channel", "@here", "@everyone")
SLACK_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def _slack_links_are_ours_or_bare(text: str) -> None:
    for target, label in SLACK_LINK.findall(text):
        assert not target.startswith(("!", "@", "#")), f"a Slack command or mention: {target}"
        assert not label or honest_label(label, target), (label, target)


def _markdown_links_are_honest(text: str) -> list[str]:
    """Links Mattermost (CommonMark) would form; none lies about its target, no image."""
    targets = []
    for block in MarkdownIt("commonmark").parse(text):
        children = block.children or []
        assert not any(t.type == "image" for t in children), text
        for i, tok in enumerate(children):
            if tok.type == "link_open":
                href = str(tok.attrGet("href"))
                label = ""
                for t in children[i + 1 :]:
                    if t.type == "link_close":
                        break
                    label += t.content
                assert honest_label(label, href), (label, href)
                targets.append(href)
    return targets


def _no_broadcast(text: str) -> None:
    for word in (*BROADCASTS, "@finn", "@eva"):
        assert word not in text, word


def test_slack_mattermost_and_mail_receive_user_text_inert(
    api: Api, clock: ManualClock, worker: Worker, receiver: Receiver, smtp: SmtpServer
) -> None:
    infra = api.file("rita", title=EVIL[:300])["key"]
    setk = api.file("rita", desk="set", title=EVIL[:300], kind="bug")["key"]
    body = {"body": f"@eva look: {EVIL} @finn"}
    assert api.post("finn", f"/api/v1/tickets/{setk}/comments", body).status_code == 201
    worker.run_once()
    clock.advance(minutes=3)
    worker.run_once()

    slack = [r.json["text"] for r in receiver.requests if r.path == "/infra"]
    assert any(infra in t for t in slack), slack
    for text in slack:
        assert "<!channel>" not in text and "<!here>" not in text and "<@U123>" not in text
        if infra in text:
            assert "&lt;!channel&gt;" in text and "&amp;amp;" in text
            assert f"@{ZWSP}all" in text  # still readable, pings nobody
        _slack_links_are_ours_or_bare(text)
        _no_broadcast(text)

    mattermost = [r.json for r in receiver.requests if r.path == "/set"]
    assert any(p.get("channel") == "@eva.eriksen" for p in mattermost), mattermost
    for payload in mattermost:
        text = payload["text"]
        targets = _markdown_links_are_honest(text)
        assert "https://evil.example/r" not in [t for t in targets if "dutydesk.example" in t]
        _no_broadcast(text)

    mails: list[EmailMessage] = smtp.messages
    assert mails, "the on-call and eva hear by e-mail"
    for mail in mails:
        html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "<img" not in html
        for href, label in re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', html):
            assert honest_label(re.sub(r"<[^>]+>", "", label), href.replace("&amp;", "&"))


def test_slack_escapes_and_links() -> None:
    assert to_slack("<!channel> & <@U1>") == f"&lt;!channel&gt; &amp; &lt;@{ZWSP}U1&gt;"
    assert to_slack("**[A-1](http://x/t/A-1)** done") == "*<http://x/t/A-1|A-1>* done"
    assert to_slack("[https://good.example](https://evil.example)") == "<https://evil.example>"
    assert (
        to_slack("[x](https://a.example/p|https://good)")
        == "<https://a.example/p%7Chttps://good|x>"
    )
    assert to_slack("![p](https://evil.example/p.png)") == "<https://evil.example/p.png>"
    assert to_slack("mail ana@example.com, ping @here") == f"mail ana@example.com, ping @{ZWSP}here"


def test_mattermost_keeps_our_links_and_disarms_the_rest() -> None:
    ours = "[INFRA-1](http://127.0.0.1:8080/tickets/INFRA-1) by rita"
    assert to_mattermost(ours) == ours
    assert to_mattermost("[https://good.example](https://evil.example)") == "https://evil.example"
    assert to_mattermost("[https://good\\]](https://evil.example)") == (
        "\\[https://good\\\\\\]\\](https://evil.example)"
    )
    assert (
        _markdown_links_are_honest(to_mattermost("[https://good\\]](https://evil.example)")) == []
    )
    assert to_mattermost("`[x](y) @all` @all") == f"`[x](y) @{ZWSP}all` @{ZWSP}all"
    assert (
        to_mattermost("[a]\n\n[a]: https://evil.example")
        == "\\[a\\]\n\n\\[a\\]: https://evil.example"
    )


def test_slash_command_answers_posted_in_channel_are_escaped(
    api: Api, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUTYDESK_SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("DUTYDESK_MATTERMOST_TOKEN", TOKEN)
    title = "<!channel> @here see [https://good.example](https://evil.example)"
    r = slack(api, clock, f"file {title}")
    assert r.status_code == 200 and r.json()["response_type"] == "in_channel"
    text = r.json()["text"]
    assert text.startswith("rita filed *INFRA-1*: &lt;!channel&gt; @\u200bhere")
    _slack_links_are_ours_or_bare(text)
    shown = slack(api, clock, "show INFRA-1").json()["text"]
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    r = mattermost(api, f"file {title}")
    assert r.status_code == 200, r.text
    text = r.json()["text"]
    _no_broadcast(text)
    assert _markdown_links_are_honest(text) == []
    first = text.split("\n")[0]  # the filing line; the hints follow
    assert first.endswith("see https://evil.example")  # the real target, not the label
    assert "\\[desk:\\]" not in mattermost(api, "help").json()["text"]  # code spans untouched
