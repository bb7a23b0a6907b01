"""The queued change record: named keys in, typed facts out, older positional records read."""

from datetime import UTC, datetime

from dutydesk.notify.queued import QueuedChange, QueuedComment, QueuedTicket
from dutydesk.notify.rules import Change

CHANGE = QueuedChange(
    ticket=QueuedTicket(7, "INFRA-7", "infra", "Bot offline", "P1", "Triaged", 1, 2),
    seq=3,
    actor_id=2,
    actor_name="ana",
    at=datetime(2026, 12, 1, 17, 5, tzinfo=UTC),
    changes=(Change("triaged", "priority", None, "P1", {"note": "x"}), Change("commented")),
    comments={11: QueuedComment("@bo can you look?", True)},
    watchers=frozenset({1, 2}),
)


def test_a_change_survives_its_json_round_trip_with_named_keys() -> None:
    raw = CHANGE.to_json()
    assert raw["actor"] == {"id": 2, "name": "ana"}
    assert raw["changes"][0] == {
        "type": "triaged",
        "field": "priority",
        "before": None,
        "after": "P1",
        "data": {"note": "x"},
    }
    assert QueuedChange.from_json(raw) == CHANGE


def test_a_record_queued_by_position_before_the_upgrade_still_reads() -> None:
    legacy = {
        **CHANGE.to_json(),
        "actor": [2, "ana"],
        "changes": [
            ["triaged", "priority", None, "P1", {"note": "x"}],
            ["commented", None, None, None, {}],
        ],
        "comments": {"11": ["@bo can you look?", True]},
    }
    assert QueuedChange.from_json(legacy) == CHANGE
