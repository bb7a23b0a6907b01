"""Rendered markdown loads nothing from elsewhere and shows where its links really go."""

from __future__ import annotations

import re

import pytest

from dutydesk import markdown

IMG = re.compile(r"<img\b[^>]*>")


@pytest.mark.parametrize(
    ("text", "href", "label"),
    [
        ("![x](https://evil.example/pixel.png)", "https://evil.example/pixel.png", "x"),
        (
            "![](http://evil.example/p.gif)",
            "http://evil.example/p.gif",
            "http://evil.example/p.gif",
        ),
        ("![x](//evil.example/p.png)", "//evil.example/p.png", "x"),
        # An alt text that reads as another address shows the real one.
        ("![https://ok.example](https://evil.example/p)", "https://evil.example/p", None),
    ],
)
def test_images_from_elsewhere_become_plain_links(text: str, href: str, label: str | None) -> None:
    out = markdown.render(text)
    assert not IMG.search(out), out
    assert f'<a href="{href}"' in out
    assert f">{label or href}</a>" in out


def test_images_on_this_server_still_show() -> None:
    assert '<img src="/static/favicon.svg" alt="logo">' in markdown.render(
        "![logo](/static/favicon.svg)"
    )
    assert markdown.same_origin("/a.png") and markdown.same_origin("a.png")
    for url in ("https://x/a.png", "//x/a.png", "data:image/png;base64,AA", "HTTP://x"):
        assert not markdown.same_origin(url), url


@pytest.mark.parametrize(
    ("label", "target", "honest"),
    [
        ("https://good.example", "https://evil.example", False),
        ("good.example/login", "https://evil.example/login", False),
        ("www.good.example", "https://evil.example", False),
        ("https://dutydesk.example/reset", "https://evil.example/?https://dutydesk.example", False),
        ("click here", "https://evil.example", True),
        ("https://a.example/x/", "https://a.example/x", True),
        ("a.example", "https://www.a.example", True),
        ("release 11.2.1", "https://a.example", True),
        ("ana@example.com", "mailto:ana@example.com", True),
    ],
)
def test_link_text_may_not_name_another_address(label: str, target: str, honest: bool) -> None:
    assert markdown.honest_label(label, target) is honest
    out = markdown.render(f"[{label}]({target})")
    shown = re.search(r">([^<]*)</a>", out)
    assert shown is not None
    assert shown.group(1) == (label if honest else target.replace("&", "&amp;"))


def test_emphasis_inside_a_lying_link_does_not_hide_it() -> None:
    out = markdown.render("[**https://good.example**](https://evil.example)")
    assert out == (
        '<p><a href="https://evil.example" rel="noopener noreferrer nofollow">'
        "https://evil.example</a></p>\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "<a href='javascript:alert(1)'>x</a>",
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<iframe src='https://evil.example'></iframe>",
        '[x](https://ok.example "t" onmouseover="alert(1)")',
    ],
)
def test_raw_html_and_script_urls_are_inert(text: str) -> None:
    out = markdown.render(text)
    assert not re.search(r"<(script|iframe|img)\b", out), out
    assert not re.search(r"href=\"(?i:javascript|data):", out), out
    assert not re.search(r"<[^>]*\son\w+=", out), out  # no handler attribute inside a tag


def test_an_allow_list_lets_https_images_of_named_hosts_show() -> None:
    hosts = ["images.example.com"]
    shown = markdown.render("![chart](https://images.example.com/c.png)", hosts)
    assert '<img src="https://images.example.com/c.png" alt="chart">' in shown
    for url in (
        "http://images.example.com/c.png",  # not https
        "https://images.example.com.evil.example/c.png",
        "https://evil.example/?https://images.example.com/c.png",
    ):
        assert not IMG.search(markdown.render(f"![chart]({url})", hosts)), url
    assert not IMG.search(markdown.render("![chart](https://images.example.com/c.png)"))


def test_the_policy_names_hosts_not_urls() -> None:
    from pydantic import ValidationError

    from dutydesk.policy.models import WebPolicy

    assert WebPolicy(image_hosts=["images.example.com"]).image_hosts == ["images.example.com"]
    for bad in ("https://images.example.com", "*.example.com", "localhost", "a b.com"):
        with pytest.raises(ValidationError, match="host name"):
            WebPolicy(image_hosts=[bad])
