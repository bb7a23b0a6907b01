"""The main flows in real Chromium (Debian's), against a real uvicorn server and SQLite database
(PostgreSQL when DUTYDESK_TEST_DATABASE_URL is set).

Run with ``pytest -m browser``; skipped with the reason when Chromium, Playwright or the
front-end files (``make vendor``) are missing. Screenshots of each main page go to
``test-artifacts/`` so people can look at them.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from dutydesk.app import create_app
from dutydesk.auth.service import user_by_name
from dutydesk.db import Database
from dutydesk.migrate import upgrade
from dutydesk.policy import Policy, load_policy
from dutydesk.state import AppState, sync_policy
from dutydesk.tickets import filing, recorder, service
from dutydesk.tickets.models import Ticket
from dutydesk.tickets.schemas import FileTicket, TicketPatch, TriageIn
from dutydesk.web.vendor import missing as vendor_missing
from tests.conftest import PG_URL, URGENT
from tests.processes import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
EXAMPLE = Path(__file__).parents[2] / "examples" / "dutydesk.toml"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs /usr/bin/chromium (make test installs it)"
    ),
    pytest.mark.skipif(
        bool(vendor_missing()), reason="needs the front-end files: run `make vendor`"
    ),
]

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
expect = sync_api.expect


class Site:
    """A running server and helpers to set up tickets behind the browser's back."""

    def __init__(self, state: AppState, url: str) -> None:
        self.state, self.url = state, url

    def ctx(self, who: str) -> Any:
        with self.state.db.read() as s:
            user = user_by_name(s, who)
        return self.state.write(user)

    def file(self, title: str, desk: str = "infra", who: str = "rita", **kw: Any) -> str:
        with self.ctx(who) as ctx:
            if desk == "infra":  # an urgent request; without a criterion it waits in the backlog
                kw.setdefault("criteria", [URGENT])
            return filing.file_ticket(ctx, desk, FileTicket(title=title, **kw)).key

    def triage(self, key: str, who: str = "ana", **kw: Any) -> None:
        with self.ctx(who) as ctx:
            service.triage(ctx, key, TriageIn(**kw), None)

    def ticket(self, key: str) -> Any:
        with self.state.db.read() as s:
            return recorder.get_ticket(s, key)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    schema = f"dutydesk_browser_{os.getpid()}"
    if PG_URL:  # the same flows on PostgreSQL, in a schema of their own
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'dutydesk.db'}"
    upgrade(url)
    policy: Policy = load_policy(EXAMPLE)
    db = Database(url)
    state = AppState(db=db, policy=policy)
    sync_policy(db, policy, state.now())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start within 15 s")
        time.sleep(0.05)
    yield Site(state, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    if PG_URL:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Tab:
    """One logged-in person in their own browser context."""

    def __init__(
        self, browser: Any, site: Site, who: str, width: int = 1400, scheme: str = "light"
    ) -> None:
        self.site = site
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, color_scheme=scheme
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        # Every page must work under its Content-Security-Policy: Chromium reports each
        # refused script, style, image or connection on the console.
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if "Content Security Policy" in m.text else None,
        )
        self.page.goto(site.url + "/login")
        self.page.get_by_label("Username").fill(who)
        self.page.get_by_label("Password").fill("dutydesk")
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url("**/me")

    def go(self, path: str) -> Any:
        self.page.goto(self.site.url + path)
        return self.page

    def shot(self, name: str, full_page: bool = False) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)

    def card(self, key: str) -> Any:
        return self.page.locator(f"#card-{key}")

    def column(self, name: str) -> Any:
        return self.page.locator(f'ol.cards[data-column="{name}"]')

    def drag(self, source: Any, target: Any, *, above: bool = False) -> None:
        """Drag with real mouse events, as a person would (SortableJS fallback mode)."""
        src = source.locator(".card-meta").bounding_box()
        dst = target.bounding_box()
        assert src and dst
        mouse = self.page.mouse
        mouse.move(src["x"] + src["width"] / 2, src["y"] + src["height"] / 2)
        mouse.down()
        mouse.move(src["x"] + src["width"] / 2 + 8, src["y"] + src["height"] / 2 + 8, steps=4)
        y = dst["y"] + (6 if above else min(dst["height"] / 2, 40))
        mouse.move(dst["x"] + dst["width"] / 2, y, steps=20)
        mouse.move(dst["x"] + dst["width"] / 2, y + 2, steps=4)
        mouse.up()

    def close(self) -> None:
        assert not self.errors, f"JavaScript errors or CSP violations: {self.errors}"
        self.context.close()


@pytest.fixture
def tabs(browser: Any, site: Site) -> Iterator[Any]:
    opened: list[Tab] = []

    def open_(who: str, width: int = 1400, scheme: str = "light") -> Tab:
        tab = Tab(browser, site, who, width, scheme)
        opened.append(tab)
        return tab

    yield open_
    for tab in opened:
        tab.close()


