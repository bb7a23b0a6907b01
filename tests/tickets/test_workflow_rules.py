"""The pure workflow rules: every refusal branch, table by table, and a property over any
sequence of allowed moves (tests/tickets/test_workflow.py drives the same rules over HTTP)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dutydesk.errors import Forbidden, Invalid, RuleViolation
from dutydesk.policy import load_policy, parse_policy
from dutydesk.policy.models import RESOLUTIONS
from dutydesk.tickets import workflow
from dutydesk.tickets.workflow import (
    InputRefused,
    Refusal,
    RoleRefused,
    RuleRefused,
    TicketFacts,
    TicketRef,
)
from tests.conftest import EXAMPLE

POLICY = load_policy(EXAMPLE)
INFRA, SET = POLICY.desks["infra"], POLICY.desks["set"]
NEW = TicketFacts(key="INFRA-1", desk="infra", status="New")
DONE = replace(NEW, status="Done", is_open=False)
PRIORITISED = replace(NEW, priority="P1")


def test_moves_go_forward_anywhere_back_one_step_and_done_reopens_to_intake() -> None:
    assert INFRA.allowed_moves("New") == ["Triaged", "In progress", "Done"]
    assert INFRA.allowed_moves("Triaged") == ["New", "In progress", "Done"]
    assert INFRA.allowed_moves("In progress") == ["Triaged", "Done"]
    assert INFRA.allowed_moves("Done") == ["New"]
    assert SET.allowed_moves("Submitted") == ["In progress", "Done"]
    assert SET.allowed_moves("Done") == ["To do"]


MOVES: list[tuple[TicketFacts, str, str | None, str | None, str | None]] = [
    # ticket, to, resolution, duplicate_of -> the rule that refuses (None: allowed)
    (NEW, "Nowhere", None, None, "unknown-column"),
    (NEW, "New", None, None, "no-op-move"),
    (replace(NEW, status="In progress", assigned=True), "New", None, None, "column-order"),
    (DONE, "Triaged", None, None, "column-order"),
    (NEW, "In progress", None, None, "assignee-required"),
    (replace(NEW, assigned=True), "In progress", None, None, None),
    (PRIORITISED, "Triaged", "fixed", None, "resolution-only-when-done"),
    (PRIORITISED, "Triaged", None, "INFRA-2", "resolution-only-when-done"),
    (NEW, "Done", None, None, "resolution-required"),
    (NEW, "Done", "solved", None, "unknown-resolution"),
    (NEW, "Done", "duplicate", None, "duplicate-needs-original"),
    (NEW, "Done", "fixed", "INFRA-2", "duplicate-of-without-duplicate"),
    (NEW, "Done", "duplicate", "INFRA-2", None),
    (NEW, "Done", "wont-fix", None, None),
    (DONE, "New", None, None, None),
    # Triaged means triaged: the move is the triage, so it needs a priority.
    (NEW, "Triaged", None, None, "triage-needs-priority"),
    (PRIORITISED, "Triaged", None, None, None),
    (replace(NEW, status="In progress", assigned=True, triaged=True), "Triaged", None, None, None),
]


@pytest.mark.parametrize(("ticket", "to", "resolution", "duplicate_of", "rule"), MOVES)
def test_move_rules(
    ticket: TicketFacts, to: str, resolution: str | None, duplicate_of: str | None, rule: str
) -> None:
    refusal = workflow.move_refusal(INFRA, ticket, to, resolution, duplicate_of)
    assert (refusal.rule if refusal else None) == rule


def test_a_move_to_triaged_without_priority_points_to_the_triage_action() -> None:
    refusal = workflow.move_refusal(INFRA, NEW, "Triaged", None, None)
    assert isinstance(refusal, RuleRefused) and "Triaged" not in refusal.allowed
    assert "dutydesk triage INFRA-1 --priority P0" in refusal.message
    assert "/api/v1/tickets/INFRA-1/triage" in refusal.message


@pytest.mark.parametrize(
    ("ticket", "to", "returns"),
    [
        (replace(NEW, status="Triaged", triaged=True), "New", True),
        (replace(DONE, triaged=True), "New", True),  # reopened: triaged again
        (replace(NEW, status="Triaged", triaged=True), "In progress", False),
        (NEW, "New", False),
    ],
)
def test_a_return_to_the_intake_column_undoes_the_triage(
    ticket: TicketFacts, to: str, returns: bool
) -> None:
    assert workflow.returns_to_intake(INFRA, ticket, to) is returns
    assert not workflow.returns_to_intake(SET, replace(ticket, status="In progress"), "To do")


@pytest.mark.parametrize(
    ("ticket", "rule"),
    [
        (replace(NEW, status="Triaged", triaged=True, priority="P1"), "triaged-keeps-priority"),
        (replace(NEW, priority="P1"), None),
    ],
)
def test_a_triaged_ticket_keeps_its_priority(ticket: TicketFacts, rule: str | None) -> None:
    refusal = workflow.priority_clear_refusal(INFRA, ticket)
    assert (refusal.rule if refusal else None) == rule


def test_move_refusals_become_the_errors_the_api_answers_with() -> None:
    unknown = workflow.move_refusal(INFRA, NEW, "Nowhere", None, None)
    assert isinstance(unknown, InputRefused)
    error = unknown.error()
    assert isinstance(error, Invalid) and error.status == 422
    assert error.detail == (
        "to: 'Nowhere' is not a column of desk 'infra': New, Triaged, In progress, Done"
    )
    assert error.errors == [{"field": "to", "message": error.detail.removeprefix("to: ")}]

    needs = workflow.move_refusal(INFRA, NEW, "In progress", None, None)
    assert isinstance(needs, RuleRefused)
    error = needs.error()
    assert isinstance(error, RuleViolation) and error.status == 409
    assert error.extra == {"rule": "assignee-required", "allowed": ["Triaged", "Done"]}

    missing = workflow.move_refusal(INFRA, NEW, "Done", None, None)
    assert missing is not None
    assert missing.error().extra["resolutions"] == list(RESOLUTIONS)

    order = workflow.move_refusal(INFRA, DONE, "Triaged", None, None)
    assert order is not None and order.message == (
        "INFRA-1 cannot move from 'Done' to 'Triaged'; allowed moves: New"
    )


def test_a_policy_without_transitions_out_of_a_column_says_none() -> None:
    policy = parse_policy(
        '[desks.ops]\ncolumns = ["New", "Done"]\n'
        '[desks.ops.workflow]\ntransitions = { New = ["Done"] }\n'
    )
    ops = policy.desks["ops"]
    done = TicketFacts(key="OPS-1", desk="ops", status="Done")
    refusal = workflow.move_refusal(ops, done, "New", None, None)
    assert refusal is not None and refusal.rule == "column-order"
    assert refusal.message.endswith("allowed moves: none") and refusal.allowed == ()


ONE, TWO, THREE = TicketRef(1, "INFRA-1"), TicketRef(2, "INFRA-2"), TicketRef(3, "INFRA-3")


@pytest.mark.parametrize(
    ("original", "chain", "rule"),
    [
        (None, [], "unknown-original"),
        (ONE, [], "duplicate-of-itself"),
        (TWO, [1], "duplicate-cycle"),
        (THREE, [2, 1], "duplicate-cycle"),
        (THREE, [2], None),
        (TWO, [], None),
    ],
)
def test_duplicate_needs_an_existing_other_original_without_a_cycle(
    original: TicketRef | None, chain: list[int], rule: str | None
) -> None:
    refusal = workflow.duplicate_refusal(ONE, "infra-9", original, chain)
    assert (refusal.rule if refusal else None) == rule


def test_duplicate_refusal_messages() -> None:
    unknown = workflow.duplicate_refusal(ONE, "infra-9", None, [])
    assert unknown is not None and unknown.error().detail == "duplicate_of: no ticket INFRA-9"
    cycle = workflow.duplicate_refusal(ONE, "infra-3", THREE, [2, 1])
    assert cycle is not None and cycle.message.startswith(
        "INFRA-3 is already (via duplicates) a duplicate of INFRA-1"
    )


@pytest.mark.parametrize(
    ("rule", "ticket", "refused"),
    [
        (lambda t: workflow.assign_refusal(INFRA, t), DONE, "is done; reopen it before assigning"),
        (lambda t: workflow.assign_refusal(INFRA, t), NEW, None),
        (lambda t: workflow.triage_refusal(INFRA, t), DONE, "already done; reopen it to triage"),
        (lambda t: workflow.triage_refusal(INFRA, t), NEW, None),
        (workflow.block_refusal, DONE, "only open tickets can be blocked"),
        (workflow.block_refusal, NEW, None),
        (workflow.unblock_refusal, NEW, "is not blocked"),
        (workflow.unblock_refusal, replace(NEW, blocked=True), None),
    ],
)
def test_closed_and_blocked_guards(
    rule: Callable[[TicketFacts], Refusal | None], ticket: TicketFacts, refused: str | None
) -> None:
    refusal = rule(ticket)
    if refused is None:
        assert refusal is None
    else:
        assert isinstance(refusal, RuleRefused) and refused in refusal.message
        assert refusal.error().status == 409


def test_closed_guards_offer_the_reopening_move() -> None:
    refusal = workflow.assign_refusal(INFRA, DONE)
    assert refusal is not None and refusal.error().extra == {
        "rule": "closed-ticket",
        "allowed": ["New"],
    }
    blocked = workflow.block_refusal(DONE)
    assert blocked is not None and blocked.allowed == ()


@pytest.mark.parametrize(
    ("is_responder", "fields", "refused_field"),
    [
        (False, ["priority"], "priority"),
        (False, ["assignee"], "assignee"),
        (False, ["priority", "assignee"], "priority"),
        (False, [], None),
        (True, ["priority", "assignee"], None),
    ],
)
def test_reporters_never_set_priority_or_assignee_when_filing(
    is_responder: bool, fields: list[str], refused_field: str | None
) -> None:
    refusal = workflow.filing_refusal(is_responder, fields)
    if refused_field is None:
        assert refusal is None
        return
    assert isinstance(refusal, RoleRefused)
    error = refusal.error()
    assert isinstance(error, Forbidden) and error.status == 403
    assert error.errors == [{"field": refused_field, "message": "only responders may set this"}]
    assert f"reporters cannot set {refused_field} when filing" in error.detail


@pytest.mark.parametrize(
    ("is_responder", "is_reporter", "fields", "refused"),
    [
        (False, True, {"title", "description", "criteria"}, None),
        (False, True, {"title", "priority", "team"}, "priority, team needs a responder"),
        (False, False, {"title"}, "this ticket needs a responder"),
        (True, False, {"priority"}, None),
    ],
)
def test_reporters_edit_only_the_words_of_their_own_tickets(
    is_responder: bool, is_reporter: bool, fields: set[str], refused: str | None
) -> None:
    refusal = workflow.edit_refusal(
        "rita", "infra", is_responder=is_responder, is_reporter=is_reporter, fields=fields
    )
    if refused is None:
        assert refusal is None
    else:
        assert refusal is not None and refusal.error().status == 403
        assert refusal.message.startswith("rita may only edit the title, description")
        assert refused in refusal.message and refusal.message.endswith("desk 'infra'")


@pytest.mark.parametrize(
    ("is_responder", "filed_or_watches", "public", "rule"),
    [
        (False, False, True, "reporter-comment"),
        (False, True, False, "internal-comment"),
        (False, True, True, None),
        (True, True, False, None),
    ],
)
def test_who_may_comment(
    is_responder: bool, filed_or_watches: bool, public: bool, rule: str | None
) -> None:
    refusal = workflow.comment_refusal(
        "rita", is_responder=is_responder, filed_or_watches=filed_or_watches, public=public
    )
    assert (refusal.rule if refusal else None) == rule
    if refusal is not None:
        assert refusal.error().status == 403


# ----------------------------------------------------------------------------- the property

STEPS = st.lists(
    st.tuples(
        st.sampled_from(["set", "infra"]),
        st.integers(0, 3),  # which column
        st.booleans(),  # assign first
        st.sampled_from([None, *RESOLUTIONS]),
    ),
    max_size=30,
)


@given(STEPS)
def test_every_allowed_move_sequence_keeps_the_invariants(
    steps: list[tuple[str, int, bool, str | None]],
) -> None:
    """Whatever moves the rules allow, in any order: a ticket in an assignee column has an
    assignee, a done ticket has a resolution and an open one has none, and from done the only
    way out is back to the intake column."""
    tickets = {name: (POLICY.desks[name].intake_column, False, None) for name in ("set", "infra")}
    for desk_name, column, assign, resolution in steps:
        desk = POLICY.desks[desk_name]
        status, assigned, resolved = tickets[desk_name]
        assigned = assigned or assign
        to = desk.columns[column]
        dup = "SET-9" if resolution == "duplicate" else None
        facts = TicketFacts("T-1", desk_name, status, assigned=assigned)
        refusal = workflow.move_refusal(desk, facts, to, resolution, dup)
        if refusal is None:
            if status == desk.done_column:
                assert to == desk.intake_column
            resolved = resolution if to == desk.done_column else None
            status = to
        tickets[desk_name] = (status, assigned, resolved)
        assert (status == desk.done_column) == (resolved is not None)
        assert resolved is None or resolved in RESOLUTIONS
        assert status not in desk.assignee_columns or assigned
