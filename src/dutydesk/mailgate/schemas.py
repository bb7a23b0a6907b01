"""What the attachment routes answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    kept: bool  # false: over the size limit when mailed, listed only
    url: str | None  # where a kept file is downloaded
    created_at: datetime
