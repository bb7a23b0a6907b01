"""Recurring requests: clusters of similar tickets, ranked by what they cost (count × effort).

The requests a team would automate repeat their words: "Add a LUCI builder for mac-12", "Add
LUCI builder for linux-arm". Titles are read with the triage domain's analysis (the same
words, stop words and Porter stems as duplicate search); numbers are dropped (ids, versions).

Clustering is a greedy cover by word pairs, which keeps each cluster explainable by the words
its members share and runs in well under a second for a quarter of a busy desk:

1. every pair of stems in a title is a candidate topic; pairs fewer than ``min_size`` tickets
   share are dropped;
2. repeatedly take the pair most still-unclustered tickets share (ties: the rarer words, the
   more telling topic) and make those tickets a cluster, until no pair has ``min_size`` left;
3. a cluster's **words** are the stems at least half its members share (its pair included),
   shown as its members most often spell them.

A cluster's **effort** is the median over its members of the hours in progress (business
time), else of filed → done for done tickets never moved to in progress; with neither known, the
desk's median effort over the period, else one hour. **Score** = count × effort.

A team can **follow** a cluster under a name (``followed_clusters``): a ticket belongs when its
title holds every followed stem, so the weekly counts answer "did automating it help?".
"""

from __future__ import annotations

import heapq
import math
import statistics
import time
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.context import Ctx, desk_policy
from dutydesk.errors import NotFound, field_error
from dutydesk.policy.models import Policy
from dutydesk.reports.models import FollowedCluster
from dutydesk.reports.period import Period
from dutydesk.reports.schemas import (
    Cluster,
    ClusterMember,
    Followed,
    FollowedWeek,
    FollowIn,
    Recurring,
)
from dutydesk.reports.toil import hours
from dutydesk.slo.policy import desk_calendar
from dutydesk.tickets.models import Ticket, ticket_key
from dutydesk.tickets.times import Clock, in_progress_for
from dutydesk.triage.analysis import stem, words

MIN_SIZE = 3
MAX_STEMS = 10  # per title: the rarest ones, so a long title does not make 45 pairs
MAX_CLUSTERS = 30
MAX_MEMBERS = 50
SHARED = 0.5  # a cluster's words: stems at least half its members share
FALLBACK_EFFORT = 3600.0  # one hour, when no ticket of the period has a known effort


@dataclass
class Doc:
    """One ticket as clustering reads it."""

    id: int
    number: int
    title: str
    status: str
    category: str | None
    filed_at: datetime
    resolved_at: datetime | None
    stems: frozenset[str]
    spelled: dict[str, str]


def title_stems(title: str) -> tuple[frozenset[str], dict[str, str]]:
    """The title's stems (numbers dropped) and the word that first spells each."""
    spelled: dict[str, str] = {}
    for w in words(title):
        if w.isdigit():
            continue
        spelled.setdefault(stem(w), w)
    return frozenset(spelled), spelled


def cluster(docs: Sequence[Doc], min_size: int = MIN_SIZE) -> list[list[int]]:
    """Indexes of ``docs`` per cluster, biggest first (the greedy pair cover above)."""
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.stems)
    n = max(len(docs), 1)
    idf = {s: math.log(n / c) for s, c in df.items()}
    pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, d in enumerate(docs):
        usable = sorted((s for s in d.stems if df[s] >= min_size), key=lambda s: (-idf[s], s))
        for p in combinations(sorted(usable[:MAX_STEMS]), 2):
            pairs[p].append(i)
    heap = [(-len(m), -(idf[p[0]] + idf[p[1]]), p) for p, m in pairs.items() if len(m) >= min_size]
    heapq.heapify(heap)
    taken = [False] * len(docs)
    out: list[list[int]] = []
    while heap:
        neg, tie, p = heapq.heappop(heap)
        free = [i for i in pairs[p] if not taken[i]]
        if len(free) < min_size:
            continue
        if len(free) < -neg:  # others took some since: its place in the queue moves down
            heapq.heappush(heap, (-len(free), tie, p))
            continue
        for i in free:
            taken[i] = True
        out.append(free)
    out.sort(key=len, reverse=True)
    return out


def defining_words(
    docs: Sequence[Doc], members: Sequence[int]
) -> tuple[list[str], list[str], list[str]]:
    """(stems, words) at least half the members share, most shared first, and the words every
    member shares (what following the cluster matches)."""
    counts: Counter[str] = Counter()
    spell: dict[str, Counter[str]] = defaultdict(Counter)
    for i in members:
        counts.update(docs[i].stems)
        for s, w in docs[i].spelled.items():
            spell[s][w] += 1
    need = max(2, math.ceil(SHARED * len(members)))
    stems_ = [s for s, c in sorted(counts.items(), key=lambda x: (-x[1], x[0])) if c >= need]
    words_ = [spell[s].most_common(1)[0][0] for s in stems_]
    core = [w for s, w in zip(stems_, words_, strict=True) if counts[s] == len(members)]
    return stems_, words_, core


# ----------------------------------------------------------------------------- the service


def _docs(session: Session, desk: str, period: Period) -> list[Doc]:
    rows = session.execute(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.title,
            Ticket.status,
            Ticket.category,
            Ticket.created_at,
            Ticket.resolved_at,
        )
        .where(
            Ticket.desk == desk,
            Ticket.created_at >= period.since,
            Ticket.created_at < period.until,
        )
        .order_by(Ticket.created_at, Ticket.id)
    )
    out = []
    for tid, number, title, status, category, filed, resolved in rows:
        st, spelled = title_stems(title)
        out.append(Doc(tid, number, title, status, category, filed, resolved, st, spelled))
    return out


