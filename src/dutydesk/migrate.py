"""Alembic, driven from code: ``dutydesk db upgrade`` and the start-up check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class NotMigrated(RuntimeError):
    pass


def ensure_current(engine: Engine) -> None:
    """Refuse to run on a database whose schema is not at the code's head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "has no dutydesk schema" if current is None else f"is at revision {current}"
        raise NotMigrated(
            f"the database {state}, but this dutydesk needs revision {head}; "
            "run `dutydesk db upgrade` (or `dutydesk init` for a new install)"
        )
