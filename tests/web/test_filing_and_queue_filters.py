"""The filing form tells the reporter whether the ticket joined the queue or the backlog;
each desk shows its own description prompts; the queue page filters by category."""

from __future__ import annotations

from tests.conftest import URGENT
from tests.web.conftest import Web


def test_web_form_tells_the_reporter_where_the_ticket_went(web: Web) -> None:
    rita = web.as_("rita")
    r = rita.post("/desks/infra/new", {"title": "Add a LUCI builder for linux web engine"})
    assert r.status_code == 303
    page = rita.get(r.headers["location"])
    assert "Your request is filed to the weekly triage backlog: no queue criterion ticked" in (
        page.text
    )
    assert not web.ticket("INFRA-1").in_queue
    ticked = rita.post(
        "/desks/infra/new", {"title": "Builders slow to start", "criteria": [URGENT]}
    )
    page = rita.get(ticked.headers["location"])
    assert "Your request is filed. On-call triages" in page.text
    assert web.ticket("INFRA-2").in_queue


def test_web_queue_filters_by_category(web: Web) -> None:
    outage = web.file("Dashboard is down", category="outage")
    help_ = web.file("How do I debug a devicelab test", category="help")
    page = web.as_("ana").get("/desks/infra/queue", params={"category": "outage"}).text
    assert 'id="f-category"' in page and outage in page and help_ not in page


def test_each_desk_shows_its_own_prompts(web: Web) -> None:
    infra = web.as_("rita").get("/desks/infra/new").text
    assert "<strong>Why</strong>" in infra and "LUCI builder" in infra
    set_form = web.as_("sam").get("/desks/set/new").text
    assert "<strong>Steps to reproduce</strong>" in set_form
    assert "LUCI" not in set_form and "<strong>Why</strong>" not in set_form
    filed = web.as_("rita").post(
        "/desks/infra/new", {"title": "Builders slow to start", "criteria": [URGENT]}
    )
    assert filed.status_code == 303  # no section is required by the example policy
