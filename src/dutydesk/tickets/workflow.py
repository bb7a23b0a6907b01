"""The workflow as pure rules (no database): which moves a desk allows, what a column or a
resolution requires, what a closed ticket refuses and what a reporter may do.

Each rule answers ``None`` (allowed) or a typed refusal that names the rule; the use cases in
:mod:`dutydesk.tickets.service` gather the facts, ask, and raise ``refusal.error()``. The
moves themselves come from :meth:`DeskPolicy.allowed_moves`: forward to any later column, back
one step, and from the done column only back to the intake column (or the policy's own
``transitions``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from dutydesk.errors import DomainError, Forbidden, RuleViolation, field_error
from dutydesk.policy.models import RESOLUTIONS, DeskPolicy

# What a reporter may change on a ticket they filed; everything else needs a responder.
REPORTER_FIELDS = frozenset({"title", "description", "criteria"})
# Set during triage by the on-call, never by whoever files the ticket.
RESPONDER_FILING_FIELDS = ("priority", "assignee")


@dataclass(frozen=True)
class RuleRefused:
    """A workflow rule refused the change (409); ``allowed`` lists the moves that are open."""

    rule: str
    message: str
    allowed: tuple[str, ...] = ()
    resolutions: tuple[str, ...] | None = None  # offered when a resolution is missing

    def error(self) -> DomainError:
        extra: dict[str, Any] = {}
        if self.resolutions is not None:
            extra["resolutions"] = list(self.resolutions)
        return RuleViolation(self.message, rule=self.rule, allowed=list(self.allowed), **extra)


@dataclass(frozen=True)
class InputRefused:
    """One input is wrong (422), named by ``field``."""

    rule: str
    field: str
    message: str

    def error(self) -> DomainError:
        return field_error(self.field, self.message)


@dataclass(frozen=True)
class RoleRefused:
    """The actor's role does not allow it (403); ``field`` names the input when one is to blame."""

    rule: str
    message: str
    field: str | None = None
    field_message: str = ""

    def error(self) -> DomainError:
        errors = [{"field": self.field, "message": self.field_message}] if self.field else None
        return Forbidden(self.message, errors=errors)


Refusal = RuleRefused | InputRefused | RoleRefused


@dataclass(frozen=True)
class TicketFacts:
    """What the workflow rules read of a ticket."""

    key: str
    desk: str
    status: str
    assigned: bool = False
    is_open: bool = True
    blocked: bool = False
    priority: str | None = None
    triaged: bool = False
    has_pr_link: bool = False


# ----------------------------------------------------------------------------- moves


