"""Mirroring a bridged ticket's status to its GitHub issue: closing the ticket closes the
issue with a comment, reopening it reopens the issue, and triage's priority becomes a label.

Off unless the desk's ``[desks.X.github]`` says ``write_back = true`` and the token's
variable is set (the same switch as the "Filed as KEY" comment). The worker runs
:func:`run` each tick: it reads the ticket history past a cursor, works out GitHub's REST
calls for the bridged tickets' status and priority changes (:func:`calls`, pure), sends them
to ``api_url`` and moves the cursor. The cursor is claimed under a lease in a short write,
and no transaction stays open while GitHub answers, so several workers (PostgreSQL) send
each call once and a slow GitHub never holds SQLite's writer.

Changes GitHub itself caused (a delivery that closed the ticket) are not sent back: their
events carry the instant of the delivery that made them. A call GitHub refuses for good
(4xx but 429) is logged and skipped; anything else stops the pass, to be tried next tick
from the change it belongs to (at least once: a closing whose comment went out but whose
state change failed comments again).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dutydesk.db import Database
from dutydesk.github.models import GithubDelivery, GithubIssueLink, GithubMirrorCursor
from dutydesk.policy.ingress import GithubDeskPolicy
from dutydesk.policy.models import Policy
from dutydesk.tickets.models import Event, Ticket, ticket_key

log = logging.getLogger("dutydesk.github")
CURSOR = "events"
LEASE = timedelta(minutes=2)
SETTLE = timedelta(seconds=5)
BATCH = 50
# GitHub's state_reason for a closing: the work was done, or it will not be.
COMPLETED = {"fixed"}


@dataclass(frozen=True)
class Call:
    """One GitHub REST call: method, path under the API base URL, JSON body."""

    method: Literal["POST", "PATCH", "DELETE"]
    path: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Change:
    """A history event of a bridged ticket, with what the rules need to know of it."""

    event_id: int
    desk: str
    type: str
    field: str | None
    before: Any
    after: Any
    key: str
    resolution: str | None
    repository: str
    number: int


@dataclass
class Pass:
    sent: list[Call] = field(default_factory=list)
    skipped: list[tuple[Call, str]] = field(default_factory=list)
    cursor: int = 0


def priority_label(priority: str) -> str:
    """The GitHub label a priority is shown by (GitHub labels never set a priority: a
    reporter does not choose it, so this label only goes out)."""
    return f"priority:{priority}"


def calls(change: Change, rules: GithubDeskPolicy, done_column: str) -> list[Call]:
    """The REST calls that mirror one change (pure): GitHub's documented endpoints
    ``POST /repos/{o}/{r}/issues/{n}/comments``, ``PATCH /repos/{o}/{r}/issues/{n}``,
    ``POST …/labels`` and ``DELETE …/labels/{name}``."""
    issue = f"/repos/{change.repository}/issues/{change.number}"
    if change.type == "changed" and change.field == "status":
        if change.after == done_column and change.before != done_column:
            how = f" ({change.resolution})" if change.resolution else ""
            reason = "completed" if change.resolution in COMPLETED else "not_planned"
            return [
                Call(
                    "POST", f"{issue}/comments", {"body": f"Closed in dutydesk: {change.key}{how}."}
                ),
                Call("PATCH", issue, {"state": "closed", "state_reason": reason}),
            ]
        if change.before == done_column and change.after != done_column:
            return [Call("PATCH", issue, {"state": "open", "state_reason": "reopened"})]
    if change.type == "changed" and change.field == "priority" and change.after != change.before:
        out = []
        if change.before:
            old = priority_label(str(change.before))
            out.append(Call("DELETE", f"{issue}/labels/{quote(old, safe='')}"))
        if change.after:
            out.append(
                Call(
                    "POST",
                    f"{issue}/labels",
                    {"labels": [priority_label(str(change.after))]},
                )
            )
        return out
    return []


def _writing(policy: Policy, env: Mapping[str, str]) -> dict[str, tuple[GithubDeskPolicy, str]]:
    """Desks that write back, with their token."""
    out = {}
    for name, desk in policy.desks.items():
        rules = desk.github
        if rules is not None and rules.write_back:
            token = env.get(rules.token_env, "").strip()
            if token:
                out[name] = (rules, token)
    return out


def _claim(db: Database, now: datetime, owner: str) -> int | None:
    """Take the cursor for one pass (None: another worker holds it). A new cursor starts at
    the newest event: turning write-back on mirrors what happens from then on."""
    with db.write() as s:
        row = s.get(GithubMirrorCursor, CURSOR)
        if row is None:
            newest = s.scalar(select(func.max(Event.id))) or 0
            s.add(GithubMirrorCursor(name=CURSOR, last_event_id=newest, lease_until=None))
            try:
                s.flush()
            except IntegrityError:  # another worker started it at the same moment
                return None
            row = s.get(GithubMirrorCursor, CURSOR)
            assert row is not None
        taken = s.execute(  # type: ignore[attr-defined]
            update(GithubMirrorCursor)
            .where(
                GithubMirrorCursor.name == CURSOR,
                (GithubMirrorCursor.lease_until.is_(None)) | (GithubMirrorCursor.lease_until < now),
            )
            .values(lease_until=now + LEASE, lease_owner=owner)
        ).rowcount
        return row.last_event_id if taken else None


def _release(db: Database, owner: str, last: int) -> None:
    with db.write() as s:
        s.execute(
            update(GithubMirrorCursor)
            .where(GithubMirrorCursor.name == CURSOR, GithubMirrorCursor.lease_owner == owner)
            .values(last_event_id=last, lease_until=None, lease_owner=None)
        )


def _changes(s: Session, after: int, desks: set[str], now: datetime) -> tuple[list[Change], int]:
    """Bridged tickets' changes past ``after`` (and the last event id read). Events younger
    than ``SETTLE`` wait for the next pass: an id is taken at insert, so a transaction still
    open could yet commit an id below one already read."""
    found = s.execute(
        select(Event.id, Event.at).where(Event.id > after).order_by(Event.id).limit(BATCH)
    ).all()
    ids = []
    for eid, at in found:
        if at > now - SETTLE:
            break
        ids.append(eid)
    if not ids:
        return [], after
    rows = s.execute(
        select(
            Event.id,
            Event.type,
            Event.field,
            Event.before,
            Event.after,
            Event.at,
            Event.ticket_id,
            Ticket.desk,
            Ticket.number.label("ticket_number"),
            Ticket.resolution,
            GithubIssueLink.repository,
            GithubIssueLink.number.label("issue_number"),
        )
        .join(Ticket, Ticket.id == Event.ticket_id)
        .join(GithubIssueLink, GithubIssueLink.ticket_id == Event.ticket_id)
        .where(
            Event.id.in_(ids),
            Event.type == "changed",
            Event.field.in_(("status", "priority")),
            Ticket.desk.in_(desks),
        )
        .order_by(Event.id)
    ).all()
    # What a GitHub delivery did to a ticket is GitHub's news already.
    echoes = {
        (tid, at)
        for tid, at in s.execute(
            select(GithubDelivery.ticket_id, GithubDelivery.received_at).where(
                GithubDelivery.ticket_id.in_({r.ticket_id for r in rows})
            )
        )
    }
    out = [
        Change(
            event_id=r.id,
            desk=r.desk,
            type=r.type,
            field=r.field,
            before=r.before,
            after=r.after,
            key=ticket_key(r.desk, r.ticket_number),
            resolution=r.resolution,
            repository=r.repository,
            number=r.issue_number,
        )
        for r in rows
        if (r.ticket_id, r.at) not in echoes
    ]
    return out, ids[-1]


def _send(client: httpx.Client, base: str, token: str, call: Call) -> None:
    r = client.request(
        call.method,
        base.rstrip("/") + call.path,
        json=call.body,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "dutydesk",
        },
    )
    r.raise_for_status()


def run(
    db: Database,
    policy: Policy,
    now: datetime,
    env: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> Pass | None:
    """One pass over the history since the cursor; None when no desk writes back or another
    worker holds the cursor."""
    writing = _writing(policy, os.environ if env is None else env)
    if not writing:
        return None
    owner = uuid.uuid4().hex
    start = _claim(db, now, owner)
    if start is None:
        return None
    done = Pass(cursor=start)
    try:
        with db.read() as s:
            changes, last = _changes(s, start, set(writing), now)
        with httpx.Client(timeout=timeout) as client:
            for change in changes:
                desk = policy.desks[change.desk]
                rules, token = writing[change.desk]
                for call in calls(change, rules, desk.done_column):
                    try:
                        _send(client, rules.api_url, token, call)
                    except httpx.HTTPStatusError as exc:
                        code = exc.response.status_code
                        if 400 <= code < 500 and code != 429:
                            log.warning("GitHub refused %s %s: %s", call.method, call.path, code)
                            done.skipped.append((call, f"{code}"))
                            continue
                        raise
                    done.sent.append(call)
                done.cursor = change.event_id
            done.cursor = last
    except httpx.HTTPError as exc:
        log.warning("mirroring to GitHub stopped (tried again next tick): %s", exc)
    finally:
        _release(db, owner, done.cursor)
    return done
