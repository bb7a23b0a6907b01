"""Pure rules: who hears what, batching into one message, backoff, formatting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dutydesk.durations import parse_span
from dutydesk.notify.chat_text import to_plain_text, to_slack
from dutydesk.notify.rules import (
    DIGEST_TICKETS,
    Change,
    CommentFacts,
    TicketFacts,
    batch_due,
    parse_mentions,
    render_digest,
    retry_delay,
    who_hears,
)

REPORTER, ANA, BO, CHEN, LEAD = 1, 2, 3, 4, 5


def ticket(**kw: object) -> TicketFacts:
    base: dict[str, object] = {
        "key": "INFRA-7",
        "desk": "infra",
        "title": "Quota almost out",
        "priority": "P1",
        "status": "Triaged",
        "reporter_id": REPORTER,
        "assignee_id": ANA,
        "assignee": "ana",
        "watchers": frozenset({REPORTER, ANA}),
        "insiders": frozenset({ANA, BO, CHEN, LEAD}),
    }
    base.update(kw)
    return TicketFacts(**base)  # type: ignore[arg-type]


def by_user(notices: list) -> dict[int, object]:  # type: ignore[type-arg]
    return {n.user_id: n for n in notices}


def test_new_ticket_goes_to_the_desk_channel_and_the_oncall_but_not_the_reporter() -> None:
    t = ticket(
        priority=None, status="New", assignee_id=None, assignee=None, watchers=frozenset({REPORTER})
    )
    notices, posts = who_hears(t, REPORTER, "rita", [Change("filed", after="INFRA-7")], oncall=[BO])
    assert [p.what for p in posts] == ["new"]
    assert "INFRA-7" in posts[0].text and "rita" in posts[0].text
    [n] = notices
    assert (n.user_id, n.reason) == (BO, "oncall")
    assert n.lines == ("New ticket to triage: INFRA-7 Quota almost out (rita)",)


def test_a_ticket_filed_as_p0_is_one_p0_post_and_a_later_p0_is_another() -> None:
    t = ticket(priority="P0", status="New")
    _, posts = who_hears(t, BO, "bo", [Change("filed"), Change("changed", "priority", None, "P0")])
    assert [p.what for p in posts] == ["p0"]
    _, posts = who_hears(t, BO, "bo", [Change("changed", "priority", "P1", "P0")])
    assert [p.what for p in posts] == ["p0"] and "is now P0" in posts[0].text


def test_triage_tells_the_reporter_priority_and_owner_and_the_assignee_of_the_assignment() -> None:
    changes = [
        Change("changed", "priority", None, "P1"),
        Change("changed", "assignee", None, "ana"),
        Change("changed", "status", "New", "Triaged"),
        Change("triaged", after="P1"),
    ]
    notices, posts = who_hears(ticket(), BO, "bo", changes)
    got = by_user(notices)
    assert posts == []
    assert got[REPORTER].reason == "reporter"  # type: ignore[attr-defined]
    assert got[REPORTER].lines == ("INFRA-7 has been triaged: priority P1, owner ana",)  # type: ignore[attr-defined]
    assert got[ANA].reason == "assignee"  # type: ignore[attr-defined]
    assert got[ANA].lines[0] == "INFRA-7 was assigned to you by bo: Quota almost out"  # type: ignore[attr-defined]
    assert not any("assignee:" in line for line in got[ANA].lines)  # type: ignore[attr-defined]
    assert BO not in got  # nobody hears of their own action


def test_nobody_hears_of_their_own_action() -> None:
    notices, _ = who_hears(
        ticket(), ANA, "ana", [Change("changed", "status", "Triaged", "In progress")]
    )
    assert ANA not in by_user(notices)


def test_reporter_hears_blocked_backlog_and_resolution_with_the_original() -> None:
    changes = [Change("blocked", "blocked_reason", None, "waiting on vendor")]
    [n] = [n for n in who_hears(ticket(), ANA, "ana", changes)[0] if n.user_id == REPORTER]
    assert n.lines == ("INFRA-7 is blocked: waiting on vendor",)

    backlog = [
        Change("changed", "priority", "P1", "P2"),
        Change("admission", "in_queue", True, False, {"to": "backlog"}),
    ]
    [n] = [
        n for n in who_hears(ticket(priority="P2"), ANA, "ana", backlog)[0] if n.user_id == REPORTER
    ]
    assert "left the queue for the backlog" in n.lines[0]

    dup = [
        Change("changed", "duplicate_of", None, "INFRA-3"),
        Change("changed", "resolution", None, "duplicate"),
        Change("changed", "status", "Triaged", "Done"),
    ]
    [n] = [n for n in who_hears(ticket(status="Done"), ANA, "ana", dup)[0] if n.user_id == REPORTER]
    assert n.lines == ("INFRA-7 was resolved as a duplicate of INFRA-3",)


def test_reporter_does_not_hear_internal_comments_or_routine_changes() -> None:
    comments = {9: CommentFacts("bo", "internal: the vendor is slow", public=False)}
    changes = [
        Change("commented", data={"comment_id": 9, "kind": "comment"}),
        Change("changed", "status", "Triaged", "In progress"),
    ]
    got = by_user(
        who_hears(
            ticket(watchers=frozenset({REPORTER, ANA, CHEN})), BO, "bo", changes, comments=comments
        )[0]
    )
    assert REPORTER not in got
    assert "internal comment by bo" in got[ANA].lines[0]  # type: ignore[attr-defined]


def test_watchers_outside_the_desk_see_public_lines_only() -> None:
    outsider = 42
    comments = {
        9: CommentFacts("bo", "secret", public=False),
        10: CommentFacts("bo", "hello all", public=True),
    }
    changes = [
        Change("commented", data={"comment_id": 9, "kind": "comment"}),
        Change("commented", data={"comment_id": 10, "kind": "comment"}),
        Change("ranked"),
    ]
    got = by_user(
        who_hears(
            ticket(watchers=frozenset({outsider, CHEN})), BO, "bo", changes, comments=comments
        )[0]
    )
    assert got[outsider].lines == ("comment by bo: hello all",)  # type: ignore[attr-defined]
    assert len(got[CHEN].lines) == 2  # type: ignore[attr-defined]


def test_mentions_reach_people_and_skip_email_addresses() -> None:
    assert parse_mentions("@chen please look; cc @dee and mail rita@example.com @chen") == [
        "chen",
        "dee",
    ]
    notices, _ = who_hears(
        ticket(),
        BO,
        "bo",
        [Change("commented", data={"comment_id": 1})],
        mentioned={CHEN: "@chen look"},
    )
    n = by_user(notices)[CHEN]
    assert n.reason == "mention" and n.lines == ("bo mentioned you on INFRA-7: @chen look",)  # type: ignore[attr-defined]


def test_one_notice_per_person_with_the_most_specific_reason() -> None:
    t = ticket(watchers=frozenset({REPORTER, ANA, CHEN}))
    changes = [Change("changed", "assignee", "ana", "chen")]
    n = by_user(
        who_hears(
            ticket(assignee_id=CHEN, assignee="chen", watchers=t.watchers),
            BO,
            "bo",
            changes,
            mentioned={CHEN: "x"},
        )[0]
    )[CHEN]
    assert n.reason == "assignee"  # type: ignore[attr-defined]
    assert len(n.lines) == 2  # type: ignore[attr-defined]


def test_p0_notices_are_urgent_and_skip_the_batching_window() -> None:
    notices, _ = who_hears(
        ticket(priority="P0"), BO, "bo", [Change("changed", "status", "Triaged", "In progress")]
    )
    assert all(n.urgent for n in notices)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert batch_due(now, timedelta(minutes=2), urgent=True) == now
    assert batch_due(now, timedelta(minutes=2), urgent=False) == now + timedelta(minutes=2)


def test_a_digest_groups_by_ticket_in_order_and_links_keys() -> None:
    one = render_digest(
        "Ana",
        [
            {
                "ticket": "INFRA-7",
                "title": "Quota",
                "lines": ["INFRA-7 was assigned to you by bo: Quota"],
            }
        ],
        None,
    )
    assert one.subject == "INFRA-7 was assigned to you by bo: Quota"
    many = render_digest(
        "Ana",
        [
            {"ticket": "INFRA-7", "title": "Quota", "lines": ["status: New → Triaged"]},
            {"ticket": "INFRA-8", "title": "Disk", "lines": ["priority: - → P1"]},
            {
                "ticket": "INFRA-7",
                "title": "Quota",
                "lines": ["comment by bo: hi", "status: New → Triaged"],
            },
        ],
        "https://dd.example",
    )
    assert many.subject == "3 updates on 2 tickets"
    assert many.markdown == (
        "Hello Ana, here is what changed:\n"
        "**[INFRA-7](https://dd.example/tickets/INFRA-7) — Quota**\n"
        "* status: New → Triaged\n"
        "* comment by bo: hi\n"
        "\n"
        "**[INFRA-8](https://dd.example/tickets/INFRA-8) — Disk**\n"
        "* priority: - → P1\n"
    )


def test_a_long_digest_lists_the_first_tickets_and_counts_the_rest() -> None:
    notices = [
        {"ticket": f"INFRA-{n}", "title": "Quota", "lines": [f"INFRA-{n} has no update today"]}
        for n in range(1, DIGEST_TICKETS + 13)
    ]
    notices.append({"ticket": "INFRA-1", "title": "Quota", "lines": ["comment by bo: hi"]})
    notices.append({"ticket": "INFRA-60", "title": "Quota", "lines": ["comment by bo: hi"]})
    digest = render_digest("Ana", notices, "https://dd.example/")
    assert digest.subject == f"{DIGEST_TICKETS + 14} updates on {DIGEST_TICKETS + 12} tickets"
    assert digest.markdown.count("**[INFRA-") == DIGEST_TICKETS
    assert f"INFRA-{DIGEST_TICKETS} has no update today" in digest.markdown
    assert f"INFRA-{DIGEST_TICKETS + 1} has no update today" not in digest.markdown
    assert digest.markdown.endswith(
        "…and 13 more updates on 12 more tickets: [see your work](https://dd.example/me)\n"
    )
    plain = render_digest("Ana", notices, None)
    assert plain.markdown.endswith("…and 13 more updates on 12 more tickets\n")


def test_retry_delay_doubles_up_to_the_cap() -> None:
    first, cap = timedelta(seconds=30), timedelta(minutes=5)
    assert [retry_delay(n, first, cap).total_seconds() for n in range(1, 7)] == [
        30,
        60,
        120,
        240,
        300,
        300,
    ]


def test_slack_flavour_and_spans() -> None:
    assert to_slack("**[A-1](http://x/t/A-1)** done") == "*<http://x/t/A-1|A-1>* done"
    assert parse_span("500 ms") == timedelta(milliseconds=500)
    assert parse_span("2 minutes") == timedelta(minutes=2)
    with pytest.raises(ValueError, match="bad duration"):
        parse_span("soon")


@pytest.mark.parametrize(
    ("markdown", "slack", "plain"),
    [
        ("## Handoff: infra", "*Handoff: infra*", "Handoff: infra\n--------------"),
        ("### **Open** P0 (2)", "*Open P0 (2)*", "Open P0 (2)\n-----------"),
        (
            "* [INFRA-1](http://h/t/1) **P0**",
            "• <http://h/t/1|INFRA-1> *P0*",
            "- INFRA-1 (http://h/t/1) P0",
        ),
        ("  - run `make test`", "  • run `make test`", "  - run make test"),
        ("#hashtag stays", "#hashtag stays", "#hashtag stays"),
    ],
)
def test_chat_and_mail_text(markdown: str, slack: str, plain: str) -> None:
    assert to_slack(markdown) == slack
    assert to_plain_text(markdown) == plain
