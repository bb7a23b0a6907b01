"""Recurring requests: clusters of similar tickets, ranked by what they cost (count × effort).

The requests a team would automate repeat their words: "Add a LUCI builder for mac-12", "Add
LUCI builder for linux-arm". Titles are read with the triage domain's analysis (the same
words, stop words and Porter stems as duplicate search), and what names no topic is left out:
numbers, versions and ids ("v9", "1500", "8f3a9c1e"), the fragments of contractions ("doesn"),
the package path of a class name ("java.lang.RuntimeException" is "RuntimeException") and the
headings of the desk's description template.

Clustering groups titles that read alike as a whole, not titles that merely share two words:

1. every title is a set of stems, each weighted by how rare it is on the desk (1 + idf); words
   any ticket uses to say something is wrong or wanted ("fails", "error", "add", "update",
   "issue"…) weigh a third: they join a cluster's words but cannot make one; a word only one
   title uses weighs 1: it is that request's particular (a host, a customer, a class), which
   should not hide that the rest of the title repeats;
2. two titles are neighbours when the weight of the stems they share is at least ``SIMILAR``
   of their mean weight (weighted Dice); titles with the same stems count as one, so a desk
   of repeated requests compares each form once, and a title looks its neighbours up by its
   three rarest telling words (not every title sharing "hive" with it);
3. repeatedly take the title with the most unclustered neighbours and make it and them a
   cluster (each member is then alike to one title, its centre), until none has
   ``min_size`` left; a member missing most of the cluster's words (by weight) goes back to
   the pool, and a cluster whose shared words are all generic is dropped;
4. a cluster's **words** are the stems at least half its members share, shown as its
   members most often spell them.

A cluster's **effort** is the median over its members of the business hours they spent in
progress. Time from filed to done is not effort (it is mostly waiting: an imported history's
bugs waited months), so a cluster none of whose members was ever in progress is costed at
the desk's median effort, else one hour, and says so (``effort_measured``). **Score** = count
× effort.

A team can **follow** a cluster under a name (``followed_clusters``): a ticket belongs when its
title holds every followed stem, so the weekly counts answer "did automating it help?".
"""

from __future__ import annotations

import heapq
import math
import re
import statistics
import time
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.context import Ctx, desk_policy
from dutydesk.errors import NotFound, field_error
from dutydesk.policy.models import DeskPolicy, Policy
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
from dutydesk.tickets.times import Clock, histories
from dutydesk.triage.analysis import stem, words

MIN_SIZE = 3
MAX_CLUSTERS = 30
MAX_MEMBERS = 50
SHARED = 0.5  # a cluster's words: stems at least half its members share
SIMILAR = 0.55  # weighted Dice of two titles that read as the same request
GENERIC_WEIGHT = 1 / 3
KEYS = 3  # rarest words of a title that look up its neighbours
MAX_POSTING = 60  # forms of title a word may have to look neighbours up by (the rarest always)
FALLBACK_EFFORT = 3600.0  # one hour, when no ticket of the period has a known effort

# Contractions split at the apostrophe leave these; with "t" gone they are noise.
_CONTRACTED = frozenset(
    [
        "doesn",
        "didn",
        "isn",
        "wasn",
        "aren",
        "won",
        "couldn",
        "shouldn",
        "wouldn",
        "hasn",
        "haven",
        "weren",
    ]
)

