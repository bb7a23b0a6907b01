"""The desk's suggestions page: the accuracy the API reports, shown to the desk, and a
possible-duplicates look-up; linked from the desk's menu."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dutydesk.state import AppState
from tests.conftest import Api, ManualClock
from tests.triage.test_suggestions import HISTORY, _triaged
from tests.web.conftest import Web


@pytest.fixture
def web(state: AppState) -> Iterator[Web]:
    w = Web(state)
    yield w
    for c in w.clients:
        c.close()


def test_the_page_shows_accepted_and_overridden_suggestions(
    api: Api, web: Web, clock: ManualClock
) -> None:
    eva = web.as_("eva")
    before = eva.get("/desks/set/suggestions")
    assert before.status_code == 200
    assert before.text.count("no triage yet") == 3  # team, kind, priority: nothing counted yet
    for title, team, priority in HISTORY:
        _triaged(api, clock, title, team, priority)
    clock.advance(minutes=1)
    new = api.file(desk="set", title="Android push notifications arrive late")
    api.post("finn", f"/api/v1/tickets/{new['key']}/triage", {"team": "channels", "priority": "P2"})

    fields = {
        f["field"]: f
        for f in api.req("eva", "GET", "/api/v1/desks/set/suggestions/accuracy").json()["fields"]
    }
    page = eva.get("/desks/set/suggestions").text
    team = fields["team"]
    assert team["overridden"] >= 1
    row = f'<tr><th scope="row">team</th><td>{team["accepted"]}</td><td>{team["overridden"]}</td>'
    assert row in page
    if team["accuracy"] is not None:
        assert f"{team['accuracy'] * 100:.0f}%" in page
    assert f"learned from {len(HISTORY) + 1} triaged tickets" in page


def test_the_page_looks_up_possible_duplicates(api: Api, web: Web, clock: ManualClock) -> None:
    first = api.file(desk="set", title="Android push notifications arrive twice")
    api.file(desk="set", title="Playbook checklist items lose their order")
    clock.advance(minutes=1)
    page = web.as_("sam").get("/desks/set/suggestions?q=push+notifications+twice").text
    assert f'<a href="/tickets/{first["key"]}">{first["key"]}</a>' in page
    assert "Playbook" not in page.split('id="sim-h"')[1]
    assert "shares: push, notifications, twice" in page
    none = web.as_("sam").get("/desks/set/suggestions?q=zebra").text
    assert "No ticket of this desk shares those words." in none
    hostile = web.as_("sam").get("/desks/set/suggestions?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert hostile.status_code == 200 and "<script>alert(1)" not in hostile.text
    assert web.as_("sam").get("/desks/set/suggestions?q=" + "x" * 301).status_code == 422


def test_the_desk_menu_links_it_and_strangers_are_sent_to_log_in(web: Web) -> None:
    board = web.as_("sam").get("/desks/infra/board").text
    assert '<a href="/desks/infra/suggestions">Suggestions</a>' in board
    assert web.as_("sam").get("/desks/nope/suggestions").status_code == 404
    r = web.anonymous().get("/desks/infra/suggestions", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