def recurring_requests(
    session: Session, policy: Policy, desk: str, period: Period, now: datetime
) -> Recurring:
    """Clusters of the tickets filed in ``period``, ranked by count × effort, and the weekly
    counts of every cluster the desk follows."""
    began = time.perf_counter()
    spec = desk_policy(policy, desk)
    clock = Clock(desk_calendar(policy, desk))
    docs = _docs(session, desk, period)
    groups = cluster(docs)
    progress = in_progress_for(
        session,
        desk,
        spec,
        clock,
        Ticket.created_at >= period.since,
        Ticket.created_at < period.until,
    )
    effort: dict[int, float] = {}
    for d in docs:
        if progress.get(d.id, 0.0) > 0:
            effort[d.id] = progress[d.id]
        elif d.resolved_at is not None and d.status == spec.done_column:
            effort[d.id] = clock.seconds(d.filed_at, d.resolved_at)
    fallback = statistics.median(effort.values()) if effort else FALLBACK_EFFORT
    followed = _followed_rows(session, desk)
    clusters = []
    for members in groups:
        stems_, words_, core = defining_words(docs, members)
        known = [effort[docs[i].id] for i in members if docs[i].id in effort]
        per = statistics.median(known) if known else fallback
        cats = Counter(docs[i].category or "" for i in members)
        newest = sorted(members, key=lambda i: (docs[i].filed_at, docs[i].id), reverse=True)
        name = next((f.name for f in followed if set(f.stems) <= set(stems_)), None)
        clusters.append(
            Cluster(
                words=words_,
                stems=stems_,
                core=core,
                count=len(members),
                effort_hours=hours(per),
                score=round(len(members) * per / 3600, 1),
                categories=dict(cats.most_common()),
                name=name,
                members=[
                    ClusterMember(
                        key=ticket_key(desk, docs[i].number),
                        title=docs[i].title,
                        status=docs[i].status,
                        category=docs[i].category,
                        filed_at=docs[i].filed_at,
                        effort_hours=hours(effort[docs[i].id]) if docs[i].id in effort else None,
                    )
                    for i in newest[:MAX_MEMBERS]
                ],
            )
        )
    clusters.sort(key=lambda c: (-c.score, -c.count, c.words))
    return Recurring(
        tickets=len(docs),
        clustered=sum(len(g) for g in groups),
        clusters=clusters[:MAX_CLUSTERS],
        followed=_followed_weeks(session, followed, docs, period),
        computed_at=now,
        seconds=round(time.perf_counter() - began, 3),
    )


def _followed_rows(session: Session, desk: str) -> list[FollowedCluster]:
    return list(
        session.scalars(
            select(FollowedCluster)
            .where(FollowedCluster.desk == desk, FollowedCluster.stopped_at.is_(None))
            .order_by(FollowedCluster.name)
        )
    )


def _followed_weeks(
    session: Session, rows: list[FollowedCluster], docs: Sequence[Doc], period: Period
) -> list[Followed]:
    starts = [lo for _, lo, _ in period.week_bounds()]
    mondays = period.weeks()
    names = {
        u.id: u.name
        for u in session.scalars(
            select(User).where(User.id.in_({r.created_by_id for r in rows if r.created_by_id}))
        )
    }
    out = []
    for r in rows:
        want = frozenset(r.stems)
        per_week = [0] * len(mondays)
        for d in docs:
            if want <= d.stems:
                per_week[max(0, bisect_right(starts, d.filed_at) - 1)] += 1
        out.append(
            Followed(
                id=r.id,
                name=r.name,
                stems=list(r.stems),
                words=list(r.words),
                created_at=r.created_at,
                created_by=names.get(r.created_by_id) if r.created_by_id else None,
                count=sum(per_week),
                weeks=[
                    FollowedWeek(week=m, count=c) for m, c in zip(mondays, per_week, strict=True)
                ],
            )
        )
    return out


def follow(ctx: Ctx, desk: str, body: FollowIn) -> Followed:
    """Name a cluster to follow it (responders of the desk); its words are stemmed here."""
    from dutydesk.auth.service import require

    desk_policy(ctx.policy, desk)
    require(ctx.actor, "responder", desk, "follow a recurring request")
    spelled: dict[str, str] = {}
    for w in body.words:
        _, sp = title_stems(w)
        spelled.update(sp)
    if not spelled:
        raise field_error("words", "no word to follow: stop words and numbers are left out")
    if ctx.session.scalar(
        select(FollowedCluster.id).where(
            FollowedCluster.desk == desk,
            FollowedCluster.name == body.name,
            FollowedCluster.stopped_at.is_(None),
        )
    ):
        raise field_error("name", f"desk {desk!r} already follows a cluster named {body.name!r}")
    row = FollowedCluster(
        desk=desk,
        name=body.name,
        stems=sorted(spelled),
        words=[spelled[s] for s in sorted(spelled)],
        created_at=ctx.now,
        created_by_id=ctx.actor.id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return Followed(
        id=row.id,
        name=row.name,
        stems=row.stems,
        words=row.words,
        created_at=row.created_at,
        created_by=ctx.actor.name,
        count=0,
        weeks=[],
    )


def unfollow(ctx: Ctx, desk: str, cluster_id: int) -> None:
    """Stop following (the row stays, stamped with who stopped it and when)."""
    from dutydesk.auth.service import require

    desk_policy(ctx.policy, desk)
    require(ctx.actor, "responder", desk, "stop following a recurring request")
    row = ctx.session.get(FollowedCluster, cluster_id)
    if row is None or row.desk != desk or row.stopped_at is not None:
        raise NotFound(f"desk {desk!r} follows no cluster {cluster_id}")
    row.stopped_at = ctx.now
    row.stopped_by_id = ctx.actor.id
