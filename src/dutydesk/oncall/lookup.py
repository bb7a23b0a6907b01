"""Who is on call for a desk, asked from inside another domain's transaction.

Notices, agendas and chat replies need "who holds the desk now, and who comes next": the
rotation compiled with its run-time edits (overrides, swaps, time off, membership), read in
the caller's session through the on-call service's versioned cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dutydesk.oncall.loading import loaded_in
from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Shift
from dutydesk.policy.models import Policy


@dataclass(frozen=True)
class OnCall:
    rotation: str
    now: dict[str, Shift]  # layer → shift
    next: dict[str, Shift]  # layer → the next shift

    def people(self) -> list[str]:
        return list(dict.fromkeys(s.person for s in self.now.values()))

    def lines(self) -> list[str]:
        """One line per layer: who holds it now and until when, then who comes next."""
        out = [
            f"now ({layer}): {shift.person} until {shift.end:%a %m-%d %H:%M %Z}"
            for layer, shift in self.now.items()
        ]
        out += [
            f"next ({layer}): {shift.person} from {shift.start:%a %m-%d %H:%M %Z}"
            for layer, shift in self.next.items()
        ]
        return out


def schedule(session: Session, policy: Policy, rotation: str) -> Schedule:
    return loaded_in(session, policy, rotation).schedule


def desk_rotation(policy: Policy, desk: str) -> str | None:
    """The rotation that serves ``desk``, if it names one that policy declares."""
    rotation = policy.desks[desk].rotation
    return rotation if rotation and rotation in policy.rotations else None


def oncall(session: Session, policy: Policy, desk: str, at: datetime) -> OnCall | None:
    rotation = desk_rotation(policy, desk)
    if rotation is None:
        return None
    sched = schedule(session, policy, rotation)
    upcoming: dict[str, Shift] = {}
    for shift in sched.next_shifts(at, 1):
        upcoming.setdefault(shift.layer, shift)
    return OnCall(rotation, sched.on_call(at), upcoming)


def oncall_people(session: Session, policy: Policy, desk: str, at: datetime) -> list[str]:
    """Who is on call for ``desk`` at ``at`` (every layer), without the next shifts."""
    rotation = desk_rotation(policy, desk)
    if rotation is None:
        return []
    now = schedule(session, policy, rotation).on_call(at)
    return list(dict.fromkeys(s.person for s in now.values()))


def shift_starts(
    session: Session, policy: Policy, rotation: str, start: datetime, end: datetime
) -> list[Shift]:
    """Shifts of every layer that start in [start, end)."""
    sched = schedule(session, policy, rotation)
    return [s for s in sched.shifts(start, end) if start <= s.utc_start < end]