def test_a_reporter_files_a_ticket(tabs: Any, site: Site) -> None:
    rita = tabs("rita")
    page = rita.go("/desks/infra/new")
    title = page.get_by_label("Title")
    title.fill("quick request")
    expect(page.locator("#title-hint .nudge")).to_contain_text("what and where")
    expect(page.locator(".criteria-note .when-none")).to_be_visible()
    rita.shot("new-ticket-vague-title")
    title.fill("Add a LUCI builder for linux web engine")
    expect(page.locator("#title-hint .nudge")).to_have_count(0)
    page.get_by_label("Description").fill(
        "**Why:** the web team ships next week\n\n**Where:** linux builders"
    )
    page.get_by_label("Build break or regression").check()
    expect(page.locator(".criteria-note .when-some")).to_be_visible()
    expect(page.locator(".criteria-note .when-none")).to_be_hidden()
    page.get_by_role("button", name="File ticket").click()
    page.wait_for_url(re.compile(r"/tickets/INFRA-\d+\?filed=1"))
    expect(page.locator(".flash-ok")).to_contain_text("Your request is filed")
    expect(page.locator(".markdown strong").first).to_have_text("Why:")
    rita.shot("ticket-just-filed")
    key = page.url.split("/tickets/")[1].split("?")[0]
    assert site.ticket(key).criteria == ["Build break or regression"]


def test_a_double_click_on_file_ticket_files_one_ticket(tabs: Any, site: Site) -> None:
    """The page gives the form a submission token when it is sent; the second click sends
    the same token and lands on the same ticket."""
    rita = tabs("rita")
    page = rita.go("/desks/infra/new")
    title = "Rotate the signing key of the release bucket"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("**Why:** it expires on Friday")
    page.get_by_label("Build break or regression").check()
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.post_data or "") if r.method == "POST" else None,
    )
    page.get_by_role("button", name="File ticket").dblclick()
    page.wait_for_url(re.compile(r"/tickets/INFRA-\d+"))
    landed = page.url
    assert sent and all("submission=" in body for body in sent), sent
    # The same form sent once more (a retry after a lost answer) goes to the same ticket.
    again = rita.context.request.post(
        site.url + "/desks/infra/new",
        data=sent[0],
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        max_redirects=0,
    )
    assert again.status == 303 and again.headers["location"] == landed.removeprefix(site.url)
    with site.state.db.read() as s:
        filed = s.scalars(select(Ticket.number).where(Ticket.title == title)).all()
    assert len(filed) == 1, filed


