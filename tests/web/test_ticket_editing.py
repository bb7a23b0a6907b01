"""Editing on the ticket page: reclassify, watch, convert, confirmations and the live refresh,
through the same services as the API (version, CSRF and role checks)."""

from __future__ import annotations

import html

from dutydesk.tickets import service
from dutydesk.tickets.schemas import TicketPatch
from tests.web.conftest import Web


def test_a_responder_reclassifies_from_the_page(web: Web) -> None:
    key = web.file("Crash when opening a channel", desk="set", who="sam", kind="question")
    eva = web.as_("eva")
    page = eva.get(f"/tickets/{key}")
    assert page.status_code == 200
    assert 'id="ed-fix"' in page.text and 'id="ed-watchers"' in page.text
    assert "community-server ranks it in the priority of work" in page.text
    r = eva.post(
        f"/tickets/{key}/edit",
        {
            "title": "Crash when opening a pinned channel",
            "description": "Steps to reproduce:\r\n\r\n- open\r\n- pin",
            "kind": "bug",
            "category": "crash",
            "team": "set",
            "fix_target": "hotfix",
            "labels": "community-server, ios",
            "has_customer": "1",
            "customer_reported": "1",
            "watchers": "sam, finn",
            "version": str(web.ticket(key).version),
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"/tickets/{key}?ok=edited"
    t = web.ticket(key)
    assert (t.title, t.kind, t.category, t.team, t.fix_target) == (
        "Crash when opening a pinned channel",
        "bug",
        "crash",
        "set",
        "hotfix",
    )
    assert t.labels == ["community-server", "ios"] and t.customer_reported
    assert t.description == "Steps to reproduce:\n\n- open\n- pin"
    shown = eva.get(r.headers["location"]).text
    assert "Saved." in shown and "community-quality" in shown
    assert "set fix target to hotfix" in shown or "changed fix target from none to hotfix" in shown
    # Unticking the box clears customer-reported; an unchanged form is refused plainly.
    eva.post(
        f"/tickets/{key}/edit",
        {"has_customer": "1", "version": str(web.ticket(key).version)},
    )
    assert not web.ticket(key).customer_reported
    same = eva.post(f"/tickets/{key}/edit", {"title": "Crash when opening a pinned channel"})
    assert same.status_code == 422 and "nothing changed" in same.text


def test_the_edit_form_keeps_version_csrf_and_roles(web: Web) -> None:
    key = web.file("Crash when opening a channel", desk="set", who="rita")
    eva, rita, sam = web.as_("eva"), web.as_("rita"), web.as_("sam")
    # Stale version: refused with the reason, nothing changed.
    stale = eva.post(f"/tickets/{key}/edit", {"fix_target": "release", "version": "99"})
    assert stale.status_code == 412 and "version" in stale.text
    assert web.ticket(key).fix_target == "none"
    # No CSRF token: refused before any service runs.
    forged = eva.client.post(
        f"/tickets/{key}/edit", data={"fix_target": "release"}, follow_redirects=False
    )
    assert forged.status_code == 403 and web.ticket(key).fix_target == "none"
    # The reporter sees only the words, edits them, and is refused the triager fields.
    own = rita.get(f"/tickets/{key}").text
    assert 'id="ed-description"' in own and 'id="ed-fix"' not in own
    ok = rita.post(f"/tickets/{key}/edit", {"description": "Expected: no crash"})
    assert ok.status_code == 303
    assert web.ticket(key).description == "Expected: no crash"
    refused = rita.post(f"/tickets/{key}/edit", {"fix_target": "hotfix"})
    assert refused.status_code == 403 and "fix_target needs a responder" in html.unescape(
        refused.text
    )
    # Someone else's ticket: no edit form at all, and the service refuses a crafted post.
    assert 'id="edit-panel"' not in sam.get(f"/tickets/{key}").text
    assert sam.post(f"/tickets/{key}/edit", {"title": "Mine now"}).status_code == 403


def test_watch_and_unwatch_from_the_page(web: Web) -> None:
    key = web.file("Crash when opening a channel", desk="set", who="rita")
    sam = web.as_("sam")
    assert ">Watch</button>" in sam.get(f"/tickets/{key}").text
    r = sam.post(f"/tickets/{key}/watch", {"watch": "1"})
    assert r.status_code == 303 and r.headers["location"].endswith("?ok=watching")
    page = sam.get(r.headers["location"]).text
    assert "You are watching this ticket" in page and ">Unwatch</button>" in page
    sam.post(f"/tickets/{key}/watch", {"watch": "0"})
    assert ">Watch</button>" in sam.get(f"/tickets/{key}").text


def test_convert_from_the_page_in_one_action(web: Web) -> None:
    key = web.file("Let admins pin messages", desk="set", who="rita", kind="question")
    eva = web.as_("eva")
    page = eva.get(f"/tickets/{key}").text
    assert 'id="convert-button"' in page and '<option value="product">' in page
    r = eva.post(
        f"/tickets/{key}/convert",
        {"kind": "story", "desk": "product", "version": str(web.ticket(key).version)},
    )
    assert r.status_code == 303, r.text
    shown = eva.get(r.headers["location"]).text
    assert "Converted: it continues as PRODUCT-1" in shown
    t = web.ticket(key)
    assert (t.status, t.resolution, t.priority) == ("Done", "converted", None)
    new = eva.get("/tickets/PRODUCT-1").text
    assert 'href="/tickets/' + key + '"' in new and "Converted from" in new
    # A reporter has no convert panel, and a crafted post is refused by the service.
    other = web.file("Let admins star messages", desk="set", who="rita", kind="question")
    rita = web.as_("rita")
    assert 'id="convert-button"' not in rita.get(f"/tickets/{other}").text
    assert rita.post(f"/tickets/{other}/convert", {"kind": "story"}).status_code == 403


def test_a_triage_from_the_page_is_confirmed(web: Web) -> None:
    key = web.file("Crash when opening a channel", desk="set", who="rita", kind="bug")
    eva = web.as_("eva")
    r = eva.post(f"/tickets/{key}/triage", {"priority": "P2", "team": "channels"})
    assert r.status_code == 303
    page = html.unescape(eva.get(r.headers["location"]).text)
    assert "Triaged: priority P2, team channels, nobody assigned yet." in page
    assert "It left this desk's queue for team channels's view." in page
    assert "left for team channels's view" in page  # the Queue field, not "backlog"
    assert "weekly triage backlog" not in page
    # The confirmation is built from the ticket, never from the address.
    assert "<script>" not in eva.get(f"/tickets/{key}?ok=%3Cscript%3E").text
    assert eva.get(f"/tickets/{key}?ok=unknown").status_code == 200


def test_the_live_refresh_answers_only_when_the_ticket_changed(web: Web) -> None:
    key = web.file("Crash when opening a channel", desk="set", who="rita")
    eva = web.as_("eva")
    version = web.ticket(key).version
    page = eva.get(f"/tickets/{key}").text
    assert f'hx-get="/tickets/{key}/live?since={version}"' in page
    assert eva.get(f"/tickets/{key}/live?since={version}").status_code == 204
    with web.ctx("finn") as ctx:
        service.patch_ticket(ctx, key, TicketPatch(fix_target="release"), None)
    fresh = eva.get(f"/tickets/{key}/live?since={version}")
    assert fresh.status_code == 200
    assert f"live?since={version + 1}" in fresh.text and "<html" not in fresh.text
    assert "release" in fresh.text
    assert eva.get("/tickets/SET-999/live?since=1").status_code == 404


def test_pr_links_show_on_board_cards(web: Web) -> None:
    key = web.file("Crash when opening a channel", desk="set", who="rita", kind="bug")
    eva = web.as_("eva")
    r = eva.post(
        f"/tickets/{key}/links",
        {"url": "https://github.com/example/app/pull/42", "version": "1"},
    )
    assert r.status_code == 303 and web.ticket(key).pr_links == [
        "https://github.com/example/app/pull/42"
    ]
    board = eva.get("/desks/set/board").text
    assert 'href="https://github.com/example/app/pull/42"' in board and "PR 42" in board


def test_the_filing_form_refuses_a_ranked_label_from_a_reporter(web: Web) -> None:
    sam = web.as_("sam")
    r = sam.post(
        "/desks/set/new",
        {"title": "Community server keeps crashing", "labels": "community-server, crash"},
    )
    assert r.status_code == 422
    page = html.unescape(r.text)
    assert "reporters cannot set labels 'community-server'" in page
    assert "'community-server' is set by a triager" in page  # beside the labels field
    with web.state.db.read() as s:
        from sqlalchemy import func, select

        from dutydesk.tickets.models import Ticket

        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
