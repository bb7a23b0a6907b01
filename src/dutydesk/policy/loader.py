"""Read ``dutydesk.toml`` and turn every problem into a located, fixable message."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dutydesk.policy.models import Policy


@dataclass(frozen=True)
class Problem:
    location: str  # dotted path inside the file, e.g. "desks.infra.admit"
    message: str
    line: int | None = None

    def render(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line else filename
        return f"{where}: {self.location}: {self.message}"


class PolicyError(Exception):
    """The policy cannot be used; ``problems`` lists every error found."""

    def __init__(self, filename: str, problems: list[Problem]) -> None:
        self.filename = filename
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"{len(self.problems)} problem(s) in {self.filename}:"]
        lines += ["  " + p.render(self.filename) for p in self.problems]
        return "\n".join(lines)


_AT_KEY = re.compile(r"^at (\w+): (.*)$")
_HINTS = {
    "extra_forbidden": "unknown key; remove it or check its spelling",
    "missing": "required key is missing; add it",
}


def loc_to_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item.startswith(("str", "OrderRule", "function-")):
            continue  # pydantic's union branch names are noise to a policy author
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts)


def find_line(text: str, path: str) -> int | None:
    """Best-effort line number of a dotted path: its table header, then its key."""
    keys = [k for k in re.split(r"\.|\[\d+\]", path) if k]
    lines = text.splitlines()
    best: int | None = None
    for depth in range(len(keys), 0, -1):
        header = re.compile(r"^\s*\[\[?\s*" + re.escape(".".join(keys[:depth])) + r"\s*\]\]?")
        for i, line in enumerate(lines):
            if header.match(line):
                best = i + 1
                if depth < len(keys):
                    key = re.compile(
                        r"^\s*"
                        + re.escape(keys[depth])
                        + r"\s*=|[{,;]\s*"
                        + re.escape(keys[depth])
                        + r"\s*="
                    )
                    for j in range(i + 1, len(lines)):
                        if lines[j].lstrip().startswith("["):
                            break
                        if key.search(lines[j]):
                            return j + 1
                return best
    return best


@dataclass(frozen=True)
class PolicyReading:
    """A policy file as read: its tables, the policy (None when it cannot be built) and every
    problem found, so a checker can go on looking at the tables that are fine."""

    raw: dict[str, Any]
    policy: Policy | None
    problems: list[Problem]
    # When the policy cannot be built: the tables that did validate, for further checks.
    partial: Policy | None = None


def read_policy(text: str) -> PolicyReading:
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        return PolicyReading({}, None, [Problem("(syntax)", f"not valid TOML: {exc}", line)])
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = loc_to_path(err["loc"]) or "(top level)"
            msg = _HINTS.get(err["type"], err["msg"].removeprefix("Value error, "))
            if err["type"] == "extra_forbidden":
                msg = f"unknown key {str(err['loc'][-1])!r}; remove it or check its spelling"
            for line in msg.split("\n"):  # a table's validator lists each of its errors
                at = _AT_KEY.match(line)
                where = f"{path}.{at[1]}" if at else path
                line = at[2] if at else line
                problems.append(Problem(where, line, find_line(text, where)))
        partial = _without_broken_tables(raw, exc)
        return PolicyReading(raw, None, problems + _reference_problems(partial, exc, text), partial)
    refs = policy.reference_errors()
    return PolicyReading(
        raw, policy, [Problem(loc, msg, find_line(text, loc)) for loc, msg in refs]
    )


def _without_broken_tables(raw: dict[str, Any], exc: ValidationError) -> Policy | None:
    """The policy without what failed validation, so one round of ``check`` goes on to look
    at the rest: first without only the keys in error (a desk with a bad priority still has
    its calendar checked), else without the tables in error (None when nothing is left)."""
    dropped = _broken_tables(exc)
    if dropped is None:
        return None
    keys = _broken_keys(exc)
    if keys is not None:
        lighter = {
            section: {
                name: {k: v for k, v in table.items() if k not in keys.get((section, name), ())}
                if isinstance(table, dict) and (section, name) in keys
                else table
                for name, table in value.items()
            }
            if isinstance(value, dict) and section in dropped
            else value
            for section, value in raw.items()
        }
        try:
            return Policy.model_validate(lighter)
        except ValidationError:
            pass
    partial = {
        key: {k: v for k, v in value.items() if k not in dropped.get(key, set())}
        if isinstance(value, dict) and key in dropped
        else value
        for key, value in raw.items()
    }
    try:
        return Policy.model_validate(partial)
    except ValidationError:
        return None


def _broken_keys(exc: ValidationError) -> dict[tuple[str, str], set[str]] | None:
    """(section, table) → the keys in error; None when an error is about a whole table."""
    keys: dict[tuple[str, str], set[str]] = {}
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) < 3 or not all(isinstance(p, str) for p in loc[:3]):
            return None
        keys.setdefault((str(loc[0]), str(loc[1])), set()).add(str(loc[2]))
    return keys


def _broken_tables(exc: ValidationError) -> dict[str, set[str]] | None:
    """Section → names of the tables with errors; None for an error above any table."""
    dropped: dict[str, set[str]] = {}
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], str):
            dropped.setdefault(loc[0], set()).add(loc[1])
        else:
            return None
    return dropped


def _reference_problems(partial: Policy | None, exc: ValidationError, text: str) -> list[Problem]:
    """Cross-references of what validated, leaving out any that names a broken table or a
    key in error (it would only repeat the first problem)."""
    if partial is None:
        return []
    broken = _broken_tables(exc) or {}
    names = {name for section in broken.values() for name in section}
    keys = _broken_keys(exc) or {}
    in_error = {f"{s}.{t}.{k}" for (s, t), ks in keys.items() for k in ks}
    whole = {f"{s}.{t}" for s, ts in broken.items() for t in ts if (s, t) not in keys}
    return [
        Problem(loc, msg, find_line(text, loc))
        for loc, msg in partial.reference_errors()
        if not any(loc == p or loc.startswith(p + ".") for p in in_error | whole)
        and not any(f"'{n}'" in msg for n in names)
    ]


def parse_policy(text: str, filename: str = "dutydesk.toml") -> Policy:
    reading = read_policy(text)
    if reading.problems or reading.policy is None:
        raise PolicyError(filename, reading.problems)
    return reading.policy


def read_policy_file(path: Path) -> str:
    if not path.exists():
        raise PolicyError(
            str(path),
            [
                Problem(
                    "(file)", "policy file not found; run `dutydesk init` or set DUTYDESK_POLICY"
                )
            ],
        )
    return path.read_text(encoding="utf-8")


def load_policy(path: Path) -> Policy:
    return parse_policy(read_policy_file(path), str(path))