def test_on_call_triages_then_drags_to_in_progress_and_comments(tabs: Any, site: Site) -> None:
    key = site.file("Grant the release manager access to the signing bucket")
    ana = tabs("ana")
    page = ana.go(f"/tickets/{key}")
    triage = page.locator("section.triage")
    triage.get_by_label("P1").check()
    triage.get_by_label("Team").select_option("infra")
    triage.get_by_label("Assignee").select_option("bo")
    ana.shot("ticket-triage-panel")
    triage.get_by_role("button", name="Mark triaged").click()
    expect(page.locator(".ticket-sub .badge-status")).to_have_text("Triaged")
    t = site.ticket(key)
    assert (t.priority, t.team, t.status) == ("P1", "infra", "Triaged")

    page = ana.go("/desks/infra/board")
    expect(ana.column("Triaged").locator(f"#card-{key}")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/move")) as answer:
        ana.drag(ana.card(key), ana.column("In progress"))
    assert answer.value.ok, answer.value.text()
    page.wait_for_function("() => !window.dutydeskBusy")
    expect(ana.column("In progress").locator(f"#card-{key}")).to_be_visible()
    expect(page.locator("#board-message")).to_be_hidden()
    assert site.ticket(key).status == "In progress"
    ana.shot("board-infra")

    page = ana.go(f"/tickets/{key}")
    page.get_by_label("Add a comment").fill("Working on it: **access granted** by end of day.")
    page.get_by_role("button", name="Comment").click()
    expect(page.locator(".timeline .tl-comment").last).to_contain_text("access granted")
    expect(page.locator(".timeline")).to_contain_text("moved it from Triaged to In progress")
    ana.shot("ticket-timeline", full_page=True)


def test_a_duplicate_is_closed_with_its_reference(tabs: Any, site: Site) -> None:
    original = site.file("Presubmit queue is backed up for android")
    dup = site.file("Android presubmit queue backed up again")
    ana = tabs("ana")
    page = ana.go(f"/tickets/{dup}")
    page.get_by_role("button", name=f"Close as duplicate of {original}").click()
    expect(page.locator(".dup-note")).to_contain_text(f"Closed as a duplicate of {original}")
    expect(page.locator(".timeline")).to_contain_text(f"Closed as a duplicate of {original}.")
    t = site.ticket(dup)
    assert (t.status, t.resolution) == ("Done", "duplicate")
    page.locator(".dup-note a").click()
    expect(page.locator(".timeline")).to_contain_text(f"{dup} was closed as a duplicate")


def test_a_refused_move_snaps_back_with_the_rule(tabs: Any, site: Site) -> None:
    key = site.file("Rotate the service account key for the linux uploader")
    ana = tabs("ana")
    page = ana.go("/desks/infra/board")
    ana.drag(ana.card(key), ana.column("In progress"))
    message = page.locator("#board-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("requires an assignee")
    expect(ana.column("New").locator(f"#card-{key}")).to_be_visible()
    expect(ana.column("In progress").locator(f"#card-{key}")).to_have_count(0)
    assert site.ticket(key).status == "New"
    ana.shot("board-refused-move")


def test_keyboard_move_and_live_update(tabs: Any, site: Site) -> None:
    key = site.file("Increase the disk quota for the mac release builders")
    with site.ctx("ana") as ctx:  # a priority set: the move to Triaged is then its triage
        service.patch_ticket(ctx, key, TicketPatch(priority="P1"), None)
    ana = tabs("ana")
    page = ana.go("/desks/infra/board")
    page.locator(f"#mv-{key}").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Move to")).to_be_focused()
    dialog.get_by_label("Move to").select_option("Triaged")
    page.keyboard.press("Enter")
    expect(ana.column("Triaged").locator(f"#card-{key}")).to_be_visible()
    expect(page.locator(f"#mv-{key}")).to_be_focused()
    # Closing from the keyboard asks for the resolution first.
    page.keyboard.press("Enter")
    dialog.get_by_label("Move to").select_option("Done")
    dialog.get_by_label("Resolution").select_option("wont-fix")
    expect(dialog.get_by_label("Duplicate of (ticket key)")).to_be_hidden()
    ana.shot("board-move-dialog")
    dialog.get_by_role("button", name="Move").click()
    expect(ana.column("Done").locator(f"#card-{key}")).to_be_visible()
    assert site.ticket(key).resolution == "wont-fix"
    # Someone else files a ticket: the open board shows it within a few seconds.
    other = site.file("Build dashboard is slow to load for web results", who="sam")
    expect(ana.column("New").locator(f"#card-{other}")).to_be_visible(timeout=8000)


def test_a_lead_reorders_to_do_and_the_order_survives_a_reload(tabs: Any, site: Site) -> None:
    keys = [
        site.file(f"Crash when {what}", desk="set", who="sam", kind="bug")
        for what in ("opening a channel", "leaving a team", "searching for emoji")
    ]
    eva = tabs("eva")
    page = eva.go("/desks/set/board")
    todo = eva.column("To do")

    def order() -> list[str]:
        return [
            k
            for k in todo.locator(".card").evaluate_all("els => els.map(e => e.dataset.key)")
            if k in keys
        ]

    assert order() == keys
    with page.expect_response(lambda r: "/rank" in r.url) as answer:
        eva.drag(eva.card(keys[2]), eva.card(keys[0]), above=True)
    assert answer.value.ok, answer.value.text()
    expect(page.locator("#board-message")).to_be_hidden()
    page.wait_for_function("() => !window.dutydeskBusy")
    page.reload()
    assert order() == [keys[2], keys[0], keys[1]]
    eva.shot("board-set")


def test_screenshots_of_the_main_pages(tabs: Any, site: Site) -> None:
    key = site.file("Add the docs team to the infra on-call pager list", description="Why: docs")
    site.triage(key, priority="P0", assignee="chen")
    site.file("Crash when uploading a file over 100 MB", desk="set", who="sam", kind="bug")
    ana = tabs("ana")
    for path, name in [
        ("/desks/infra/queue", "queue-infra"),
        ("/oncall", "oncall"),
        ("/me", "me-ana"),
        (f"/tickets/{key}", "ticket"),
    ]:
        ana.go(path)
        ana.shot(name)
    phone = tabs("rita", width=390)
    for path, name in [
        ("/desks/infra/board", "phone-board"),
        ("/desks/infra/new", "phone-new-ticket"),
        (f"/tickets/{key}", "phone-ticket"),
        ("/me", "phone-me-rita"),
    ]:
        phone.go(path)
        phone.shot(name)
    anonymous = ana.context.browser.new_page()
    anonymous.goto(site.url + "/login")
    anonymous.screenshot(path=str(ARTIFACTS / "login.png"))
    anonymous.goto(site.url + "/tickets/INFRA-99999")
    anonymous.close()
    if os.environ.get("CI"):
        assert list(ARTIFACTS.glob("*.png"))
