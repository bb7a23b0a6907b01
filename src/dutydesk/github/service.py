"""What a verified GitHub delivery does to a desk, in one transaction: file a ticket for an
issue, add its comments, mirror its closing and reopening.

Every change goes through the tickets' own use cases, acting as the GitHub user's dutydesk
user (``[people.X] github = "login"``) or a guest reporter, so the API's rules hold: a
reporter sets no priority, the on-call hears of a new ticket, a move the workflow refuses
is refused here too — and then recorded as an event on the ticket, never an error to GitHub.
Each delivery is remembered by its ``X-GitHub-Delivery`` id: a redelivery changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.guests import guest_name, guest_reporter
from dutydesk.auth.models import User
from dutydesk.auth.service import has_role
from dutydesk.context import Ctx
from dutydesk.errors import DomainError
from dutydesk.github.models import GithubDelivery, GithubIssueLink
from dutydesk.github.payloads import (
    GithubIssue,
    GithubUser,
    IssueCommentEvent,
    IssuesEvent,
    read,
)
from dutydesk.policy.ingress import GithubDeskPolicy
from dutydesk.tickets import filing, service
from dutydesk.tickets.models import Ticket, Watcher
from dutydesk.tickets.recorder import TicketChange, for_change
from dutydesk.tickets.schemas import FileTicket
from dutydesk.triage.titles import vague_title_hint

# Acts only until the GitHub user is known, inside the same transaction; never written.
GATEWAY = User(name="github", roles=[], desks=[], active=True)
MAX_BODY = 50_000


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    payload: Any


@dataclass(frozen=True)
class BridgeOutcome:
    status: Literal["handled", "ignored", "redelivered"]
    detail: str
    ticket: str | None = None
    hints: tuple[str, ...] = ()
    # Set when the desk writes back: what to tell GitHub once this transaction commits.
    write_back: tuple[str, int, str] | None = None


class Ignored(Exception):
    """A delivery the desk has nothing to do with (answered 202, nothing written)."""


def handle(ctx: Ctx, desk: str, rules: GithubDeskPolicy, delivery: Delivery) -> BridgeOutcome:
    s = ctx.session
    seen = s.get(GithubDelivery, delivery.id)
    if seen is not None:
        return BridgeOutcome("redelivered", f"already handled: {seen.outcome}")
    action = delivery.payload.get("action") if isinstance(delivery.payload, dict) else None
    # Claimed first: a second copy arriving at the same time waits on this row, then fails.
    row = GithubDelivery(
        delivery_id=delivery.id,
        desk=desk,
        event=delivery.event,
        action=str(action)[:60] if action else None,
        outcome="",
        received_at=ctx.now,
    )
    s.add(row)
    s.flush()
    try:
        with s.begin_nested():
            outcome, ticket = _dispatch(ctx, desk, rules, delivery)
    except Ignored as why:
        s.delete(row)  # nothing to remember: nothing was written
        return BridgeOutcome("ignored", str(why))
    row.outcome = outcome.detail[:300]
    row.ticket_id = ticket.id if ticket is not None else None
    return outcome


def _dispatch(
    ctx: Ctx, desk: str, rules: GithubDeskPolicy, delivery: Delivery
) -> tuple[BridgeOutcome, Ticket | None]:
    if delivery.event == "issues":
        ev = read(IssuesEvent, delivery.payload)
        _check_repository(rules, ev.repository.full_name)
        if ev.action == "opened" and "opened" in rules.file_on:
            return _file(ctx, desk, rules, ev)
        if ev.action == "labeled" and "labeled" in rules.file_on:
            if ev.label is None or ev.label.name != rules.label:
                raise Ignored(f"label {ev.label.name if ev.label else None!r} files nothing")
            return _file(ctx, desk, rules, ev)
        if ev.action in ("closed", "reopened"):
            return _close_or_reopen(ctx, rules, ev)
        raise Ignored(f"issues.{ev.action} is not bridged")
    if delivery.event == "projects_v2_item":  # read from GitHub as an opened issue
        ev_p = read(IssuesEvent, delivery.payload)
        _check_repository(rules, ev_p.repository.full_name)
        return _file(ctx, desk, rules, ev_p)
    if delivery.event == "issue_comment":
        ev_c = read(IssueCommentEvent, delivery.payload)
        _check_repository(rules, ev_c.repository.full_name)
        if ev_c.action != "created":
            raise Ignored(f"issue_comment.{ev_c.action} is not bridged")
        return _comment(ctx, rules, ev_c)
    raise Ignored(f"{delivery.event} events are not bridged")


def _check_repository(rules: GithubDeskPolicy, repo: str) -> None:
    if rules.repositories and repo not in rules.repositories:
        raise Ignored(f"{repo} is not one of this desk's repositories")


def _link(s: Session, repo: str, number: int) -> GithubIssueLink | None:
    return s.scalar(
        select(GithubIssueLink).where(
            GithubIssueLink.repository == repo, GithubIssueLink.number == number
        )
    )


def person(ctx: Ctx, desk: str, rules: GithubDeskPolicy, who: GithubUser) -> User:
    """The dutydesk user a GitHub login is: named in policy, else a guest reporter."""
    login = who.login.lower()
    named = next(
        (n for n, p in ctx.policy.people.items() if (p.github or "").lower() == login), None
    )
    if named is not None:
        user = ctx.session.scalar(select(User).where(User.name == named))
        if user is not None and user.active:
            return user
    if rules.unknown_users == "ignore":
        raise Ignored(f"GitHub user {who.login} is not a user of this desk")
    return guest_reporter(
        ctx.session,
        guest_name("gh", who.login),
        desk=desk,
        display_name=f"{who.login} (GitHub)",
        now=ctx.now,
    )


def _fields(rules: GithubDeskPolicy, issue: GithubIssue) -> dict[str, Any]:
    """Kind, category and labels from the issue's GitHub labels, as the desk maps them."""
    out: dict[str, Any] = {"labels": []}
    for label in issue.labels:
        target = rules.labels.get(label.name)
        if target is None:
            continue
        field, _, value = target.partition(":")
        if field == "label":
            out["labels"].append(value)
        else:
            out.setdefault(field, value)
    return out


