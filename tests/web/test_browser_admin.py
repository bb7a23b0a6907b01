"""Administration, settings, the inbox and the handbook in real Chromium against a real uvicorn
server and SQLite database (``pytest -m browser``): an admin adds and re-roles a person, revokes
a token and retries dead letters; a person reads their inbox, sets what they hear of, changes
their password and logs another browser out; desk members write the handbook that reporters
read beside the filing form. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from dutydesk.auth.models import ApiToken
from dutydesk.auth.service import create_token, user_by_name
from dutydesk.notify import outbox
from dutydesk.notify.models import DEAD, OutboxMessage
from dutydesk.notify.rows import OutboxRow
from dutydesk.notify.worker import fan_out
from dutydesk.tickets import service
from tests.web import test_browser as chromium
from tests.web.test_browser import Site, expect

# The same server, browser and logged-in tabs as the main browser tests (and their skips).
pytestmark = chromium.pytestmark
site = chromium.site
browser = chromium.browser
tabs = chromium.tabs


def test_an_admin_adds_a_person_changes_their_role_and_revokes_a_token(
    tabs: Any, site: Site
) -> None:
    admin = tabs("admin")
    page = admin.go("/me")
    page.get_by_role("link", name="Admin").click()
    page.wait_for_url("**/admin/users")
    expect(page.get_by_role("cell", name="Ana Alvarez")).to_be_visible()
    form = page.locator("form[action='/admin/users']")
    form.get_by_label("Login name").fill("nia")
    form.get_by_label("Full name").fill("Nia Novak")
    form.get_by_label("Role").select_option("responder")
    form.get_by_label("infra").check()
    form.get_by_label("First password").fill("correct horse")
    admin.shot("admin-add-person")
    form.get_by_role("button", name="Add person").click()
    page.wait_for_url("**/admin/users/nia?added=1")
    expect(page.locator(".flash-ok")).to_have_text("Added.")

    roles = page.locator("form[action='/admin/users/nia']")
    roles.get_by_label("lead").check()
    roles.get_by_label("responder").uncheck()
    roles.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-ok")).to_have_text("Saved.")
    expect(page.locator(".audit-list")).to_contain_text("changed the roles")
    with site.state.db.read() as s:
        assert user_by_name(s, "nia").roles == ["lead"]

    with site.state.db.write() as s:
        create_token(s, user_by_name(s, "nia"), site.state.now(), "laptop CLI")
    page.reload()
    page.get_by_role("button", name="Revoke token laptop CLI").click()
    expect(page.locator("section[aria-labelledby='their-tokens-h']")).to_contain_text("revoked")
    with site.state.db.read() as s:
        assert all(t.revoked_at is not None for t in s.scalars(select(ApiToken)))

    page.get_by_label("Reason (for the audit log)").fill("moved teams")
    page.get_by_role("button", name="Deactivate nia").click()
    expect(page.locator(".flash-ok")).to_contain_text("Deactivated")
    admin.shot("admin-person", full_page=True)
    page.get_by_role("button", name="Reactivate nia").click()
    expect(page.locator(".flash-ok")).to_have_text("Active again.")
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("main table").first).to_contain_text("deactivated the account")


def test_an_admin_retries_dead_letters_from_the_outbox_page(tabs: Any, site: Site) -> None:
    now = site.state.now()
    with site.state.db.write() as s:
        outbox.insert_ignore(
            s,
            [
                OutboxRow(
                    "message",
                    f"browser-dead:{i}",
                    now,
                    {"subject": f"Builders down {i}", "markdown": "x"},
                    now - timedelta(hours=1),
                    channel="infra-chat",
                    recipient="#infra",
                )
                for i in range(2)
            ],
        )
        for row in s.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("browser-dead:%"))
        ):
            row.state, row.attempts, row.last_error = DEAD, 8, "HTTP 500 from the webhook"
    admin = tabs("admin")
    page = admin.go("/admin/outbox")
    expect(page.get_by_role("cell", name="HTTP 500 from the webhook")).to_have_count(2)
    admin.shot("admin-outbox")
    page.get_by_role("button", name=re.compile(r"Retry all \d+ dead letters")).click()
    expect(page.locator(".flash-ok")).to_contain_text("back in line")
    with site.state.db.read() as s:
        states = set(
            s.scalars(
                select(OutboxMessage.state).where(OutboxMessage.dedupe_key.like("browser-dead:%"))
            )
        )
    assert states == {"pending"}


def test_the_inbox_counts_unread_in_the_header_and_marks_read(tabs: Any, site: Site) -> None:
    key = site.file("Grant the release manager access to the signing bucket")
    site.triage(key, priority="P1", assignee="bo")
    with site.ctx("ana") as ctx:
        service.add_comment(ctx, key, "@bo can you take the IAM part?", True)
    fan_out(site.state.db, site.state.policy)
    bo = tabs("bo")
    page = bo.go("/me")
    badge = page.locator(".nav-inbox .unread-count")
    unread = int(badge.inner_text())
    assert unread >= 2
    page.get_by_role("link", name=re.compile("^Inbox")).click()
    page.wait_for_url("**/me/inbox")
    expect(page.locator(".inbox-item.unread").first).to_contain_text(key)
    expect(page.locator(".inbox")).to_contain_text("ana mentioned you")
    bo.shot("inbox")
    page.locator(".inbox-item.unread .inbox-open").first.click()
    page.wait_for_url(f"**/tickets/{key}")
    expect(page.locator(".nav-inbox .unread-count")).to_have_text(str(unread - 1))
    page = bo.go("/me/inbox")
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator(".inbox-item.unread")).to_have_count(0)
    expect(page.locator(".nav-inbox .unread-count")).to_have_count(0)


def test_settings_mute_an_event_change_the_password_and_log_out_elsewhere(
    tabs: Any, site: Site
) -> None:
    lee = tabs("lee")
    phone = tabs("lee", width=390)
    page = lee.go("/me")
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/me/settings")
    page.get_by_label("Tickets I watch change").uncheck()
    page.get_by_label("Gather updates into one message every").select_option("1 hour")
    page.get_by_role("button", name="Save notification settings").click()
    expect(page.locator(".flash-ok")).to_have_text("Notification preferences saved.")
    expect(page.get_by_label("Tickets I watch change")).not_to_be_checked()
    expect(page.get_by_label("Gather updates into one message every")).to_have_value("1 hour")

    expect(page.locator("#sessions tbody tr")).to_have_count(2)
    expect(page.locator(".current-session")).to_contain_text("this browser")
    lee.shot("settings", full_page=True)
    page.get_by_label("Current password").fill("dutydesk")
    page.get_by_label("New password", exact=True).fill("correct horse battery")
    page.get_by_label("New password again").fill("correct horse battery")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".flash-ok")).to_have_text("Password changed. 1 other session logged out.")
    phone.page.reload()
    phone.page.wait_for_url(re.compile(r"/login\?next="))
    phone.page.get_by_label("Username").fill("lee")
    phone.page.get_by_label("Password").fill("correct horse battery")
    phone.page.get_by_role("button", name="Log in").click()
    phone.page.wait_for_url("**/me")
    phone.shot("phone-me-after-password-change")

    page.reload()
    expect(page.locator("#sessions tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Log out all other sessions").click()
    expect(page.locator(".flash-ok")).to_have_text("Logged out of 1 other session.")
    phone.page.reload()
    phone.page.wait_for_url(re.compile(r"/login\?next="))


def test_members_write_the_handbook_reporters_read_it_beside_the_form(
    tabs: Any, site: Site
) -> None:
    ana = tabs("ana")
    page = ana.go("/desks/infra/board")
    page.locator("nav.tabs").get_by_role("link", name="Handbook").click()
    page.wait_for_url("**/desks/infra/handbook")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Handbook (Markdown)").fill(
        "## Before you file\n\n* Use the template\n* Tick a queue criterion only if it applies\n"
    )
    page.get_by_label("What did you change?").fill("first draft")
    page.get_by_role("button", name="Save version 1").click()
    expect(page.locator(".flash-ok")).to_have_text("Saved: version 1.")
    expect(page.locator(".handbook-body h2")).to_have_text("Before you file")

    dee = tabs("dee")
    page = dee.go("/desks/infra/handbook/edit")
    text = page.get_by_label("Handbook (Markdown)")
    text.fill(text.input_value() + "* On-call triages within 4 business hours\n")
    page.get_by_role("button", name="Save version 2").click()
    expect(page.locator(".handbook-body li")).to_have_count(3)
    page.get_by_role("link", name="History").click()
    page.get_by_role("link", name="diff with v1").click()
    expect(page.locator(".diff-added")).to_have_text("+ * On-call triages within 4 business hours")
    dee.shot("handbook-diff")

    rita = tabs("rita")
    page = rita.go("/desks/infra/new")
    aside = page.locator(".handbook-beside")
    expect(aside.locator(".handbook-body")).to_contain_text("Tick a queue criterion")
    form_box = page.locator("form.file-form").bounding_box()
    aside_box = aside.bounding_box()
    assert form_box and aside_box and aside_box["x"] > form_box["x"] + form_box["width"] - 1
    expect(aside.get_by_role("link", name="edit")).to_have_count(0)  # reporters read only
    rita.shot("new-ticket-with-handbook")
    phone = tabs("rita", width=390)
    page = phone.go("/desks/infra/new")
    expect(page.locator(".handbook-beside .handbook-body")).to_be_visible()
    phone.shot("phone-new-ticket-with-handbook", full_page=True)
