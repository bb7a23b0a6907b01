"""iCalendar export (subscription feeds) and import (PagerDuty, Grafana OnCall, GoAlert, calendars)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from icalendar import Calendar

from dutydesk.oncall.ical import ImportedShift, export_ics, import_ics, shift_uid
from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Swap
from dutydesk.policy.rotations import LEAD

from .rotations import infra, set_rotation, utc
from .strategies import scenarios

STAMP = datetime(2026, 1, 1, tzinfo=UTC)
PEOPLE = {"ana", "bo", "chen", "dee"}


def crlf(text: str) -> bytes:
    return "\r\n".join(line.strip() for line in text.strip().splitlines()).encode() + b"\r\n"


# ------------------------------------------------------------------------------------------
# Export


def test_export_is_a_publishable_subscription_feed() -> None:
    got = Schedule(infra()).shifts(utc(2026, 3, 1), utc(2026, 3, 20))
    data = export_ics("infra-oncall", got, generated_at=STAMP, refresh=timedelta(minutes=30))
    text = data.decode()
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//dutydesk//on-call//EN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:On call: infra-oncall",
        "REFRESH-INTERVAL;VALUE=DURATION:PT30M",
        "X-PUBLISHED-TTL:PT30M",
        "SUMMARY:On call: ana (primary)",
        "DTSTART:20260302T180000Z",
        "DTEND:20260309T170000Z",  # the DST week: 167 hours, in UTC
        "DTSTAMP:20260101T000000Z",
        "TRANSP:TRANSPARENT",
    ]:
        assert line + "\r\n" in text, line
    cal = Calendar.from_ical(data)
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(got) == 4
    assert len({str(e["UID"]) for e in events}) == 4
    assert (
        export_ics("infra-oncall", got, generated_at=STAMP, refresh=timedelta(minutes=30)) == data
    )


def test_uids_are_stable_per_slot_and_survive_a_swap() -> None:
    spec = infra()
    window = (utc(2026, 2, 1), utc(2026, 3, 1))
    plain = Schedule(spec).shifts(*window)
    swap = Swap(plain[1].person, plain[1].start, plain[2].person, plain[2].start)
    swapped = Schedule(spec, swaps=[swap]).shifts(*window)
    assert [shift_uid("infra", s) for s in plain] == [shift_uid("infra", s) for s in swapped]
    assert shift_uid("infra", plain[0]) != shift_uid("other", plain[0])
    team = Schedule(set_rotation()).on_call(utc(2026, 2, 1))
    assert shift_uid("set", team[LEAD]) != shift_uid("set", team["channels"])


def test_personal_feed_keeps_one_person() -> None:
    got = Schedule(infra()).shifts(utc(2026, 1, 1), utc(2026, 4, 1))
    data = export_ics("infra-oncall", got, person="bo", generated_at=STAMP)
    events = list(Calendar.from_ical(data).walk("VEVENT"))
    assert {str(e["SUMMARY"]) for e in events} == {"On call: bo (primary)"}
    assert len(events) == 3
    assert b"X-WR-CALNAME:On call: bo (infra-oncall)" in data


def test_export_describes_overrides_and_warnings() -> None:
    from dutydesk.oncall.shifts import Override, TimeOff

    ov = Override(utc(2026, 2, 11), utc(2026, 2, 12), "dee", id="o1")
    off = TimeOff("dee", utc(2026, 2, 11, 6), utc(2026, 2, 11, 8))
    got = Schedule(infra(), [ov], time_off=[off]).shifts(utc(2026, 2, 11), utc(2026, 2, 12))
    data = export_ics("infra-oncall", got, generated_at=STAMP)
    event = next(e for e in Calendar.from_ical(data).walk("VEVENT") if "dee" in str(e["SUMMARY"]))
    description = str(event["DESCRIPTION"])
    assert "Source: override" in description
    assert "Warning: dee is on call during their time off" in description


# ------------------------------------------------------------------------------------------
# Import fixtures, one per tool


PAGERDUTY = crlf(
    """
    BEGIN:VCALENDAR
    PRODID:-//PagerDuty Inc.//PagerDuty Scheduling//EN
    VERSION:2.0
    CALSCALE:GREGORIAN
    METHOD:PUBLISH
    X-WR-CALNAME:Infra Primary
    BEGIN:VEVENT
    DTSTART:20260105T180000Z
    DTEND:20260112T180000Z
    DTSTAMP:20260101T000000Z
    UID:Q1F1H2J3K4@pagerduty.com
    SUMMARY:On Call - Ana Alvarez - Infra Primary
    ATTENDEE;CN=Ana Alvarez:mailto:ana@example.com
    URL:https://acme.pagerduty.com/schedules#PX1Y2Z3
    END:VEVENT
    BEGIN:VEVENT
    DTSTART:20260112T180000Z
    DTEND:20260119T180000Z
    DTSTAMP:20260101T000000Z
    UID:Q5L6M7N8P9@pagerduty.com
    SUMMARY:On Call - Bo Brown - Infra Primary
    ATTENDEE;CN=Bo Brown:mailto:bo.brown@example.com
    END:VEVENT
    BEGIN:VEVENT
    DTSTART:20260119T180000Z
    DTEND:20260126T180000Z
    DTSTAMP:20260101T000000Z
    UID:Q0R1S2T3U4@pagerduty.com
    SUMMARY:On Call - Zed Zimmer - Infra Primary
    ATTENDEE;CN=Zed Zimmer:mailto:zed@example.com
    END:VEVENT
    END:VCALENDAR
    """
)

GRAFANA_ONCALL = crlf(
    """
    BEGIN:VCALENDAR
    VERSION:2.0
    PRODID://Grafana Labs//Grafana On-Call//
    CALSCALE:GREGORIAN
    X-WR-CALNAME:Infra
    X-WR-TIMEZONE:Europe/Berlin
    BEGIN:VTIMEZONE
    TZID:Europe/Berlin
    BEGIN:STANDARD
    DTSTART:19701025T030000
    RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
    TZOFFSETFROM:+0200
    TZOFFSETTO:+0100
    TZNAME:CET
    END:STANDARD
    BEGIN:DAYLIGHT
    DTSTART:19700329T020000
    RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
    TZOFFSETFROM:+0100
    TZOFFSETTO:+0200
    TZNAME:CEST
    END:DAYLIGHT
    END:VTIMEZONE
    BEGIN:VEVENT
    SUMMARY:[L1] chen
    DTSTART;TZID=Europe/Berlin:20260323T090000
    DTEND;TZID=Europe/Berlin:20260330T090000
    DTSTAMP:20260301T000000Z
    UID:amixr-7f3c-2026-03-23
    END:VEVENT
    BEGIN:VEVENT
    SUMMARY:[L2] Dee
    DTSTART;TZID=Europe/Berlin:20260323T090000
    DTEND;TZID=Europe/Berlin:20260330T090000
    DTSTAMP:20260301T000000Z
    UID:amixr-7f3d-2026-03-23
    END:VEVENT
    BEGIN:VEVENT
    SUMMARY:chen, bo
    DTSTART:20260330T070000Z
    DTEND:20260331T070000Z
    DTSTAMP:20260301T000000Z
    UID:amixr-7f3e-2026-03-30
    END:VEVENT
    END:VCALENDAR
    """
)

GOALERT_PERSONAL = crlf(
    """
    BEGIN:VCALENDAR
    PRODID:-//GoAlert//dev//EN
    VERSION:2.0
    CALSCALE:GREGORIAN
    METHOD:PUBLISH
    BEGIN:VEVENT
    UID:9c1f0b7a5e3d2c1b0a99887766554433
    SUMMARY:On-Call (GoAlert: Infra Primary)
    DTSTAMP:20260101T000000Z
    DTSTART:20260202T180000Z
    DTEND:20260209T180000Z
    BEGIN:VALARM
    ACTION:DISPLAY
    DESCRIPTION:REMINDER
    TRIGGER:-PT15M
    END:VALARM
    END:VEVENT
    END:VCALENDAR
    """
)

GOALERT_FULL = crlf(
    """
    BEGIN:VCALENDAR
    PRODID:-//GoAlert//dev//EN
    VERSION:2.0
    METHOD:PUBLISH
    BEGIN:VEVENT
    UID:aa11
    SUMMARY:Ana Alvarez On-Call (GoAlert: Infra Primary)
    DTSTAMP:20260101T000000Z
    DTSTART:20260202T180000Z
    DTEND:20260209T180000Z
    END:VEVENT
    BEGIN:VEVENT
    UID:aa12
    SUMMARY:Someone Else On-Call (GoAlert: Infra Primary)
    DTSTAMP:20260101T000000Z
    DTSTART:20260209T180000Z
    DTEND:20260216T180000Z
    END:VEVENT
    END:VCALENDAR
    """
)

SHARED_CALENDAR = crlf(
    """
    BEGIN:VCALENDAR
    PRODID:-//Google Inc//Google Calendar 70.9054//EN
    VERSION:2.0
    BEGIN:VEVENT
    UID:floating-1@google.com
    SUMMARY:On-call: bo
    DTSTART:20260309T100000
    DTEND:20260316T100000
    END:VEVENT
    BEGIN:VEVENT
    UID:allday-1@google.com
    SUMMARY:dee
    DTSTART;VALUE=DATE:20260307
    DTEND;VALUE=DATE:20260309
    END:VEVENT
    BEGIN:VEVENT
    UID:allday-2@google.com
    SUMMARY:On call: chen (primary)
    DTSTART;VALUE=DATE:20260310
    END:VEVENT
    BEGIN:VEVENT
    UID:duration-1@google.com
    SUMMARY:ANA
    DTSTART;TZID=America/Los_Angeles:20260301T100000
    DURATION:PT12H
    END:VEVENT
    BEGIN:VEVENT
    UID:organizer-1@google.com
    DTSTART:20260320T000000Z
    DTEND:20260321T000000Z
    ORGANIZER;CN=Chen Li:mailto:chen@example.com
    END:VEVENT
    BEGIN:VEVENT
    UID:weekly@google.com
    SUMMARY:On-call: ana
    DTSTART:20260105T180000Z
    DTEND:20260112T180000Z
    RRULE:FREQ=WEEKLY;INTERVAL=4
    END:VEVENT
    BEGIN:VEVENT
    UID:weekly@google.com
    RECURRENCE-ID:20260202T180000Z
    SUMMARY:On-call: bo
    DTSTART:20260202T180000Z
    DTEND:20260209T180000Z
    END:VEVENT
    BEGIN:VEVENT
    UID:cancelled@google.com
    SUMMARY:On-call: ana
    STATUS:CANCELLED
    DTSTART:20260401T000000Z
    DTEND:20260402T000000Z
    END:VEVENT
    BEGIN:VEVENT
    UID:backwards@google.com
    SUMMARY:On-call: ana
    DTSTART:20260402T000000Z
    DTEND:20260401T000000Z
    END:VEVENT
    END:VCALENDAR
    """
)


def test_import_pagerduty_maps_by_email_local_part_or_alias() -> None:
    result = import_ics(PAGERDUTY, PEOPLE, {"bo.brown@example.com": "bo"})
    assert result.shifts == (
        ImportedShift(utc(2026, 1, 5, 18), utc(2026, 1, 12, 18), "ana"),
        ImportedShift(utc(2026, 1, 12, 18), utc(2026, 1, 19, 18), "bo"),
    )
    assert result.unknown == ("Zed Zimmer",)
    # without the alias, "Bo Brown" / bo.brown@ is not guessed to be bo
    assert import_ics(PAGERDUTY, PEOPLE).unknown == ("Bo Brown", "Zed Zimmer")


def test_import_grafana_oncall_with_vtimezone_and_priorities() -> None:
    result = import_ics(GRAFANA_ONCALL, PEOPLE)
    assert result.unknown == ()
    assert result.shifts == (
        ImportedShift(utc(2026, 3, 23, 8), utc(2026, 3, 30, 7), "chen"),  # CET → CEST
        ImportedShift(utc(2026, 3, 23, 8), utc(2026, 3, 30, 7), "dee"),
        ImportedShift(utc(2026, 3, 30, 7), utc(2026, 3, 31, 7), "bo"),
        ImportedShift(utc(2026, 3, 30, 7), utc(2026, 3, 31, 7), "chen"),
    )


def test_import_goalert_personal_feed_needs_an_owner() -> None:
    assert import_ics(GOALERT_PERSONAL, PEOPLE, owner="ana").shifts == (
        ImportedShift(utc(2026, 2, 2, 18), utc(2026, 2, 9, 18), "ana"),
    )
    nobody = import_ics(GOALERT_PERSONAL, PEOPLE)
    assert nobody.shifts == () and nobody.skipped[0].endswith("names nobody")


def test_import_goalert_full_schedule_by_alias() -> None:
    result = import_ics(GOALERT_FULL, PEOPLE, {"ana alvarez": "ana"})
    assert result.shifts == (ImportedShift(utc(2026, 2, 2, 18), utc(2026, 2, 9, 18), "ana"),)
    assert result.unknown == ("Someone Else",)


def test_import_shared_calendar_times_and_skips() -> None:
    result = import_ics(SHARED_CALENDAR, PEOPLE, default_timezone="America/Los_Angeles")
    assert result.shifts == (
        ImportedShift(utc(2026, 3, 1, 18), utc(2026, 3, 2, 6), "ana"),  # TZID + DURATION, any case
        ImportedShift(utc(2026, 3, 7, 8), utc(2026, 3, 9, 7), "dee"),  # all day across DST
        ImportedShift(utc(2026, 3, 9, 17), utc(2026, 3, 16, 17), "bo"),  # floating 10:00 PDT
        ImportedShift(utc(2026, 3, 10, 7), utc(2026, 3, 11, 7), "chen"),  # one all-day date
        ImportedShift(utc(2026, 3, 20), utc(2026, 3, 21), "chen"),  # organizer mailto
    )
    assert result.unknown == ()
    reasons = "\n".join(result.skipped)
    assert reasons.count("recurring events are not expanded") == 2  # master and its exception
    assert "cancelled" in reasons and "ends before it starts" in reasons


def test_import_rejects_garbage_and_bad_aliases() -> None:
    with pytest.raises(ValueError, match="not an iCalendar file"):
        import_ics(b"hello", PEOPLE)
    with pytest.raises(ValueError, match="unknown user 'zed'"):
        import_ics(PAGERDUTY, PEOPLE, {"Zed Zimmer": "zed"})


def test_import_accepts_text_and_ignores_non_events() -> None:
    todo = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VTODO\nUID:1\nSUMMARY:ana\nEND:VTODO\nEND:VCALENDAR\n"
    assert import_ics(todo, PEOPLE).shifts == ()


# ------------------------------------------------------------------------------------------
# Round trips


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_export_then_import_gives_the_same_shifts(
    case: tuple[Schedule, datetime, datetime, list[object], list[object]],
) -> None:
    sched, start, end, _, _ = case
    got = sched.shifts(start, end)
    data = export_ics(sched.spec.name, got, generated_at=STAMP)
    back = import_ics(data, sched.spec.people)
    assert set(back.shifts) == {ImportedShift(s.utc_start, s.utc_end, s.person) for s in got}
    assert back.unknown == () and back.skipped == ()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(teams=False))
def test_summary_alone_round_trips(
    case: tuple[Schedule, datetime, datetime, list[object], list[object]],
) -> None:
    """Another tool that drops our X- properties still yields the same people."""
    sched, start, end, _, _ = case
    got = sched.shifts(start, end)
    data = export_ics(sched.spec.name, got, generated_at=STAMP)
    stripped = b"\r\n".join(x for x in data.split(b"\r\n") if not x.startswith(b"X-DUTYDESK"))
    back = import_ics(stripped, {p.upper() for p in sched.spec.people})
    assert {(s.start, s.end, s.person.lower()) for s in back.shifts} == {
        (s.utc_start, s.utc_end, s.person) for s in got
    }
