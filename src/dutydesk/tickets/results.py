"""Typed results of ticket use cases: made by the write side, presented by the read side."""

from __future__ import annotations

from dataclasses import dataclass

from dutydesk.auth.models import User
from dutydesk.slo.clocks import Clock
from dutydesk.tickets.models import Ticket


@dataclass
class Filed:
    """A just-filed ticket with what its response needs, known without reading it back."""

    ticket: Ticket
    clocks: list[Clock]
    reporter: str
    assignee: User | None
    left_out: str | None = None  # triager fields an unattended filing dropped, said in words
