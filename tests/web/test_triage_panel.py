"""The triage panel: possible duplicates with the words they share, suggested fields with a
confidence, and a triage submitted from the page is learned from and its outcome recorded."""

from __future__ import annotations

from dutydesk.tickets.models import Event
from tests.web.conftest import Web

HISTORY = [
    ("Android push notifications arrive twice", "mobile"),
    ("Push notification badge wrong on android tablets", "mobile"),
    ("Playbook checklist items lose their order", "playbooks"),
    ("Channel sidebar crashes with many pinned messages", "channels"),
]


def test_the_panel_suggests_and_a_page_triage_records_the_outcome(web: Web) -> None:
    finn = web.as_("finn")
    for title, team in HISTORY:
        key = web.file(title, desk="set", who="sam")
        r = finn.post(f"/tickets/{key}/triage", {"priority": "P2", "team": team})
        assert r.status_code in (200, 303), r.text
    web.state.clock.advance(minutes=1)  # type: ignore[attr-defined]
    key = web.file("Android push notifications arrive twice again", desk="set", who="sam")
    page = finn.get(f"/tickets/{key}")
    assert page.status_code == 200
    assert "Suggested team from past triage: <strong>mobile</strong>" in page.text
    assert "Close as duplicate of SET-1" in page.text and "shares:" in page.text
    assert web.ticket(key).team is None  # shown, not applied
    # a reporter's view of the page has no panel, so no suggestions either
    assert "Suggested team" not in web.as_("sam").get(f"/tickets/{key}").text

    r = finn.post(f"/tickets/{key}/triage", {"priority": "P1", "team": "channels"})
    assert r.status_code in (200, 303), r.text
    with web.state.db.read() as s:
        data = (
            s.query(Event.data)
            .filter(Event.ticket_id == web.ticket(key).id, Event.type == "triaged")
            .scalar()
        )
    assert data["suggestions"]["team"] == {
        "suggested": "mobile",
        "confidence": data["suggestions"]["team"]["confidence"],
        "chosen": "channels",
        "accepted": False,
    }
