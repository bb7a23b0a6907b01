"""Every lead power of the SET desk tried three ways, through the API and the web pages:
as the rotation's current lead (gus: a responder with no lead role, leading the 16 Nov -
16 Dec shift), as a plain member (finn), and as last month's lead once the shift has ended
(gus after the 16 Dec handoff to hana). Allowed actions are recorded with gus as the actor.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from dutydesk.auth.models import User
from dutydesk.oncall.models import TimeOffRow
from tests.conftest import Api, ManualClock
from tests.oncall.test_api import SET, problem, who

NOTES = "/api/v1/desks/set/status-notes"
HANDOFF = datetime(2026, 12, 16, 15, tzinfo=UTC)  # 10:00 in Toronto: hana leads SET now


def history(api: Api) -> list[tuple[str, str]]:
    items = api.req("rita", "GET", f"{SET}/history").json()["items"]
    return [(i["action"], i["actor"]) for i in items]


def test_status_notes_added_and_removed_only_while_leading(api: Api, clock: ManualClock) -> None:
    assert who(api, "set")["lead"] == "gus"
    note = api.post("gus", NOTES, {"text": "Release 11.2 slipped a week"})
    assert note.status_code == 201, note.text
    second = api.post("gus", NOTES, {"text": "Hotfix 11.1.3 ships Friday"})
    assert second.status_code == 201, second.text
    refused = api.post("finn", f"{NOTES}/{note.json()['id']}/remove")
    detail = problem(refused, 403)
    assert "finn (responder) may not remove status notes on desk set" in detail
    assert "gus leads set's rotation now" in detail
    removed = api.post("gus", f"{NOTES}/{note.json()['id']}/remove")
    assert removed.status_code == 200, removed.text
    listed = api.req("rita", "GET", NOTES).json()
    texts = [n["text"] for n in (listed["items"] if isinstance(listed, dict) else listed)]
    assert texts == ["Hotfix 11.1.3 ships Friday"]
    clock.now = HANDOFF
    late = api.post("gus", f"{NOTES}/{second.json()['id']}/remove")
    assert "hana leads set's rotation now" in problem(late, 403)
    assert problem(api.post("gus", NOTES, {"text": "x"}), 403)


def test_on_call_changes_for_others_only_while_leading(api: Api, clock: ManualClock) -> None:
    swap = {"person_a": "eva", "shift_a": "2027-01-20", "person_b": "finn"}
    made = api.post("gus", f"{SET}/swaps", swap)
    assert made.status_code == 201, made.text
    plain = api.post("finn", f"{SET}/swaps", {**swap, "shift_a": "2027-03-20"})
    assert plain.status_code == 201, plain.text  # finn swaps his own shift: his right
    other = api.post(
        "finn", f"{SET}/swaps", {"person_a": "ivan", "shift_a": "2027-01-20", "person_b": "jo"}
    )
    detail = problem(other, 403)
    assert "finn may not swap other people's shifts: only ivan or jo, or a lead" in detail
    cover = api.post(
        "finn",
        f"{SET}/overrides",
        {"person": "jo", "replaces": "ivan", "start": "2026-12-01", "end": "2026-12-02"},
    )
    assert "only ivan or jo, or a lead of desk set" in problem(cover, 403)
    off = api.post(
        "gus", "/api/v1/time-off", {"person": "ivan", "start": "2026-12-03", "end": "2026-12-03"}
    )
    assert off.status_code == 201, off.text
    assert ("swap.create", "gus") in history(api)
    with api.client.app.state.dutydesk.db.read() as s:  # type: ignore[attr-defined]
        row = s.get(TimeOffRow, off.json()["id"])
        assert row is not None
        assert s.scalar(select(User.name).where(User.id == row.created_by_id)) == "gus"

    clock.now = HANDOFF
    late_swap = api.post(
        "gus", f"{SET}/swaps", {"person_a": "ivan", "shift_a": "2027-01-20", "person_b": "jo"}
    )
    assert "only ivan or jo, or a lead" in problem(late_swap, 403)
    late_off = api.post(
        "gus", "/api/v1/time-off", {"person": "kai", "start": "2027-01-05", "end": "2027-01-05"}
    )
    assert "only kai or a lead of desk set" in problem(late_off, 403)
    hana = api.post(
        "hana", "/api/v1/time-off", {"person": "kai", "start": "2027-01-05", "end": "2027-01-05"}
    )
    assert hana.status_code == 201, hana.text


def test_ordering_to_do_is_for_the_desks_members(api: Api, clock: ManualClock) -> None:
    """Ordering To do within a class is every SET member's (DESIGN: members may reorder by
    hand within a class), so the rotating lead holds it too; a reporter does not."""
    first = api.file(desk="set", title="Crash when opening a pinned channel", kind="bug")["key"]
    clock.advance(minutes=1)
    second = api.file(desk="set", title="Search ignores quoted phrases", kind="bug")["key"]
    moved = api.post("gus", f"/api/v1/tickets/{second}/rank", {"before": first})
    assert moved.status_code == 200, moved.text
    queue = api.req("gus", "GET", "/api/v1/desks/set/queue").json()
    keys = [t["key"] for t in queue["items"]]
    assert keys.index(second) < keys.index(first)
    events = api.req("rita", "GET", f"/api/v1/tickets/{second}/events").json()
    ranked = [
        e
        for e in (events["items"] if isinstance(events, dict) else events)
        if e["type"] == "ranked"
    ]
    assert ranked and ranked[-1]["actor"] == "gus"
    refused = api.post("rita", f"/api/v1/tickets/{first}/rank", {"before": second})
    assert "reorder the queue" in problem(refused, 403)


def test_time_off_reasons_are_shown_to_leads_of_the_persons_desks_only(api: Api) -> None:
    """Leading SET shows the reasons of SET people's time off, not of infra people's."""
    for who_, person in (("bo", "bo"), ("kai", "kai")):
        off = {"person": person, "start": "2026-12-09", "end": "2026-12-09", "reason": "dentist"}
        assert api.post(who_, "/api/v1/time-off", off).status_code == 201
    seen = {x["person"]: x["reason"] for x in api.req("gus", "GET", "/api/v1/time-off").json()}
    assert seen == {"bo": "", "kai": "dentist"}
    plain = {x["person"]: x["reason"] for x in api.req("finn", "GET", "/api/v1/time-off").json()}
    assert plain == {"bo": "", "kai": ""}
    infra = {x["person"]: x["reason"] for x in api.req("dee", "GET", "/api/v1/time-off").json()}
    assert infra["bo"] == "dentist"


def test_clock_recompute_and_suggestion_rebuild_only_while_leading(
    api: Api, clock: ManualClock
) -> None:
    for path in ("/api/v1/desks/set/slo/recompute", "/api/v1/desks/set/suggestions/rebuild"):
        assert api.post("gus", path).status_code == 200, path
        refused = problem(api.post("finn", path), 403)
        assert "finn (responder) may not" in refused and "on desk set" in refused
        assert "the rotation's current lead shift (gus leads set's rotation now)" in refused
    clock.now = HANDOFF
    for path in ("/api/v1/desks/set/slo/recompute", "/api/v1/desks/set/suggestions/rebuild"):
        assert "hana leads set's rotation now" in problem(api.post("gus", path), 403)
