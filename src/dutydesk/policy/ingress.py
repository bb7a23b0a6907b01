"""Policy for the ways in that are not the API: the GitHub bridge and e-mail.

A desk opts in with ``[desks.NAME.github]`` and ``[desks.NAME.mail]``; ``[mail]`` holds
what every desk's mail shares (the domain of the Message-IDs we write). Secrets live in the
environment: the policy names the variable (``secret_env``, ``token_env``), never the value.
"""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ENV = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_DOMAIN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,250}[A-Za-z0-9])?$")
DEFAULT_GITHUB_SECRET_ENV = "DUTYDESK_GITHUB_WEBHOOK_SECRET"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _env_name(value: str) -> str:
    if not _ENV.match(value):
        raise ValueError(
            f"{value!r} is not an environment variable name (e.g. INFRA_GITHUB_SECRET); "
            "put the secret in the environment, never in this file"
        )
    return value


class GithubDeskPolicy(_Strict):
    """Which GitHub issues become this desk's tickets, and how their fields map."""

    # "owner/name" of each repository bridged to this desk; empty: any repository.
    repositories: list[str] = []
    secret_env: str = DEFAULT_GITHUB_SECRET_ENV
    # What files a ticket: an issue opened, labelled with ``label``, or added to the GitHub
    # project whose node id is ``project`` (reading that issue needs the token).
    file_on: list[Literal["opened", "labeled", "project"]] = ["opened"]
    label: str | None = None
    project: str | None = None
    # GitHub label → a ticket field, written "kind:bug", "category:outage" or "label:x".
    labels: dict[str, str] = {}
    # GitHub's state_reason when an issue closes → this desk's resolution.
    resolutions: dict[str, str] = {
        "completed": "fixed",
        "not_planned": "wont-fix",
        "duplicate": "duplicate",
    }
    # A GitHub user no [people.X] github login names: a guest reporter, or ignored.
    unknown_users: Literal["guest", "ignore"] = "guest"
    # Writing back (a comment with the ticket's key) needs the network and a token: off
    # unless a desk turns it on and the token's variable is set.
    write_back: bool = False
    token_env: str = "DUTYDESK_GITHUB_TOKEN"
    api_url: str = "https://api.github.com"

    _envs = field_validator("secret_env", "token_env")(_env_name)

    @field_validator("repositories")
    @classmethod
    def _repos(cls, value: list[str]) -> list[str]:
        for repo in value:
            if not _REPO.match(repo):
                raise ValueError(f"{repo!r} is not a repository; write it as 'owner/name'")
        return value

    @field_validator("labels")
    @classmethod
    def _label_targets(cls, value: dict[str, str]) -> dict[str, str]:
        for name, target in value.items():
            field, _, choice = target.partition(":")
            if field not in ("kind", "category", "label") or not choice:
                raise ValueError(
                    f"label {name!r} maps to {target!r}; write 'kind:X', 'category:X' or 'label:X'"
                )
        return value

    @model_validator(mode="after")
    def _label_needed(self) -> GithubDeskPolicy:
        if "labeled" in self.file_on and not self.label:
            raise ValueError('file_on = ["labeled"] needs label = "the label that files a ticket"')
        if "project" in self.file_on and not self.project:
            raise ValueError(
                'file_on = ["project"] needs project = "PVT_…" (the project\'s node id)'
            )
        return self


class MailDeskPolicy(_Strict):
    """Mail piped to ``dutydesk mailgate --desk NAME`` and the replies to our notices."""

    # The desk's inbound address: the Reply-To of every notification about its tickets.
    address: str
    # A sender no user has as e-mail address: filed as a guest reporter, or refused
    # (exit 67, EX_NOUSER, so the MTA bounces it).
    unknown_senders: Literal["guest", "reject"] = "guest"
    max_message_bytes: int = Field(10 * 1024 * 1024, gt=0)
    max_parts: int = Field(50, gt=0)
    # Attachments up to this size are kept in the database; larger ones are listed by name.
    max_attachment_bytes: int = Field(1024 * 1024, ge=0)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        _, addr = parseaddr(value)
        if "@" not in addr:
            raise ValueError(f"{value!r} is not an e-mail address")
        return value


class MailPolicy(_Strict):
    # The right-hand side of the Message-IDs we write; default: the domain of notify's From.
    domain: str | None = None

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is not None and not _DOMAIN.match(value):
            raise ValueError(f"{value!r} is not a domain name")
        return value

    def message_domain(self, sender: str) -> str:
        if self.domain:
            return self.domain
        _, addr = parseaddr(sender)
        try:
            found = Address(addr_spec=addr).domain
        except (ValueError, IndexError):
            found = ""
        return found if found and _DOMAIN.match(found) else "dutydesk.invalid"