# Words any ticket uses to say that something is wrong or wanted: they say nothing about
# which request it is, so they never define a cluster on their own (nor do contractions).
GENERIC = frozenset(
    stem(w)
    for w in [
        "add",
        "added",
        "adding",
        "allow",
        "able",
        "unable",
        "bug",
        "bugs",
        "broken",
        "break",
        "breaks",
        "cause",
        "causes",
        "change",
        "correct",
        "correctly",
        "create",
        "error",
        "errors",
        "exception",
        "fail",
        "fails",
        "failed",
        "failing",
        "failure",
        "fix",
        "fixed",
        "fixes",
        "get",
        "getting",
        "handle",
        "improve",
        "incorrect",
        "incorrectly",
        "issue",
        "issues",
        "make",
        "missing",
        "need",
        "needs",
        "new",
        "non",
        "problem",
        "problems",
        "remove",
        "request",
        "requests",
        "return",
        "returns",
        "run",
        "running",
        "show",
        "shows",
        "support",
        "supported",
        "throw",
        "throws",
        "thrown",
        "update",
        "updates",
        "use",
        "used",
        "uses",
        "using",
        "wrong",
        "work",
        "works",
        "working",
        *_CONTRACTED,
    ]
)
# A dotted path of three or more names (java.lang.RuntimeException, org.apache.X.Y): only the
# last name, the class, says what it is about.
_DOTTED = re.compile(r"\b(?:[A-Za-z_][\w$]*\.){2,}([A-Za-z_][\w$]*)")
_VERSION = re.compile(r"v?\d+[a-z]?")
_HEX_ID = re.compile(r"[0-9a-f]{6,}")


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


def is_id_like(word: str) -> bool:
    """Numbers, versions ("v9", "10b") and ids (hex, or three digits or more in a word)."""
    if not any(c.isdigit() for c in word):
        return False
    return bool(
        _VERSION.fullmatch(word) or _HEX_ID.fullmatch(word) or sum(c.isdigit() for c in word) >= 3
    )


def title_stems(
    title: str, boilerplate: frozenset[str] = frozenset()
) -> tuple[frozenset[str], dict[str, str]]:
    """The title's stems (what names no topic dropped) and the word that first spells each."""
    spelled: dict[str, str] = {}
    for w in words(_DOTTED.sub(r"\1", title)):
        if is_id_like(w) or w in _CONTRACTED:
            continue
        s = stem(w)
        if s not in boilerplate:
            spelled.setdefault(s, w)
    return frozenset(spelled), spelled


def template_stems(spec: DeskPolicy) -> frozenset[str]:
    """The headings of the desk's description template ("Steps to reproduce", "Expected"): a
    title that repeats them repeats the form, not the request. (Hints are left alone: they
    name the desk's topics, "which bots, builders, services".)"""
    text = " ".join(p.heading for p in spec.prompts)
    return frozenset(stem(w) for w in words(text)) - GENERIC


