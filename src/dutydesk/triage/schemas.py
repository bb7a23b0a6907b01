"""What triage assistance returns to the API, the CLI and the pages."""

from __future__ import annotations

from pydantic import BaseModel


class SimilarOut(BaseModel):
    key: str
    title: str
    status: str
    score: float
    open: bool  # open when the draft (or the ticket) was filed
    words: list[str]  # the matching words that explain why
    external_id: str | None = None  # the ticket's id where it was imported from


class SuggestionOut(BaseModel):
    field: str  # team, kind or priority
    value: str
    confidence: float
    based_on: int  # triaged tickets the desk has learned from


class HintsOut(BaseModel):
    """What a reporter sees after filing: a nudge about the title, and possible duplicates."""

    title: str | None = None
    sections: list[str] = []  # the desk's description prompts left without text
    similar: list[SimilarOut] = []


class FieldAccuracy(BaseModel):
    field: str
    accepted: int
    overridden: int
    accuracy: float | None  # accepted / (accepted + overridden); None before any triage


class AccuracyOut(BaseModel):
    desk: str
    learned_from: int  # triaged tickets in the counts
    fields: list[FieldAccuracy]


class RebuildOut(BaseModel):
    desk: str
    learned_from: int
