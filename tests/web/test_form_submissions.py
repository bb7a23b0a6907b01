"""One form submission, one effect: the same form sent twice files one ticket, posts one
comment, and the second answer goes where the first went."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from dutydesk.tickets.models import Comment, Ticket
from tests.conftest import URGENT
from tests.web.conftest import Web


def _tickets(web: Web) -> int:
    with web.state.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Ticket)) or 0)


def _form(title: str, token: str | None) -> dict[str, object]:
    body: dict[str, object] = {"title": title, "criteria": URGENT, "description": "Why: blocked"}
    if token is not None:
        body["submission"] = token
    return body


def test_a_filing_form_sent_twice_files_one_ticket(web: Web) -> None:
    rita = web.as_("rita")
    token = secrets.token_hex(16)
    first = rita.post("/desks/infra/new", _form("Add a builder for linux arm64", token))
    again = rita.post("/desks/infra/new", _form("Add a builder for linux arm64", token))
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert _tickets(web) == 1
    # A new form (a new token) files a new ticket; without a token every post acts.
    other = rita.post(
        "/desks/infra/new", _form("Add a builder for mac arm64", secrets.token_hex(16))
    )
    plain = rita.post("/desks/infra/new", _form("Add a builder for windows", None))
    assert other.headers["location"] != first.headers["location"]
    assert plain.status_code == 303 and _tickets(web) == 3


def test_two_sends_at_once_file_one_ticket(web: Web) -> None:
    """A double click: both requests arrive while the first is still being handled."""
    rita = web.as_("rita")
    token = secrets.token_hex(16)
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda _: rita.post("/desks/infra/new", _form("Quota for project x", token)),
                range(2),
            )
        )
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert _tickets(web) == 1


def test_a_form_that_came_back_with_errors_can_be_sent_again_with_its_token(web: Web) -> None:
    rita = web.as_("rita")
    token = secrets.token_hex(16)
    refused = rita.post("/desks/infra/new", _form("", token))
    assert refused.status_code == 422 and _tickets(web) == 0
    fixed = rita.post("/desks/infra/new", _form("Quota for project y runs out Friday", token))
    assert fixed.status_code == 303 and _tickets(web) == 1


def test_a_comment_form_sent_twice_posts_one_comment(web: Web) -> None:
    key = web.file("Builder queue is stuck")
    bo = web.as_("bo")
    token = secrets.token_hex(16)
    body = {"body": "Looking at it now", "submission": token}
    first = bo.post(f"/tickets/{key}/comment", body)
    again = bo.post(f"/tickets/{key}/comment", body)
    assert first.status_code == again.status_code == 303
    with web.state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Comment)) == 1


def test_a_token_is_one_persons_own(web: Web) -> None:
    """Another person sending the same token acts for themselves."""
    token = secrets.token_hex(16)
    web.as_("rita").post("/desks/infra/new", _form("Grant access to the build bucket", token))
    web.as_("sam").post("/desks/infra/new", _form("Grant access to the logs bucket", token))
    assert _tickets(web) == 2