def _file(
    ctx: Ctx, desk: str, rules: GithubDeskPolicy, ev: IssuesEvent
) -> tuple[BridgeOutcome, Ticket | None]:
    issue, repo = ev.issue, ev.repository.full_name
    if issue.pull_request is not None:
        raise Ignored("pull requests are not filed")
    linked = _link(ctx.session, repo, issue.number)
    if linked is not None:
        raise Ignored(f"{repo}#{issue.number} is already bridged")
    author = person(ctx, desk, rules, issue.user)
    acting = replace(ctx, actor=author)
    title = " ".join(issue.title.split())[:300]
    if len(title) < 3:
        title = f"{repo}#{issue.number}: {title}"[:300]
    source = f"\n\n---\nFrom GitHub: {issue.html_url}"
    body = (issue.body or "")[: MAX_BODY - len(source)] + source
    # Anyone can open an issue with a template's labels: a label that would rank the ticket
    # is left out (and said so in its history) rather than losing the issue.
    filed = filing.file(
        acting,
        desk,
        FileTicket(title=title, description=body.strip(), **_fields(rules, issue)),
        triager_fields="drop",
    )
    ctx.session.add(
        GithubIssueLink(
            repository=repo,
            number=issue.number,
            ticket_id=filed.ticket.id,
            html_url=issue.html_url[:500],
            created_at=ctx.now,
        )
    )
    key = filed.ticket.key
    hint = vague_title_hint(title)
    back = (repo, issue.number, f"Filed as {key} on the dutydesk {desk!r} desk.")
    return (
        BridgeOutcome(
            "handled",
            f"filed {key} from {repo}#{issue.number}",
            key,
            (hint,) if hint else (),
            back if rules.write_back else None,
        ),
        filed.ticket,
    )


