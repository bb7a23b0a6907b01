from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dutydesk.db import Base, UTCDateTime


class HandbookVersion(Base):
    """One saved version of a desk's handbook; the highest ``version`` is the current page.
    Nothing is overwritten, so the history and its diffs are these rows."""

    __tablename__ = "handbook_versions"
    __table_args__ = (
        UniqueConstraint("desk", "version", name="uq_handbook_versions_desk_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    desk: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(200), default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
