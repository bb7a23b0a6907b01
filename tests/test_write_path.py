"""How a request's write reaches the database: the short, frequent use cases may share a
commit on the event loop; every other write runs on a thread of its own, so a long one never
keeps the server from answering."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from icalendar import Calendar, Event
from sqlalchemy import event, select

from dutydesk.app import create_app
from dutydesk.auth.service import create_token, user_by_name
from dutydesk.context import Ctx
from dutydesk.errors import Invalid
from dutydesk.state import AppState
from dutydesk.tickets.models import SavedFilter
from dutydesk.tickets.schemas import FileTicket

from .conftest import PG_URL

SHIFTS = 300
PEOPLE = ["Ana Alvarez", "Bo Brandt", "Chen Cho", "Dee Douglas"]


def _long_calendar(state: AppState, shifts: int) -> str:
    """A PagerDuty-style export of ``shifts`` consecutive daily shifts from tomorrow on."""
    cal = Calendar()
    cal.add("prodid", "-//PagerDuty Inc.//PagerDuty//EN")
    cal.add("version", "2.0")
    first = state.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    for i in range(shifts):
        ev = Event()
        ev.add("uid", f"Q{i}@pagerduty.com")
        ev.add("dtstart", first + timedelta(days=i))
        ev.add("dtend", first + timedelta(days=i + 1))
        ev.add("summary", f"On Call - {PEOPLE[i % len(PEOPLE)]} - Infra")
        cal.add_component(ev)
    return cal.to_ical().decode()


def test_a_long_write_leaves_the_event_loop_answering(state: AppState) -> None:
    """A large calendar import (not a batched use case) runs off the event loop: once its
    transaction has begun, /healthz and a read of the queue are answered before the import is.
    (Another write would wait for SQLite's one write lock, wherever it ran.)"""
    with state.db.write() as s:
        lead = create_token(s, user_by_name(s, "dee"), state.now(), "tests")
    ics = _long_calendar(state, SHIFTS)
    app = create_app(state)
    import_began = threading.Event()

    def on_begin(conn: Any) -> None:
        if PG_URL or conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE":
            import_began.set()  # the first write transaction from here on is the import's

    async def scenario() -> list[str]:
        finished: list[str] = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def request(name: str, method: str, path: str, **kw: Any) -> httpx.Response:
                r = await client.request(method, path, **kw)
                finished.append(name)
                return r

            importing = asyncio.ensure_future(
                request(
                    "import",
                    "POST",
                    "/api/v1/rotations/infra-oncall/import",
                    # the whole calendar: past the default window of 92 days
                    json={
                        "ics": ics,
                        "end": (state.now() + timedelta(days=SHIFTS + 2)).isoformat(),
                    },
                    headers={"Authorization": f"Bearer {lead}"},
                )
            )
            while not import_began.is_set():  # the loop turns only if the import is elsewhere
                assert not importing.done(), importing.result().text
                await asyncio.sleep(0.001)
            health = await request("healthz", "GET", "/api/v1/healthz")
            queue = await request(
                "queue",
                "GET",
                "/api/v1/desks/infra/queue",
                headers={"Authorization": f"Bearer {lead}"},
            )
            imported = await importing
        assert health.status_code == 200
        assert queue.status_code == 200, queue.text
        assert imported.status_code == 201, imported.text
        assert len(imported.json()["override_ids"]) == SHIFTS
        return finished

    event.listen(state.db.engine, "begin", on_begin)
    try:
        finished = asyncio.run(scenario())
    finally:
        event.remove(state.db.engine, "begin", on_begin)

    assert finished == ["healthz", "queue", "import"]


def test_input_a_use_case_parses_itself_is_refused_alike_on_and_off_the_loop(
    state: AppState,
) -> None:
    """A web form's fields parsed inside the use case: pydantic's refusal is an ``Invalid``
    naming the field, whichever way the use case ran, and nothing it wrote stays."""
    with state.db.read() as s:
        admin = user_by_name(s, "admin")

    def use_case(ctx: Ctx) -> None:
        ctx.session.add(SavedFilter(name="half-written", query={}, created_at=ctx.now))
        ctx.session.flush()
        FileTicket.model_validate({"title": "", "labels": "not a list"})

    refusals = []
    for batched in (True, False):
        with pytest.raises(Invalid) as refused:
            asyncio.run(state.run(admin, use_case, batched=batched))
        refusals.append(refused.value)
    with pytest.raises(Invalid) as refused, state.write(admin) as ctx:
        use_case(ctx)
    refusals.append(refused.value)

    for exc in refusals:
        assert exc.status == 422
        assert [e["field"] for e in exc.errors] == ["title", "labels"]
    with state.db.read() as s:
        assert s.scalar(select(SavedFilter).where(SavedFilter.name == "half-written")) is None
