"""Writing back to GitHub: a comment on the issue naming its ticket.

Off unless the desk says ``write_back = true`` and the token's variable (``token_env``) is
set; it runs after the delivery's transaction commits, and a failure is logged, never
answered to GitHub (which would redeliver an event that was handled).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from dutydesk.policy.ingress import GithubDeskPolicy

log = logging.getLogger("dutydesk.github")


@dataclass(frozen=True)
class WriteBack:
    api_url: str
    token: str

    def comment(self, repository: str, number: int, body: str, timeout: float = 10.0) -> None:
        url = f"{self.api_url.rstrip('/')}/repos/{repository}/issues/{number}/comments"
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "dutydesk",
        }
        try:
            r = httpx.post(url, json={"body": body}, headers=headers, timeout=timeout)
            r.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("writing back to %s#%s failed: %s", repository, number, exc)


def write_back(rules: GithubDeskPolicy, env: Mapping[str, str]) -> WriteBack | None:
    """The desk's write-back, when it is turned on and its token is set; else ``None``."""
    if not rules.write_back:
        return None
    token = env.get(rules.token_env, "").strip()
    if not token:
        log.warning("write_back is on but %s is not set: not writing back", rules.token_env)
        return None
    return WriteBack(rules.api_url, token)