def move_refusal(
    desk: DeskPolicy,
    ticket: TicketFacts,
    to: str,
    resolution: str | None,
    duplicate_of: str | None,
) -> Refusal | None:
    """Moving ``ticket`` to column ``to``, with the resolution the done column needs."""
    if to not in desk.columns:
        return InputRefused(
            "unknown-column",
            "to",
            f"{to!r} is not a column of desk {ticket.desk!r}: {', '.join(desk.columns)}",
        )
    allowed = tuple(desk.allowed_moves(ticket.status))
    if to == ticket.status:
        return RuleRefused("no-op-move", f"{ticket.key} is already in {to!r}", allowed)
    if to not in allowed:
        return RuleRefused(
            "column-order",
            f"{ticket.key} cannot move from {ticket.status!r} to {to!r}; "
            f"allowed moves: {', '.join(allowed) or 'none'}",
            allowed,
        )
    if to == desk.triaged_column and not ticket.triaged and ticket.priority is None:
        return RuleRefused(
            "triage-needs-priority",
            f"{ticket.key} has no priority yet: moving it to {to!r} is its triage, so triage "
            f"it with a priority (the Triage panel, `dutydesk triage {ticket.key} --priority "
            f"{desk.priorities[0]} --assignee NAME`, or POST /api/v1/tickets/{ticket.key}/triage)",
            tuple(c for c in allowed if c != to),
        )
    if to in desk.assignee_columns and not ticket.assigned:
        return RuleRefused(
            "assignee-required",
            f"{to!r} requires an assignee: assign {ticket.key} to someone first",
            tuple(c for c in allowed if c not in desk.assignee_columns),
        )
    if to in desk.workflow.requires_pr_link and not ticket.has_pr_link:
        return RuleRefused(
            "pr-link-required",
            f"{to!r} means the fix's pull request is up: give {ticket.key} its PR link with "
            f"the move (pr_link; `dutydesk move {ticket.key} {to!r} --pr URL`) or add it to "
            "the ticket's PR links first",
            tuple(c for c in allowed if c not in desk.workflow.requires_pr_link),
        )
    if to != desk.done_column:
        if resolution is not None or duplicate_of is not None:
            return InputRefused(
                "resolution-only-when-done",
                "resolution",
                f"a resolution is only set when moving to {desk.done_column!r}",
            )
        return None
    if resolution is None:
        return RuleRefused(
            "resolution-required",
            f"moving to {to!r} requires a resolution: one of {', '.join(RESOLUTIONS)}",
            allowed,
            resolutions=RESOLUTIONS,
        )
    if resolution not in RESOLUTIONS:
        return InputRefused(
            "unknown-resolution",
            "resolution",
            f"{resolution!r} is not one of {', '.join(RESOLUTIONS)}",
        )
    if resolution == "duplicate" and duplicate_of is None:
        return RuleRefused(
            "duplicate-needs-original",
            "resolution 'duplicate' requires duplicate_of: the key of the original ticket",
            allowed,
        )
    if resolution != "duplicate" and duplicate_of is not None:
        return InputRefused(
            "duplicate-of-without-duplicate",
            "duplicate_of",
            "only allowed with resolution 'duplicate'",
        )
    return None


@dataclass(frozen=True)
class TicketRef:
    id: int
    key: str


def duplicate_refusal(
    ticket: TicketRef, asked_for: str, original: TicketRef | None, chain: Sequence[int]
) -> Refusal | None:
    """Closing ``ticket`` as a duplicate of the ticket ``asked_for`` names (None: no such one).

    ``chain`` is what the original is itself a duplicate of, followed to its end: a ticket in
    it would become a duplicate of itself through the others.
    """
    if original is None:
        return InputRefused("unknown-original", "duplicate_of", f"no ticket {asked_for.upper()}")
    if original.id == ticket.id:
        return RuleRefused("duplicate-of-itself", f"{ticket.key} cannot be a duplicate of itself")
    if ticket.id in chain:
        return RuleRefused(
            "duplicate-cycle",
            f"{original.key} is already (via duplicates) a duplicate of {ticket.key}; "
            "closing this one as its duplicate would make a cycle",
        )
    return None


# ----------------------------------------------------------------------------- closed tickets


def assign_refusal(desk: DeskPolicy, ticket: TicketFacts) -> Refusal | None:
    if ticket.status == desk.done_column:
        return RuleRefused(
            "closed-ticket",
            f"{ticket.key} is done; reopen it before assigning",
            tuple(desk.allowed_moves(ticket.status)),
        )
    return None


def triage_refusal(desk: DeskPolicy, ticket: TicketFacts) -> Refusal | None:
    if ticket.status == desk.done_column:
        return RuleRefused(
            "closed-ticket",
            f"{ticket.key} is already done; reopen it to triage again",
            tuple(desk.allowed_moves(ticket.status)),
        )
    return None


def priority_clear_refusal(desk: DeskPolicy, ticket: TicketFacts) -> Refusal | None:
    """A ticket past triage keeps a priority; re-triage starts from the intake column."""
    if desk.triaged_column and ticket.triaged and ticket.status != desk.intake_column:
        return InputRefused(
            "triaged-keeps-priority",
            "priority",
            f"{ticket.key} is triaged and keeps a priority; move it back to "
            f"{desk.intake_column!r} to triage it again",
        )
    return None


def returns_to_intake(desk: DeskPolicy, ticket: TicketFacts, to: str) -> bool:
    """Moving back to the intake column undoes the triage (stamp and owner) on a desk whose
    triage has its own column: the ticket waits to be triaged again, under the triage SLO."""
    return (
        desk.triaged_column is not None
        and to == desk.intake_column
        and ticket.status != desk.intake_column
    )


