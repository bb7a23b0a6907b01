"""Pydantic models of ``dutydesk.toml``.

Every model forbids unknown keys: a typo in policy must be an error, never silently ignored.
Cross-references (a desk naming a calendar, a person naming a desk) are checked in
:meth:`Policy.check_references` so each error can name its location.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dutydesk.durations import parse_duration
from dutydesk.policy.columns import check_condition, column_role_errors
from dutydesk.policy.imports import ImportMapping
from dutydesk.policy.ingress import GithubDeskPolicy, MailDeskPolicy, MailPolicy
from dutydesk.policy.notify import (
    DeskNotify,
    MeetingPolicy,
    NotifyPolicy,
    PersonNotify,
    StatusPostPolicy,
    notify_reference_errors,
)
from dutydesk.policy.rotations import ScheduleError, parse_every, rotation_from_policy

ROLES = ("reporter", "responder", "lead", "admin")
RESOLUTIONS = (
    "fixed",
    "duplicate",
    "wont-fix",
    "converted",
    "moved-to-backlog",
    "cannot-reproduce",
)
DEFAULT_KINDS = [
    "bug",
    "request",
    "incident",
    "question",
    "escalation",
    "feature-request",
    "story",
    "tech-debt",
]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as 'America/Los_Angeles'"
        ) from exc
    return value


def parse_interval(text: str) -> tuple[str, str]:
    """'09:00-17:00' -> ('09:00', '17:00'), checking that it is a real, non-empty range."""
    match = _HOURS.match(text.strip())
    if not match:
        raise ValueError(f"bad opening hours {text!r}; write them as 'HH:MM-HH:MM'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError(f"bad opening hours {text!r}; hours run 00:00 to 24:00")
    if (h2, m2) <= (h1, m1):
        raise ValueError(
            f"opening hours {text!r} end before they start; write an overnight shift "
            "as two intervals ('22:00-24:00' and '00:00-06:00' the next day)"
        )
    return f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"


class HolidaysPolicy(Strict):
    country: str | None = None
    subdivision: str | None = None
    extra: list[date] = []
    remove: list[date] = []


class CalendarPolicy(Strict):
    timezone: str
    hours: dict[str, str | list[str]]
    holidays: HolidaysPolicy = HolidaysPolicy()

    _zone = field_validator("timezone")(_check_zone)

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, value: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for day, spec in value.items():
            if day not in DAYS:
                raise ValueError(f"unknown day {day!r}; use one of {', '.join(DAYS)}")
            for item in [spec] if isinstance(spec, str) else spec:
                parse_interval(item)
        return value

    def intervals(self) -> dict[str, list[tuple[str, str]]]:
        return {
            day: [parse_interval(s) for s in ([spec] if isinstance(spec, str) else spec)]
            for day, spec in self.hours.items()
        }


class AppliesTo(Strict):
    priority: list[str] = []
    kind: list[str] = []


class SloPolicy(Strict):
    """One clock: a deadline (``within``) or a cadence that restarts on each update (``every``).

    A cadence defaults to ``starts = stops = "update"``; a deadline to filed → triaged.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    starts: Literal["filed", "update", "triaged", "started"] = "filed"
    stops: Literal["triaged", "update", "resolved", "started"] = "triaged"
    within: str | None = None
    every: str | None = None
    outside_hours: Literal["end of next business day", "next open"] | None = None
    applies_to: AppliesTo = AppliesTo()
    pause_when: Literal["blocked"] | None = None
    at_risk: float = Field(0.75, gt=0, lt=1)

    @model_validator(mode="before")
    @classmethod
    def _cadence_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("every") is not None:
            data = {"starts": "update", "stops": "update", **data}
        return data

    @model_validator(mode="after")
    def _target(self) -> SloPolicy:
        if (self.within is None) == (self.every is None):
            raise ValueError(
                "an SLO needs exactly one target: 'within' (one deadline) or 'every' (a cadence)"
            )
        target = parse_duration(self.within or self.every or "")
        if target.is_zero:
            raise ValueError(f"the target {self.within or self.every!r} must be longer than zero")
        if self.every is not None and self.stops != "update":
            raise ValueError(
                "a cadence ('every') restarts on each update: use stops = \"update\", "
                "or 'within' for a one-off deadline"
            )
        if self.within is not None and self.starts == self.stops:
            raise ValueError(
                f"starts and stops are both {self.starts!r}: the clock would stop as it starts"
            )
        if self.outside_hours is not None and (self.within is None or not target.business):
            raise ValueError(
                "outside_hours applies only to a 'within' target in business time, "
                'e.g. within = "4 business hours"'
            )
        return self


class OrderRule(Strict):
    class_: str = Field(alias="class")
    when: str
    then: list[str] = []


