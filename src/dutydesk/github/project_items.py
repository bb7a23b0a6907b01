"""An issue added to a desk's GitHub project (``projects_v2_item`` created) files a ticket.

That event names the issue only by its node id, so the bridge reads the issue from GitHub's
GraphQL API with the desk's token (``token_env``) and then files it as an opened issue. The
read happens after the signature is checked and before the delivery's transaction begins.
"""

from __future__ import annotations

from typing import Any

import httpx

from dutydesk.errors import DomainError
from dutydesk.policy.ingress import GithubDeskPolicy

QUERY = """
query($id: ID!) {
  node(id: $id) {
    ... on Issue {
      number title body url state stateReason
      author { login }
      labels(first: 50) { nodes { name } }
      repository { nameWithOwner }
    }
  }
}
"""


class UpstreamError(DomainError):
    """GitHub did not answer as needed; GitHub may redeliver the event later."""

    status, slug, title = 502, "upstream", "GitHub did not answer"


def wanted(rules: GithubDeskPolicy, payload: dict[str, Any]) -> str | None:
    """The issue's node id when this delivery adds an issue to the desk's project."""
    item = payload.get("projects_v2_item")
    if (
        "project" not in rules.file_on
        or payload.get("action") != "created"
        or not isinstance(item, dict)
        or item.get("content_type") != "Issue"
        or item.get("project_node_id") != rules.project
    ):
        return None
    node = item.get("content_node_id")
    return node if isinstance(node, str) and node else None


async def as_opened_issue(
    rules: GithubDeskPolicy, token: str, node_id: str, sender: Any
) -> dict[str, Any]:
    """The project item's issue, read from GitHub, in the shape of an ``issues`` opened event."""
    url = rules.api_url.rstrip("/") + "/graphql"
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "dutydesk"}
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            r = await client.post(
                url, json={"query": QUERY, "variables": {"id": node_id}}, headers=headers
            )
        r.raise_for_status()
        node = r.json()["data"]["node"]
        issue = {
            "number": node["number"],
            "title": node["title"],
            "body": node.get("body"),
            "html_url": node["url"],
            "state": str(node["state"]).lower(),
            "state_reason": (node.get("stateReason") or "").lower() or None,
            "user": {"login": (node.get("author") or {}).get("login") or "ghost"},
            "labels": [{"name": x["name"]} for x in node["labels"]["nodes"]],
        }
        repository = {"full_name": node["repository"]["nameWithOwner"]}
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise UpstreamError(f"could not read issue {node_id} from {url}: {exc}") from exc
    return {"action": "opened", "issue": issue, "repository": repository, "sender": sender}
