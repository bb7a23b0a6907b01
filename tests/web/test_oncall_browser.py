"""The on-call page in real Chromium: the rotation's current lead enters time off for a
team-mate, a plain member is refused the same, takes a shift and undoes it, and everyone sees
the history, fairness, their next shifts and their calendar link."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dutydesk.auth.leads import rotation_lead
from dutydesk.oncall.loading import loaded_in
from tests.web import test_browser as shared
from tests.web.test_browser import Site, expect

# The browser suite's fixtures (a real server, real Chromium) and its skip rules.
pytestmark = shared.pytestmark
site = shared.site
browser = shared.browser
tabs = shared.tabs


def test_leads_and_members_change_the_schedule_from_the_page(tabs: Any, site: Site) -> None:
    now = site.state.now()
    with site.state.db.read() as s:
        lead = rotation_lead(s, site.state.policy, "set", now)
        on_call = {
            x.person for x in loaded_in(s, site.state.policy, "set").schedule.on_call(now).values()
        }
    assert lead is not None
    policy = site.state.policy.rotations["set"]
    static_leads = {"eva", "hana"}  # the example policy's lead-role holders on SET
    plain_members = [p for t in policy.teams.values() for p in t if p not in static_leads | {lead}]
    member = next(p for p in plain_members if p not in on_call)  # free to take a shift
    other = next(p for p in plain_members if p != member)
    day = (now + timedelta(days=40)).date().isoformat()

    # A plain member cannot enter time off for someone else: the service's refusal shows.
    plain = tabs(member).go("/oncall")
    form = plain.get_by_test_id("time-off-form")
    form.get_by_label("Who").fill(other)
    form.get_by_label("First day off").fill(day)
    form.get_by_label("Last day off").fill(day)
    form.get_by_role("button", name="Enter time off").click()
    expect(plain.get_by_test_id("oncall-error")).to_contain_text(f"only {other} or a lead")

    # The rotation's current lead (no lead role) can, and it is in the history under their name.
    leading = tabs(lead).go("/oncall")
    form = leading.get_by_test_id("time-off-form")
    form.get_by_label("Who").fill(other)
    form.get_by_label("First day off").fill(day)
    form.get_by_label("Last day off").fill(day)
    form.get_by_label("Reason").fill("dentist")
    form.get_by_role("button", name="Enter time off").click()
    expect(leading.get_by_test_id("oncall-done")).to_contain_text("Time off saved")
    expect(leading.get_by_test_id("time-off")).to_contain_text("dentist")
    expect(leading.get_by_test_id("history-set")).to_contain_text(f"{lead}: {other} is off")
    expect(leading.get_by_test_id("edit-set")).to_contain_text("as a lead")

    # A member takes the current shift of their own layer, then undoes it.
    plain.goto(site.url + "/oncall")
    edit = plain.get_by_test_id("edit-set")
    edit.locator("summary").click()
    edit.get_by_role("button", name="Take the current shift").click()
    expect(plain.get_by_test_id("oncall-done")).to_contain_text("You took the shift")
    expect(plain.get_by_test_id("history-set")).to_contain_text(member)
    plain.locator("table.duty").get_by_role("button", name="Undo").first.click()
    expect(plain.get_by_test_id("oncall-done")).to_contain_text("Undone")

    # Next shifts, fairness, and a personal calendar link.
    expect(plain.get_by_test_id("my-next")).to_contain_text("set")
    expect(plain.get_by_test_id("fairness-set")).to_contain_text("Leading")
    plain.get_by_role("button", name="Create my calendar link").click()
    expect(plain.get_by_test_id("feed-url")).to_contain_text(
        f"/api/v1/people/{member}/calendar.ics?token="
    )
