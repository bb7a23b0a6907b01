"""Pages for administration, settings, the inbox and the handbook: they write through the same
services as the API, refuse a form without the page's CSRF token, and refuse by role."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from dutydesk.auth.models import AuditEvent
from dutydesk.auth.service import open_session, user_by_name
from dutydesk.notify import outbox
from dutydesk.notify.models import DEAD, InboxItem, OutboxMessage
from dutydesk.notify.rows import OutboxRow
from dutydesk.notify.worker import fan_out
from dutydesk.tickets import service
from tests.web.conftest import Web


def test_every_new_form_refuses_a_post_without_the_csrf_token(web: Web) -> None:
    admin = web.as_("admin")
    for path, data in [
        ("/admin/users", {"name": "nia"}),
        ("/admin/users/bo", {"roles": "lead"}),
        ("/admin/users/bo/deactivate", {}),
        ("/admin/users/bo/reactivate", {}),
        ("/admin/outbox/retry", {"all_of": "dead"}),
        ("/me/settings/password", {"old_password": "dutydesk", "new_password": "x" * 9}),
        ("/me/settings/notifications", {"email": "true"}),
        ("/me/sessions/revoke-others", {}),
        ("/me/inbox/read", {"all": "true"}),
        ("/desks/infra/handbook", {"body": "# x", "base_version": "0"}),
    ]:
        r = admin.client.post(path, data=data, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text, path
    with web.state.db.read() as s:
        assert s.scalar(select(AuditEvent.id)) is None  # nothing was written


def test_an_admin_adds_re_roles_and_deactivates_a_person(web: Web) -> None:
    admin, ana = web.as_("admin"), web.as_("ana")
    assert 'href="/admin/users"' in admin.get("/me").text
    assert 'href="/admin/users"' not in ana.get("/me").text
    assert ana.get("/admin/users").status_code == 403
    assert ana.post("/admin/users", {"name": "nia"}).status_code == 403

    page = admin.get("/admin/users")
    assert page.status_code == 200 and "Ana Alvarez" in page.text and "(policy file)" in page.text
    bad = admin.post("/admin/users", {"name": "Nia Novak", "role": "reporter"})
    assert bad.status_code == 422 and "lower-case login name" in bad.text
    assert 'value="Nia Novak"' in bad.text  # what they typed stays
    made = admin.post(
        "/admin/users",
        {
            "name": "nia",
            "display_name": "Nia Novak",
            "role": "responder",
            "desks": ["infra"],
            "password": "correct horse",
        },
    )
    assert made.status_code == 303 and made.headers["location"] == "/admin/users/nia?added=1"
    nia_page = admin.get("/admin/users/nia?added=1").text
    assert "Added." in nia_page and ">added the account<" in nia_page

    changed = admin.post(
        "/admin/users/nia",
        {"display_name": "Nia N.", "roles": ["lead"], "desks": ["infra", "set"], "team": "infra"},
    )
    assert changed.status_code == 200 and "Saved." in changed.text
    with web.state.db.read() as s:
        nia = user_by_name(s, "nia")
        assert (nia.roles, nia.desks, nia.display_name) == (["lead"], ["infra", "set"], "Nia N.")
    # People from the policy file: the form is read-only, and a forged post is refused.
    bo_page = admin.get("/admin/users/bo").text
    assert "[people.bo]" in bo_page and "<fieldset disabled>" in bo_page
    forged = admin.post("/admin/users/bo", {"roles": ["admin"], "display_name": "Bo Brandt"})
    assert forged.status_code == 409 and "policy file" in forged.text

    # Deactivation ends their sessions at once.
    nia_tab = web.as_("nia")
    assert nia_tab.get("/me").status_code == 200
    done = admin.post("/admin/users/nia/deactivate", {"reason": "left the team"})
    assert done.status_code == 200 and "Deactivated" in done.text
    assert nia_tab.get("/me", follow_redirects=False).status_code == 303  # to the log-in page
    assert "left the team" in admin.get("/admin/users/nia").text
    assert admin.post("/admin/users/nia/reactivate").status_code == 200
    self_off = admin.post("/admin/users/admin/deactivate")
    assert self_off.status_code == 409 and "yourself" in self_off.text
    audit = admin.get("/admin/audit").text
    assert ">deactivated the account<" in audit and ">changed the roles<" in audit


def test_settings_change_the_password_and_end_sessions(web: Web) -> None:
    with web.state.db.write() as s:
        open_session(s, user_by_name(s, "rita"), web.state.now(), "Rita's phone")
    rita = web.as_("rita")
    page = rita.get("/me/settings")
    assert (
        page.status_code == 200 and "Rita&#39;s phone" in page.text and "this browser" in page.text
    )
    assert page.headers["cache-control"] == "no-store"

    wrong = rita.post(
        "/me/settings/password",
        {
            "old_password": "nope",
            "new_password": "new secret 1",
            "confirm_password": "new secret 1",
        },
    )
    assert wrong.status_code == 422 and "not your current password" in wrong.text
    differ = rita.post(
        "/me/settings/password",
        {"old_password": "dutydesk", "new_password": "new secret 1", "confirm_password": "other"},
    )
    assert differ.status_code == 422 and "differ" in differ.text
    done = rita.post(
        "/me/settings/password",
        {
            "old_password": "dutydesk",
            "new_password": "new secret 1",
            "confirm_password": "new secret 1",
        },
    )
    assert done.status_code == 200 and "Password changed. 1 other session logged out." in done.text
    assert "Rita&#39;s phone" not in done.text
    assert rita.get("/me").status_code == 200  # this browser stays logged in

    # One session logged out from another browser.
    other = web.as_("rita")
    sid = re.findall(r'action="/me/sessions/(\d+)/revoke"', rita.get("/me/settings").text)
    assert len(sid) == 1
    assert rita.post(f"/me/sessions/{sid[0]}/revoke").status_code == 303
    assert other.get("/me", follow_redirects=False).status_code == 303
    assert web.as_("ana").post(f"/me/sessions/{sid[0]}/revoke").status_code == 404
    web.as_("rita")
    web.as_("rita")
    all_others = rita.post("/me/sessions/revoke-others")
    assert "Logged out of 2 other sessions." in all_others.text


def test_notification_settings_page_saves_what_the_worker_obeys(web: Web) -> None:
    rita = web.as_("rita")
    page = rita.get("/me/settings").text
    assert 'name="hear" value="reporter" checked' in page
    saved = rita.post(
        "/me/settings/notifications",
        {"email": "true", "hear": ["assignee", "mention"], "digest_window": "1 hour"},
    )
    assert saved.status_code == 200 and "Notification preferences saved." in saved.text
    assert 'name="hear" value="reporter" checked' not in saved.text
    assert '<option value="1 hour" selected>' in saved.text
    bad = rita.post("/me/settings/notifications", {"chat": "true"})
    assert bad.status_code == 422 and "chat_channel" in bad.text

    key = web.file("Grant the release manager access to the signing bucket")
    web.triage(key, priority="P1")
    fan_out(web.state.db, web.state.policy)
    with web.state.db.read() as s:
        rita_id = user_by_name(s, "rita").id
        assert s.scalar(select(InboxItem).where(InboxItem.user_id == rita_id)) is None  # muted
        notices = s.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == f"user:{rita_id}")
        ).all()
    assert notices == []


def test_the_inbox_page_marks_read_and_the_header_counts(web: Web) -> None:
    key = web.file("Presubmit queue is backed up for android")
    web.triage(key, priority="P1", assignee="bo")
    with web.ctx("bo") as ctx:
        service.add_comment(ctx, key, "@rita which builders?", True)
    fan_out(web.state.db, web.state.policy)
    rita = web.as_("rita")
    page = rita.get("/me/inbox")
    assert page.status_code == 200
    assert page.text.count('class="inbox-item unread"') == 2
    assert 'aria-label="2 unread"' in page.text  # the header's count
    assert "bo mentioned you" in page.text
    ids = re.findall(r'action="/me/inbox/(\d+)/open"', page.text)
    opened = rita.post(f"/me/inbox/{ids[0]}/open")
    assert opened.status_code == 303 and opened.headers["location"] == f"/tickets/{key}"
    assert 'aria-label="1 unread"' in rita.get("/me").text
    assert web.as_("ana").post(f"/me/inbox/{ids[1]}/open").status_code == 404
    done = rita.post("/me/inbox/read", {"all": "true"})
    assert done.status_code == 303
    after = rita.get("/me/inbox").text
    assert 'unread"' not in after.split("<main")[0] and 'class="inbox-item unread"' not in after
    assert "Nothing unread." in rita.get("/me/inbox?unread=true").text
    back = rita.post("/me/inbox/read", {"ids": ids[0], "read": "false"})
    assert back.status_code == 303
    assert 'aria-label="1 unread"' in rita.get("/me/inbox").text


def test_the_outbox_page_lists_dead_letters_and_retries_them(web: Web) -> None:
    now = web.state.now()
    with web.state.db.write() as s:
        outbox.insert_ignore(
            s,
            [
                OutboxRow(
                    "message",
                    f"test:{i}",
                    now,
                    {"subject": f"Builders down {i}", "markdown": "x"},
                    now - timedelta(hours=1),
                    channel="infra-chat",
                    recipient="#infra",
                )
                for i in range(3)
            ],
        )
        for row in s.scalars(select(OutboxMessage)):
            row.state, row.attempts, row.last_error = DEAD, 8, "HTTP 500 from the webhook"
    admin = web.as_("admin")
    assert web.as_("dee").get("/admin/outbox").status_code == 403
    page = admin.get("/admin/outbox")
    assert page.status_code == 200 and page.text.count("HTTP 500 from the webhook") == 3
    first = re.findall(r'name="ids" value="(\d+)"', page.text)[0]
    one = admin.post("/admin/outbox/retry", {"ids": first})
    assert one.status_code == 200 and "1 message back in line" in one.text
    rest = admin.post("/admin/outbox/retry", {"all_of": "dead"})
    assert "2 messages back in line" in rest.text
    with web.state.db.read() as s:
        states = set(s.scalars(select(OutboxMessage.state)))
        retried = s.scalars(select(AuditEvent).where(AuditEvent.action == "outbox.retried")).all()
    assert states == {"pending"} and len(retried) == 2
    nothing = admin.post("/admin/outbox/retry", {})
    assert nothing.status_code == 422 and "ids" in nothing.text


def test_the_handbook_is_edited_by_members_with_history_and_diff(web: Web) -> None:
    ana, rita = web.as_("ana"), web.as_("rita")
    empty = rita.get("/desks/infra/handbook")
    assert empty.status_code == 200 and "no handbook yet" in empty.text
    assert "/handbook/edit" not in empty.text.split("</nav>", 2)[-1]  # reporters read only
    assert 'href="/desks/infra/handbook"' in ana.get("/desks/infra/board").text
    assert (
        rita.post("/desks/infra/handbook", {"body": "# mine", "base_version": "0"}).status_code
        == 403
    )

    form = ana.get("/desks/infra/handbook/edit")
    assert 'name="base_version" value="0"' in form.text
    saved = ana.post(
        "/desks/infra/handbook",
        {"body": "# How we work\n\n* Triage in 4 hours\n", "summary": "first", "base_version": "0"},
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/desks/infra/handbook?saved=1"
    dee = web.as_("dee")
    assert (
        dee.post(
            "/desks/infra/handbook",
            {"body": "# How we work\n\n* Triage in 4 business hours\n", "base_version": "1"},
        ).status_code
        == 303
    )
    # Ana's page is stale: her edit is refused but kept in the form.
    stale = ana.post(
        "/desks/infra/handbook",
        {"body": "# How we work\n\n* Triage fast\n", "base_version": "1"},
    )
    assert stale.status_code == 412 and "changed meanwhile" in stale.text
    assert "* Triage fast" in stale.text

    page = rita.get("/desks/infra/handbook").text
    assert "<h1>How we work</h1>" in page and "Version 2, saved by dee" in page
    history = rita.get("/desks/infra/handbook/history").text
    assert "diff with v1" in history and ">ana<" in history and ">dee<" in history
    diff = rita.get("/desks/infra/handbook/diff?after=2").text
    assert '<span class="diff-removed">- * Triage in 4 hours</span>' in diff
    assert '<span class="diff-added">+ * Triage in 4 business hours</span>' in diff
    old = rita.get("/desks/infra/handbook?version=1").text
    assert "not the current one" in old and "Triage in 4 hours" in old

    # Beside the filing form: the include, and the fragment it loads.
    new = rita.get("/desks/infra/new").text
    assert 'hx-get="/desks/infra/handbook/beside"' in new
    beside = rita.get("/desks/infra/handbook/beside").text
    assert "Triage in 4 business hours" in beside and "<html" not in beside.lower()
    assert rita.get("/desks/nowhere/handbook").status_code == 404


def test_the_people_page_searches_and_pages(web: Web) -> None:
    from dutydesk.auth.service import create_user

    with web.state.db.write() as s:
        for i in range(105):
            create_user(s, f"zz{i:03d}", roles=["reporter"], now=web.state.now())
        create_user(
            s, "under_score", roles=["reporter"], display_name="Uma 100%", now=web.state.now()
        )
    admin = web.as_("admin")
    first = admin.get("/admin/users").text
    assert first.count('href="/admin/users/') == 100
    nxt = re.search(r'href="/admin/users\?after=([^"&]+)"', first)
    assert nxt is not None
    second = admin.get(f"/admin/users?after={nxt.group(1)}").text
    assert "zz104" in second and "zz104" not in first
    found = admin.get("/admin/users?q=ALVAREZ").text
    assert found.count('href="/admin/users/') == 1 and "Ana Alvarez" in found
    assert admin.get("/admin/users?q=100%25").text.count('href="/admin/users/') == 1  # % is text
    assert admin.get("/admin/users?q=a_a").text.count('href="/admin/users/') == 0  # _ is text
    assert admin.get("/admin/users?q=r_s").text.count('href="/admin/users/') == 1
    assert "Nobody matches" in admin.get("/admin/users?q=nobody-here").text
