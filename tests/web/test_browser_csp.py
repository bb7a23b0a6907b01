"""The Content-Security-Policy in real Chromium: pages work under it, and it does refuse."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_browser import CHROMIUM, Site, browser, pytestmark, site, tabs  # noqa: F401

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")


def test_every_page_loads_without_a_csp_violation(tabs: Any, site: Site) -> None:  # noqa: F811
    key = site.file(
        "Quota is almost out for the mac builders", description="![x](/static/favicon.svg)"
    )
    site.triage(key, priority="P1", assignee="ana")
    ana = tabs("ana")
    for path in (
        "/me",
        "/oncall",
        "/desks/infra/board",
        "/desks/infra/queue?q=quota",
        "/desks/infra/queue?view=open&sort=priority&customer=no",
        "/search?q=quota",
        "/desks/infra/new",
        f"/tickets/{key}",
        "/no/such/page",
    ):
        response = ana.page.goto(site.url + path)
        assert response is not None
        csp = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, path
        assert response.headers.get("x-content-type-options") == "nosniff", path
        ana.page.wait_for_load_state("networkidle")
    # The share field selects itself on focus (a script, no longer an inline handler).
    page = ana.go("/desks/infra/queue")
    page.locator("#share-url").focus()
    assert page.evaluate(
        "() => window.getSelection().toString().length > 0 || "
        "document.activeElement.selectionEnd > 0"
    )


def test_inline_script_is_refused(tabs: Any, site: Site) -> None:  # noqa: F811
    rita = tabs("rita")
    page = rita.go("/me")
    with pytest.raises(sync_api.Error):
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("() => window.injected === undefined")
    refused = [e for e in rita.errors if "Content Security Policy" in e]
    assert refused, "Chromium reported the refused inline script"
    rita.errors.clear()
