"""Alembic, driven from code: ``dutydesk db upgrade`` and the start-up check."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where it is used: importing it (with Mako and Pygments) costs about
# 50 ms, and the start-up check usually needs none of it (see ensure_current).

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class NotMigrated(RuntimeError):
    pass


_REVISION = re.compile(r"""^revision(?:\s*:\s*str)?\s*=\s*["']([\w-]+)["']\s*$""", re.M)
_DOWN = re.compile(r"""^down_revision(?:\s*:[^=\n]*)?\s*=\s*(?:None|["']([\w-]+)["'])\s*$""", re.M)


def _plain_head() -> str | None:
    """The head of a plain linear history, read from the revision files' text; None when the
    history is anything else (a merge, branches, an unexpected spelling): ask Alembic then."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev, down = _REVISION.findall(source), _DOWN.findall(source)
        if len(rev) != 1 or len(down) != 1:
            return None
        revisions.add(rev[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def _plain_current(engine: Engine) -> str | None:
    """The one revision stamped in ``alembic_version``, or None for anything else."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def ensure_current(engine: Engine) -> None:
    """Refuse to run on a database whose schema is not at the code's head revision."""
    # Fast path, on every start: the database is at the head of a plain history. Anything
    # else (a new or old database, branches) gets Alembic's own answer, and its message.
    head = _plain_head()
    if head is not None and _plain_current(engine) == head:
        return
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "has no dutydesk schema" if current is None else f"is at revision {current}"
        raise NotMigrated(
            f"the database {state}, but this dutydesk needs revision {head}; "
            "run `dutydesk db upgrade` (or `dutydesk init` for a new install)"
        )
