"""``dutydesk oncall`` commands against the test database (SQLite, or PostgreSQL when
DUTYDESK_TEST_DATABASE_URL is set): the demo SET rotation listed for three years and counted
per person, and recurring calendars exported by Outlook and PagerDuty imported (dry run
first, then for real)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dutydesk.state import AppState

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = Path(__file__).parents[2] / "examples" / "dutydesk.toml"
WINDOW = ["--from", "2027-01-01T00:00:00-08:00", "--until", "2027-04-05T10:00:00-07:00"]


@dataclass
class Out:
    code: int
    stdout: str
    stderr: str


Run = Callable[..., Out]


def cli_on(state: AppState) -> Run:
    """``dutydesk`` in this process on the test's database, as a newcomer types it, on the
    test's clock (Monday 2026-11-23 09:00 in Los Angeles unless the test moves it)."""
    from dutydesk.cli import app, client
    from dutydesk.settings import get_settings

    real_state = client.local_state

    def on_the_tests_clock(check_schema: bool = True) -> AppState:
        found = real_state(check_schema)
        found.clock = state.clock
        return found

    env = {
        "DUTYDESK_DATABASE_URL": state.db.url,
        "DUTYDESK_POLICY": str(EXAMPLE),
        "DUTYDESK_URL": None,
        "COLUMNS": "200",
    }

    def run(*args: str, ok: bool = True) -> Out:
        get_settings.cache_clear()
        client.local_state = on_the_tests_clock
        try:
            found = CliRunner().invoke(app, list(args), env=env)
        finally:
            client.local_state = real_state
            get_settings.cache_clear()
        out = Out(found.exit_code, found.stdout, found.stderr)
        if ok:
            assert out.code == 0, (out.stderr, found.exception)
        return out

    return run


@pytest.fixture
def run(state: AppState) -> Run:
    return cli_on(state)


def test_demo_set_rotation_over_three_years_every_member_leads_fairly(run: Run) -> None:
    listed = json.loads(
        run(
            "--json",
            "oncall",
            "schedule",
            "set",
            "--from",
            "2027-01-16T09:00",
            "--to",
            "2030-01-16T09:00",
        ).stdout
    )
    leads = Counter(x["person"] for x in listed if x["layer"] == "lead")
    served = Counter(x["person"] for x in listed if x["layer"] != "lead")
    assert sum(leads.values()) == 36  # one lead per monthly shift
    assert set(leads) == set(served) == {"eva", "finn", "gus", "hana", "ivan", "jo", "kai", "lee"}
    for a in served:
        for b in served:
            if served[a] == served[b]:
                assert abs(leads[a] - leads[b]) <= 1, (leads, served)
    for x in listed:  # the lead serves on their own team's layer in the same shift
        if x["layer"] == "lead":
            assert (x["start"], x["person"]) in {
                (y["start"], y["person"]) for y in listed if y["layer"] == x["team"]
            }


