"""Rotation arithmetic: who is on call at an instant and over a range.

Everything here is pure (no database, no clock): the service layer hands in a
:class:`~dutydesk.policy.rotations.RotationSpec` plus the overrides, swaps and time off it stored, and gets back
:class:`Shift` values. The rules below are the contract the rest of dutydesk relies on.

Handoff instants
    A handoff is a local wall-clock time in the rotation's IANA zone, so a 10:00 handoff stays
    10:00 across DST (a weekly shift then lasts 167 h or 169 h). A handoff that falls in a
    spring-forward gap (02:30 on a day the clocks jump from 02:00 to 03:00) happens at the first
    valid instant after the gap, i.e. the instant the clocks jump (03:00 local). An ambiguous one
    (01:30 on a fall-back day) happens at its first occurrence (``fold=0``).

Shift numbering
    Shift 0 starts at the first handoff on or after ``RotationSpec.anchor``; shift ``k`` starts
    ``k * count`` days/weeks/months later, counted on the local calendar (never in elapsed
    seconds, which would drift across DST). Before shift 0 nobody is on call (a gap).
    Month rotations hand off on ``handoff.day``; in months without that day (31 in April, 29-31
    in February) the handoff is on the last day of that month, and the next month returns to
    the declared day.

Membership changes
    Each layer has a list of :class:`MembershipChange` values. The member list of shift ``k`` is
    the latest change whose ``effective`` date is on or before the local date on which shift
    ``k`` starts; shifts that started before a change never move. The cycle continues where it
    was: the first shift under a new list goes to the member who follows the previous shift's
    rotation person (before time off and swaps, which never shift the cycle) in the new list;
    if that person left, to the first member after them in the old order who is still present;
    if nobody carries over, to the first member of the new list. An empty list is a gap; a
    later non-empty list continues from the last person who served.

Time off (``RotationSpec.skip``)
    A member is *unavailable* for a shift when their time off overlaps it by more than
    ``RotationSpec.skip_min_overlap`` (default: any overlap). ``"next"``: the shift goes to the
    first available member after them in list order. ``"swap-later"`` (default): the absent
    member ``p`` of shift ``k`` trades it for a *make-up*, the first later shift ``j`` of the
    same membership period, at most ``R`` shifts after ``k``, that is still untouched (not
    already part of a trade), that ``p`` can take, and whose rotation member ``c`` (not ``p``)
    is available for ``k``: ``c`` serves ``k`` and ``p`` serves ``j``, so nobody works more
    than their share. The first such shift, so hours are paid back as soon as the absent
    member can serve and a year stays within one shift: for a short absence this is the next
    shift of the first member after ``p`` who is available; a long absence is paid back by
    the first shifts after ``p`` returns (possibly back to back). Lead duty follows whoever
    serves the team's shift: a lead month given away for a month that is not one moves one
    lead between the two (hours are the fairness that is kept; lead counts of the two may then
    differ by two). An absence at the end of a year is paid back early the next year. ``R`` is
    ``2 * L + n``: ``n`` the period's member count and ``L`` the longer of ``n`` and the lead
    cycle (teams times the least common multiple of every team size a lead layer ever has).
    If no make-up exists the first available member covers without a trade; if nobody is
    available the original member keeps the shift and it carries a warning. Shifts are
    processed in order; a shift that is part of a trade is final. Trades never cross a
    membership change. A trade reaches at most ``R`` shifts ahead, so the result for shift
    ``k`` depends only on shifts back to the last run of ``R`` shifts whose rotation member
    is available: a window is computed without replaying history, from the earliest blocked
    shift of that chain, and only blocked shifts are visited (the cost grows with the number
    of absences chained less than ``R`` shifts apart, not with the length of history).

Covering days off (``RotationSpec.cover_days``, on by default)
    Time off that does not make a member unavailable (an overlap of at most
    ``skip_min_overlap``) does not move their shift: the first member after them in list order
    who has no time off then serves exactly those hours (``source = "cover"``), and the owner
    keeps the rest. If it is their team's turn to lead, the cover leads for those hours too.
    Stored overrides win over covers. The policy default of ``skip_min_overlap`` is a week for
    shifts of two weeks or more (monthly rotations) and zero otherwise, so two sick days cost
    two days, not a month, while a week-long shift still moves as a whole.

Swaps, overrides, warnings
    Swaps exchange two whole shifts of a layer after time off is applied. Overrides are applied
    last and always win for their whole range, splitting base shifts; when overrides of a layer
    overlap, the later one in the given sequence wins (the service keeps stored overrides
    disjoint, :func:`validate_override` judges a new one). Every produced shift whose
    person has time off overlapping it carries a warning, whatever put them there.

One-per-team rotations
    Each team is its own layer cycling its own members. The ``lead`` layer is derived: shift
    ``k`` is led by the engineer who serves shift ``k`` (after time off and swaps; overrides on
    team layers cover hours, they do not change who leads) on the team whose turn it is. Teams
    take turns in ``lead_of`` order, and a turn lasts ``M`` shifts, ``M`` being the least
    common multiple of the team sizes in force at shift ``k`` (the team size when all teams
    have the same size): team ``lead_of[(k // M) % T]`` leads. One shift per team
    (``lead_of[k % T]``) would let the team cycle and the member cycles line up (two engineers
    per team and an even number of teams: only one engineer per team would ever lead); a turn
    of ``M`` shifts passes through every engineer of the team. Over ``T * M`` shifts each
    engineer leads exactly ``1 / T`` of the shifts they serve; with equal team sizes the leads
    form one cycle through all engineers, so in any window lead counts differ by at most one
    (four teams of two: each of the eight engineers leads once every eight shifts).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from math import lcm
from zoneinfo import ZoneInfo

from dutydesk.oncall.absence import Period, resolve_period
from dutydesk.oncall.layers import NO_PLAN, Absences, LayerPlan, Painted, continue_at, paint
from dutydesk.oncall.shifts import Gap, Override, Shift, Source, Swap, TimeOff
from dutydesk.oncall.wallclock import (
    aware_utc,
    fmt_instant,
    handoff_clock,
    range_errors,
)
from dutydesk.policy.rotations import (
    Layer,
    RotationSpec,
    ScheduleError,
)

_ZERO = timedelta(0)
COVER = "cover:"  # id prefix of the overrides that cover someone's days off


# --------------------------------------------------------------------------------------------
# The compiled schedule


class Schedule:
    """A rotation with its overrides, swaps and time off, compiled for fast questions.

    Building it validates the structure (aware datetimes, known layers, swaps that match real
    shifts) and raises :class:`ScheduleError` listing every problem. ``on_call`` is O(log n) in
    the number of overrides and time-off entries; ``shifts`` is linear in the shifts returned.
    """

    def __init__(
        self,
        spec: RotationSpec,
        overrides: Iterable[Override] = (),
        swaps: Iterable[Swap] = (),
        time_off: Iterable[TimeOff] = (),
    ) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)
        self._clock = handoff_clock(spec.timezone, spec.unit, spec.count, spec.handoff, spec.anchor)
        errors: list[str] = []
        time_off = tuple(time_off)
        for item in time_off:
            errors.extend(range_errors("time off", item.id, item.start, item.end))
        if errors:
            raise ScheduleError(errors)
        self._absent = Absences(time_off)
        self._blocked_at = self._compile_blocked()
        self._plans: dict[str, LayerPlan] = {}
        for layer in spec.layers:
            self._plans[layer.name] = self._compile_layer(layer)
        self._order = [self._plans[x.name] for x in spec.layers]
        self._leaders: dict[str, list[LayerPlan]] = {x.name: [] for x in self._order}
        self._lead_cycle: dict[str, int] = {}
        self._turns: dict[str, list[int]] = {}  # a lead layer's turn length, when fixed
        for lead in (x for x in self._order if x.lead_of):
            sizes = [
                len(m)
                for t in lead.lead_of
                for _, m, _ in self._plans.get(t, NO_PLAN).segments
                if m
            ]
            self._lead_cycle[lead.name] = len(lead.lead_of) * lcm(1, *sizes)
            changes = [self._plans.get(t, NO_PLAN).segments for t in lead.lead_of]
            if all(len(segs) == 1 for segs in changes):
                self._turns[lead.name] = [lcm(1, *(max(len(segs[0][1]), 1) for segs in changes))]
            else:
                self._turns[lead.name] = []
            for team in lead.lead_of:
                self._leaders.setdefault(team, []).append(lead)
        for plan in self._order:
            plan.blocked = self._rotation_blocked(plan)

        # Swaps on team layers first: a derived lead layer reads the swapped team engineer.
        for swap in sorted(swaps, key=lambda w: bool(self._plans.get(w.layer, NO_PLAN).lead_of)):
            problems = self.swap_errors(swap)
            if problems:
                errors.extend(problems)
                continue
            plan = self._plans[swap.layer]
            plan.swaps[self._clock.index_at(aware_utc(swap.shift_a, ""))] = swap.person_b
            plan.swaps[self._clock.index_at(aware_utc(swap.shift_b, ""))] = swap.person_a
        by_layer: dict[str, list[tuple[datetime, datetime, Override]]] = {}
        for ov in overrides:
            problems = range_errors("override", ov.id, ov.start, ov.end)
            if ov.layer not in self._plans:
                problems.append(f"override {ov.id or ov.person!r}: unknown layer {ov.layer!r}")
            if problems:
                errors.extend(problems)
                continue
            by_layer.setdefault(ov.layer, []).append(
                (aware_utc(ov.start, ""), aware_utc(ov.end, ""), ov)
            )
        # Covers of days off first: a stored override painted over one wins.
        covers = self._covers() if spec.cover_days else {}
        for name in [x.name for x in spec.layers]:
            items = covers.get(name, []) + by_layer.get(name, [])
            if not items:
                continue
            plan = self._plans[name]
            for s, e, ov in paint(items):
                plan.ov_starts.append(s)
                plan.ov_ends.append(e)
                plan.ov.append(ov)

        if errors:
            raise ScheduleError(errors)

    # -- compilation ---------------------------------------------------------------------

    def _compile_layer(self, layer: Layer) -> LayerPlan:
        plan = LayerPlan(layer.name, layer.team, layer.lead_of)
        if layer.lead_of:
            return plan
        firsts: dict[int, tuple[str, ...]] = {}
        for ch in sorted(layer.members, key=lambda c: c.effective):  # stable: last same-day wins
            firsts[self._clock.first_index_on_or_after(ch.effective)] = ch.members
        if 0 not in firsts:
            firsts[0] = ()
        last_list: tuple[str, ...] = ()
        last_person: str | None = None
        for first in sorted(firsts):
            members = firsts[first]
            if plan.segments:
                prev_first, prev_members, prev_offset = plan.segments[-1]
                if prev_members:
                    n = len(prev_members)
                    last_list = prev_members
                    last_person = prev_members[(prev_offset + first - 1 - prev_first) % n]
            plan.segments.append((first, members, continue_at(last_list, last_person, members)))
            plan.firsts.append(first)
        return plan

    # -- per-shift resolution ------------------------------------------------------------

    def _compile_blocked(self) -> dict[str, frozenset[int]]:
        """Per person, the shift indexes their time off makes them unavailable for.

        Time off is sparse, so listing the affected shifts once makes every later availability
        test a set lookup; the work is proportional to the shifts time off touches.
        """
        clock, threshold = self._clock, self.spec.skip_min_overlap
        out: dict[str, frozenset[int]] = {}
        for person, starts in self._absent.starts.items():
            ks: set[int] = set()
            for s, e in zip(starts, self._absent.ends[person], strict=True):
                k = max(0, clock.index_at(s))
                while clock.start(k) < e:
                    ks.add(k)
                    k += 1
            if threshold:
                ks = {
                    k
                    for k in ks
                    if self._absent.overlap(person, clock.start(k), clock.start(k + 1)) > threshold
                }
            out[person] = frozenset(ks)
        return out

    def _rotation_blocked(self, plan: LayerPlan) -> list[int]:
        """The shifts of a layer whose rotation member is unavailable, in order: the only
        shifts time off can move (every other one keeps its member unless a trade takes it)."""
        out: list[int] = []
        if plan.lead_of or not plan.segments:
            return out
        members = {p for _, ms, _ in plan.segments for p in ms}
        for k in sorted(set().union(*(self._blocked_at.get(p, _NO_INDEXES) for p in members))):
            first, ms, offset = plan.segments[bisect_right(plan.firsts, k) - 1]
            if ms and self._blocked(ms[(offset + k - first) % len(ms)], k):
                out.append(k)
        return out

    def _blocked(self, person: str, k: int) -> bool:
        return k in self._blocked_at.get(person, _NO_INDEXES)

    def _resolve_segment(
        self,
        plan: LayerPlan,
        seg: tuple[int, tuple[str, ...], int],
        seg_end: int | None,
        a: int,
        b: int,
    ) -> list[tuple[str | None, str | None]]:
        """(person, note) for shifts a..b of one membership period, after time off."""
        first, members, offset = seg
        return resolve_period(
            Period(plan.name, members, first, offset, seg_end),
            a,
            b,
            skip=self.spec.skip,
            blocked=plan.blocked,
            is_blocked=self._blocked,
            reach=self._reach(plan, len(members)),
        )

    def _reach(self, plan: LayerPlan, n: int) -> int:
        """How many shifts after an absence its make-up may be (see "Time off")."""
        cycle = max([n, *(self._lead_cycle[lead.name] for lead in self._leaders[plan.name])])
        return 2 * cycle + n

    def _finals(self, plan: LayerPlan, k_lo: int, k_hi: int) -> list[Painted]:
        """Who holds shifts k_lo..k_hi (k_lo >= 0) of a layer after time off and swaps."""
        out: list[Painted] = []
        if plan.lead_of:
            span = range(k_lo, k_hi + 1)
            leading = [self._lead_team(plan, k) for k in span]
            per_team = {team: self._finals(self._plans[team], k_lo, k_hi) for team in set(leading)}
            for k, team in zip(span, leading, strict=True):
                person, _, note, source = per_team[team][k - k_lo]
                out.append((person, team, note, source))
        else:
            k = k_lo
            while k <= k_hi:
                si = bisect_right(plan.firsts, k) - 1
                seg_end = plan.firsts[si + 1] if si + 1 < len(plan.firsts) else None
                b = k_hi if seg_end is None else min(k_hi, seg_end - 1)
                resolved = self._resolve_segment(plan, plan.segments[si], seg_end, k, b)
                out.extend((p, plan.team, note, "rotation") for p, note in resolved)
                k = b + 1
        if plan.swaps:
            for i, k in enumerate(range(k_lo, k_hi + 1)):
                swapped = plan.swaps.get(k)
                if swapped is not None:
                    out[i] = (swapped, out[i][1], out[i][2], "swap")
        return out

    def _covers(self) -> dict[str, list[tuple[datetime, datetime, Override]]]:
        """Per layer, the cover of every stretch of time off its shift holder keeps the shift
        through (see "Time off"): the first member after them in list order who is free then
        serves just those hours. A derived lead layer follows its team's cover."""
        clock = self._clock
        out: dict[str, list[tuple[datetime, datetime, Override]]] = {}
        leads = [p for p in self._order if p.lead_of]
        for plan in self._order:
            if plan.lead_of or not plan.segments:
                continue
            ever = {p for _, members, _ in plan.segments for p in members}
            for person in sorted(ever & set(self._absent.starts)):
                spans = zip(self._absent.starts[person], self._absent.ends[person], strict=True)
                for ts, te in spans:
                    k = max(0, clock.index_at(ts))
                    while clock.start(k) < te:
                        s, e = clock.start(k), clock.start(k + 1)
                        a, b = max(ts, s), min(te, e)
                        holder = self._finals(plan, k, k)[0][0] if a < b else None
                        members = plan.segments[bisect_right(plan.firsts, k) - 1][1]
                        if holder == person and len(members) > 1:
                            at = members.index(person) if person in members else -1
                            order = [
                                members[(at + i) % len(members)] for i in range(1, len(members) + 1)
                            ]
                            cover = next(
                                (
                                    c
                                    for c in order
                                    if c != person and not self._absent.hits(c, a, b)
                                ),
                                None,
                            )
                            if cover is not None:
                                ov = Override(a, b, cover, plan.name, person, f"{COVER}{person}")
                                out.setdefault(plan.name, []).append((a, b, ov))
                                for lead in leads:
                                    if self._lead_team(lead, k) == plan.name:
                                        led = Override(a, b, cover, lead.name, person, ov.id)
                                        out.setdefault(lead.name, []).append((a, b, led))
                        k += 1
        return out

    def _lead_team(self, plan: LayerPlan, k: int) -> str:
        """The team whose engineer leads shift ``k`` (see "One-per-team rotations")."""
        if len(self._turns[plan.name]) == 1:  # team sizes never change: one turn length
            return plan.lead_of[(k // self._turns[plan.name][0]) % len(plan.lead_of)]
        turn = 1
        for team in plan.lead_of:
            tp = self._plans[team]
            turn = lcm(turn, max(len(tp.segments[bisect_right(tp.firsts, k) - 1][1]), 1))
        return plan.lead_of[(k // turn) % len(plan.lead_of)]

    def _shift(
        self,
        plan: LayerPlan,
        s: datetime,
        e: datetime,
        person: str,
        team: str | None,
        source: Source,
        note: str | None = None,
        index: int | None = None,
        override_id: str | None = None,
    ) -> Shift:
        warnings = [note] if note else []
        clashes = self._absent.spans(person, s, e) if self._absent.hits(person, s, e) else []
        for ts, te in clashes:
            warnings.append(
                f"{person} is on call during their time off "
                f"({fmt_instant(ts, self.zone)} – {fmt_instant(te, self.zone)})"
            )
        return Shift(
            start=s.astimezone(self.zone),
            end=e.astimezone(self.zone),
            person=person,
            layer=plan.name,
            team=team,
            source=source,
            warnings=tuple(warnings),
            index=index,
            override_id=override_id,
        )

    def _override_shift(self, plan: LayerPlan, i: int) -> Shift:
        ov = plan.ov[i]
        team = None if plan.lead_of else plan.team
        s, e = plan.ov_starts[i], plan.ov_ends[i]
        if ov.id.startswith(COVER):
            return self._shift(
                plan, s, e, ov.person, team, "cover", note=f"covers {ov.replaces}'s time off"
            )
        return self._shift(plan, s, e, ov.person, team, "override", override_id=ov.id or None)

    # -- questions -----------------------------------------------------------------------

    def _layer_at(self, plan: LayerPlan, t: datetime, k: int) -> Shift | None:
        i = bisect_right(plan.ov_starts, t) - 1
        if i >= 0 and plan.ov_ends[i] > t:
            return self._override_shift(plan, i)
        if k < 0:
            return None
        person, team, note, source = self._finals(plan, k, k)[0]
        if person is None:
            return None
        s, e = self._clock.start(k), self._clock.start(k + 1)
        if i >= 0 and plan.ov_ends[i] > s:
            s = plan.ov_ends[i]
        if i + 1 < len(plan.ov_starts) and plan.ov_starts[i + 1] < e:
            e = plan.ov_starts[i + 1]
        return self._shift(plan, s, e, person, team, source, note, k)

    def on_call(self, at: datetime) -> dict[str, Shift]:
        """Who is on call at ``at``, per layer (layers in a gap are absent from the dict)."""
        t = aware_utc(at, "at")
        k = self._clock.index_at(t)
        out: dict[str, Shift] = {}
        for plan in self._order:
            shift = self._layer_at(plan, t, k)
            if shift is not None:
                out[plan.name] = shift
        return out

    def _layer_shifts(self, plan: LayerPlan, start: datetime, end: datetime) -> list[Shift]:
        clock = self._clock
        out: list[tuple[datetime, Shift]] = []
        i = bisect_right(plan.ov_ends, start)
        while i < len(plan.ov) and plan.ov_starts[i] < end:
            out.append((plan.ov_starts[i], self._override_shift(plan, i)))
            i += 1
        k_lo = max(0, clock.index_at(start))
        k_hi = clock.index_at(end)
        if k_hi >= 0 and clock.start(k_hi) >= end:
            k_hi -= 1
        if k_hi >= k_lo:
            j = bisect_right(plan.ov_ends, clock.start(k_lo))
            n_ov = len(plan.ov)
            for k, (person, team, note, source) in enumerate(
                self._finals(plan, k_lo, k_hi), start=k_lo
            ):
                if person is None:
                    continue
                s, e = clock.start(k), clock.start(k + 1)
                while j < n_ov and plan.ov_ends[j] <= s:
                    j += 1
                cur, jj = s, j
                pieces: list[tuple[datetime, datetime]] = []
                while jj < n_ov and plan.ov_starts[jj] < e:
                    if plan.ov_starts[jj] > cur:
                        pieces.append((cur, plan.ov_starts[jj]))
                    cur = max(cur, plan.ov_ends[jj])
                    jj += 1
                if cur < e:
                    pieces.append((cur, e))
                for ps, pe in pieces:
                    if pe > start and ps < end:
                        shift = self._shift(plan, ps, pe, person, team, source, note, k)
                        out.append((ps, shift))
        out.sort(key=lambda x: x[0])
        return [shift for _, shift in out]

    def shifts(
        self, start: datetime, end: datetime, layers: Collection[str] | None = None
    ) -> list[Shift]:
        """Every shift overlapping [start, end), unclipped, sorted by (layer order, start)."""
        s, e = aware_utc(start, "start"), aware_utc(end, "end")
        if e <= s:
            return []
        out: list[Shift] = []
        for plan in self._order:
            if layers is None or plan.name in layers:
                out.extend(self._layer_shifts(plan, s, e))
        return out

    def person_shifts(self, person: str, start: datetime, end: datetime) -> list[Shift]:
        """The shifts of one person overlapping [start, end), for a personal calendar."""
        return [x for x in self.shifts(start, end) if x.person == person]

    def next_shifts(
        self, after: datetime, n: int, layers: Collection[str] | None = None
    ) -> list[Shift]:
        """Per layer, the next ``n`` shifts starting strictly after ``after`` (up to 20 years)."""
        t = aware_utc(after, "after")
        names = [p.name for p in self._order if layers is None or p.name in layers]
        horizon = self._clock.nominal() * (n + 1)
        while True:
            found = [x for x in self.shifts(t, t + horizon, names) if x.utc_start > t]
            counts = {name: sum(1 for x in found if x.layer == name) for name in names}
            if all(c >= n for c in counts.values()) or horizon > timedelta(days=366 * 20):
                break
            horizon *= 2
        taken: dict[str, int] = {}
        out = []
        for x in found:
            if taken.get(x.layer, 0) < n:
                taken[x.layer] = taken.get(x.layer, 0) + 1
                out.append(x)
        return out

    def gaps(self, start: datetime, end: datetime) -> list[Gap]:
        """Maximal stretches of [start, end) where a layer has nobody, by layer order."""
        s, e = aware_utc(start, "start"), aware_utc(end, "end")
        out: list[Gap] = []
        for plan in self._order:
            cursor = s
            for shift in self._layer_shifts(plan, s, e) if e > s else []:
                if shift.utc_start > cursor:
                    out.append(Gap(plan.name, cursor, shift.utc_start))
                cursor = max(cursor, shift.utc_end)
            if cursor < e:
                out.append(Gap(plan.name, cursor, e))
        return out

    def index_at(self, at: datetime) -> int:
        """The base shift number containing ``at``; -1 before the first shift."""
        return self._clock.index_at(aware_utc(at, "at"))

    def shift_bounds(self, index: int) -> tuple[datetime, datetime]:
        """Start and end (rotation zone) of base shift ``index``, e.g. to name it in a swap."""
        return (
            self._clock.start(index).astimezone(self.zone),
            self._clock.start(index + 1).astimezone(self.zone),
        )

    def swap_errors(self, swap: Swap) -> list[str]:
        """Why ``swap`` cannot apply to this schedule (as compiled so far); empty if it can."""
        label = f"swap {swap.id or f'{swap.person_a}/{swap.person_b}'}"
        plan = self._plans.get(swap.layer)
        if plan is None:
            return [f"{label}: unknown layer {swap.layer!r}"]
        if swap.person_a == swap.person_b:
            return [f"{label}: {swap.person_a} cannot swap with themselves"]
        errors: list[str] = []
        found: list[int] = []
        for person, when in ((swap.person_a, swap.shift_a), (swap.person_b, swap.shift_b)):
            try:
                t = aware_utc(when, f"{label}: shift start")
            except ScheduleError as exc:
                errors.extend(exc.errors)
                continue
            k = self._clock.index_at(t)
            if k < 0 or self._clock.start(k) != t:
                errors.append(
                    f"{label}: no {swap.layer} shift starts at {fmt_instant(t, self.zone)}"
                    " (name a shift by its handoff instant)"
                )
                continue
            holder = self._finals(plan, k, k)[0][0]
            if holder != person:
                errors.append(
                    f"{label}: the {swap.layer} shift starting {fmt_instant(t, self.zone)} belongs to "
                    f"{holder or 'nobody'}, not {person}"
                )
                continue
            found.append(k)
        if len(found) == 2 and found[0] == found[1]:
            errors.append(f"{label}: both sides name the same shift")
        return errors


_NO_INDEXES: frozenset[int] = frozenset()
