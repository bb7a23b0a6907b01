"""Process settings, read from the environment (``DUTYDESK_*``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUTYDESK_", extra="ignore")

    database_url: str = "sqlite:///./dutydesk.db"
    policy: Path = Path("./dutydesk.toml")
    # Secret for session cookies and CSRF tokens; the demo gets a stable one per database.
    secret_key: str = ""
    max_body_bytes: int = 256 * 1024
    # The streamed import endpoint's own limit (it never holds the body whole).
    max_import_bytes: int = 1 << 30


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