CONVERSION_KINDS = ("story", "feature-request")


def convert_refusal(
    ticket: TicketFacts, kind: str, target: str, target_kinds: Sequence[str]
) -> Refusal | None:
    """A conversion turns an open ticket into a story or feature request of a desk that has
    that kind; it needs no priority (a story is planned, not triaged as toil)."""
    if not ticket.is_open:
        return RuleRefused("closed-ticket", f"{ticket.key} is done; reopen it before converting it")
    if kind not in CONVERSION_KINDS:
        return InputRefused(
            "conversion-kind",
            "kind",
            f"a conversion makes a {' or a '.join(CONVERSION_KINDS)}, not {kind!r}; "
            "to change the kind otherwise, edit the ticket",
        )
    if kind not in target_kinds:
        return InputRefused(
            "conversion-kind",
            "kind",
            f"desk {target!r} has no kind {kind!r}: its kinds are {', '.join(target_kinds)}",
        )
    return None


def block_refusal(ticket: TicketFacts) -> Refusal | None:
    if not ticket.is_open:
        return RuleRefused(
            "closed-ticket", f"{ticket.key} is done; only open tickets can be blocked"
        )
    return None


def unblock_refusal(ticket: TicketFacts) -> Refusal | None:
    if not ticket.blocked:
        return RuleRefused("not-blocked", f"{ticket.key} is not blocked")
    return None


# ----------------------------------------------------------------------------- admission


def admission_note(
    desk: DeskPolicy,
    *,
    is_open: bool,
    in_queue: bool,
    priority: str | None,
    team: str | None = None,
) -> str | None:
    """What a reporter is told about an open ticket that is not in the urgent queue."""
    if not is_open or in_queue:
        return None
    if not desk.routed_here(team):
        return (
            f"routed to team {team}: it is that team's work, so it left this desk's queue and "
            f"board for the team's view (the queue filtered by team {team})"
        )
    admit = "/".join(desk.admit or [])
    if priority is None:
        return (
            f"no queue criterion ticked, so this ticket waits in the weekly triage backlog "
            f"instead of the urgent queue ({admit} only); it will be seen at the weekly "
            f"triage, and on-call can pull it into the queue by triaging it {admit}"
        )
    return (
        f"triaged {priority}, so this ticket waits in the weekly triage backlog "
        f"instead of the urgent queue ({admit} only)"
    )


# ----------------------------------------------------------------------------- the template


def template_sections(desk: DeskPolicy, description: str) -> dict[str, str]:
    """The text under each of the desk's prompt headings in a description.

    A section starts at a line that begins with its heading, written as ``Why:``, ``## Why``
    or ``**Why**``, and runs to the next such heading.
    """
    headings = [p.heading for p in desk.prompts]
    if not headings:
        return {}
    alternatives = "|".join(re.escape(h) for h in sorted(headings, key=len, reverse=True))
    start = re.compile(
        rf"^[ \t]*(?:#{{1,6}}[ \t]*)?(?:\*\*)?({alternatives})(?!\w)(?:\*\*)?[ \t]*:?(?:\*\*)?",
        re.IGNORECASE | re.MULTILINE,
    )
    found: dict[str, str] = {}
    marks = list(start.finditer(description))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(description)
        name = next(h for h in headings if h.casefold() == m[1].casefold())
        text = description[m.end() : end].strip().strip("…").strip()
        found[name] = (found.get(name, "") + " " + text).strip()
    return found


def missing_sections(desk: DeskPolicy, description: str) -> list[str]:
    """The desk's required prompt headings that have no text in ``description``."""
    if not any(p.required for p in desk.prompts):
        return []  # the common case, on the filing hot path: nothing to parse
    found = template_sections(desk, description)
    return [p.heading for p in desk.prompts if p.required and not found.get(p.heading)]


def unanswered_sections(desk: DeskPolicy, description: str) -> list[str]:
    """Every prompt heading of the desk (required or not) with no text in ``description``:
    what a filing's hints ask the reporter to add."""
    if not desk.prompts:
        return []
    found = template_sections(desk, description)
    return [p.heading for p in desk.prompts if not found.get(p.heading)]