def _linked_ticket(ctx: Ctx, repo: str, issue: GithubIssue) -> Ticket:
    link = _link(ctx.session, repo, issue.number)
    if link is None:
        raise Ignored(f"{repo}#{issue.number} is not bridged to a ticket")
    ticket = ctx.session.get(Ticket, link.ticket_id)
    assert ticket is not None  # a link is written with its ticket, which is never deleted
    return ticket


def _comment(
    ctx: Ctx, rules: GithubDeskPolicy, ev: IssueCommentEvent
) -> tuple[BridgeOutcome, Ticket | None]:
    ticket = _linked_ticket(ctx, ev.repository.full_name, ev.issue)
    if ev.comment.user.type == "Bot":
        raise Ignored(f"comments by bots ({ev.comment.user.login}) are not mirrored")
    author = person(ctx, ticket.desk, rules, ev.comment.user)
    acting = replace(ctx, actor=author)
    _follow(acting, ticket)
    link = f"\n\n— [on GitHub]({ev.comment.html_url})"
    body = ((ev.comment.body or "").strip() or "(an empty comment)")[: MAX_BODY - len(link)]
    changed, _ = service.add_comment(acting, ticket.key, body + link, public=True)
    return BridgeOutcome("handled", f"commented on {changed.key}", changed.key), changed


def _follow(ctx: Ctx, ticket: Ticket) -> None:
    """Taking part in a GitHub issue subscribes you to it; here it makes you a watcher of its
    ticket, which is what lets a reporter comment on a ticket they did not file."""
    user = ctx.actor
    if (
        ticket.reporter_id == user.id
        or has_role(user, "responder", ticket.desk)
        or ctx.session.get(Watcher, (ticket.id, user.id)) is not None
    ):
        return
    locked, desk = for_change(ctx, ticket.key, None)
    ctx.session.add(Watcher(ticket_id=locked.id, user_id=user.id))
    change = TicketChange(ctx, locked, desk)
    change.event("changed", "watchers", None, [user.name], via="github")
    change.finish()


def _close_or_reopen(
    ctx: Ctx, rules: GithubDeskPolicy, ev: IssuesEvent
) -> tuple[BridgeOutcome, Ticket | None]:
    ticket = _linked_ticket(ctx, ev.repository.full_name, ev.issue)
    desk_rules = ctx.desk(ticket.desk)
    closing = ev.action == "closed"
    done = desk_rules.done_column
    if closing and ticket.status == done:
        raise Ignored(f"{ticket.key} is already {done}")
    if not closing and ticket.status != done:
        raise Ignored(f"{ticket.key} is open already")
    reason = ev.issue.state_reason or "completed"
    resolution = rules.resolutions.get(reason) if closing else None
    to = done if closing else desk_rules.intake_column
    try:
        actor = person(ctx, ticket.desk, rules, ev.sender)
    except Ignored:
        actor = None
    why = None
    if closing and resolution is None:
        why = f"no resolution is mapped for GitHub's state_reason {reason!r}"
    elif actor is None:
        why = f"{ev.sender.login} is not a user of this desk"
    else:
        acting = replace(ctx, actor=actor)
        try:
            with ctx.session.begin_nested():  # a refused move leaves nothing behind
                moved = service.move(acting, ticket.key, to, resolution, None, None)
        except DomainError as exc:
            why = exc.detail
        else:
            what = f"closed {moved.key} ({resolution})" if closing else f"reopened {moved.key}"
            return BridgeOutcome("handled", what, moved.key), moved
    # Refused: the ticket stays as it is, and its history says what GitHub did and why not.
    locked, desk = for_change(ctx, ticket.key, None)
    change = TicketChange(replace(ctx, actor=actor) if actor else ctx, locked, desk)
    change.event(
        "github_not_mirrored",
        "status",
        locked.status,
        to,
        github_action=ev.action,
        by=ev.sender.login,
        state_reason=reason if closing else None,
        reason=why,
    )
    change.finish()
    return (
        BridgeOutcome("handled", f"{ev.action} on GitHub, not here: {why}", locked.key),
        locked,
    )
