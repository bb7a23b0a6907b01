"""Pages search as their viewer: internal notes never make a ticket match for a reporter."""

from __future__ import annotations

from dutydesk.tickets import service
from tests.web.conftest import Web

SECRET = "xylophonist"


def _noted(web: Web) -> str:
    key = web.file("Builder is slow")
    web.run("ana", lambda ctx: service.add_comment(ctx, key, f"a {SECRET} asked", public=False))
    return key


def test_queue_search_matches_internal_notes_only_for_responders(web: Web) -> None:
    key = _noted(web)
    for n in (1, 3, len(SECRET)):
        params = {"view": "all", "q": SECRET[:n]}
        assert (
            f"/tickets/{key}" not in web.as_("rita").get("/desks/infra/queue", params=params).text
        )
    page = web.as_("ana").get("/desks/infra/queue", params={"view": "all", "q": SECRET})
    assert page.status_code == 200 and f"/tickets/{key}" in page.text


def test_duplicate_suggestions_never_read_internal_notes(web: Web) -> None:
    """Suggestions are shown beside what reporters read: they are made of public text alone,
    for every viewer, so no page can hint at what a note says."""
    key = _noted(web)
    hint = {"title": f"{SECRET} keyboard broken"}
    for user in ("rita", "ana"):
        assert key not in web.as_(user).get("/desks/infra/new/hint", params=hint).text
    other = web.file(f"{SECRET} keyboard broken")
    for user in ("rita", "ana"):
        assert f'href="/tickets/{key}"' not in web.as_(user).get(f"/tickets/{other}").text
    assert SECRET not in web.as_("rita").get(f"/tickets/{key}").text


def test_header_search_spans_the_viewers_desks_and_keeps_notes_to_responders(web: Web) -> None:
    key = _noted(web)
    bug = web.file("Builder crash on the mobile app", desk="set", who="sam", kind="bug")
    rita = web.as_("rita").get("/search", params={"q": "builder"})
    assert rita.status_code == 200
    assert f"/tickets/{key}" in rita.text and f"/tickets/{bug}" in rita.text  # every desk
    assert "2 tickets for “builder”" in rita.text
    only_set = web.as_("rita").get("/search", params={"q": "builder", "desk": "set"}).text
    assert f"/tickets/{bug}" in only_set and f"/tickets/{key}" not in only_set
    # Internal notes make a ticket match only for the desk's responders.
    assert f"/tickets/{key}" not in web.as_("rita").get("/search", params={"q": SECRET}).text
    ana = web.as_("ana").get("/search", params={"q": SECRET}).text
    assert f"/tickets/{key}" in ana
    # ana's desks are infra only: the SET ticket is not searched for her.
    assert f"/tickets/{bug}" not in web.as_("ana").get("/search", params={"q": "builder"}).text
    header = web.as_("ana").get("/me").text
    assert (
        'role="search" method="get" action="/search"' in header
        and 'aria-keyshortcuts="/"' in header
    )
    empty = web.as_("ana").get("/search", params={"q": "!!!"})
    assert empty.status_code == 200 and "Nothing matches" in empty.text
    assert web.as_("ana").get("/search").status_code == 200
