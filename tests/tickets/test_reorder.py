"""A policy edit to ordering or admission re-sorts open tickets; closed ones stay as they are."""

from __future__ import annotations

from dutydesk.policy import Policy
from dutydesk.state import AppState
from dutydesk.tickets import queries
from dutydesk.tickets.service import recompute_order
from tests.conftest import Api


def test_reorder_applies_a_new_admission_rule(api: Api, state: AppState) -> None:
    api.file(title="Request one")
    api.file(title="Request two")
    api.file(title="Request three")
    api.post("ana", "/api/v1/tickets/INFRA-1/triage", {"priority": "P2"})
    api.post("ana", "/api/v1/tickets/INFRA-2/triage", {"priority": "P1"})
    api.post("ana", "/api/v1/tickets/INFRA-3/move", {"to": "Done", "resolution": "wont-fix"})
    raw = state.policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["admit"] = ["P0", "P1", "P2"]
    raw["desks"]["infra"]["untriaged"] = "last"
    wider = Policy.model_validate(raw)
    with state.db.write() as s:
        assert recompute_order(s, "infra", wider.desks["infra"]) == 1
    with state.db.read() as s:
        tickets, _ = queries.queue(s, "infra", 10, None)
        assert [t.key for t in tickets] == ["INFRA-2", "INFRA-1"]
    with state.db.write() as s:  # nothing left to change: a second run touches no row
        assert recompute_order(s, "infra", wider.desks["infra"]) == 0
