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
    # One JSON object per log line (production); otherwise readable text.
    log_json: bool = False
    # One log line per request (``dutydesk.access``).
    access_log: bool = True
    # /metrics: with a token, for ``Authorization: Bearer <token>`` from anywhere; without
    # one, only for loopback clients that did not come through a proxy.
    metrics_token: str = ""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
