"""Hostile input on every route of the app, over a real server: never a 5xx.

The routes are read from ``app.routes``, so a new route is walked without a change here.
Each path parameter, query parameter and body field (JSON or form) gets every hostile value
in turn (huge and negative numbers, NUL, overlong text, impossible dates, year 9999, spans of
centuries, forged cursors, unicode) while the other parameters name things that exist. API
routes answer a 4xx problem document or succeed; pages answer HTML, never a 5xx. Then the
classes the API once answered 500 for are checked one by one with the field they must name.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.params import Form
from fastapi.routing import APIRoute
from pydantic import BaseModel

from dutydesk.policy import Policy
from tests.conftest import PG_URL
from tests.live_server import (
    MAX_BODY,
    LiveServer,
    database,
    known_path_parameters,
    live_server,
    seed_tickets,
)


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


HOSTILE_TEXT = [
    "0",
    "-1",
    "2147483648",
    "9223372036854775808",
    "-99999999999999999999999999",
    "1e999",
    "NaN",
    "\x00",
    "infra\x00",
    "x" * 5000,
    "9999-12-31",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00+14:00",
    "2026-02-30",
    "300000 business days",
    "99999999999999999999 weeks",
    "😀\u202eǅ\ufeff",
    "../../etc/passwd",
    "' OR '1'='1",
    "%",
    "",
    _cursor(["x", "y"]),
    _cursor([1.5, {"a": 1}]),
    _cursor([2**70, 2**70]),
    _cursor(["9999-12-31T23:59:59", 1]),
    "@@not-base64@@",
]
# What only a JSON body can carry, beside the strings above.
HOSTILE_JSON: list[Any] = [2**70, -(2**70), 1e308, -1, [], {}, None, True, ["\x00"], {"\x00": 1}]
FORMATS = {"date": "2026-12-07", "date-time": "2026-12-07T10:00:00-08:00"}
FILLER = {"string": "ana", "integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}
SKIPPED = ("/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/oauth2-redirect", "/static")


@pytest.fixture(scope="module")
def server(
    _template: str, tmp_path_factory: pytest.TempPathFactory, policy: Policy
) -> Iterator[LiveServer]:
    db = database(_template, tmp_path_factory.mktemp("bad_input"), bool(PG_URL))
    with live_server(db, policy, ("admin", "rita")) as live:
        seed_tickets(live)
        yield live
    db.dispose()


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    """An admin with a bearer token and a browser session (cookie + CSRF token)."""
    with httpx.Client(base_url=server.url, timeout=60, headers=server.auth("admin")) as c:
        r = c.post("/api/v1/auth/login", json={"username": "admin", "password": "dutydesk"})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        c.cookies.update(r.cookies)
        yield c


def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every (path, route) of the app, through included routers (which FastAPI may keep
    whole instead of copying their routes into the app's list)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from api_routes(included.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route


def routes(server: LiveServer) -> list[tuple[str, APIRoute]]:
    found = [(p, r) for p, r in api_routes(server.app.routes) if not p.startswith(SKIPPED)]
    # Log-out ends the session the rest of the walk uses: last.
    return sorted(found, key=lambda pr: "logout" in pr[0])


def _filler(schema: dict[str, Any]) -> Any:
    """A plain valid-looking value for a field, so a hostile neighbour reaches the rules."""
    options = [schema, *schema.get("anyOf", [])]
    for option in options:
        if "enum" in option:
            return option["enum"][0]
        if "const" in option:
            return option["const"]
        if option.get("format") in FORMATS:
            return FORMATS[option["format"]]
    kind = next((o["type"] for o in options if o.get("type") not in (None, "null")), "string")
    return FILLER.get(kind, "ana")


def _json_fields(route: APIRoute) -> tuple[list[str], dict[str, Any]]:
    """A body model's fields, and a body with its required fields filled with plain values."""
    field = route.body_field
    if field is None or isinstance(field.field_info, Form):
        return [], {}
    annotation = field.field_info.annotation
    model_schema = getattr(annotation, "model_json_schema", None)
    if model_schema is None:
        return [], {}
    schema = model_schema()
    props = schema.get("properties", {})
    base = {name: _filler(props[name]) for name in schema.get("required", [])}
    return list(props), base


def _params(dependant: Dependant, kind: str) -> list[str]:
    """The names of one kind of parameter (path, query, header, body) through every
    dependency; a model read from the query counts as its fields."""
    names: list[str] = []
    for param in getattr(dependant, f"{kind}_params"):
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and kind != "body":
            names += [f.alias or n for n, f in annotation.model_fields.items()]
        elif kind != "body" or isinstance(param.field_info, Form):
            names.append(param.alias)
    for sub in dependant.dependencies:
        names += [n for n in _params(sub, kind) if n not in names]
    return names


def _header_safe(value: str) -> bool:
    return value.isascii() and value.isprintable()


