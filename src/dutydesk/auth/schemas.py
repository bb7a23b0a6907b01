"""What the access routes take and give: tokens (never their secrets, but once), audit
events, and a person's standing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field("", max_length=80, description="what the token is for")
    expires_in: str | None = Field(
        None, max_length=40, description="lifetime such as '90d' or '12h' (default: none)"
    )
    user: str | None = Field(
        None, max_length=40, description="whose token (admins only; default: yours)"
    )


class TokenOut(BaseModel):
    id: int
    user: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    state: Literal["active", "expired", "revoked"]


class TokenCreated(TokenOut):
    """A new token: ``token`` is the secret, shown this once. A retried request (same
    Idempotency-Key) gets the record without it."""

    replay_exclude: ClassVar[set[str]] = {"token"}
    token: str


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str | None = Field(description="who acted; empty for the policy file or the server")
    action: str
    subject: str | None
    detail: dict[str, Any]


class DeactivateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field("", max_length=200)


class StandingOut(BaseModel):
    name: str
    active: bool
    deactivated_at: datetime | None
    deactivated_reason: str | None


Role = Annotated[str, Field(max_length=20)]  # checked by the use case, which names the roles


class NewUserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=40, description="login name, lower case")
    display_name: str = Field("", max_length=120)
    email: str | None = Field(None, max_length=200)
    roles: list[Role] = Field(default_factory=lambda: ["reporter"], max_length=4)
    desks: list[str] = Field(
        default_factory=list, max_length=100, description="where the roles apply (empty: all)"
    )
    team: str | None = Field(None, max_length=60)
    password: str | None = Field(None, max_length=200, description="at least 8 characters")


class UserPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    display_name: str | None = Field(None, max_length=120)
    email: str | None = Field(None, max_length=200)
    roles: list[Role] | None = Field(None, max_length=4)
    desks: list[str] | None = Field(None, max_length=100)
    team: str | None = Field(None, max_length=60)


class AccountOut(BaseModel):
    name: str
    display_name: str
    email: str | None
    roles: list[str]
    desks: list[str]
    team: str | None
    active: bool
    managed_by_policy: bool
    deactivated_at: datetime | None
    deactivated_reason: str | None


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class PasswordChanged(BaseModel):
    sessions_ended: int = Field(description="your other browser sessions, logged out")


class SessionOut(BaseModel):
    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str
    browser: str = Field(description="the user agent in a few words ('Firefox on Windows')")
    current: bool = Field(description="the session this request came with")


class SessionsEnded(BaseModel):
    ended: int