OrderItem = Annotated[str | OrderRule, Field(union_mode="left_to_right")]


class TriageMeetings(Strict):
    days: list[str]
    at: time
    daily_before_release: str | None = None
    release_day: int = Field(16, ge=1, le=31)


class Workflow(Strict):
    """Which columns play which part. Defaults come from the column names."""

    triaged: str | None = None
    started: str | None = None
    done: str | None = None
    requires_assignee: list[str] | None = None
    # Columns a ticket enters only with a PR link (SET: "Submitted" means the fix PR is up).
    requires_pr_link: list[str] = []
    transitions: dict[str, list[str]] | None = None


class Prompt(Strict):
    """One section of a desk's description template, e.g. "Why": what is blocked, since when."""

    heading: str = Field(min_length=1, max_length=40)
    hint: str = ""
    required: bool = False  # filing without this section (and some text in it) is refused


class DeskPolicy(Strict):
    title: str = ""
    calendar: str | None = None
    columns: list[str] = Field(min_length=2)
    priorities: list[str] = ["P0", "P1", "P2", "P3"]
    admit: list[str] | None = None
    # With `admit` and `criteria`: an untriaged ticket enters the urgent queue only when its
    # reporter ticked a criterion; otherwise it waits in the backlog for the weekly triage.
    criteria_required: bool = True
    # Priorities that must be kept moving: end-of-day nudges, the handoff's "Open P0/P1".
    urgent: list[str] | None = None
    criteria: list[str] = []
    kinds: list[str] = DEFAULT_KINDS
    categories: list[str] = []
    teams: list[str] = []
    # The teams whose tickets this desk's queue (and board) holds. A ticket routed to another
    # of ``teams`` (a feature team) leaves the queue for that team's view; unrouted tickets
    # stay. Unset: every team's tickets stay.
    queue_teams: list[str] | None = None
    # The desk a non-bug is converted to (a story or feature request, e.g. "product"):
    # offered first on the ticket page; any desk with the kind may be named.
    convert_to: str | None = None
    order: list[OrderItem] = ["priority", "created"]
    untriaged: Literal["first", "last"] = "first"
    rotation: str | None = None
    slo: list[SloPolicy] = []
    triage_meetings: TriageMeetings | None = None
    idle_after: str = "3 business days"
    workflow: Workflow = Workflow()
    # The filing form's description template, and an example of a good title for this desk.
    prompts: list[Prompt] = []
    title_example: str | None = None
    notify: DeskNotify = DeskNotify()
    meetings: list[MeetingPolicy] = []
    status_post: StatusPostPolicy | None = None
    github: GithubDeskPolicy | None = None
    mail: MailDeskPolicy | None = None
    imports: ImportMapping = ImportMapping()  # how other trackers' values map onto this desk

    @field_validator("columns", "priorities", "kinds", "teams", "categories")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        seen = [v for i, v in enumerate(value) if v in value[:i]]
        if seen:
            raise ValueError(f"{seen[0]!r} is listed twice")
        return value

    @field_validator("idle_after")
    @classmethod
    def _idle(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DeskPolicy:
        # Every inconsistency at once, so one run of `dutydesk check` lists them all.
        errors: list[str] = []
        for p in self.admit or []:
            if p not in self.priorities:
                errors.append(f"admit names {p!r}, which is not in priorities {self.priorities}")
        for team in self.queue_teams or []:
            if team not in self.teams:
                errors.append(f"queue_teams names {team!r}, which is not in teams {self.teams}")
        for p in self.urgent or []:
            if p not in self.priorities:
                errors.append(f"urgent names {p!r}, which is not in priorities {self.priorities}")
        wf = self.workflow
        for name in [
            wf.triaged,
            wf.started,
            wf.done,
            *(wf.requires_assignee or []),
            *wf.requires_pr_link,
        ]:
            if name is not None and name not in self.columns:
                errors.append(f"workflow names column {name!r}, not one of {self.columns}")
        for src, dests in (wf.transitions or {}).items():
            for name in [src, *dests]:
                if name not in self.columns:
                    errors.append(f"transitions name column {name!r}, not one of {self.columns}")
        errors.extend(column_role_errors(self.columns, wf))
        for slo in self.slo:
            for p in slo.applies_to.priority:
                if p not in self.priorities:
                    errors.append(
                        f"slo {slo.name!r} applies to priority {p!r}, "
                        f"which is not in priorities {self.priorities}"
                    )
            for k in slo.applies_to.kind:
                if k not in self.kinds:
                    errors.append(
                        f"slo {slo.name!r} applies to kind {k!r}, which is not in kinds {self.kinds}"
                    )
        for reason, resolution in (self.github.resolutions if self.github else {}).items():
            if resolution not in RESOLUTIONS:
                raise ValueError(
                    f"github state_reason {reason!r} maps to {resolution!r}, not one of "
                    f"{', '.join(RESOLUTIONS)}"
                )
        for gh_label, target in (self.github.labels if self.github else {}).items():
            field, _, choice = target.partition(":")
            allowed = {"kind": self.kinds, "category": self.categories}.get(field)
            if allowed is not None and choice not in allowed:
                raise ValueError(
                    f"github label {gh_label!r} maps to {field} {choice!r}, not one of {allowed}"
                )
        for item in self.order:
            if isinstance(item, str) and item not in ("priority", "created", "rank"):
                errors.append(
                    f"order item {item!r} is unknown; use 'priority', 'created', 'rank' "
                    "or a table { class = ..., when = ... }"
                )
            if isinstance(item, OrderRule):
                for cond in [item.when, *item.then]:
                    try:
                        check_condition(cond)
                    except ValueError as exc:
                        errors.append(str(exc))
        errors += self.imports.errors(
            kinds=self.kinds,
            priorities=self.priorities,
            categories=self.categories,
            teams=self.teams,
            columns=self.columns,
        )
        if errors:
            # One problem per line; "at KEY: " names the key within the desk (policy.loader).
            raise ValueError("\n".join(errors))
        return self

    @property
    def urgent_priorities(self) -> list[str]:
        """``urgent``, or the desk's first two priorities when policy does not say."""
        return self.priorities[:2] if self.urgent is None else self.urgent

    # Column roles, derived once from names unless the policy says otherwise.
    @property
    def intake_column(self) -> str:
        return self.columns[0]

    @property
    def done_column(self) -> str:
        return self.workflow.done or self.columns[-1]

    @property
    def triaged_column(self) -> str | None:
        if self.workflow.triaged:
            return self.workflow.triaged
        return "Triaged" if "Triaged" in self.columns else None

    @property
    def started_column(self) -> str | None:
        if self.workflow.started:
            return self.workflow.started
        return "In progress" if "In progress" in self.columns else None

    @property
    def assignee_columns(self) -> list[str]:
        if self.workflow.requires_assignee is not None:
            return self.workflow.requires_assignee
        if self.started_column is None:
            return []
        start = self.columns.index(self.started_column)
        return [c for c in self.columns[start:] if c != self.done_column]

    def allowed_moves(self, column: str) -> list[str]:
        """Forward to any later column, back one step; Done only reopens to the intake."""
        if self.workflow.transitions is not None:
            return list(self.workflow.transitions.get(column, []))
        if column == self.done_column:
            return [self.intake_column]
        i = self.columns.index(column)
        back = [self.columns[i - 1]] if i > 0 else []
        return back + self.columns[i + 1 :]

    def admits(
        self, priority: str | None, criteria: Sequence[str], team: str | None = None
    ) -> bool:
        """Whether a ticket belongs in the urgent queue (else the weekly-triage backlog, or
        the view of the team it was routed to).

        A ticket routed to a team outside ``queue_teams`` is that team's work. Otherwise a
        priority decides once set (triage); before that, on a desk that admits by criteria,
        whether the reporter ticked one.
        """
        if not self.routed_here(team):
            return False
        if priority is not None:
            return self.admit is None or priority in self.admit
        return not self.admits_by_criteria or bool(criteria)

    def routed_here(self, team: str | None) -> bool:
        """Whether a ticket of ``team`` is this desk's own work (not routed to another team)."""
        return team is None or self.queue_teams is None or team in self.queue_teams

    @property
    def admits_by_criteria(self) -> bool:
        """Untriaged tickets need a ticked criterion to enter the queue."""
        return bool(self.admit and self.criteria and self.criteria_required)


class RotationPolicy(Strict):
    timezone: str
    every: str
    handoff: str
    members: list[str] = []
    teams: dict[str, list[str]] = {}
    one_per_team: bool = False
    lead: Literal["rotate-teams"] | None = None
    lead_order: list[str] = []
    start: date | None = None
    skip: Literal["swap-later", "next"] = "swap-later"
    # Time off overlapping a shift by at most this (e.g. "4 hours") does not move the shift:
    # the days off are covered (cover_days). Default: any time off moves a shift shorter than
    # two weeks; up to a week of time off is covered day by day in longer (monthly) shifts.
    skip_min_overlap: str | None = None
    # The next member in list order serves only the hours off of someone who keeps their
    # shift (time off shorter than skip_min_overlap); false: they stay on call with a warning.
    cover_days: bool = True

    _zone = field_validator("timezone")(_check_zone)

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        try:
            parse_every(value)  # the grammar the schedule is built from, reported on this key
        except ValueError as exc:
            raise ValueError(str(exc).removeprefix("every: ")) from None
        return value

    @model_validator(mode="after")
    def _layers(self) -> RotationPolicy:
        if self.one_per_team and not self.teams:
            raise ValueError("one_per_team = true needs 'teams' with each team's members")
        if not self.one_per_team and not self.members:
            raise ValueError("a rotation needs 'members' (or one_per_team with 'teams')")
        for team in self.lead_order:
            if team not in self.teams:
                raise ValueError(f"lead_order names team {team!r}, not one of {list(self.teams)}")
        # The rotation grammar is the single judge of the rest (handoff format, lead rules):
        # whatever passes here also builds a schedule.
        try:
            rotation_from_policy("_", self.table())
        except ScheduleError as exc:
            raise ValueError(
                "; ".join(
                    e.removeprefix("rotations._.").removeprefix("rotations._: ") for e in exc.errors
                )
            ) from None
        return self

    def table(self) -> dict[str, Any]:
        """The keys as written (defaults left out): the input of ``rotation_from_policy``."""
        return self.model_dump(exclude_defaults=True, exclude_none=True)

    def people(self) -> set[str]:
        return set(self.members).union(*self.teams.values()) if self.teams else set(self.members)


class PersonPolicy(Strict):
    name: str = ""
    email: str | None = None
    roles: list[Literal["reporter", "responder", "lead", "admin"]] = ["reporter"]
    desks: list[str] = []
    team: str | None = None
    password: str | None = None  # demo policies only; real installs set passwords by CLI
    notify: PersonNotify = PersonNotify()
    chat: dict[Literal["slack", "mattermost"], str] = {}  # chat user id or name per platform
    github: str | None = None  # GitHub login: their issues and comments are theirs here


class SavedFilterPolicy(Strict):
    description: str = ""
    query: dict[str, Any]


class WebPolicy(Strict):
    """Pages: hosts whose https images rendered markdown may show (default: this server's only;
    an image from anywhere else becomes a link, so no tracking pixel loads)."""

    image_hosts: list[str] = []

    @field_validator("image_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not re.fullmatch(
                r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", host
            ):
                raise ValueError(f"{host!r} is not a host name like images.example.com")
        return value


class Policy(Strict):
    calendars: dict[str, CalendarPolicy] = {}
    desks: dict[str, DeskPolicy]
    rotations: dict[str, RotationPolicy] = {}
    people: dict[str, PersonPolicy] = {}
    saved_filters: dict[str, SavedFilterPolicy] = {}
    notify: NotifyPolicy = NotifyPolicy()
    mail: MailPolicy = MailPolicy()
    web: WebPolicy = WebPolicy()

    @field_validator("desks", "people", "rotations", "calendars")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(
                    f"name {name!r} must start with a lowercase letter and use only a-z, 0-9, "
                    "'-' or '_' (at most 40 characters)"
                )
        return value

    @model_validator(mode="after")
    def check_references(self) -> Policy:
        if not self.desks:
            raise ValueError("declare at least one desk under [desks.NAME]")
        return self

    def reference_errors(self) -> list[tuple[str, str]]:
        """Cross-references, each as (location, message)."""
        errors: list[tuple[str, str]] = []
        for name, desk in self.desks.items():
            if desk.calendar and desk.calendar not in self.calendars:
                errors.append(
                    (
                        f"desks.{name}.calendar",
                        f"unknown calendar {desk.calendar!r}; "
                        f"declare [calendars.{desk.calendar}] or use one of {sorted(self.calendars)}",
                    )
                )
            if desk.rotation and desk.rotation not in self.rotations:
                errors.append(
                    (
                        f"desks.{name}.rotation",
                        f"unknown rotation {desk.rotation!r}; "
                        f"declare [rotations.{desk.rotation}] or use one of {sorted(self.rotations)}",
                    )
                )
            if desk.convert_to and desk.convert_to not in self.desks:
                errors.append(
                    (
                        f"desks.{name}.convert_to",
                        f"unknown desk {desk.convert_to!r}; one of {sorted(self.desks)}",
                    )
                )
            if desk.slo and not desk.calendar:
                errors.append(
                    (f"desks.{name}.slo", "SLOs need a business calendar: set 'calendar'")
                )
        for rname, rot in self.rotations.items():
            for person in sorted(rot.people()):
                if self.people and person not in self.people:
                    errors.append(
                        (f"rotations.{rname}", f"member {person!r} is not declared under [people]")
                    )
        for pname, declared in self.people.items():
            for desk_name in declared.desks:
                if desk_name not in self.desks:
                    errors.append(
                        (
                            f"people.{pname}.desks",
                            f"unknown desk {desk_name!r}; use one of {sorted(self.desks)}",
                        )
                    )
        errors.extend(notify_reference_errors(self))
        return errors
