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
