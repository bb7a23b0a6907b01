from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dutydesk.policy import load_policy
from dutydesk.tickets.ordering import (
    Orderable,
    class_of,
    order_key,
    rank_between,
    rank_for_time,
)
from tests.conftest import EXAMPLE

POLICY = load_policy(EXAMPLE)
SET, INFRA = POLICY.desks["set"], POLICY.desks["infra"]


def test_infra_orders_untriaged_first_then_priority_then_age() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    older, newer = rank_for_time(t0), rank_for_time(t0 + timedelta(seconds=1))
    keys = [
        order_key(INFRA, Orderable(kind="request", priority="P1"), older),
        order_key(INFRA, Orderable(kind="request", priority="P0"), newer),
        order_key(INFRA, Orderable(kind="request", priority=None), newer),
        order_key(INFRA, Orderable(kind="request", priority="P0"), older),
    ]
    assert sorted(range(4), key=lambda i: keys[i]) == [2, 3, 1, 0]


def test_set_priority_of_work_classes_and_bug_subclasses() -> None:
    cases = {
        "community": Orderable(kind="bug", priority="P2", labels=("community-server",)),
        "escalation": Orderable(kind="escalation", priority="P1"),
        "hotfix": Orderable(kind="bug", priority="P3", fix_target="hotfix"),
        "release": Orderable(kind="bug", priority="P1", fix_target="release"),
        "customer": Orderable(kind="bug", priority="P0", customer_reported=True),
        "other-bug": Orderable(kind="bug", priority="P0"),
        "tech-debt": Orderable(kind="tech-debt", priority="P0"),
        "story": Orderable(kind="story", priority="P0"),
    }
    rank = rank_for_time(datetime(2026, 1, 1, tzinfo=UTC))
    ordered = sorted(cases, key=lambda name: order_key(SET, cases[name], rank))
    assert ordered == list(cases)
    assert class_of(SET, cases["hotfix"])[2] == "bug"


@given(st.lists(st.sampled_from(["before", "after"]), min_size=1, max_size=60))
def test_ranks_between_neighbours_stay_strictly_ordered(moves: list[str]) -> None:
    ranks = [
        rank_for_time(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i)) for i in range(3)
    ]
    for move in moves:
        # Always squeeze next to the middle element: the worst case for key growth.
        i = len(ranks) // 2
        if move == "before":
            new = rank_between(ranks[i - 1] if i else None, ranks[i])
            ranks.insert(i, new)
        else:
            new = rank_between(ranks[i], ranks[i + 1] if i + 1 < len(ranks) else None)
            ranks.insert(i + 1, new)
        assert not new.endswith("0")
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)


@given(
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1)),
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1)),
)
def test_time_ranks_sort_like_time(a: datetime, b: datetime) -> None:
    ra, rb = rank_for_time(a.replace(tzinfo=UTC)), rank_for_time(b.replace(tzinfo=UTC))
    assert (ra < rb) == (a < b) or a == b


def test_order_refusal_names_the_rule_in_the_teams_words() -> None:
    from dutydesk.tickets.ordering import order_refusal

    hotfix = Orderable(kind="bug", priority=None, fix_target="hotfix")
    release = Orderable(kind="bug", priority=None, fix_target="release")
    assert order_refusal(SET, release, hotfix) == (
        "hotfix bugs stay above release bugs; change the fix target to move it"
    )
    assert order_refusal(SET, hotfix, release) == (
        "hotfix bugs stay above release bugs; change the fix target to move it"
    )
    customer = Orderable(kind="bug", priority=None, customer_reported=True)
    assert order_refusal(SET, customer, release) == (
        "release bugs stay above customer-reported bugs; change “reported by a customer” to move it"
    )
    other = Orderable(kind="bug", priority=None)
    assert order_refusal(SET, other, customer) == (
        "customer-reported bugs stay above other bugs; change “reported by a customer” to move it"
    )
    assert order_refusal(SET, other, hotfix) == (
        "hotfix bugs stay above other bugs; change the fix target to move it"
    )
    escalation = Orderable(kind="escalation", priority=None)
    assert order_refusal(SET, escalation, hotfix) == (
        "escalations stay above hotfix bugs; change the kind to move it"
    )
    debt = Orderable(kind="tech-debt", priority=None)
    assert order_refusal(SET, debt, hotfix) == (
        "hotfix bugs stay above tech-debt tickets; change the kind to move it"
    )
    # SET does not order by priority: a P3 hotfix bug ranks among the other hotfix bugs.
    assert (
        order_refusal(SET, hotfix, Orderable(kind="bug", priority="P3", fix_target="hotfix"))
        is None
    )
    assert (
        order_refusal(SET, release, Orderable(kind="bug", priority=None, fix_target="release"))
        is None
    )
    p0, p1 = Orderable(kind="request", priority="P0"), Orderable(kind="request", priority="P1")
    assert order_refusal(INFRA, p1, p0) == (
        "P0 tickets stay above P1 tickets; change the priority to move it"
    )
    assert order_refusal(INFRA, Orderable(kind="request", priority=None), p0) == (
        "untriaged tickets stay above P0 tickets; triage it (set a priority) to move it"
    )
    for a, b in ((hotfix, release), (escalation, debt), (p0, p1)):
        text = order_refusal(SET if a is not p0 else INFRA, a, b) or ""
        assert "class '" not in text and "None" not in text