def template_refusal(desk: DeskPolicy, description: str) -> Refusal | None:
    """A desk may require sections of its description template at filing."""
    missing = missing_sections(desk, description)
    if not missing:
        return None
    example = "\n".join(f"{h}: …" for h in missing)
    return InputRefused(
        "template-required",
        "description",
        f"this desk needs the section{'s' if len(missing) > 1 else ''} "
        f"{', '.join(repr(h) for h in missing)} in the description, each with some text, "
        f"e.g.\n{example}",
    )


# ----------------------------------------------------------------------------- reporters


def filing_refusal(is_responder: bool, fields_set: Collection[str]) -> Refusal | None:
    """Reporters never set priority or assignee when filing; they tick queue criteria."""
    if is_responder:
        return None
    for field in RESPONDER_FILING_FIELDS:
        if field in fields_set:
            return RoleRefused(
                "responder-field",
                f"reporters cannot set {field} when filing: the on-call sets it during triage; "
                f"tick the queue criteria that apply instead",
                field,
                "only responders may set this",
            )
    return None


def triager_labels(desk: DeskPolicy) -> list[str]:
    """The labels the desk's priority of work ranks by (``label:X`` in its order rules):
    setting one moves a ticket up the queue, so only triagers set them."""
    out: list[str] = []
    for item in desk.order:
        if isinstance(item, str):
            continue
        for cond in [item.when, *item.then]:
            field, _, value = cond.partition(":")
            if field == "label" and value not in out:
                out.append(value)
    return out


def triager_filing_values(
    desk: DeskPolicy, labels: Collection[str], fix_target: str | None
) -> list[tuple[str, str]]:
    """What a filing sets that only a triager may: a label the priority of work ranks by, or
    a fix target (hotfix/release). Each as (field, value)."""
    ranked = set(triager_labels(desk))
    found = [("labels", label) for label in labels if label in ranked]
    if fix_target not in (None, "none"):
        found.append(("fix_target", str(fix_target)))
    return found


def triager_filing_refusal(
    desk_name: str, is_responder: bool, values: Sequence[tuple[str, str]]
) -> Refusal | None:
    """Reporters cannot jump the priority of work at filing: the top classes' labels and the
    fix target are set at triage, like the priority."""
    if is_responder or not values:
        return None
    field, value = values[0]
    shown = ", ".join(f"{f} {v!r}" for f, v in values)
    return RoleRefused(
        "triager-field",
        f"reporters cannot set {shown} when filing on desk {desk_name!r}: it ranks the ticket "
        "in the priority of work, so the triager sets it (like the priority); file without it "
        "and say why it matters in the description",
        field,
        f"{value!r} is set by a triager",
    )


def triager_filing_note(values: Sequence[tuple[str, str]]) -> str:
    """What an unattended filing (a webhook) says it left out, where refusing would lose it."""
    shown = ", ".join(f"{f} {v!r}" for f, v in values)
    return f"Left out at filing: {shown} (set by a triager, as it ranks the ticket)."


def edit_refusal(
    actor: str, desk: str, *, is_responder: bool, is_reporter: bool, fields: Collection[str]
) -> Refusal | None:
    """A reporter edits only their own ticket's words; the rest needs a responder."""
    if is_responder or (is_reporter and REPORTER_FIELDS.issuperset(fields)):
        return None
    others = ", ".join(sorted(set(fields) - REPORTER_FIELDS)) or "this ticket"
    return RoleRefused(
        "reporter-edit",
        f"{actor} may only edit the title, description and criteria of their own tickets; "
        f"{others} needs a responder of desk {desk!r}",
    )


def comment_refusal(
    actor: str, *, is_responder: bool, filed_or_watches: bool, public: bool
) -> Refusal | None:
    """Responders comment anywhere; others on what they filed or watch, and only in public."""
    if not is_responder and not filed_or_watches:
        return RoleRefused(
            "reporter-comment", f"{actor} may comment only on tickets they filed or watch"
        )
    if not public and not is_responder:
        return RoleRefused(
            "internal-comment", "only responders may leave internal (non-public) comments"
        )
    return None
