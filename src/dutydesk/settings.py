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
    # Failed log-ins allowed per account and per client address in the window (all replicas).
    login_failures_per_account: int = 10
    login_failures_per_address: int = 100
    login_window_seconds: int = 900
    # API rate limits, per replica: requests per second sustained, and burst; 0 turns off.
    api_rate_per_token: float = 1000.0
    api_burst_per_token: int = 2000
    api_rate_per_address: float = 2000.0
    api_burst_per_address: int = 4000
    # One JSON object per log line (production); otherwise readable text.
    log_json: bool = False
    # One log line per request (``dutydesk.access``).
    access_log: bool = True
    # /metrics: with a token, for ``Authorization: Bearer <token>`` from anywhere; without
    # one, only for loopback clients that did not come through a proxy.
    metrics_token: str = ""
    # The streamed import endpoint's own limit (it never holds the body whole).
    max_import_bytes: int = 1 << 30


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
