"""Look and feel in real Chromium: light and dark themes, phone width, the keyboard shortcuts,
the header search, and a board that offers only the moves its ordering rule allows."""

from __future__ import annotations

from typing import Any

import pytest

from dutydesk.tickets import service
from dutydesk.tickets.schemas import TicketPatch
from tests.web.test_browser import Site, browser, pytestmark, site, tabs  # noqa: F401

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
expect = sync_api.expect

PHONE = 390


def _background(page: Any, selector: str) -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1400, PHONE])
def test_pages_in_both_themes_at_desktop_and_phone_width(
    tabs: Any,  # noqa: F811
    site: Site,  # noqa: F811
    scheme: str,
    width: int,
) -> None:
    key = site.file("Quota for the emulator pool in the lab", category="quota")
    site.triage(key, priority="P1", assignee="bo")
    ana = tabs("ana", width, scheme)
    dark = scheme == "dark"
    for path, name in [
        ("/desks/infra/board", "board"),
        ("/desks/infra/queue", "queue"),
        ("/me", "me"),
        (f"/tickets/{key}", "ticket"),
        ("/search?q=quota", "search"),
    ]:
        page = ana.go(path)
        body = _background(page, "html")
        # The page background follows the system setting: near-black in dark, white in light.
        assert (body == "rgb(13, 17, 23)") if dark else (body == "rgb(255, 255, 255)"), body
        # Nothing wider than the screen: a phone reads without scrolling sideways (the board
        # scrolls inside itself, one column a screen).
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width + 1, (path, overflow)
        ana.shot(f"look-{name}-{scheme}-{width}", full_page=True)
    page = ana.go("/desks/infra/queue")
    expect(page.locator(f"text={key}")).to_be_visible()
    expect(page.get_by_role("columnheader", name="SLO")).to_be_visible()
    if width == PHONE:
        expect(page.get_by_role("columnheader", name="Assignee")).to_be_hidden()
        expect(page.get_by_role("searchbox", name="Search tickets")).to_be_visible()


