"""The parts of GitHub's webhook payloads the bridge reads, as typed values (pure).

GitHub sends far more than this and adds fields over time, so unknown keys are ignored here
(unlike our own API, which refuses them); a key the bridge needs that is missing or of the
wrong type is an error naming it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dutydesk.errors import Invalid

T = TypeVar("T", bound=BaseModel)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class GithubUser(_Lenient):
    login: str = Field(min_length=1, max_length=100)
    type: str = "User"


class GithubLabel(_Lenient):
    name: str


class GithubIssue(_Lenient):
    number: int
    title: str
    body: str | None = None
    html_url: str
    state: str
    state_reason: str | None = None
    user: GithubUser
    labels: list[GithubLabel] = []
    pull_request: dict[str, Any] | None = None


class GithubRepository(_Lenient):
    full_name: str


class GithubComment(_Lenient):
    id: int
    body: str | None = None
    html_url: str
    user: GithubUser


class IssuesEvent(_Lenient):
    action: str
    issue: GithubIssue
    repository: GithubRepository
    sender: GithubUser
    label: GithubLabel | None = None


class IssueCommentEvent(_Lenient):
    action: str
    issue: GithubIssue
    comment: GithubComment
    repository: GithubRepository
    sender: GithubUser


def read(model: type[T], payload: Any) -> T:
    """The payload as ``model``, or a 422 naming the first keys that are missing or wrong."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())) or "body",
                "message": str(e.get("msg", "invalid")),
            }
            for e in exc.errors()[:5]
        ]
        raise Invalid(
            "the payload is not a GitHub "
            + model.__name__.removesuffix("Event")
            + " event: "
            + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        ) from exc
