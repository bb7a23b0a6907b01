"""Files that came with mail, read back: listed on the ticket (API and page), kept ones
downloaded as attachments with their type, never rendered or sniffed; readers only."""

from __future__ import annotations

from sqlalchemy import select

from dutydesk.mailgate.attachments import content_disposition, media_type
from dutydesk.mailgate.models import MailAttachment
from dutydesk.mailgate.service import take
from dutydesk.state import AppState
from dutydesk.tickets import service
from tests.conftest import Api
from tests.mailgate import messages as m
from tests.web.conftest import Web

SMALL = b"FAIL: test_flaky (timeout)\n<script>alert(1)</script>\n"
BIG = bytes(range(256)) * 5000  # 1.2 MiB: over the desk's 1 MiB limit


def mailed(state: AppState) -> str:
    out = take(state, "infra", m.with_attachments(SMALL, BIG))
    assert out.key is not None
    return out.key


def test_the_api_lists_the_files_and_serves_a_kept_one_as_a_download(
    api: Api, state: AppState
) -> None:
    key = mailed(state)
    r = api.req("bo", "GET", f"/api/v1/tickets/{key}/attachments")
    assert r.status_code == 200, r.text
    listed = {a["filename"]: a for a in r.json()}
    short, full = listed["short.log"], listed["full.log.gz"]
    assert (short["kept"], short["size"], short["content_type"]) == (True, len(SMALL), "text/plain")
    assert (full["kept"], full["url"], full["size"]) == (False, None, len(BIG))

    got = api.req("rita", "GET", short["url"])  # the reporter reads what she mailed
    assert got.status_code == 200 and got.content == SMALL
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"short.log\"; filename*=UTF-8''short.log"
    )
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in got.headers["content-security-policy"]

    over = api.req("bo", "GET", f"/api/v1/tickets/{key}/attachments/{full['id']}")
    assert over.status_code == 404 and "not kept" in over.json()["detail"]
    assert over.headers["content-type"].startswith("application/problem+json")


def test_downloads_need_a_reader_and_the_right_ticket(api: Api, state: AppState) -> None:
    key = mailed(state)
    other = api.file()["key"]
    with state.db.read() as s:
        aid = s.scalar(select(MailAttachment.id).where(MailAttachment.filename == "short.log"))
    anonymous = api.client.get(f"/api/v1/tickets/{key}/attachments/{aid}")
    assert anonymous.status_code == 401 and SMALL not in anonymous.content
    # An attachment is read through its own ticket only.
    wrong = api.req("bo", "GET", f"/api/v1/tickets/{other}/attachments/{aid}")
    assert wrong.status_code == 404 and SMALL not in wrong.content
    assert api.req("bo", "GET", f"/api/v1/tickets/{key}/attachments/99999").status_code == 404
    bad = api.req("bo", "GET", f"/api/v1/tickets/{key}/attachments/0")
    assert bad.status_code == 422


def test_a_file_of_an_internal_comment_is_for_responders_only(api: Api, state: AppState) -> None:
    key = mailed(state)
    with state.db.write() as s:
        [row] = s.scalars(select(MailAttachment).where(MailAttachment.filename == "short.log"))
        with_internal = row.id
    with Web(state).ctx("bo") as ctx:
        _, note = service.add_comment(ctx, key, "internal log", public=False)
        assert note is not None
        note_id = note.id
    with state.db.write() as s:
        found = s.get(MailAttachment, with_internal)
        assert found is not None
        found.comment_id = note_id
    listed = api.req("rita", "GET", f"/api/v1/tickets/{key}/attachments").json()
    assert "short.log" not in {a["filename"] for a in listed}
    path = f"/api/v1/tickets/{key}/attachments/{with_internal}"
    assert api.req("rita", "GET", path).status_code == 404
    assert api.req("bo", "GET", path).content == SMALL


def test_the_ticket_page_links_kept_files_and_names_the_others(state: AppState) -> None:
    key = mailed(state)
    web = Web(state)
    page = web.as_("rita").get(f"/tickets/{key}")
    assert page.status_code == 200
    assert f'href="/api/v1/tickets/{key}/attachments/' in page.text
    assert ">short.log</a>" in page.text
    assert "full.log.gz <span" in page.text and "(not kept)" in page.text
    link = "/api/v1/tickets/" + page.text.split('href="/api/v1/tickets/')[1].split('"')[0]
    got = web.as_("rita").get(link)  # the browser's session reads it, as the page's link does
    assert got.status_code == 200 and got.content == SMALL


def test_names_and_types_cannot_break_the_headers() -> None:
    assert content_disposition('evil"; filename="x.html') == (
        'attachment; filename="evil__ filename=_x.html"; '
        "filename*=UTF-8''evil%22%3B%20filename%3D%22x.html"
    )
    assert content_disposition("../../etc/passwd").startswith('attachment; filename=".._.._etc')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9.pdf" in content_disposition("résumé.pdf")
    assert content_disposition("").startswith('attachment; filename="attachment"')
    assert media_type("Text/HTML; charset=utf-8") == "text/html"
    assert media_type("text/html\r\nSet-Cookie: a=b") == "application/octet-stream"
    assert media_type("") == "application/octet-stream"
