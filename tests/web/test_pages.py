"""Pages over HTTP: status, content, CSRF, roles, hostile input, live-update polling."""

from __future__ import annotations

import re

import pytest

from dutydesk.tickets import service
from dutydesk.tickets.schemas import TicketPatch
from tests.conftest import ManualClock
from tests.web.conftest import Web

HOSTILE_TITLE = '<script>alert("t")</script> builder "quoted" & more'
HOSTILE_BODY = (
    "<script>alert('d')</script>\n\n<img src=x onerror=alert(1)>\n\n"
    "[click](javascript:alert(2)) **bold** `<b>code</b>`"
)


# ----------------------------------------------------------------------------- log-in


def test_pages_send_anonymous_people_to_the_login_page(web: Web) -> None:
    client = web.anonymous()
    for path in [
        "/desks/infra/board",
        "/me",
        "/oncall",
        "/tickets/INFRA-1",
        "/desks/set/queue?view=all",
    ]:
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next=%2F")
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_login_form_logs_in_and_out(web: Web) -> None:
    client = web.anonymous()
    page = client.get("/login?next=/desks/infra/new")
    assert page.status_code == 200
    assert '<label for="username">Username</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    bad = client.post(
        "/login",
        data={"username": "rita", "password": "nope", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert bad.status_code == 401 and "wrong password" in bad.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', bad.text)
    assert token is not None
    ok = client.post(
        "/login",
        data={
            "username": "rita",
            "password": "dutydesk",
            "csrf_token": token.group(1),
            "next": "/desks/infra/new",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/desks/infra/new"
    form = client.get("/desks/infra/new")
    assert form.status_code == 200
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', form.text)
    assert csrf is not None
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    out = client.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/me", follow_redirects=False).status_code == 303


def test_login_refuses_a_form_without_its_token(web: Web) -> None:
    client = web.anonymous()
    r = client.post(
        "/login", data={"username": "rita", "password": "dutydesk"}, follow_redirects=False
    )
    assert r.status_code == 401 and "expired" in r.text
    assert "dutydesk_session" not in r.cookies


def test_login_never_redirects_off_site(web: Web) -> None:
    client = web.anonymous()
    page = client.get("/login?next=https://evil.example/")
    assert 'name="next" value="/me"' in page.text


# ----------------------------------------------------------------------------- CSRF


def test_writes_without_the_csrf_token_are_refused(web: Web) -> None:
    rita = web.as_("rita")
    body = {"title": "Add a LUCI builder for linux web engine", "description": "why"}
    missing = rita.client.post("/desks/infra/new", data=body, follow_redirects=False)
    assert missing.status_code == 403
    assert "CSRF" in missing.text and missing.headers["content-type"].startswith("text/html")
    wrong = rita.client.post(
        "/desks/infra/new", data={**body, "csrf_token": "forged"}, follow_redirects=False
    )
    assert wrong.status_code == 403
    header = rita.client.post(
        "/desks/infra/new", data=body, headers={"X-CSRF-Token": "forged"}, follow_redirects=False
    )
    assert header.status_code == 403
    key = web.file("Keep one")  # nothing above was filed: this is the desk's first ticket
    assert key == "INFRA-1"
    ana = web.as_("ana")
    r = ana.client.post(
        f"/tickets/{key}/move",
        data={"to": "Triaged"},
        headers={"Accept": "application/json"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and web.ticket(key).status == "New"
    # Another person's token does not work with this session either.
    r = ana.client.post(
        f"/tickets/{key}/comment",
        data={"body": "hi", "csrf_token": rita.csrf},
        follow_redirects=False,
    )
    assert r.status_code == 403


# ----------------------------------------------------------------------------- filing


def test_filing_form_for_a_reporter(web: Web) -> None:
    rita = web.as_("rita")
    r = rita.get("/desks/infra/new")
    assert r.status_code == 200
    assert '<label for="title">Title</label>' in r.text
    assert '<label for="description">Description</label>' in r.text
    for prompt in ("Why", "What exactly", "Where", "How to verify"):
        assert f"<strong>{prompt}</strong>" in r.text
    assert "weekly triage backlog</strong> instead of the urgent queue" in r.text
    assert 'value="Build break or regression"' in r.text
    assert 'name="priority"' not in r.text and 'name="assignee"' not in r.text
    ana = web.as_("ana").get("/desks/infra/new")
    assert 'name="priority"' in ana.text and 'name="assignee"' in ana.text


def test_filing_creates_the_ticket_and_shows_it(web: Web) -> None:
    rita = web.as_("rita")
    r = rita.post(
        "/desks/infra/new",
        {
            "title": "Add a LUCI builder for linux web engine",
            "description": "Why: release\n\nWhere: linux",
            "kind": "request",
            "category": "config-request",
            "criteria": ["Build break or regression", "Degraded service"],
            "labels": "luci, builders",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/tickets/INFRA-1?filed=1"
    t = web.ticket("INFRA-1")
    assert t.criteria == ["Build break or regression", "Degraded service"]
    assert t.labels == ["luci", "builders"] and t.category == "config-request"
    page = rita.get("/tickets/INFRA-1?filed=1")
    assert "Your request is filed" in page.text and "not triaged yet" in page.text
    clocks = page.text.split('id="slo-h"')[1].split("</section>")[0]
    assert "triage" in clocks and "running" in clocks and "due " in clocks
    assert (
        "Triage"
        not in re.sub(r"not triaged yet", "", page.text.split("<main", 1)[1]).split("Timeline")[0]
    )


def test_filing_errors_keep_what_was_typed(web: Web) -> None:
    rita = web.as_("rita")
    r = rita.post("/desks/infra/new", {"title": "ab", "description": "kept <b>text</b>"})
    assert r.status_code == 422
    assert 'aria-invalid="true"' in r.text and "at least 3 characters" in r.text
    assert "kept &lt;b&gt;text&lt;/b&gt;" in r.text
    forged = rita.post(
        "/desks/infra/new", {"title": "Real title for a real ticket", "priority": "P0"}
    )
    assert forged.status_code == 422 and "reporters cannot set priority" in forged.text
    with web.state.db.read() as s:
        assert service.count_open(s, "infra") == 0


def test_title_hint_nudges_and_finds_possible_duplicates(web: Web) -> None:
    web.file("Add a LUCI builder for linux web engine")
    rita = web.as_("rita")
    vague = rita.get("/desks/infra/new/hint", params={"title": "quick request"})
    assert vague.status_code == 200 and "what and where" in vague.text
    similar = rita.get("/desks/infra/new/hint", params={"title": "LUCI builder for mac"})
    assert "what and where" not in similar.text and "INFRA-1" in similar.text
    assert rita.get("/desks/infra/new/hint", params={"title": ""}).text.strip() == ""


# ----------------------------------------------------------------------------- board


def test_board_has_a_column_per_workflow_column_and_card_details(web: Web) -> None:
    k1 = web.file("Add a LUCI builder for linux web engine")
    k2 = web.file("Build dashboard is slow to load")
    web.triage(k2, priority="P0", assignee="bo")
    web.run("ana", lambda ctx: service.block(ctx, k2, "waiting on the vendor", None))
    ana = web.as_("ana")
    r = ana.get("/desks/infra/board")
    assert r.status_code == 200
    for col in ("New", "Triaged", "In progress", "Done"):
        assert f">{col}</h2>" in r.text
    assert f'id="card-{k1}"' in r.text and f'id="card-{k2}"' in r.text
    assert "untriaged" in r.text and "P0" in r.text and ">bo<" in r.text
    assert "Blocked: waiting on the vendor" in r.text
    assert f'aria-label="Move {k1} to another column"' in r.text
    assert 'data-moves="Triaged|In progress|Done"' in r.text
    set_board = web.as_("eva").get("/desks/set/board")
    for col in ("To do", "In progress", "Submitted", "Done"):
        assert f">{col}</h2>" in set_board.text


def test_reporters_read_the_board_without_move_controls(web: Web) -> None:
    web.file("Add a LUCI builder for linux web engine")
    r = web.as_("rita").get("/desks/infra/board")
    assert r.status_code == 200 and "INFRA-1" in r.text
    assert "data-move " not in r.text and 'id="board-form"' not in r.text
    assert 'data-movable="no"' in r.text


def test_board_live_answers_only_when_this_desk_changed(web: Web) -> None:
    key = web.file("Add a LUCI builder for linux web engine")
    ana = web.as_("ana")
    page = ana.get("/desks/infra/board")
    since = int(re.search(r'data-version="(\d+)">', page.text).group(1))  # type: ignore[union-attr]
    assert ana.get(f"/desks/infra/board/live?since={since}").status_code == 204
    web.file("Crash in the mobile app on login", desk="set", who="sam")
    assert ana.get(f"/desks/infra/board/live?since={since}").status_code == 204
    web.triage(key, priority="P1")
    fresh = ana.get(f"/desks/infra/board/live?since={since}")
    assert fresh.status_code == 200 and fresh.text.lstrip().startswith('<div id="board"')
    assert "P1" in fresh.text and "<html" not in fresh.text
    newer = int(re.search(r'id="board"[^>]*data-version="(\d+)"', fresh.text).group(1))  # type: ignore[union-attr]
    assert newer > since
    assert ana.get(f"/desks/infra/board/live?since={newer}").status_code == 204


def test_board_changes_send_only_the_cards_that_changed(web: Web) -> None:
    keys = [web.file(f"Add a LUCI builder for platform {i}") for i in range(4)]
    ana = web.as_("ana")
    page = ana.get("/desks/infra/board").text
    since = int(re.search(r'id="board"[^>]*data-version="(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert ana.get(f"/desks/infra/board/changes?since={since}").status_code == 204
    web.file("Crash in the mobile app on login", desk="set", who="sam")
    assert ana.get(f"/desks/infra/board/changes?since={since}").status_code == 204
    web.triage(keys[1], priority="P1")
    r = ana.get(f"/desks/infra/board/changes?since={since}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert data["version"] > since and "board" not in data
    assert list(data["cards"]) == [keys[1]]  # only the changed card is rendered
    assert data["cards"][keys[1]].startswith(f'<li class="card" id="card-{keys[1]}"')
    columns = {c["name"]: c for c in data["columns"]}
    assert columns["New"]["keys"] == [keys[0], keys[2], keys[3]]
    assert columns["Triaged"]["keys"] == [keys[1]] and columns["Triaged"]["total"] == 1
    assert ana.get(f"/desks/infra/board/changes?since={data['version']}").status_code == 204
    full = ana.get("/desks/infra/board/changes?since=-1").json()
    assert full["board"].lstrip().startswith('<div id="board"') and "cards" not in full
    assert web.as_("rita").get(f"/desks/infra/board/changes?since={since}").status_code == 200


def test_board_arrows_stay_inside_the_order_group(web: Web) -> None:
    hot = web.file("Crash when opening a channel", desk="set", who="sam", kind="bug")
    rel = web.file("Crash when closing a channel", desk="set", who="sam", kind="bug")
    rel2 = web.file("Crash when renaming a channel", desk="set", who="sam", kind="bug")
    eva = web.as_("eva")
    for key, target in ((hot, "hotfix"), (rel, "release"), (rel2, "release")):
        web.run(
            "eva",
            lambda ctx, k=key, f=target: service.patch_ticket(
                ctx, k, TicketPatch(fix_target=f), None
            ),
        )
    board = eva.get("/desks/set/board").text
    assert _card(board, hot).count("hidden>↓") == 1  # release bugs below: no arrow down
    assert f'aria-label="Move {rel2} up, above {rel}"' in board
    assert _card(board, rel).count("hidden>↑") == 1
    refused = eva.post_json(f"/tickets/{rel}/rank", {"before": hot})
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"{rel} cannot move next to {hot}: hotfix bugs stay above release bugs; "
        "change the fix target to move it."
    )


def test_board_json_moves_obey_the_workflow_rules(web: Web) -> None:
    key = web.file("Add a LUCI builder for linux web engine")
    ana = web.as_("ana")
    refused = ana.post_json(f"/tickets/{key}/move", {"to": "In progress"})
    assert refused.status_code == 409
    assert "requires an assignee" in refused.json()["detail"]
    assert refused.json()["rule"] == "assignee-required"
    # Dropped on Triaged without a priority: refused, pointing to the triage action.
    untriaged = ana.post_json(f"/tickets/{key}/move", {"to": "Triaged"})
    assert untriaged.status_code == 409 and untriaged.json()["rule"] == "triage-needs-priority"
    assert f"dutydesk triage {key} --priority" in untriaged.json()["detail"]
    web.run("ana", lambda ctx: service.patch_ticket(ctx, key, TicketPatch(priority="P1"), None))
    ok = ana.post_json(f"/tickets/{key}/move", {"to": "Triaged", "version": "2"})
    assert ok.status_code == 200 and ok.json()["status"] == "Triaged"
    assert web.ticket(key).triaged_at is not None  # with a priority, the move is the triage
    stale = ana.post_json(f"/tickets/{key}/move", {"to": "New", "version": "2"})
    assert stale.status_code == 412
    done = ana.post_json(f"/tickets/{key}/move", {"to": "Done"})
    assert done.status_code == 409 and "requires a resolution" in done.json()["detail"]
    closed = ana.post_json(f"/tickets/{key}/move", {"to": "Done", "resolution": "wont-fix"})
    assert closed.status_code == 200 and web.ticket(key).resolution == "wont-fix"


def test_keyboard_rank_forms_reorder_the_intake_column(web: Web) -> None:
    a = web.file("Crash when opening a channel", desk="set", who="sam", kind="bug")
    b = web.file("Crash when closing a channel", desk="set", who="sam", kind="bug")
    eva = web.as_("eva")
    board = eva.get("/desks/set/board").text
    assert board.index(f"card-{a}") < board.index(f"card-{b}")
    assert f'formaction="/tickets/{b}/rank" name="before" value="{a}"' in board
    assert f'aria-label="Move {b} up, above {a}"' in board
    # Without JavaScript the ↑ button submits the board's one form (CSRF token, next) to rank.
    r = eva.post(f"/tickets/{b}/rank", {"before": a, "next": "/desks/set/board"})
    assert r.status_code == 303 and r.headers["location"] == "/desks/set/board"
    board = eva.get("/desks/set/board").text
    assert board.index(f"card-{b}") < board.index(f"card-{a}")
    both = eva.post(f"/tickets/{b}/rank", {"before": a, "after": a})
    assert both.status_code == 422 and "exactly one" in both.text


# ----------------------------------------------------------------------------- queue


def test_queue_lists_in_order_with_filters_in_the_url(web: Web) -> None:
    keys = [web.file(f"Add a LUCI builder for platform {i}") for i in range(3)]
    web.triage(keys[0], priority="P1")
    web.triage(keys[1], priority="P0", assignee="bo")
    web.triage(keys[2], priority="P3")
    ana = web.as_("ana")
    r = ana.get("/desks/infra/queue")
    assert r.status_code == 200
    body = r.text
    assert body.index(keys[1]) < body.index(keys[0]) and keys[2] not in body
    backlog = ana.get("/desks/infra/queue?view=backlog").text
    assert keys[2] in backlog and keys[0] not in backlog
    mine = ana.get("/desks/infra/queue?assignee=bo").text
    assert keys[1] in mine and keys[0] not in mine
    assert "<option selected>bo</option>" in mine
    search = ana.get("/desks/infra/queue?view=all&q=platform").text
    assert all(k in search for k in keys)
    bad = ana.get("/desks/infra/queue?assignee=nobody-such")
    assert bad.status_code == 200 and "no user named" in bad.text


def test_queue_saved_filters_and_paging(web: Web) -> None:
    keys = [web.file(f"Disk quota for builder {i}") for i in range(52)]
    web.triage(keys[0], priority="P2")
    ana = web.as_("ana")
    saved = ana.get("/desks/infra/queue?saved=infra-backlog")
    assert saved.status_code == 200 and keys[0] in saved.text and keys[1] not in saved.text
    assert "infra-backlog" in ana.get("/desks/infra/queue").text
    first = ana.get("/desks/infra/queue").text
    assert "51 tickets, 1–50 shown" in first and "Page 1 of 2" in first
    nxt = re.search(r'href="([^"]*page=2[^"]*)" rel="next"', first)
    assert nxt is not None
    second = ana.get(nxt.group(1).replace("&amp;", "&")).text
    assert keys[-1] in second and keys[-1] not in first.split('rel="next"')[0]
    assert (
        "Page 2 of 2" in second and 'rel="prev"' in second and '<td class="num">51</td>' in second
    )
    back = re.search(r'href="([^"]*)" rel="prev"', second)
    assert back is not None and "page=" not in back.group(1)
    unknown = ana.get("/desks/infra/queue?saved=nope")
    assert "no saved filter" in unknown.text


def test_queue_sorts_by_a_column_and_shows_the_slo(web: Web, clock: ManualClock) -> None:
    a = web.file("Add a LUCI builder for platform one")
    clock.advance(minutes=5)
    b = web.file("Add a LUCI builder for platform two")
    web.triage(a, priority="P1")
    web.triage(b, priority="P0")
    ana = web.as_("ana")
    page = ana.get("/desks/infra/queue?view=open&sort=priority").text
    assert page.index(b) < page.index(a)
    assert 'aria-sort="ascending"><a href="/desks/infra/queue?view=open&amp;sort=-priority"' in page
    flipped = ana.get("/desks/infra/queue?view=open&sort=-priority").text
    assert flipped.index(a) < flipped.index(b)
    newest = ana.get("/desks/infra/queue?view=open&sort=-created").text
    assert newest.index(b) < newest.index(a)
    oldest = ana.get("/desks/infra/queue?view=open&sort=created").text
    assert oldest.index(a) < oldest.index(b)
    row = page.split(f">{b}</span>")[1].split("</tr>")[0]
    assert '<span class="badge">update · running</span>' in row and " left</span>" in row
    assert re.search(
        r'class="slo-due muted" datetime="[^"]+">due \w{3} \d{2} \w{3} 2026 \d{2}:\d{2} P[SD]T<',
        row,
    ), row
    assert ana.get("/desks/infra/queue?sort=nonsense&page=-3").status_code == 200


def test_queue_filters_by_category_and_customer(web: Web) -> None:
    mine = web.file("Quota for the emulator pool", category="quota", customer_reported=True)
    other = web.file("Access to the build dashboard", category="access")
    ana = web.as_("ana")
    by_customer = ana.get("/desks/infra/queue?view=all&customer=yes").text
    assert mine in by_customer and other not in by_customer
    assert '<option value="yes" selected>a customer</option>' in by_customer
    not_customer = ana.get("/desks/infra/queue?view=all&customer=no").text
    assert other in not_customer and mine not in not_customer
    quota = ana.get("/desks/infra/queue?view=all&category=quota").text
    assert mine in quota and other not in quota and "1 ticket<" in quota


def test_saving_the_current_filters_as_a_personal_or_desk_view(web: Web) -> None:
    mine = web.file("Quota for the emulator pool", category="quota", customer_reported=True)
    web.file("Access to the build dashboard", category="access")
    ana, bo, rita = web.as_("ana"), web.as_("bo"), web.as_("rita")
    r = ana.post(
        "/desks/infra/queue/views",
        {
            "name": "Customer quota",
            "scope": "personal",
            "filters": "view=all&category=quota&customer=yes",
        },
    )
    assert (
        r.status_code == 303 and r.headers["location"] == "/desks/infra/queue?saved=customer-quota"
    )
    page = ana.get("/desks/infra/queue?saved=customer-quota").text
    assert mine in page and "1 ticket<" in page and "(mine)" in page
    assert '<option value="quota" selected>' in page or "<option selected>quota</option>" in page
    # A personal view is its owner's alone.
    assert "customer-quota" not in bo.get("/desks/infra/queue").text
    assert "no saved filter" in bo.get("/desks/infra/queue?saved=customer-quota").text
    # Desk-wide: every reader of the desk sees it; only responders may save one.
    r = ana.post(
        "/desks/infra/queue/views",
        {"name": "All access", "scope": "desk", "filters": "category=access&view=all"},
    )
    assert r.status_code == 303
    assert "All access" in bo.get("/desks/infra/queue").text
    refused = rita.post(
        "/desks/infra/queue/views", {"name": "Mine", "scope": "desk", "filters": ""}
    )
    assert refused.status_code == 403 and "save it as a personal view instead" in refused.text
    taken = bo.post(
        "/desks/infra/queue/views", {"name": "all-access", "scope": "personal", "filters": ""}
    )
    assert taken.status_code == 409 and "exists already" in taken.text
    policy = ana.post(
        "/desks/infra/queue/views", {"name": "infra backlog", "scope": "personal", "filters": ""}
    )
    assert policy.status_code == 409 and "policy declares" in policy.text
    blank = ana.post(
        "/desks/infra/queue/views", {"name": " !! ", "scope": "personal", "filters": ""}
    )
    assert blank.status_code == 422 and "give the view a name" in blank.text
    # A lead of the desk may remove a desk-wide view (the button shows for them).
    assert "Delete view" in web.as_("dee").get("/desks/infra/queue?saved=all-access").text
    assert "Delete view" not in bo.get("/desks/infra/queue?saved=all-access").text
    assert bo.post("/desks/infra/queue/views/all-access/delete", {}).status_code == 403
    assert "Delete view" not in ana.get("/desks/infra/queue?saved=infra-backlog").text
    # The owner deletes; someone else cannot; policy views stay.
    assert bo.post("/desks/infra/queue/views/customer-quota/delete", {}).status_code == 404
    assert ana.post("/desks/infra/queue/views/customer-quota/delete", {}).status_code == 303
    assert "Customer quota" not in ana.get("/desks/infra/queue").text
    assert ana.post("/desks/infra/queue/views/infra-backlog/delete", {}).status_code == 409
    listed = {f["name"] for f in ana.get("/api/v1/saved-filters").json()}
    assert "all-access" in listed and "infra-backlog" in listed


def test_queue_live_polls_cheaply(web: Web) -> None:
    web.file("Add a LUCI builder for linux web engine")
    ana = web.as_("ana")
    page = ana.get("/desks/infra/queue?priority=none").text
    url = re.search(r'hx-get="([^"]+)"', page)
    assert url is not None
    live = url.group(1).replace("&amp;", "&")
    assert "priority=none" in live
    assert ana.get(live).status_code == 204
    web.file("Another builder request for mac")
    fresh = ana.get(live)
    assert fresh.status_code == 200 and fresh.text.startswith('<tbody id="queue-rows"')


# ----------------------------------------------------------------------------- ticket page


def test_hostile_input_is_rendered_inert(web: Web) -> None:
    key = web.file(HOSTILE_TITLE, description=HOSTILE_BODY)
    web.run(
        "rita", lambda ctx: service.add_comment(ctx, key, "<script>alert('c')</script> hi", True)
    )
    for who in ("rita", "ana"):
        page = web.as_(who)
        for path in (f"/tickets/{key}", "/desks/infra/board", "/desks/infra/queue", "/me"):
            text = page.get(path).text
            assert "<script>alert" not in text, path
            assert "onerror=" not in text.replace("onerror=alert(1)&gt;", ""), path
            assert 'href="javascript' not in text.lower(), path
        text = page.get(f"/tickets/{key}").text
        assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in text
        assert "<strong>bold</strong>" in text and "<code>&lt;b&gt;code&lt;/b&gt;</code>" in text
        assert "&lt;script&gt;alert('c')&lt;/script&gt; hi" in text


def test_triage_panel_for_responders_only(web: Web) -> None:
    original = web.file("Add a LUCI builder for linux web engine")
    key = web.file("LUCI builder for linux web engine please")
    page = web.as_("ana").get(f"/tickets/{key}").text
    assert '<h2 id="triage-h">Triage</h2>' in page
    steps = [
        "1. Is it a duplicate?",
        "2. Clarify the title",
        "3. Priority",
        "4. Route",
        "5. Assign",
    ]
    positions = [page.index(s) for s in steps]
    assert positions == sorted(positions)
    assert f"Close as duplicate of {original}" in page
    reporter = web.as_("rita").get(f"/tickets/{key}").text
    assert "triage-h" not in reporter and 'action="/tickets/' + key + '/move"' not in reporter


def test_triage_in_one_submit(web: Web) -> None:
    key = web.file("quick request")
    ana = web.as_("ana")
    r = ana.post(
        f"/tickets/{key}/triage",
        {
            "title": "Add a LUCI builder for fuchsia",
            "priority": "P1",
            "team": "infra",
            "kind": "request",
            "assignee": "bo",
            "note": "Bo has the context.",
            "version": "1",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"/tickets/{key}?ok=triaged"
    t = web.ticket(key)
    assert (t.title, t.priority, t.team, t.status) == (
        "Add a LUCI builder for fuchsia",
        "P1",
        "infra",
        "Triaged",
    )
    page = ana.get(f"/tickets/{key}").text
    assert "triaged it as P1" in page and "Bo has the context." in page
    again = ana.post(f"/tickets/{key}/triage", {"version": "1", "priority": "P2"})
    assert again.status_code == 412 and "changed" in again.text.lower()
    nothing = ana.post(f"/tickets/{key}/triage", {})
    assert nothing.status_code == 422 and "needs &#39;priority&#39;" in nothing.text


def test_close_as_duplicate_with_one_click(web: Web) -> None:
    original = web.file("Add a LUCI builder for linux web engine")
    dup = web.file("LUCI builder for linux web engine")
    ana = web.as_("ana")
    r = ana.post(f"/tickets/{dup}/triage", {"duplicate_of": original, "version": "1"})
    assert r.status_code == 303
    t = web.ticket(dup)
    assert (t.status, t.resolution) == ("Done", "duplicate")
    page = ana.get(f"/tickets/{dup}").text
    assert f'Closed as a duplicate of <a href="/tickets/{original}">{original}</a>' in page
    assert f"Closed as a duplicate of {original}." in page  # the reference comment
    other = ana.get(f"/tickets/{original}").text
    assert f"{dup} was closed as a duplicate of this ticket" in other


def test_refused_form_actions_show_the_rule(web: Web) -> None:
    key = web.file("Add a LUCI builder for linux web engine")
    ana = web.as_("ana")
    r = ana.post(f"/tickets/{key}/move", {"to": "In progress"})
    assert r.status_code == 409 and r.headers["content-type"].startswith("text/html")
    assert "requires an assignee" in r.text and 'role="alert"' in r.text
    rita = web.as_("rita")
    forbidden = rita.post(f"/tickets/{key}/move", {"to": "Triaged"})
    assert forbidden.status_code == 403 and "needs the responder role" in forbidden.text
    assert web.ticket(key).status == "New"


def test_comment_block_assign_and_links(web: Web) -> None:
    key = web.file("Add a LUCI builder for linux web engine")
    ana = web.as_("ana")
    assert ana.post(f"/tickets/{key}/comment", {"body": "Looking **now**"}).status_code == 303
    assert (
        ana.post(f"/tickets/{key}/comment", {"body": "secret", "internal": "1"}).status_code == 303
    )
    assert ana.post(f"/tickets/{key}/comment", {"body": "   "}).status_code == 422
    assert ana.post(f"/tickets/{key}/block", {"reason": "x"}).status_code == 422
    assert ana.post(f"/tickets/{key}/block", {"reason": "waiting on IT"}).status_code == 303
    assert ana.post(f"/tickets/{key}/assign", {"assignee": "chen"}).status_code == 303
    assert (
        ana.post(f"/tickets/{key}/links", {"url": "https://github.com/o/r/pull/1"}).status_code
        == 303
    )
    page = ana.get(f"/tickets/{key}").text
    assert "Looking <strong>now</strong>" in page and "secret" in page and "internal" in page
    assert "Blocked:</strong> waiting on IT" in page and "set assignee to chen" in page
    assert 'href="https://github.com/o/r/pull/1"' in page
    assert "secret" not in web.as_("rita").get(f"/tickets/{key}").text
    assert ana.post(f"/tickets/{key}/unblock", {}).status_code == 303
    assert not web.ticket(key).blocked
    assert (
        ana.post(f"/tickets/{key}/links", {"remove": "https://github.com/o/r/pull/1"}).status_code
        == 303
    )
    assert web.ticket(key).pr_links == []
    assert ana.post(f"/tickets/{key}/links", {"url": "javascript:alert(1)"}).status_code == 422


# ----------------------------------------------------------------------------- errors, people


def test_errors_are_pages_for_people_and_problems_for_programs(web: Web) -> None:
    ana = web.as_("ana")
    missing = ana.get("/tickets/INFRA-999")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "no ticket INFRA-999" in missing.text and "My work" in missing.text
    assert ana.get("/desks/nope/board").status_code == 404
    assert ana.get("/no/such/page").status_code == 404
    api = ana.get("/api/v1/no-such")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    assert ana.get("/api/v1/auth/login").status_code == 405
    assert ana.get("/static/app.css").status_code == 200


@pytest.mark.parametrize("who", ["ana", "eva", "rita", "admin"])
def test_oncall_and_me_render_for_everyone(web: Web, who: str) -> None:
    b = web.as_(who)
    oncall = b.get("/oncall")
    assert oncall.status_code == 200
    assert "On call now" in oncall.text and "Next shifts" in oncall.text
    assert 'class="calendar"' in oncall.text
    assert b.get("/oncall?month=2027-02").status_code == 200
    assert b.get("/me").status_code == 200


def test_me_lists_my_requests_assignments_and_triage_work(web: Web) -> None:
    mine = web.file("Add a LUCI builder for linux web engine")
    other = web.file("Grant the docs team access", who="sam")
    web.triage(other, priority="P1", assignee="ana")
    rita = web.as_("rita").get("/me").text
    assert "My requests" in rita and mine in rita and other not in rita
    assert "Waiting on my triage" not in rita
    ana = web.as_("ana").get("/me").text
    waiting = ana.split('id="waiting-h"')[1].split('id="assigned-h"')[0]
    assigned = ana.split('id="assigned-h"')[1].split('id="requests-h"')[0]
    assert mine in waiting and other not in waiting
    assert f'href="/tickets/{mine}#triage-h">Triage: priority and owner' in waiting
    assert "/assign" not in waiting
    assert other in assigned


def test_me_links_each_of_my_desks_rituals(web: Web) -> None:
    """My work links the week's pages of the desks one works on: SET's status post, meetings
    and handoff for eva; infra's meetings and handoff for ana; nothing of the kind for rita."""
    eva = web.as_("eva").get("/me").text.split('data-testid="me-rituals"')[1].split("</ul>")[0]
    for href in ("/desks/set/status-post", "/desks/set/meetings", "/desks/set/handoff"):
        assert f'href="{href}"' in eva
    ana = web.as_("ana").get("/me").text.split('data-testid="me-rituals"')[1].split("</ul>")[0]
    assert 'href="/desks/infra/handoff"' in ana and "/desks/infra/status-post" not in ana
    assert 'data-testid="me-rituals"' not in web.as_("rita").get("/me").text


def test_oncall_page_shows_overrides(web: Web) -> None:
    from datetime import timedelta

    from dutydesk.oncall import overrides as oncall
    from dutydesk.oncall.schemas import OverrideIn

    end = web.state.now() + timedelta(days=2)
    web.run(
        "dee",
        lambda ctx: oncall.create_override(
            ctx, "infra-oncall", OverrideIn(person="ana", end=end, note="covering bo")
        ),
    )
    page = web.as_("ana").get("/oncall").text
    overrides = page.split("<h3>Overrides</h3>")[1].split("</table>")[0]
    assert "Ana Alvarez" in overrides
    on_call_now = page.split("On call now")[1].split("Next shifts")[0]
    assert "Ana Alvarez" in on_call_now and "override" in on_call_now
    assert "You are on call now for" in web.as_("ana").get("/me").text


def test_a_poll_after_the_session_ended_sends_the_tab_to_log_in(web: Web) -> None:
    client = web.anonymous()
    r = client.get(
        "/desks/infra/board/live?since=3",
        headers={"HX-Request": "true", "HX-Current-URL": "http://x/desks/infra/board"},
        follow_redirects=False,
    )
    assert r.status_code == 401
    assert r.headers["HX-Redirect"] == "/login?next=%2Fdesks%2Finfra%2Fboard"


def test_saved_filter_for_resolved_bugs(web: Web) -> None:
    key = web.file("Crash when opening a channel", desk="set", who="sam", kind="bug")
    web.run("eva", lambda ctx: service.move(ctx, key, "Done", "fixed", None, None))
    page = web.as_("eva").get("/desks/set/queue?saved=bugs-resolved-7d")
    assert page.status_code == 200 and key in page.text
    assert '<option value="closed" selected>' in page.text


def test_my_work_shows_the_update_due_on_my_tickets(web: Web) -> None:
    key = web.file("Build dashboard is down for everyone")
    web.triage(key, priority="P0", assignee="ana")
    page = web.as_("ana").get("/me").text
    assigned = page.split('id="assigned-h"')[1].split('id="requests-h"')[0]
    assert key in assigned and "update · running" in assigned


def test_my_work_next_due_is_a_running_clock_not_an_old_breach(
    web: Web, clock: ManualClock
) -> None:
    key = web.file("Build dashboard is down for everyone")
    clock.advance(hours=6)  # the 4-business-hour triage target passes untriaged
    web.triage(key, priority="P1", assignee="ana")
    page = web.as_("ana").get("/me").text
    assigned = page.split('id="assigned-h"')[1].split('id="requests-h"')[0]
    assert key in assigned and "update · running" in assigned
    assert "triage" not in assigned.split(key)[1]  # the breached triage clock is history


def test_my_work_counts_are_true_counts(web: Web) -> None:
    for i in range(103):
        web.file(f"Add a LUCI builder for platform {i}")
    page = web.as_("ana").get("/me").text
    waiting = page.split('id="waiting-h"')[1].split('id="assigned-h"')[0]
    assert '<span class="count">103</span>' in waiting
    assert "the oldest 100 of 103 are listed" in waiting
    mine = web.as_("rita").get("/me").text.split('id="requests-h"')[1]
    assert (
        '<span class="count">103</span>' in mine and "The 50 most recently updated of 103" in mine
    )


def test_board_cards_show_the_nearest_slo_clock(web: Web, clock: ManualClock) -> None:
    key = web.file("Emulator pool almost out of quota")
    ana = web.as_("ana")
    card = _card(ana.get("/desks/infra/board").text, key)
    assert 'class="card-clock clock-running">triage due in 4h' in card
    clock.advance(hours=5)  # Monday 09:00 + 5 h: past the 4 business hours
    card = _card(ana.get("/desks/infra/board").text, key)
    assert 'class="card-clock clock-breached">triage overdue 1h 0m<' in card
    clock.advance(days=4)  # long overdue reads in days and hours, never "28h00m"
    card = _card(ana.get("/desks/infra/board").text, key)
    assert re.search(r'clock-breached">triage overdue \d+d \d+h<', card), card
    web.triage(key, priority="P0", assignee="bo")
    card = _card(ana.get("/desks/infra/board").text, key)
    assert 'clock-running">update due in' in card  # P0: the daily update cadence now runs


def _card(page: str, key: str) -> str:
    start = page.index(f'id="card-{key}"')
    return page[start : page.index("</li>", start)]


def test_oncall_page_warns_of_double_booking(web: Web) -> None:
    from datetime import timedelta

    from dutydesk.oncall import overrides as oncall
    from dutydesk.oncall.schemas import OverrideIn

    before = web.as_("eva").get("/oncall").text
    assert 'data-testid="no-warnings"' in before
    start = web.state.now() + timedelta(days=3)
    web.run(
        "eva",
        lambda ctx: oncall.create_override(
            ctx,
            "set",
            OverrideIn(
                person="eva", layer="playbooks", start=start, end=start + timedelta(hours=8)
            ),
        ),
    )
    page = web.as_("rita").get("/oncall").text
    warnings = page.split('data-testid="oncall-warnings"')[1].split("</ul>")[0]
    assert "Double-booked" in warnings
    assert "eva is on call on set/channels and set/playbooks at once" in warnings


def test_free_signal_on_board_oncall_and_me(web: Web) -> None:
    board = web.as_("finn").get("/desks/set/board").text
    signal = board.split('data-testid="free-signal"')[1].split("</p>")[0]
    assert "gus, eva, ivan, kai" in signal
    assert 'data-testid="me-free"' in web.as_("eva").get("/me").text
    assert 'data-testid="me-free"' not in web.as_("finn").get("/me").text  # not on call
    key = web.file("Crash when opening a channel", desk="set", kind="bug")
    with web.ctx("eva") as ctx:
        service.assign(ctx, key, "eva", None)
        service.move(ctx, key, "In progress", None, None, None)
    board = web.as_("finn").get("/desks/set/board").text
    signal = board.split('data-testid="free-signal"')[1].split("</p>")[0]
    assert "eva" not in signal and "gus" in signal  # a ticket in progress: never called free
    oncall = web.as_("rita").get("/oncall").text
    free_set = oncall.split('data-testid="free-set"')[1].split("</p>")[0]
    assert "Gus Garcia" in free_set and "Eva Eriksen" not in free_set
    assert 'data-testid="me-free"' not in web.as_("eva").get("/me").text


def test_oncall_forms_refuse_with_the_services_words(web: Web) -> None:
    finn = web.as_("finn")
    no_csrf = finn.client.post(
        "/oncall/time-off", data={"start": "2027-02-03", "end": "2027-02-03"}
    )
    assert no_csrf.status_code == 403
    bad = finn.post("/oncall/time-off", {"start": "someday", "end": "2027-02-03"})
    assert bad.status_code == 422 and 'data-testid="oncall-error"' in bad.text
    assert "First day off" in bad.text.split('data-testid="oncall-error"')[1].split("</p>")[0]
    other = finn.post(
        "/oncall/time-off", {"person": "kai", "start": "2027-02-03", "end": "2027-02-03"}
    )
    assert other.status_code == 403 and "only kai or a lead of desk set" in other.text
    gus = web.as_("gus")  # leads SET's rotation now, with no lead role
    done = gus.post(
        "/oncall/time-off", {"person": "kai", "start": "2027-02-03", "end": "2027-02-03"}
    )
    assert done.status_code == 303 and done.headers["location"] == "/oncall?done=time-off"
    page = gus.get("/oncall?done=time-off").text
    assert "Time off saved" in page and "Kai Kim" in page.split('data-testid="time-off"')[1]
    swap = finn.post(
        "/oncall/set/swaps", {"person_a": "finn", "shift_a": "2026-12-16", "person_b": "eva"}
    )
    assert swap.status_code == 303, swap.text
    page = finn.get("/oncall").text
    set_section = page.split('id="oc-set"')[1]
    upcoming = set_section.split("Next shifts")[1].split("</table>")[0]
    assert 'Eva Eriksen <span class="badge">swap</span>' in upcoming  # labelled, not recoloured
    assert finn.post("/oncall/nope/take").status_code == 404
