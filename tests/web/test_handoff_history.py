"""The handoff page for a chosen past handoff: a list of recent handoffs to open, and the
tickets as they were at that handoff (from the history), said so on the page."""

from __future__ import annotations

from dutydesk.tickets import service
from tests.conftest import ManualClock
from tests.web.conftest import Web


def test_a_past_handoff_is_chosen_from_the_list_and_shown_as_of_then(
    web: Web, clock: ManualClock
) -> None:
    # The clock starts Monday 23 Nov 09:00 in Los Angeles, before the 10:00 handoff.
    key = web.file("Disk full on the release builder")
    web.triage(key, who="bo", priority="P0", assignee="bo")
    clock.advance(days=1)  # Tuesday: closed after Monday's handoff
    web.run("chen", lambda ctx: service.move(ctx, key, "Done", "fixed", None, None))
    clock.advance(days=2)
    ana = web.as_("ana")

    now = ana.get("/desks/infra/handoff").text
    assert "A past handoff" not in now
    urgent_now = now.split("Open P0/P1")[1].split("</section>")[0]
    assert key not in urgent_now
    recent = now.split('aria-label="Recent handoffs"')[1].split("</nav>")[0]
    assert (
        '<a href="/desks/infra/handoff?date=2026-11-23" aria-current="page">Mon 2026-11-23</a>'
        in recent
    )
    assert '<a href="/desks/infra/handoff?date=2026-11-16">Mon 2026-11-16</a>' in recent

    page = ana.get("/desks/infra/handoff?date=2026-11-23")
    assert page.status_code == 200, page.text
    html = page.text
    assert "A past handoff: the tickets are shown as they were at 2026-11-23 10:00" in html
    urgent = html.split("Open P0/P1")[1].split("</section>")[0]
    assert f'<a href="/tickets/{key}">{key}</a> Disk full on the release builder' in urgent
    assert "(P0, Triaged, assignee bo)" in urgent
    assert "*A past handoff: tickets as they were at Mon 2026-11-23 10:00 PST.*" in html
