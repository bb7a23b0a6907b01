"""``POST /api/v1/desks/{desk}/imports?format=…``: an admin's import, the request body
streamed into the import as it arrives (never held whole), up to ``max_import_bytes``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, Query, Request

from dutydesk.auth.service import require
from dutydesk.context import desk_policy
from dutydesk.http.deps import Actor, State
from dutydesk.imports import service

router = APIRouter(prefix="/api/v1", tags=["imports"])
IMPORT_PATH = r"/api/v1/desks/[^/]+/imports"


class _RequestBody:
    """The request body as a blocking binary stream, for the import's worker thread: each
    read pulls the next chunk from the event loop."""

    def __init__(self, request: Request) -> None:
        self.chunks = request.stream()
        self.pending = b""
        self.done = False

    def read(self, size: int = -1) -> bytes:
        while not self.pending and not self.done:
            try:
                self.pending = anyio.from_thread.run(self._next)
            except StopAsyncIteration:
                self.done = True
        n = len(self.pending) if size < 0 else size
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    async def _next(self) -> bytes:
        return await self.chunks.__anext__()


@router.post(
    "/desks/{desk}/imports",
    summary="Import tickets (JSONL, GitHub issues JSON, Jira CSV) from the request body",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {},
                "application/json": {},
                "text/csv": {},
                "application/octet-stream": {},
            },
        }
    },
)
async def import_tickets(
    desk: str,
    request: Request,
    state: State,
    actor: Actor,
    format: Literal["jsonl", "github", "jira-csv"],
    dry_run: bool = False,
    default_reporter: str | None = None,
    timezone: str = "UTC",
    label_map: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    desk_policy(state.policy, desk)
    require(actor, "admin", desk, "import tickets")  # refused before the body is read
    labels: dict[str, str] = {}
    for item in label_map or []:
        label, _, target = item.partition("=")
        labels[label.strip()] = target.strip()
    body = _RequestBody(request)

    def run() -> dict[str, Any]:
        return service.import_file(
            state,
            format,
            body,  # type: ignore[arg-type]
            desk=desk,
            actor=actor,
            dry_run=dry_run,
            default_reporter=default_reporter,
            label_map=labels,
            timezone=timezone,
        ).as_dict()

    return await anyio.to_thread.run_sync(run)