def test_slash_focuses_search_and_question_mark_lists_the_shortcuts(
    tabs: Any,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    key = site.file("Emulator pool almost out of quota for the flaky-test lab")
    ana = tabs("ana")
    page = ana.go("/desks/infra/board")
    page.keyboard.press("/")
    box = page.get_by_role("searchbox", name="Search tickets")
    expect(box).to_be_focused()
    box.type("flaky-test lab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=flaky-test+lab")
    expect(page.locator(f'a[href="/tickets/{key}"]')).to_be_visible()
    page.keyboard.press("?")  # typing in the search box: no overlay
    expect(page.locator("#help-dialog")).to_be_hidden()
    page.locator("main").click()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Search tickets")
    expect(dialog).to_contain_text("Order the card up / down")
    ana.shot("shortcuts-help")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # The "Shortcuts" button in the header opens it with Space, as a real button does.
    page.get_by_role("button", name="Shortcuts").focus()
    page.keyboard.press(" ")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    # g then q: this desk's queue.
    page.goto(site.url + "/desks/infra/board")
    page.locator("main").click()
    page.keyboard.press("g")
    page.keyboard.press("q")
    page.wait_for_url("**/desks/infra/queue")


def test_board_keyboard_walks_cards_and_orders_only_inside_a_group(
    tabs: Any,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    hot = site.file("Crash when pinning a message", desk="set", who="sam", kind="bug")
    rel = [
        site.file(f"Crash when {what}", desk="set", who="sam", kind="bug")
        for what in ("muting a thread", "archiving a channel")
    ]
    with site.ctx("eva") as ctx:
        service.patch_ticket(ctx, hot, TicketPatch(fix_target="hotfix"), None)
        for key in rel:
            service.patch_ticket(ctx, key, TicketPatch(fix_target="release"), None)
    eva = tabs("eva")
    page = eva.go("/desks/set/board")
    # The first release bug offers no ↑: a hotfix bug is above it, and hotfix stays above.
    expect(page.locator(f"#up-{rel[0]}")).to_be_hidden()
    expect(page.locator(f"#down-{hot}")).to_be_hidden()
    expect(page.locator(f"#up-{rel[1]}")).to_be_visible()
    page.locator(f"#card-{rel[1]} a.key").focus()
    page.keyboard.press("k")
    expect(page.locator(f"#card-{rel[0]} a.key")).to_be_focused()
    page.keyboard.press("j")
    expect(page.locator(f"#card-{rel[1]} a.key")).to_be_focused()
    with page.expect_response(lambda r: "/rank" in r.url) as answer:
        page.keyboard.press("Shift+ArrowUp")
    assert answer.value.ok
    todo = eva.column("To do")
    expect(todo.locator(".card").nth(0)).to_have_attribute("data-key", hot)

    def order() -> list[str]:
        keys = todo.locator(".card").evaluate_all("els => els.map(e => e.dataset.key)")
        return [k for k in keys if k in (hot, *rel)]

    page.wait_for_function("() => !window.dutydeskBusy")
    assert order() == [hot, rel[1], rel[0]]
    # After the live patch the arrows follow the new neighbours.
    expect(page.locator(f"#up-{rel[1]}")).to_be_hidden()
    expect(page.locator(f"#up-{rel[0]}")).to_be_visible()
    # The Move… button is a real button: Space opens the dialog.
    page.locator(f"#mv-{hot}").focus()
    page.keyboard.press(" ")
    expect(page.get_by_role("dialog", name=f"Move {hot}")).to_be_visible()
    page.keyboard.press("Escape")
    # A drag across the group boundary is not offered: the card stays where it was.
    eva.drag(eva.card(rel[0]), eva.card(hot), above=True)
    page.wait_for_function("() => !window.dutydeskBusy")
    assert order()[0] == hot
    eva.shot("board-groups")


def test_a_refusal_reads_in_the_teams_words(tabs: Any, site: Site) -> None:  # noqa: F811
    hot = site.file("Crash when sharing a screen", desk="set", who="sam", kind="bug")
    rel = site.file("Crash when leaving a call", desk="set", who="sam", kind="bug")
    with site.ctx("eva") as ctx:
        service.patch_ticket(ctx, hot, TicketPatch(fix_target="hotfix"), None)
        service.patch_ticket(ctx, rel, TicketPatch(fix_target="release"), None)
    eva = tabs("eva")
    page = eva.go("/desks/set/board")
    # A stale page still offering the arrow (as if the rule changed under it) gets the reason.
    page.evaluate(
        "([k, h]) => { const b = document.getElementById('up-' + k); b.hidden = false; b.value = h; }",
        [rel, hot],
    )
    page.locator(f"#up-{rel}").click()
    message = page.locator("#board-message")
    expect(message).to_have_text(
        f"{rel} cannot move next to {hot}: hotfix bugs stay above release bugs; "
        "change the fix target to move it."
    )
    assert "None" not in message.inner_text() and "class '" not in message.inner_text()


def test_live_board_patches_changed_cards_only(tabs: Any, site: Site) -> None:  # noqa: F811
    first = site.file("Add a LUCI builder for the fuchsia release bots")
    ana = tabs("ana")
    page = ana.go("/desks/infra/board")
    sizes: list[int] = []
    page.on(
        "response",
        lambda r: (
            sizes.append(len(r.body())) if "/board/changes" in r.url and r.status == 200 else None
        ),
    )
    marker = page.evaluate(
        "() => { document.getElementById('card-" + first + "').dataset.mark = 'kept'; return 1; }"
    )
    assert marker == 1
    other = site.file("Build dashboard shows stale results for mac", who="sam")
    expect(ana.column("New").locator(f"#card-{other}")).to_be_visible(timeout=8000)
    # The untouched card is the same element: only the new one was sent and inserted.
    expect(page.locator(f"#card-{first}")).to_have_attribute("data-mark", "kept")
    assert sizes and max(sizes) < 4000, sizes
    site.triage(other, priority="P0")
    expect(ana.column("Triaged").locator(f"#card-{other}")).to_be_visible(timeout=8000)
    triaged = page.locator('section[aria-labelledby="col-triaged-h"] .column-head .count')
    expect(triaged).not_to_have_text("0")
    count = int(triaged.inner_text())
    assert count == ana.column("Triaged").locator(".card").count()
