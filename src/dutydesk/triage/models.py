"""What the desk's triage history taught: word counts per decided value (for suggestions)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dutydesk.db import Base


class LearnedTerm(Base):
    """How often a stem occurs in the desk's tickets triaged with ``field`` = ``value``."""

    __tablename__ = "triage_term_counts"
    __table_args__ = (Index("ix_triage_term_counts_term", "desk", "term"),)

    desk: Mapped[str] = mapped_column(String(40), primary_key=True)
    field: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(60), primary_key=True)
    term: Mapped[str] = mapped_column(String(60), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class LearnedClass(Base):
    """Tickets and words per decided value: the totals the model divides by."""

    __tablename__ = "triage_class_counts"

    desk: Mapped[str] = mapped_column(String(40), primary_key=True)
    field: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(60), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer)
    words: Mapped[int] = mapped_column(Integer)


class LearnedTicket(Base):
    """What one ticket added to the counts, so a re-triage or an edit takes it back exactly."""

    __tablename__ = "triage_learned_tickets"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    desk: Mapped[str] = mapped_column(String(40))
    values: Mapped[dict[str, str]] = mapped_column(JSON)  # field -> value counted
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)  # stem -> count
