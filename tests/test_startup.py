"""Start-up stays cheap: what the CLI and the app import, the quick schema check, and holiday
tables that load on the first holiday looked up (bench/bench_startup.py has the figures)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date

import pytest
from sqlalchemy import text

from dutydesk import migrate
from dutydesk.db import Database
from dutydesk.policy.models import CalendarPolicy
from dutydesk.slo.policy import build_calendar


def imported_after(code: str) -> list[str]:
    """Run `code` in a fresh interpreter; it prints what it found in sys.modules."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return proc.stdout.split()


def test_the_cli_starts_without_the_app_and_the_app_without_rare_libraries() -> None:
    found = imported_after(
        """
        import sys
        import dutydesk.cli
        print(*[f"cli:{m}" for m in ("pydantic", "sqlalchemy", "httpx") if m in sys.modules])
        import dutydesk.app
        print(*[f"app:{m}" for m in ("alembic", "icalendar", "holidays") if m in sys.modules])
        """
    )
    assert found == [], (
        f"imported at start-up, though only some commands or routes need it: {found}"
    )


def test_holiday_tables_load_on_the_first_holiday_looked_up() -> None:
    found = imported_after(
        """
        import sys
        from datetime import date
        from pathlib import Path
        import dutydesk
        from dutydesk.policy import load_policy
        from dutydesk.slo.policy import build_calendar

        policy = load_policy(Path(dutydesk.__file__).parent / "examples" / "dutydesk.toml")
        cal = build_calendar(policy.calendars["pacific"])
        print("built-with" if "holidays" in sys.modules else "built-without")
        print(cal.is_holiday(date(2026, 11, 26)), cal.is_holiday(date(2026, 12, 24)))
        """
    )
    assert found == ["built-without", "True", "True"]  # Thanksgiving, and the policy's extra day


def test_an_unknown_holiday_country_is_still_refused() -> None:
    spec = CalendarPolicy(timezone="UTC", hours={"mon": "09:00-17:00"}, holidays={"country": "XX"})
    cal = build_calendar(spec)
    with pytest.raises(ValueError, match="XX"):
        cal.is_holiday(date(2026, 1, 5))


def test_the_quick_head_agrees_with_alembic() -> None:
    assert migrate._plain_head() == migrate.head_revision()


def test_the_start_up_schema_check(db: Database) -> None:
    migrate.ensure_current(db.engine)  # at head: passes
    head = migrate.head_revision()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        with pytest.raises(
            migrate.NotMigrated, match=f"is at revision 0001, .* needs revision {head}"
        ):
            migrate.ensure_current(db.engine)
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
