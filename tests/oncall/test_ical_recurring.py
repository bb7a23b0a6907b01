"""Importing a recurring calendar exactly as Google Calendar exports it: weekly series with an
interval, an EXDATE (a holiday week), a moved instance (RECURRENCE-ID), X-WR-TIMEZONE, and
summaries like "Ana Alvarez on call" that name people by display name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dutydesk.oncall.ical import ImportedShift, import_ics
from tests.conftest import Api

GOOGLE = (Path(__file__).parent / "fixtures" / "google_infra_oncall.ics").read_text()
URL = "/api/v1/rotations/infra-oncall/import"
PEOPLE = {"ana", "bo", "chen", "dee"}
NAMES = {"Ana Alvarez": "ana", "Bo Brandt": "bo", "Chen Cho": "chen", "Dee Douglas": "dee"}


def pst(month: int, day: int, year: int = 2026, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour + 8, tzinfo=UTC)


def test_series_expand_with_exdate_and_a_moved_instance() -> None:
    window = (pst(11, 23, hour=9), pst(2, 1, 2027))
    result = import_ics(GOOGLE, PEOPLE, NAMES, default_timezone="UTC", window=window)
    assert result.unknown == () and result.skipped == ()
    assert list(result.shifts) == [
        ImportedShift(pst(11, 30), pst(12, 7), "ana"),
        ImportedShift(pst(12, 7), pst(12, 14), "bo"),
        ImportedShift(pst(12, 14), pst(12, 21), "chen"),
        ImportedShift(pst(12, 21), pst(12, 28), "dee"),
        ImportedShift(pst(12, 28), pst(1, 4, 2027), "bo"),  # Ana's week is an EXDATE
        ImportedShift(pst(1, 4, 2027), pst(1, 11, 2027), "bo"),
        ImportedShift(pst(1, 12, 2027), pst(1, 18, 2027), "chen"),  # moved by RECURRENCE-ID
        ImportedShift(pst(1, 18, 2027), pst(1, 25, 2027), "dee"),
        ImportedShift(pst(1, 25, 2027), pst(2, 1, 2027), "ana"),  # cut to the window
    ]
    # Without a window a recurring series is reported, never silently dropped.
    unexpanded = import_ics(GOOGLE, PEOPLE, NAMES)
    assert len(unexpanded.shifts) == 1 and len(unexpanded.skipped) == 5


def test_display_name_summaries() -> None:
    one = GOOGLE.replace("Chen Cho on call", "Chen Cho is on-call")
    window = (pst(12, 14), pst(12, 21))
    got = import_ics(one, PEOPLE, NAMES, window=window)
    assert [s.person for s in got.shifts] == ["chen"]
    assert import_ics(one, PEOPLE, window=window).unknown == ("Chen Cho",)


def test_import_api_expands_the_window_and_dry_run_reports_the_refusals(api: Api) -> None:
    body = {"ics": GOOGLE, "dry_run": True, "end": "2027-02-01T10:00:00-08:00"}
    dry = api.post("dee", URL, body)
    assert dry.status_code == 200, dry.text
    out = dry.json()
    assert out["conflicts"] == [] and out["unknown"] == []  # display names map people
    assert out["past"] == 1  # Ana's November week was served already
    assert [(x["person"], x["start"][:10]) for x in out["imported"]] == [
        ("ana", "2026-11-30"),
        ("bo", "2026-12-07"),
        ("chen", "2026-12-14"),
        ("dee", "2026-12-21"),
        ("bo", "2026-12-28"),
        ("bo", "2027-01-04"),
        ("chen", "2027-01-12"),
        ("dee", "2027-01-18"),
        ("ana", "2027-01-25"),
    ]
    # Dee's moved week now runs into Ana's: the dry run says what the import will refuse.
    clash = GOOGLE.replace(
        "END:VCALENDAR",
        "\r\n".join(
            [
                "BEGIN:VEVENT",
                "DTSTART;TZID=America/Los_Angeles:20270118T100000",
                "DTEND;TZID=America/Los_Angeles:20270126T100000",
                "RECURRENCE-ID;TZID=America/Los_Angeles:20270118T100000",
                "DTSTAMP:20261120T181502Z",
                "UID:7r4am1f9k2pq5dc8vl0jh3ns6e@google.com",
                "SEQUENCE:1",
                "STATUS:CONFIRMED",
                "SUMMARY:Dee Douglas on call",
                "END:VEVENT",
                "END:VCALENDAR",
            ]
        ),
    )
    preview = api.post("dee", URL, {**body, "ics": clash})
    assert preview.status_code == 200, preview.text
    conflicts = preview.json()["conflicts"]
    assert len(conflicts) == 1
    assert conflicts[0].startswith("dee (Mon 2027-01-18 10:00") and "overlaps ana" in conflicts[0]
    refused = api.post("dee", URL, {**body, "ics": clash, "dry_run": False})
    assert refused.status_code == 409 and refused.json()["conflicts"] == conflicts
    assert api.req("rita", "GET", "/api/v1/rotations/infra-oncall/overrides").json() == []
    done = api.post("dee", URL, {**body, "dry_run": False})
    assert done.status_code == 201, done.text
    assert len(done.json()["override_ids"]) == 9
    stored = api.req("rita", "GET", "/api/v1/rotations/infra-oncall/overrides").json()
    assert {o["person"] for o in stored} == PEOPLE


def test_window_is_checked(api: Api) -> None:
    bad = api.post("dee", URL, {"ics": GOOGLE, "dry_run": True, "end": "2026-01-01T00:00:00Z"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("end")
    long = api.post("dee", URL, {"ics": GOOGLE, "dry_run": True, "end": "2030-01-01T00:00:00Z"})
    assert long.status_code == 422 and "two years" in long.json()["detail"]


# Google Calendar writes an event with guests like this: the organizer is a guest too.
GUESTS = (
    "ORGANIZER;CN=Dee Douglas:mailto:dee@example.com\r\n"
    "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Dee Dou\r\n"
    " glas;X-NUM-GUESTS=0:mailto:dee@example.com\r\n"
    "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;CN=an\r\n"
    " a@example.com;X-NUM-GUESTS=0:mailto:ana@example.com\r\n"
)


def test_an_invited_organizer_is_not_put_on_call(api: Api) -> None:
    """Dee organizes Ana's recurring on-call week and invites her: Ana is on call, not both."""
    text = GOOGLE.replace("\r\n", "\n").replace("\n", "\r\n")
    invited = text.replace(
        "SUMMARY:Ana Alvarez on call\r\n", "SUMMARY:Ana Alvarez on call\r\n" + GUESTS, 1
    )
    assert invited != text
    window = (pst(11, 29), pst(12, 7))
    got = import_ics(invited, PEOPLE, NAMES, window=window)
    assert [s.person for s in got.shifts] == ["ana"]
    body = {"ics": invited, "dry_run": True, "end": "2027-02-01T10:00:00-08:00"}
    dry = api.post("dee", URL, body)
    assert dry.status_code == 200, dry.text
    assert dry.json()["conflicts"] == []
    assert [x["person"] for x in dry.json()["imported"]][:2] == ["ana", "bo"]
    # A summary that names nobody known leaves the guests to say who.
    unnamed = invited.replace("SUMMARY:Ana Alvarez on call\r\n", "SUMMARY:Infra pager\r\n", 1)
    assert [s.person for s in import_ics(unnamed, PEOPLE, NAMES, window=window).shifts] == [
        "ana",
        "dee",
    ]
