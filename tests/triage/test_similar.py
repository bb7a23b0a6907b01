"""Possible duplicates of a title, on a real database."""

from __future__ import annotations

from dutydesk.state import AppState
from dutydesk.triage.service import SimilarTicket, similar_open_tickets
from tests.conftest import Api, ManualClock


def test_open_tickets_sharing_more_title_words_come_first(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    builder = api.file(title="Add a LUCI builder for linux web engine")
    linux = api.file(title="Linux bots are slow")
    api.file(title="Quota for the emulator pool")
    api.file(desk="set", title="Linux builder crash on the web engine")  # another desk
    closed = api.file(title="Web engine builder for linux again")
    r = api.post(
        "ana", f"/api/v1/tickets/{closed['key']}/move", {"to": "Done", "resolution": "wont-fix"}
    )
    assert r.status_code == 200, r.text
    with state.db.read() as s:
        found = similar_open_tickets(s, "infra", "linux web engine builder", clock.now)
        without = similar_open_tickets(
            s, "infra", "linux web engine builder", clock.now, exclude=found[0].id
        )
        nothing = similar_open_tickets(s, "infra", "quick request", clock.now)
    assert found == [
        SimilarTicket(found[0].id, builder["key"], builder["title"], "New"),
        SimilarTicket(found[1].id, linux["key"], linux["title"], "New"),
    ]
    assert [t.key for t in without] == [linux["key"]]
    assert nothing == []  # only generic words: nothing worth searching on
