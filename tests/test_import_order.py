"""The import graph: no cycles between modules, and every import goes down the domain order.

Read from the source with ``ast``: every import counts, those inside functions and under
``TYPE_CHECKING`` too, so a new cycle or an upward import fails here and not in review. The
README's development section writes down the same order.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Layer 1: infrastructure and policy, no domain imports.
INFRASTRUCTURE = (
    "dutydesk",
    "dutydesk.settings",
    "dutydesk.clock",
    "dutydesk.errors",
    "dutydesk.db",
    "dutydesk.group_commit",
    "dutydesk.inputs",
    "dutydesk.durations",
    "dutydesk.markdown",
    "dutydesk.logs",
    "dutydesk.telemetry",
    "dutydesk.policy",
)
# Layer 2: every domain's tables and schemas, and the pure rules any service may use.
LAYER_TWO = (
    "dutydesk.models",
    "dutydesk.context",
    "dutydesk.auth.cache",
    "dutydesk.tickets.ordering",
    "dutydesk.tickets.workflow",
    "dutydesk.tickets.results",
    # the counter table's own numbering (its PostgreSQL sequences), which start-up syncs
    "dutydesk.tickets.numbers",
    "dutydesk.slo.calendar",
    "dutydesk.slo.hours",
    "dutydesk.slo.clocks",
    "dutydesk.slo.holidays",
    "dutydesk.oncall.schedule",
    "dutydesk.oncall.shifts",
    "dutydesk.oncall.layers",
    "dutydesk.oncall.absence",
    "dutydesk.oncall.wallclock",
    "dutydesk.oncall.fairness",
    "dutydesk.oncall.edit_rules",
    "dutydesk.oncall.conflicts",
    "dutydesk.oncall.rules",
    "dutydesk.oncall.loading",
    "dutydesk.notify.rules",
    "dutydesk.notify.chat_text",
    "dutydesk.notify.rows",
    "dutydesk.notify.queued",
    "dutydesk.triage.titles",
    "dutydesk.triage.ranking",
    "dutydesk.triage.analysis",
    "dutydesk.reports.meetings",
    "dutydesk.reports.period",
    # the week buckets' SQL and the hourly tallies every ticket change keeps for the reports
    "dutydesk.reports.buckets",
    "dutydesk.reports.tallies",
)
# Layer 3: services, bottom up; a service imports services of its own domain or lower ones.
SERVICES = (
    "dutydesk.auth",
    "dutydesk.state",
    "dutydesk.slo",
    "dutydesk.tickets",
    "dutydesk.triage",
    "dutydesk.oncall",
    "dutydesk.github",
    "dutydesk.mailgate",
    "dutydesk.policy_check",
    "dutydesk.reports",
    "dutydesk.notify",
    "dutydesk.imports",
    "dutydesk.handbook",
)
# On top: routers (every domain's ``api``), pages, the CLI, migrations and the app.
TOP = (
    "dutydesk.http",
    "dutydesk.web",
    "dutydesk.cli",
    "dutydesk.demo",
    "dutydesk.migrate",
    "dutydesk.migrations",
    "dutydesk.backup",
    "dutydesk.app",
    "dutydesk.__main__",
)


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer(name: str) -> tuple[int, int]:
    """(layer, rank within the service order) of a module."""
    leaf = name.rsplit(".", 1)[-1]
    if (
        leaf == "api"
        or leaf.startswith("api_")
        or leaf.endswith("_api")
        or any(_under(name, p) for p in TOP)
    ):
        return (4, 0)
    if name == "dutydesk" or any(_under(name, p) for p in INFRASTRUCTURE[1:]):
        return (1, 0)
    if leaf in {"models", "schemas"} or name in LAYER_TWO:
        return (2, 0)
    for rank, prefix in enumerate(SERVICES):
        if _under(name, prefix):
            return (3, rank)
    raise AssertionError(f"{name} is in no layer: add it to tests/test_import_order.py")


def modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "dutydesk").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                found = [module, *(f"{module}.{a.name}" for a in node.names)]
            else:
                continue
            targets |= {t for t in found if t in known and t != name}
        edges[name] = targets
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def upward(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for name, targets in edges.items():
        here = layer(name)
        for target in targets:
            there = layer(target)
            same_domain = here[0] == there[0] == 3 and here[1] == there[1]
            if there > here and not same_domain:
                wrong.append(f"{name} (layer {here}) imports {target} (layer {there})")
    return sorted(wrong)


def test_no_import_cycles_between_modules() -> None:
    assert cycles(graph()) == []


def test_every_import_goes_down_the_domain_order() -> None:
    assert upward(graph()) == []


def test_the_checks_catch_a_cycle_and_an_upward_import() -> None:
    edges = {
        "dutydesk.tickets.service": {"dutydesk.notify.service"},
        "dutydesk.notify.service": {"dutydesk.tickets.service"},
    }
    assert cycles(edges) == [["dutydesk.notify.service", "dutydesk.tickets.service"]]
    assert upward(edges) == [
        "dutydesk.tickets.service (layer (3, 3)) imports dutydesk.notify.service (layer (3, 10))"
    ]
