"""What ``dutydesk check`` and start-up run on a policy file: the file read and validated, then
everything start-up and the first requests build from it (every calendar with its holiday
tables, every rotation's schedule, every desk's SLO rules), all errors reported in one round.

Start-up calls :func:`load_checked_policy` too, so the server refuses exactly the policies
``check`` refuses, with the same message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dutydesk.oncall.schedule import Schedule
from dutydesk.policy.loader import (
    PolicyError,
    Problem,
    find_line,
    loc_to_path,
    read_policy,
    read_policy_file,
)
from dutydesk.policy.models import CalendarPolicy, Policy
from dutydesk.policy.rotations import ScheduleError, rotation_from_policy
from dutydesk.slo.calendar import BusinessCalendar
from dutydesk.slo.holidays import holiday_dates
from dutydesk.slo.policy import build_calendar, compile_rules
from dutydesk.tickets.schemas import TicketFilter


def load_checked_policy(path: Path) -> Policy:
    """The policy in ``path``, or a PolicyError listing every problem with its location."""
    return check_policy_text(read_policy_file(path), str(path))


def check_policy_text(text: str, filename: str = "dutydesk.toml") -> Policy:
    reading = read_policy(text)
    problems = list(reading.problems)
    calendars, built = _build_calendars(reading.raw, text)
    problems += built
    # With broken tables, what did validate is still checked: every problem in one round.
    sound = reading.policy or reading.partial
    if sound is not None:
        problems += _rotation_problems(sound, text)
        problems += _slo_problems(sound, calendars, text)
        problems += _saved_filter_problems(sound, text)
    if problems or reading.policy is None:
        raise PolicyError(filename, problems)
    return reading.policy


def _build_calendars(
    raw: dict[str, Any], text: str
) -> tuple[dict[str, BusinessCalendar], list[Problem]]:
    """Build each calendar that validates on its own, holiday tables included: an unknown
    country or subdivision otherwise shows only when the first business time is computed."""
    built: dict[str, BusinessCalendar] = {}
    problems: list[Problem] = []
    tables = raw.get("calendars")
    if not isinstance(tables, dict):
        return built, problems
    for name, table in tables.items():
        where = f"calendars.{name}"
        try:
            spec = CalendarPolicy.model_validate(table)
        except ValidationError:
            continue  # reported by the policy's own validation, with its location
        problem = _holiday_problem(where, spec, text)
        if problem is not None:
            problems.append(problem)
            continue
        try:
            built[name] = build_calendar(spec)
        except ValueError as exc:
            problems.append(Problem(where, str(exc), find_line(text, where)))
    return built, problems


def _holiday_problem(where: str, spec: CalendarPolicy, text: str) -> Problem | None:
    """Look the country up, then its subdivision, so the problem names the key to fix."""
    hol = spec.holidays
    for key, subdivision, fix in (
        ("country", None, "use an ISO 3166 code such as 'US' or 'CA'"),
        ("subdivision", hol.subdivision, "use one the holidays package knows, e.g. 'CA' or 'ON'"),
    ):
        if key == "subdivision" and not hol.subdivision:
            return None
        try:
            holiday_dates(hol.country, subdivision, (), (), ())
        except ValueError as exc:
            at = f"{where}.holidays.{key}"
            return Problem(at, f"{exc}; {fix}, or list closures under 'extra'", find_line(text, at))
    return None


def _rotation_problems(policy: Policy, text: str) -> list[Problem]:
    problems: list[Problem] = []
    for name, rot in policy.rotations.items():
        where = f"rotations.{name}"
        try:
            Schedule(rotation_from_policy(name, rot.table()))
        except ScheduleError as exc:
            for error in exc.errors:
                message = error.removeprefix(f"{where}: ").removeprefix(f"{where}.")
                problems.append(Problem(where, message, find_line(text, where)))
    return problems


def _slo_problems(
    policy: Policy, calendars: dict[str, BusinessCalendar], text: str
) -> list[Problem]:
    problems: list[Problem] = []
    for name, desk in policy.desks.items():
        if desk.calendar and desk.calendar not in calendars:
            continue  # its calendar's own problem is reported already
        try:
            compile_rules(desk.slo, calendars[desk.calendar] if desk.calendar else None)
        except ValueError as exc:
            where = f"desks.{name}.slo"
            problems.append(Problem(where, str(exc), find_line(text, where)))
    return problems


def _saved_filter_problems(policy: Policy, text: str) -> list[Problem]:
    """Each declared saved filter must be a query the ticket filter grammar can run."""
    problems: list[Problem] = []
    for name, saved in policy.saved_filters.items():
        try:
            TicketFilter.model_validate(saved.query)
        except ValidationError as exc:
            for err in exc.errors():
                where = f"saved_filters.{name}.query.{loc_to_path(err['loc'])}"
                problems.append(Problem(where, err["msg"], find_line(text, where)))
    return problems


def column_role_warnings(policy: Policy) -> list[str]:
    """Desks whose columns between intake and done play no role: nothing there needs an
    assignee. Legal, but worth a word, since the roles come from column names by default."""
    out: list[str] = []
    for name, desk in policy.desks.items():
        middle = [c for c in desk.columns[1:] if c != desk.done_column]
        if desk.assignee_columns or not middle or desk.workflow.requires_assignee is not None:
            continue
        roleless = [c for c in middle if c != desk.triaged_column]
        if roleless:
            out.append(
                f"desks.{name}: no column needs an assignee (none is called 'In progress'); "
                f"to require one, declare it: [desks.{name}.workflow] started = {roleless[0]!r}"
            )
    return out
