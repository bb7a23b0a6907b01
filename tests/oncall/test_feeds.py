"""iCalendar feeds read back with the icalendar library, secret calendar links, and
importing a schedule exported from another tool."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress
from sqlalchemy import select

from dutydesk.oncall.models import FeedToken
from dutydesk.state import AppState
from tests.conftest import Api

INFRA = "/api/v1/rotations/infra-oncall"


def events(data: bytes) -> list[tuple[datetime, datetime, str]]:
    cal = Calendar.from_ical(data)
    return sorted(
        (ev.decoded("dtstart"), ev.decoded("dtend"), str(ev["X-DUTYDESK-PERSON"]))
        for ev in cal.walk("VEVENT")
    )


def shift_instants(
    api: Api, path: str, params: dict[str, str]
) -> list[tuple[datetime, datetime, str]]:
    r = api.req("rita", "GET", path, params=params)
    assert r.status_code == 200, r.text
    return sorted(
        (
            datetime.fromisoformat(x["start"]).astimezone(UTC),
            datetime.fromisoformat(x["end"]).astimezone(UTC),
            x["person"],
        )
        for x in r.json()
    )


def test_team_feed_matches_the_schedule_with_overrides_and_swaps(api: Api) -> None:
    api.post(
        "dee", f"{INFRA}/overrides", {"person": "ana", "start": "2026-11-25", "end": "2026-11-26"}
    )
    api.post(
        "ana", f"{INFRA}/swaps", {"person_a": "ana", "shift_a": "2026-12-07", "person_b": "bo"}
    )
    window = {"from": "2026-10-01", "to": "2027-04-01"}  # both DST changes
    r = api.req("rita", "GET", f"{INFRA}/calendar.ics", params=window)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    assert str(cal["VERSION"]) == "2.0" and str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "On call: infra-oncall"
    assert events(r.content) == shift_instants(api, f"{INFRA}/shifts", window)
    # UIDs are stable, so subscribed calendars update events in place.
    again = api.req("rita", "GET", f"{INFRA}/calendar.ics", params=window)
    uids = [str(e["UID"]) for e in Calendar.from_ical(r.content).walk("VEVENT")]
    assert uids == [str(e["UID"]) for e in Calendar.from_ical(again.content).walk("VEVENT")]
    assert len(set(uids)) == len(uids)
    default = api.req("rita", "GET", f"{INFRA}/calendar.ics")
    assert len(events(default.content)) >= 60  # 90 days back, a year ahead


def test_set_feed_has_every_layer(api: Api) -> None:
    window = {"from": "2026-11-20", "to": "2026-12-20"}
    r = api.req("rita", "GET", "/api/v1/rotations/set/calendar.ics", params=window)
    cal = Calendar.from_ical(r.content)
    summaries = sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT"))
    assert "On call: gus (lead)" in summaries and "On call: lee (platform)" in summaries
    assert events(r.content) == shift_instants(api, "/api/v1/rotations/set/shifts", window)


def test_secret_links_for_calendar_clients(api: Api, state: AppState) -> None:
    made = api.post("ana", f"{INFRA}/feed-tokens")
    assert made.status_code == 201, made.text
    token, url = made.json()["token"], made.json()["url"]
    assert url == f"{INFRA}/calendar.ics?token={token}"
    plain = api.client.get(url)  # no Authorization header: a calendar client
    assert plain.status_code == 200 and b"BEGIN:VEVENT" in plain.content
    assert api.client.get(f"{INFRA}/calendar.ics").status_code == 401
    wrong = api.client.get(f"{INFRA}/calendar.ics?token=ddc_not-a-token")
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert api.client.get(f"/api/v1/rotations/set/calendar.ics?token={token}").status_code == 401
    with state.db.read() as s:
        stored = s.scalars(select(FeedToken.token_hash)).all()
    assert stored and token not in stored  # only the hash is kept
    listed = api.req("ana", "GET", "/api/v1/feed-tokens").json()
    assert [(t["kind"], t["subject"], t["token"]) for t in listed] == [
        ("rotation", "infra-oncall", None)
    ]
    assert api.req("chen", "DELETE", f"/api/v1/feed-tokens/{made.json()['id']}").status_code == 403
    assert api.req("ana", "DELETE", f"/api/v1/feed-tokens/{made.json()['id']}").status_code == 200
    assert api.client.get(url).status_code == 401  # revoked


def test_personal_feed(api: Api) -> None:
    made = api.post("bo", "/api/v1/people/bo/feed-tokens")
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    r = api.client.get(
        "/api/v1/people/bo/calendar.ics",
        params={"token": token, "from": "2026-11-01", "to": "2027-03-01"},
    )
    assert r.status_code == 200, r.text
    cal = Calendar.from_ical(r.content)
    assert str(cal["X-WR-CALNAME"]) == "On call: bo"
    got = events(r.content)
    assert {p for _, _, p in got} == {"bo"}
    assert [s.date().isoformat() for s, _, _ in got] == [
        "2026-11-16",
        "2026-12-14",
        "2027-01-11",
        "2027-02-08",
    ]
    assert (
        api.client.get(f"/api/v1/people/ana/calendar.ics?token={made.json()['token']}").status_code
        == 401
    )
    assert api.post("ana", "/api/v1/people/bo/feed-tokens").status_code == 403
    assert api.post("dee", "/api/v1/people/bo/feed-tokens").status_code == 201  # a lead
    with_bearer = api.req("eva", "GET", "/api/v1/people/eva/calendar.ics")
    assert {
        str(e["X-DUTYDESK-LAYER"]) for e in Calendar.from_ical(with_bearer.content).walk("VEVENT")
    } == {
        "channels",
        "lead",
    }


def _export(*items: tuple[datetime, datetime, str, str | None]) -> str:
    cal = Calendar()
    cal.add("prodid", "-//PagerDuty Inc.//PagerDuty//EN")
    cal.add("version", "2.0")
    for i, (start, end, summary, email) in enumerate(items):
        ev = Event()
        ev.add("uid", f"Q{i}@pagerduty.com")
        ev.add("dtstart", start)
        ev.add("dtend", end)
        ev.add("summary", summary)
        if email:
            ev.add("attendee", vCalAddress(f"mailto:{email}"))
        cal.add_component(ev)
    return cal.to_ical().decode()


def pst(day: int, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, 18, tzinfo=UTC)  # 10:00 in Los Angeles (winter)


def test_import_a_pagerduty_export_reporting_unknown_names(api: Api) -> None:
    ics = _export(
        (pst(9, 11), pst(16, 11), "On Call - Bo Brandt - Infra", None),  # already served
        (pst(30, 11), pst(7), "On Call - Ana Alvarez - Infra", None),  # display name
        (pst(7), pst(14), "On Call - Chen - Infra", "chen@example.com"),  # attendee e-mail
        (pst(14), pst(21), "On Call - Zed Zimmer - Infra", None),  # nobody here
    )
    url = f"{INFRA}/import"
    assert api.post("ana", url, {"ics": ics}).status_code == 403
    dry = api.post("dee", url, {"ics": ics, "dry_run": True})
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert [(x["person"], x["start"]) for x in body["imported"]] == [
        ("ana", "2026-11-30T10:00:00-08:00"),
        ("chen", "2026-12-07T10:00:00-08:00"),
    ]
    assert (body["unknown"], body["past"]) == (["Zed Zimmer"], 1)
    assert api.req("rita", "GET", f"{INFRA}/overrides").json() == []  # nothing stored
    refused = api.post("dee", url, {"ics": ics})
    assert refused.status_code == 422
    assert "unknown people in the calendar: Zed Zimmer" in refused.json()["detail"]
    assert refused.json()["unknown"] == ["Zed Zimmer"]
    done = api.post("dee", url, {"ics": ics, "aliases": {"Zed Zimmer": "dee"}})
    assert done.status_code == 201, done.text
    assert len(done.json()["override_ids"]) == 3
    stored = api.req("rita", "GET", f"{INFRA}/overrides").json()
    assert {o["kind"] for o in stored} == {"import"}
    got = api.req(
        "rita",
        "GET",
        f"{INFRA}/shifts",
        params={"from": "2026-11-30T10:00", "to": "2026-12-21T10:00"},
    )
    assert [(x["person"], x["source"]) for x in got.json()] == [
        ("ana", "override"),
        ("chen", "override"),
        ("dee", "override"),
    ]
    again = api.post("dee", url, {"ics": ics, "aliases": {"Zed Zimmer": "dee"}})
    assert again.status_code == 409 and "overlaps the imported shifts" in again.json()["detail"]
    replaced = api.post("dee", url, {"ics": ics, "aliases": {"Zed Zimmer": "bo"}, "replace": True})
    assert replaced.status_code == 201, replaced.text
    history = api.req("rita", "GET", f"{INFRA}/history").json()["items"]
    assert history[0]["action"] == "import" and "imported 3 shift(s)" in history[0]["summary"]
    bad = api.post("dee", url, {"ics": "hello"})
    assert bad.status_code == 422 and "ics" in bad.json()["detail"]
    skipped = api.post(
        "dee",
        url,
        {
            "ics": _export((pst(4, 1, 2027), pst(11, 1, 2027), "Zed Zimmer", None)),
            "skip_unknown": True,
        },
    )
    assert skipped.status_code == 422 and "no shifts from now on" in skipped.json()["detail"]
