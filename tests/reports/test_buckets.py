"""Instants sorted into a period's weeks by the database itself, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dutydesk.db import Database
from dutydesk.reports.buckets import bounds, bucket_index, instant_sql, weeks
from dutydesk.reports.period import resolve
from dutydesk.reports.tables import Table, cell_text, pick, to_csv
from dutydesk.tickets.models import Event

LA = ZoneInfo("America/Los_Angeles")


def test_weeks_cross_daylight_saving_at_local_midnight() -> None:
    p = resolve(date(2026, 10, 28), date(2026, 11, 10), datetime(2026, 12, 1, tzinfo=UTC), LA)
    ws = weeks(p)
    assert [w.label for w in ws] == ["2026-W44", "2026-W45", "2026-W46"]
    # PDT until Sunday 1 November: the Monday after starts at 08:00 UTC, not 07:00.
    assert ws[0].start == datetime(2026, 10, 28, 7, tzinfo=UTC)
    assert ws[1].start == datetime(2026, 11, 2, 8, tzinfo=UTC)
    assert ws[2].end == p.until == datetime(2026, 11, 11, 8, tzinfo=UTC)
    assert bounds(p) == [w.start for w in ws] + [p.until]


def test_bucket_index_in_sql(db: Database) -> None:
    edges = [datetime(2026, 11, d, 8, tzinfo=UTC) for d in (2, 9, 16, 23, 30)]
    cases = {
        edges[0] - timedelta(microseconds=1): -1,
        edges[0]: 0,
        edges[1] - timedelta(seconds=1): 0,
        edges[1]: 1,
        edges[3] + timedelta(days=3): 3,
        edges[4]: 4,
        edges[4] + timedelta(days=400): 4,
    }
    with db.read() as s:
        dialect = s.get_bind().dialect.name

        def index(at: datetime | None, edges: list[datetime]) -> int | None:
            probe = "NULL" if at is None else instant_sql(at, dialect)
            if dialect != "sqlite" and at is None:
                probe = "CAST(NULL AS TIMESTAMP)"
            result: int | None = s.scalar(select(bucket_index(probe, edges, dialect)))
            return result

        for at, want in cases.items():
            assert index(at, edges) == want, (at, want)
        assert index(None, edges) is None
        for n in (1, 2, 3, 7, 53):  # every tree shape
            many = [edges[0] + timedelta(weeks=i) for i in range(n)]
            for i, at in enumerate(many):
                assert index(at + timedelta(hours=1), many) == i
        # The stored column, compared against the same literals.
        assert (
            s.scalar(select(func.count()).where(Event.at < datetime(2000, 1, 1, tzinfo=UTC))) == 0
        )


def test_csv_and_cells() -> None:
    t = Table("t", "T", ("a", "b, quoted"), (("x\ny", 1.5), (None, 2.0), ("=1+1", 3)))
    # A title that starts like a formula stays text in a spreadsheet.
    assert to_csv(t) == 'a,"b, quoted"\r\n"x\ny",1.5\r\n,2\r\n\'=1+1,3\r\n'
    assert cell_text(0.333333) == "0.33" and cell_text(None) == ""
    assert pick([t], None) is t
    try:
        pick([t], "nope")
    except ValueError as exc:
        assert "no table 'nope'; this report has t" in str(exc)
    else:
        raise AssertionError("pick accepted an unknown table")
