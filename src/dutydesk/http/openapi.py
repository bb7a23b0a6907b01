"""The OpenAPI document declares the errors the API really answers: problem documents.

Every operation may answer 400 (an unreadable body), 401, 403, 404, 422 and 429; those that take a
body 413 too, and those that write 409 (a rule or a conflict) and 412 (a stale If-Match).
Each is ``application/problem+json`` with the ``Problem`` schema, so a client (or a fuzzer)
can check responses against the document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from dutydesk.http.problems import PROBLEM

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document; ``errors`` names each refused field.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "a URI reference naming the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}

ALWAYS = {
    "400": "The request could not be read",
    "401": "No valid credentials",
    "403": "Not allowed for your role",
    "404": "Not found",
    "422": "A field is not valid; `errors` names it",
    "429": "Too many requests (rate limits); `Retry-After` says when to retry",
}
WITH_BODY = {"413": "The request body is too large"}
WRITES = {
    "409": "A workflow rule or a conflict refused the change",
    "412": "The resource changed since it was read (If-Match)",
}


def _problem(description: str) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {PROBLEM: {"schema": ref}}}


def declare_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the problem responses to every operation of a generated document (in place)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            declared = {**ALWAYS}
            if "requestBody" in operation or method in ("post", "put", "patch"):
                declared.update(WITH_BODY)
            if method in ("post", "put", "patch", "delete"):
                declared.update(WRITES)
            responses = operation.setdefault("responses", {})
            for status, description in declared.items():
                responses[status] = _problem(description)
    return schema


def install(app: FastAPI) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
