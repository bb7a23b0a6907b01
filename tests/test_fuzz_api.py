"""Schemathesis against the OpenAPI document, over a real uvicorn server and database.

Every operation gets generated requests, valid ones (positive) and invalid ones (negative),
with path parameters both generated and set to things that exist (so bodies and queries
reach the rules), as an admin and as a reporter. No response may be a 5xx; every 4xx is an
RFC 9457 problem document; every response matches the status codes and content types the
document declares. Generation is derandomized, so a run is reproducible and its length is
bounded. ``DUTYDESK_FUZZ_EXAMPLES`` (default 6 per strategy) makes a longer run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    status_code_conformance,
)

from dutydesk.policy import Policy
from tests.conftest import PG_URL
from tests.live_server import (
    LiveServer,
    database,
    known_path_parameters,
    live_server,
    seed_tickets,
)

EXAMPLES = int(os.environ.get("DUTYDESK_FUZZ_EXAMPLES", "6"))
MIN_REQUESTS = 1000
USERS = ("admin", "rita")  # an admin and a reporter
CHECKS: list[CheckFunction] = [status_code_conformance, content_type_conformance]
PROBLEM = "application/problem+json"
# The import endpoint reads raw records (JSON lines, CSV, bytes): fuzz it with raw bytes, and
# text that looks like records, in each of the body types it declares.
RAW_RECORDS = st.binary(max_size=2048) | st.text(max_size=2048).map(str.encode)
for _media in ("application/x-ndjson", "text/csv", "application/octet-stream"):
    schemathesis.openapi.media_type(_media, RAW_RECORDS)


@pytest.fixture(scope="module")
def server(
    _template: str, tmp_path_factory: pytest.TempPathFactory, policy: Policy
) -> Iterator[LiveServer]:
    db = database(_template, tmp_path_factory.mktemp("fuzz"), bool(PG_URL))
    with live_server(db, policy, USERS) as live:
        seed_tickets(live)
        yield live
    db.dispose()


def test_no_generated_request_gets_a_5xx_or_a_bare_error(server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
    session = requests.Session()
    sent = 0
    failures: list[str] = []
    started = time.monotonic()

    def exercise(case: Any, user: str) -> None:
        nonlocal sent
        try:
            response = case.call(base_url=server.url, session=session, headers=server.auth(user))
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, ValueError):
            return  # the client refused to send it (a NUL in a header): nothing reached us
        sent += 1
        status = response.status_code
        ctype = (response.headers.get("content-type") or [""])[0]
        where = f"{case.method} {case.formatted_path} as {user}: {status}"
        if status >= 500:
            failures.append(f"{where} {response.text[:300]!r}\n    {case.as_curl_command()}")
        elif status >= 400 and not ctype.startswith(PROBLEM):
            failures.append(
                f"{where} answered {ctype!r}, not a problem document {response.text[:200]!r}"
                f"\n    {case.as_curl_command()[:500]}"
            )
        elif status >= 400 and not {"type", "title", "status"} <= set(response.json()):
            failures.append(f"{where} problem without type/title/status: {response.text[:200]}")
        else:
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, BaseExceptionGroup) as exc:  # how schemathesis fails
                failures.append(f"{where} does not match the document: {str(exc)[:300]}")

    for result in schema.get_all_operations():
        operation = result.ok()
        known = known_path_parameters(operation.path)
        # The coverage phase: schemathesis's deterministic edge values (boundaries, wrong
        # types, huge numbers) for every parameter, then again at paths that exist.
        config = schema.config.generation_for(operation=operation)
        for case in schema.iter_coverage_cases(
            operation, generation_modes=list(GenerationMode), generation_config=config
        ):
            exercise(case, USERS[sent % 2])
            if known and case.path_parameters:
                case.path_parameters = {**case.path_parameters, **known}
                exercise(case, USERS[sent % 2])
        strategies = [
            operation.as_strategy(generation_mode=mode, path_parameters=path)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for path in ({}, known)
            if not (path and not known)
        ]

        @settings(
            max_examples=EXAMPLES * len(strategies),
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies), user=st.sampled_from(USERS))
        def run(case: Any, user: str) -> None:
            exercise(case, user)

        run()

    elapsed = time.monotonic() - started
    print(f"\nfuzz: {sent} requests in {elapsed:.1f} s on {'PostgreSQL' if PG_URL else 'SQLite'}")
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:40])
    assert sent >= MIN_REQUESTS, f"only {sent} requests were generated"
