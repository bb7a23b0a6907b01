"""GitHub (REST and gh shapes) and Jira CSV exports, and the streamed API endpoint."""

from __future__ import annotations

import io
import json
from pathlib import Path

from sqlalchemy import func, select

from dutydesk.imports.models import TicketSource
from dutydesk.imports.service import import_github, import_jira_csv
from dutydesk.state import AppState
from dutydesk.tickets.models import Comment, Ticket
from tests.conftest import Api

FIXTURES = Path(__file__).parent / "fixtures"
LABELS = {"p0": "priority:P0", "bug": "kind:bug", "outage": "category:outage"}


def by_external(state: AppState, ext: str) -> Ticket:
    with state.db.read() as s:
        src = s.scalar(select(TicketSource).where(TicketSource.external_id == ext))
        assert src is not None, ext
        t = s.get(Ticket, src.ticket_id)
        assert t is not None
        return t


def test_github_rest_array_skips_pull_requests_and_maps_labels(state: AppState) -> None:
    path = FIXTURES / "rest_issues.json"
    result = import_github(state, path, desk="infra", actor="admin", label_map=LABELS)
    assert (result.created, result.skipped, result.rejected) == (2, 1, [])
    bug = by_external(state, "octocat/Hello-World#1347")
    assert (bug.kind, bug.priority, bug.in_queue, bug.status) == ("bug", "P0", True, "Triaged")
    old = by_external(state, "octocat/Hello-World#1349")
    assert (old.status, old.resolution, old.labels) == ("Done", "wont-fix", ["wontfix"])
    again = import_github(state, path, desk="infra", actor="admin", label_map=LABELS)
    assert (again.created, again.unchanged, again.skipped) == (0, 2, 1)


def test_gh_issue_list_output_brings_comments(state: AppState) -> None:
    result = import_github(state, FIXTURES / "gh_issue_list.json", desk="infra", label_map=LABELS)
    assert result.created == 2 and not result.rejected
    closed = by_external(state, "octo-org/infra#42")
    assert closed.category == "outage" and closed.resolution == "fixed"
    with state.db.read() as s:
        bodies = s.scalars(select(Comment.body).where(Comment.ticket_id == closed.id)).all()
    assert bodies == ["Looking into it."]


def test_github_truncated_array_keeps_the_items_before_the_cut(state: AppState) -> None:
    text = (FIXTURES / "gh_issue_list.json").read_bytes()
    cut = text[: text.index(b'"number": 43')]
    result = import_github(state, io.BytesIO(cut), desk="infra", actor="admin")
    assert result.created == 1
    assert result.rejected[0].line == 2 and "truncated" in result.rejected[0].reason


def test_jira_csv_with_repeated_columns_and_jira_times(state: AppState) -> None:
    path = FIXTURES / "jira_export.csv"
    data = b"\xef\xbb\xbf" + path.read_bytes()  # Excel's BOM is read as UTF-8
    result = import_jira_csv(state, io.BytesIO(data), desk="infra", actor="admin")
    assert (result.created, result.rejected) == (2, [])
    t = by_external(state, "HDFS-101")
    assert t.created_at.isoformat() == "2025-12-05T19:09:00+00:00"
    assert (t.priority, t.status, t.resolution) == ("P1", "Done", "fixed")
    assert t.labels == ["regression", "component:test", "component:datanode"] or set(t.labels) == {
        "regression",
        "component:test",
        "component:datanode",
    }
    assert "java.lang.NPE; at line 3" in t.description
    with state.db.read() as s:
        rows = s.execute(
            select(Comment.body, Comment.created_at).where(Comment.ticket_id == t.id)
        ).all()
    assert sorted(b for b, _ in rows) == ["Reproduced; looking.", "Thanks!"]
    again = import_jira_csv(state, io.BytesIO(data), desk="infra", actor="admin")
    assert again.unchanged == 2 and again.created == 0


def test_jira_csv_bad_encoding_and_renamed_columns(state: AppState) -> None:
    text = (
        (FIXTURES / "jira_export.csv")
        .read_bytes()
        .replace(b"Balancer", "Balancé".encode("latin-1"))
    )
    result = import_jira_csv(state, io.BytesIO(text), desk="infra", actor="admin")
    assert result.created == 1
    assert result.rejected[0].line == 4 and "UTF-8" in result.rejected[0].reason
    renamed = text.replace(b"Issue key", b"Key", 1)
    result = import_jira_csv(state, io.BytesIO(renamed), desk="infra", actor="admin")
    assert result.created == 0 and "'Issue key'" in result.rejected[0].reason


def test_the_api_streams_a_large_body_past_the_usual_limit(api: Api, state: AppState) -> None:
    filler = "x" * 40_000
    lines = [
        json.dumps(
            {
                "external_id": f"E{i}",
                "title": f"t{i}",
                "body": filler,
                "created": "2025-01-01T00:00:00Z",
            }
        )
        for i in range(10)
    ]
    body = ("\n".join(lines) + "\n").encode()
    assert len(body) > 256 * 1024

    def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(body), 8192):
            yield body[i : i + 8192]

    r = api.client.post(
        "/api/v1/desks/infra/imports?format=jsonl",
        content=chunks(),
        headers=api.as_("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 10
    dry = api.client.post(
        "/api/v1/desks/infra/imports?format=jsonl&dry_run=true",
        content=body,
        headers=api.as_("admin"),
    )
    assert dry.json()["unchanged"] == 10 and dry.json()["dry_run"] is True
    refused = api.client.post(
        "/api/v1/desks/infra/imports?format=jsonl", content=body, headers=api.as_("ana")
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    other = api.client.post("/api/v1/desks/infra/tickets", content=body, headers=api.as_("admin"))
    assert other.status_code == 413  # only the import path takes large bodies
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 10


def test_github_lines_given_in_process_as_json_lines(state: AppState) -> None:
    items = json.loads((FIXTURES / "gh_issue_list.json").read_text())
    result = import_github(state, [json.dumps(i) for i in items], desk="infra")
    assert result.created == 2 and not result.rejected