def _weights(signatures: Iterable[frozenset[str]], counts: Sequence[int]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for sig, c in zip(signatures, counts, strict=True):
        for s in sig:
            df[s] += c
    n = max(sum(counts), 1)
    return {
        s: (1 + math.log(n / c) if c > 1 else 1.0) * (GENERIC_WEIGHT if s in GENERIC else 1.0)
        for s, c in df.items()
    }


def cluster(docs: Sequence[Doc], min_size: int = MIN_SIZE) -> list[list[int]]:
    """Indexes of ``docs`` per cluster, biggest first (the greedy cover by centres above)."""
    by_sig: dict[frozenset[str], list[int]] = defaultdict(list)
    for i, d in enumerate(docs):
        if d.stems:
            by_sig[d.stems].append(i)
    sigs = list(by_sig)
    alike = list(by_sig.values())  # the tickets of each signature
    size = [len(a) for a in alike]
    weight = _weights(sigs, size)
    total = [sum(weight[s] for s in sig) for sig in sigs]
    postings: dict[str, list[int]] = defaultdict(list)
    for j, sig in enumerate(sigs):
        for s in sig:
            postings[s].append(j)
    near: list[list[int]] = []
    for j, sig in enumerate(sigs):
        # Neighbours are found by the title's rarest telling words (a word of one title only
        # finds nobody), the rest is added to the candidates those found.
        keys = sorted(
            (s for s in sig if s not in GENERIC and len(postings[s]) > 1),
            key=lambda s: (len(postings[s]), s),
        )[:KEYS]
        keys = keys[:1] + [s for s in keys[1:] if len(postings[s]) <= MAX_POSTING]
        shared: dict[int, float] = {j: 0.0}
        for s in keys:
            w = weight[s]
            for k in postings[s]:
                shared[k] = shared.get(k, 0.0) + w
        rest = [s for s in sig if s not in keys]
        # Even sharing all of them, most candidates stay below the bar: skip those first.
        bar = SIMILAR / 2
        most = sum(weight[s] for s in rest)
        mine = []
        for k, w in shared.items():
            if w + most < bar * (total[j] + total[k]):
                continue
            w += sum(weight[s] for s in rest if s in sigs[k])
            if w >= bar * (total[j] + total[k]):
                mine.append(k)
        near.append(mine)
    taken = [False] * len(sigs)

    def free_size(j: int) -> int:
        return sum(size[k] for k in near[j] if not taken[k])

    heap = [(-free_size(j), -size[j], j) for j in range(len(sigs))]
    heapq.heapify(heap)
    out: list[list[int]] = []
    while heap:
        neg, _, j = heapq.heappop(heap)
        if taken[j]:
            continue
        now = free_size(j)
        if now < min_size:
            continue
        if now < -neg:  # others took some since: its place in the queue moves down
            heapq.heappush(heap, (-now, -size[j], j))
            continue
        group = [k for k in near[j] if not taken[k]]
        held: Counter[str] = Counter()
        for k in group:
            for s in sigs[k]:
                held[s] += size[k]
        half = sum(size[k] for k in group) / 2
        topic = {s: weight[s] for s, c in held.items() if c > half and s not in GENERIC}
        if not topic:
            continue  # only generic words in common: not one request
        # A neighbour of the centre that misses most of what most members share (it has only
        # a customer's name and a prefix in common) goes back to the pool.
        whole = sum(topic.values())
        group = [k for k in group if sum(topic.get(s, 0.0) for s in sigs[k]) * 2 >= whole]
        members = [i for k in group for i in alike[k]]
        if len(members) < min_size:
            continue
        for k in group:
            taken[k] = True
        out.append(sorted(members))
    out.sort(key=len, reverse=True)
    return out


def defining_words(
    docs: Sequence[Doc], members: Sequence[int]
) -> tuple[list[str], list[str], list[str]]:
    """(stems, words) at least half the members share, most shared first and then in the
    order the titles say them, and the words every member shares (what following matches)."""
    counts: Counter[str] = Counter()
    spell: dict[str, Counter[str]] = defaultdict(Counter)
    place: Counter[str] = Counter()  # summed positions in the titles: words read in order
    for i in members:
        counts.update(docs[i].stems)
        for at, (s, w) in enumerate(docs[i].spelled.items()):
            spell[s][w] += 1
            place[s] += at
    need = max(2, math.ceil(SHARED * len(members)))
    shared = [s for s, c in counts.items() if c >= need]
    stems_ = sorted(shared, key=lambda s: (-counts[s], place[s] / counts[s], s))
    words_ = [spell[s].most_common(1)[0][0] for s in stems_]
    core = [w for s, w in zip(stems_, words_, strict=True) if counts[s] == len(members)]
    return stems_, words_, core


# ----------------------------------------------------------------------------- the service


def _docs(session: Session, desk: str, period: Period, boilerplate: frozenset[str]) -> list[Doc]:
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
        st, spelled = title_stems(title, boilerplate)
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
    docs = _docs(session, desk, period, template_stems(spec))
    groups = cluster(docs)
    progress = histories(
        session,
        desk,
        spec,
        clock,
        Ticket.created_at >= period.since,
        Ticket.created_at < period.until,
    ).in_progress
    effort = {d.id: progress[d.id] for d in docs if progress.get(d.id, 0.0) > 0}
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
                effort_measured=len(known),
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