def test_outlook_recurring_export_dry_run_then_import(run: Run, tmp_path: Path) -> None:
    path = FIXTURES / "outlook_infra_oncall.ics"
    dry = run(
        "--as",
        "dee",
        "--json",
        "oncall",
        "import-ics",
        "infra-oncall",
        str(path),
        *WINDOW,
        "--dry-run",
    )
    out = json.loads(dry.stdout)
    assert out["unknown"] == [] and out["conflicts"] == [] and out["skipped"] == []
    got = [(x["person"], x["start"], x["end"]) for x in out["imported"]]
    assert got == [
        ("ana", "2027-01-04T10:00:00-08:00", "2027-01-11T10:00:00-08:00"),
        ("bo", "2027-01-11T10:00:00-08:00", "2027-01-18T10:00:00-08:00"),
        ("chen", "2027-01-18T10:00:00-08:00", "2027-01-25T10:00:00-08:00"),
        ("dee", "2027-01-25T10:00:00-08:00", "2027-02-01T10:00:00-08:00"),
        ("ana", "2027-02-01T10:00:00-08:00", "2027-02-08T10:00:00-08:00"),
        ("bo", "2027-02-09T10:00:00-08:00", "2027-02-15T10:00:00-08:00"),  # RECURRENCE-ID
        ("chen", "2027-02-15T10:00:00-08:00", "2027-02-22T10:00:00-08:00"),
        ("dee", "2027-02-22T10:00:00-08:00", "2027-03-01T10:00:00-08:00"),
        # Ana's 1 March week is an EXDATE: the rotation keeps it.
        ("bo", "2027-03-08T10:00:00-08:00", "2027-03-15T10:00:00-07:00"),  # across DST
        ("chen", "2027-03-15T10:00:00-07:00", "2027-03-22T10:00:00-07:00"),
        ("dee", "2027-03-22T10:00:00-07:00", "2027-03-29T10:00:00-07:00"),
        ("ana", "2027-03-29T10:00:00-07:00", "2027-04-05T10:00:00-07:00"),
    ]
    # Dee's 22 March week moved to end a day late runs into Ana's: reported, then refused.
    clash = path.read_text().replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\n"
        "UID:040000008200E00074C5B7101A82E00800000000A1B2C3D4E5F6D901000000000000000010000000DD44\r\n"
        "SUMMARY;LANGUAGE=en-US:Dee Douglas on call\r\n"
        "DTSTART;TZID=Pacific Standard Time:20270322T100000\r\n"
        "DTEND;TZID=Pacific Standard Time:20270330T100000\r\n"
        "RECURRENCE-ID;TZID=Pacific Standard Time:20270322T100000\r\n"
        "DTSTAMP:20261202T101500Z\r\n"
        "X-MICROSOFT-CDO-INSTTYPE:3\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR",
    )
    clashing = tmp_path / "clash.ics"
    clashing.write_text(clash)
    preview = run(
        "--as", "dee", "oncall", "import-ics", "infra-oncall", str(clashing), *WINDOW, "--dry-run"
    )
    assert "overlaps ana (Mon 2027-03-29 10:00" in preview.stderr
    assert "the import would be refused: 1 conflict(s)" in preview.stderr
    refused = run(
        "--as", "dee", "oncall", "import-ics", "infra-oncall", str(clashing), *WINDOW, ok=False
    )
    assert refused.code == 1 and "overlaps ana (Mon 2027-03-29 10:00" in refused.stderr
    assert json.loads(run("--json", "oncall", "overrides", "infra-oncall").stdout) == []
    done = run("--as", "dee", "--json", "oncall", "import-ics", "infra-oncall", str(path), *WINDOW)
    assert len(json.loads(done.stdout)["override_ids"]) == 12
    stored = json.loads(run("--json", "oncall", "overrides", "infra-oncall").stdout)
    assert len(stored) == 12
    shown = json.loads(
        run(
            "--json",
            "oncall",
            "schedule",
            "infra-oncall",
            "--from",
            "2027-02-10",
            "--to",
            "2027-02-11",
        ).stdout
    )
    assert [x["person"] for x in shown] == ["bo"]
    # The same export again (say, updated): the dry run names each stored override it would
    # replace; the import refuses without --replace and replaces them with it.
    again = run(
        "--as", "dee", "oncall", "import-ics", "infra-oncall", str(path), *WINDOW, "--dry-run"
    )
    assert again.stderr.count("overlaps the imported shifts; pass replace") == 12
    assert (
        run(
            "--as", "dee", "oncall", "import-ics", "infra-oncall", str(path), *WINDOW, ok=False
        ).code
        == 1
    )
    replaced = run(
        "--as",
        "dee",
        "--json",
        "oncall",
        "import-ics",
        "infra-oncall",
        str(path),
        *WINDOW,
        "--replace",
    )
    assert len(json.loads(replaced.stdout)["override_ids"]) == 12
    assert len(json.loads(run("--json", "oncall", "overrides", "infra-oncall").stdout)) == 12


def test_pagerduty_export_maps_people_by_email_and_login(run: Run) -> None:
    path = str(FIXTURES / "pagerduty_infra_primary.ics")
    window = ["--from", "2027-04-05T10:00:00-07:00", "--until", "2027-05-03T10:00:00-07:00"]
    dry = run("--as", "dee", "oncall", "import-ics", "infra-oncall", path, *window, "--dry-run")
    assert "would import 3 shift(s)" in dry.stdout
    assert (
        "unknown person: bo.brandt@corp.example (map with --alias 'bo.brandt@corp.example=USER')"
        in dry.stderr
    )
    refused = run("--as", "dee", "oncall", "import-ics", "infra-oncall", path, *window, ok=False)
    assert refused.code == 1
    assert "unknown people in the calendar: bo.brandt@corp.example" in refused.stderr
    assert "--alias 'Name=user'" in refused.stderr
    done = run(
        "--as", "dee", "--json", "oncall", "import-ics", "infra-oncall", path, *window,
        "--alias", "bo.brandt@corp.example=bo",
    )  # fmt: skip
    got = [(x["person"], x["start"][:10]) for x in json.loads(done.stdout)["imported"]]
    # ana and chen by their e-mail, dee by her login (the address's local part), bo by alias
    assert got == [
        ("ana", "2027-04-05"),
        ("bo", "2027-04-12"),
        ("chen", "2027-04-19"),
        ("dee", "2027-04-26"),
    ]


def test_gaps_lists_a_double_booking_made_from_the_command_line(run: Run) -> None:
    now = json.loads(run("--json", "oncall", "now", "infra").stdout)
    assert now["layers"][0]["person"] == "bo"  # the test's clock: bo until the 10:00 handoff
    day = ["--from", "2027-01-05", "--to", "2027-01-06", "--layer", "channels"]
    person = json.loads(run("--json", "oncall", "schedule", "set", *day).stdout)[0]["person"]
    made = run(
        "--as", "admin", "oncall", "override", "set", person,
        "--layer", "playbooks", "--from", "2027-01-05", "--until", "2027-01-05",
    )  # fmt: skip
    assert f"{person} is on call on set/channels and set/playbooks at once" in made.stdout
    gaps = run("--json", "oncall", "gaps", "--days", "400", "--rotation", "set", ok=False)
    assert gaps.code == 2
    found = json.loads(gaps.stdout)["conflicts"]
    assert [(c["kind"], c["person"], c["where"]) for c in found] == [
        ("double-booked", person, ["set/channels", "set/playbooks"])
    ]
