"""Domain errors. Services raise them; the app renders them as RFC 9457 problems."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class Invalid(DomainError):
    status, slug, title = 422, "invalid", "The request is not valid"


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class RuleViolation(DomainError):
    """A workflow rule refused the change; ``rule`` names it and ``allowed`` lists what is."""

    status, slug, title = 409, "workflow-rule", "A workflow rule refused the change"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class StaleVersion(DomainError):
    status, slug, title = 412, "stale-version", "The resource changed since you read it"


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Not allowed for your role"


class TooManyRequests(DomainError):
    """Throttled; ``retry_after`` (seconds) becomes the ``Retry-After`` header."""

    status, slug, title = 429, "too-many-requests", "Too many requests"


def field_error(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", errors=[{"field": field, "message": message}])