def _requests(path: str, route: APIRoute) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, url, httpx keyword arguments) for every hostile value of every parameter."""
    known = known_path_parameters(path)
    path_names = _params(route.dependant, "path")
    base_path = {name: known.get(name, "1") for name in path_names}
    query_names = _params(route.dependant, "query")
    header_names = [h for h in _params(route.dependant, "header") if h.lower() != "authorization"]
    json_names, json_base = _json_fields(route)
    form_names = _params(route.dependant, "body")
    for method in sorted(route.methods - {"HEAD"}):

        def url(path_values: dict[str, str]) -> str:
            out = path
            for name, value in path_values.items():
                out = out.replace("{" + name + "}", quote(value, safe=""))
            return out

        default: dict[str, Any] = {}
        if json_names:
            default = {"json": json_base}
        elif form_names:
            default = {"data": {"csrf_token": "", **{n: "abc" for n in form_names}}}
        for name in path_names:
            for value in HOSTILE_TEXT:
                yield method, url({**base_path, name: value}), default
        for name in query_names:
            for value in HOSTILE_TEXT:
                yield method, url(base_path), {**default, "params": {name: value}}
        for name in header_names:
            for value in filter(_header_safe, HOSTILE_TEXT):
                yield method, url(base_path), {**default, "headers": {name: value}}
        for name in json_names:
            for value in [*HOSTILE_TEXT, *HOSTILE_JSON]:
                yield method, url(base_path), {"json": {**json_base, name: value}}
        for name in form_names:
            for value in HOSTILE_TEXT:
                yield method, url(base_path), {"data": {**default["data"], name: value}}
        if not (path_names or query_names or header_names or json_names or form_names):
            yield method, url(base_path), default


def test_every_route_refuses_hostile_values_with_a_4xx(
    server: LiveServer, client: httpx.Client
) -> None:
    walked = routes(server)
    documented = {
        (method.upper(), path)
        for path, item in client.get("/api/v1/openapi.json").json()["paths"].items()
        for method in item
    }
    seen = {(m, p) for p, r in walked for m in r.methods}
    assert documented <= seen, f"routes the walk missed: {sorted(documented - seen)}"
    assert any(not p.startswith("/api/") for p, _ in walked), "the walk should see the pages"
    csrf = client.headers["X-CSRF-Token"]
    failures: list[str] = []
    sent = 0
    for path, route in walked:
        for method, url, kwargs in _requests(path, route):
            if "data" in kwargs:
                kwargs = {**kwargs, "data": {**kwargs["data"], "csrf_token": csrf}}
            shown = f"{method} {url[:120]} {str(kwargs)[:160]}"
            try:
                r = client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                failures.append(f"{shown}: the connection failed ({exc!r})")
                continue
            sent += 1
            shown += f": {r.status_code}"
            if r.status_code >= 500:
                failures.append(f"{shown} {r.text[:200]!r}")
            elif (
                path.startswith("/api/")
                and r.status_code >= 400
                and not r.headers.get("content-type", "").startswith("application/problem+json")
            ):
                failures.append(f"{shown} answered {r.headers.get('content-type')!r}")
    print(f"\nbad input: {sent} requests over {len(walked)} routes")
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:40])


# Each class of input the API once answered 500 for: (method, url, keyword arguments, the
# status, the field the problem must name).
CLASSES: list[tuple[str, str, dict[str, Any], int, str | None]] = [
    ("DELETE", "/api/v1/time-off/99999999999999999999999", {}, 422, "time_off_id"),
    ("POST", "/api/v1/rotations/set/swaps/2147483648/undo", {}, 422, "swap_id"),
    ("POST", "/api/v1/admin/outbox/retry", {"json": {"ids": [2**70]}}, 422, "ids.0"),
    ("GET", "/api/v1/admin/outbox", {"params": {"cursor": "-5420766398570401051"}}, 422, "cursor"),
    ("GET", "/api/v1/tickets/INFRA-99999999999999999999", {}, 404, None),
    ("GET", "/api/v1/tickets/INFRA-²", {}, 404, None),
    ("GET", "/api/v1/tickets", {"params": {"cursor": _cursor(["x"])}}, 422, "cursor"),
    ("GET", "/api/v1/tickets", {"params": {"cursor": _cursor([2**70])}}, 422, "cursor"),
    (
        "GET",
        "/api/v1/tickets",
        {"params": {"sort": "-updated", "cursor": _cursor([1, 1])}},
        422,
        "cursor",
    ),
    (
        "GET",
        "/api/v1/desks/infra/queue",
        {"params": {"cursor": _cursor([{"a": 1}, "x"])}},
        422,
        "cursor",
    ),
    ("GET", "/api/v1/desks/infra/queue", {"params": {"limit": 100000}}, 422, "limit"),
    ("GET", "/api/v1/rotations/infra-oncall/history", {"params": {"cursor": "١٢"}}, 422, "cursor"),
    ("GET", "/api/v1/desks/set/status-post", {"params": {"date": "0001-01-04"}}, 422, "date"),
    ("GET", "/api/v1/desks/set/agenda", {"params": {"date": "9999-12-31"}}, 422, "date"),
    (
        "GET",
        "/api/v1/rotations/infra-oncall/shifts",
        {"params": {"from": "9999-12-31T23:00"}},
        422,
        "from",
    ),
    (
        "GET",
        "/api/v1/calendars/pacific/explain",
        {"params": {"from": "9999-12-31T23:00Z"}},
        422,
        "from",
    ),
    (
        "GET",
        "/api/v1/calendars/pacific/explain",
        {"params": {"add": "300000 business days"}},
        422,
        "add",
    ),
    (
        "GET",
        "/api/v1/calendars/pacific/explain",
        {"params": {"add": "9" * 400 + " weeks"}},
        422,
        "add",
    ),
    (
        "GET",
        "/api/v1/tickets",
        {"params": {"resolved_within": "99999999999 weeks"}},
        422,
        "resolved_within",
    ),
    (
        "POST",
        "/api/v1/time-off",
        {"json": {"start": "9999-12-31", "end": "9999-12-31"}},
        422,
        "start",
    ),
    ("POST", "/api/v1/tickets/INFRA-2/rank", {"json": {"before": ""}}, 422, "before"),
    ("POST", "/api/v1/tickets/INFRA-2/rank", {"json": {"after": "  "}}, 422, "after"),
    ("POST", "/api/v1/desks/infra/tickets", {"json": {"title": "Disk full\x00"}}, 422, "title"),
    (
        "POST",
        "/api/v1/desks/infra/tickets",
        {"json": {"title": "Disk full", "labels": ["a", "\x00"]}},
        422,
        "labels.1",
    ),
    ("GET", "/api/v1/tickets", {"params": {"q": "disk\x00"}}, 422, "q"),
    ("GET", "/api/v1/people/ana%00/shifts", {}, 422, "path"),
    (
        "POST",
        "/api/v1/desks/infra/tickets",
        {"content": b'{"title": "no content type \\u0000"}'},
        422,
        "title",
    ),
    (
        "POST",
        "/api/v1/rotations/infra-oncall/members",
        {"json": {"person": "ana", "action": "join", "effective": "2026-12-07", "position": 2**70}},
        422,
        "position",
    ),
]


@pytest.mark.parametrize(("method", "url", "kwargs", "status", "field"), CLASSES)
def test_each_class_of_bad_input_is_a_problem_naming_its_field(
    client: httpx.Client,
    method: str,
    url: str,
    kwargs: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    r = client.request(method, url, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == status
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]], problem
        assert problem["detail"].startswith(field) or f"{field}:" in problem["detail"], problem


def test_explain_names_the_cap_on_its_span(client: httpx.Client) -> None:
    r = client.get("/api/v1/calendars/pacific/explain", params={"add": "300000 business days"})
    assert r.status_code == 422
    assert "at most 1098 days" in r.json()["detail"]
    ok = client.get("/api/v1/calendars/pacific/explain", params={"add": "1000 business days"})
    assert ok.status_code == 200, ok.text


def test_a_chunked_body_over_the_limit_gets_413_like_a_sized_one(server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"title": "A streamed ticket", "description": "'
        for _ in range(2 * MAX_BODY // 1024):
            yield b"x" * 1024
        yield b'"}'

    with httpx.Client(base_url=server.url, timeout=30, headers=server.auth("rita")) as c:
        sized = c.post("/api/v1/desks/infra/tickets", content=b"x" * (MAX_BODY + 1))
        request = c.build_request("POST", "/api/v1/desks/infra/tickets", content=chunks())
        assert "content-length" not in request.headers
        assert request.headers["transfer-encoding"] == "chunked"
        streamed = c.send(request)
        small = c.post(
            "/api/v1/desks/infra/tickets",
            content=b'{"title": "A small streamed ticket"}',
            headers={"Content-Type": "application/json"},
        )
    for r in (sized, streamed):
        assert r.status_code == 413, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == f"the request body exceeds {MAX_BODY} bytes"
    assert small.status_code == 201, small.text


def test_a_nul_in_a_multipart_text_field_is_refused_naming_it(server: LiveServer) -> None:
    """Browsers may send any form as multipart; its text fields obey the same NUL rule,
    while an attached file may hold any byte."""
    with httpx.Client(base_url=server.url, timeout=30) as c:
        refused = c.post(
            "/login",
            data={"username": "rita\x00", "password": "dutydesk"},
            files={"ignored": ("note.bin", b"\x00\x01", "application/octet-stream")},
        )
        with_binary_file = c.post(
            "/login",
            data={"username": "nobody", "password": "wrong"},
            files={"ignored": ("note.bin", b"\x00\x01", "application/octet-stream")},
        )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "username", "message": refused.json()["errors"][0]["message"]}
    ]
    assert with_binary_file.status_code < 500
    assert with_binary_file.status_code != 422, with_binary_file.text
