"""GitHub webhook payloads in the exact shape of GitHub's own examples (octokit/webhooks,
payload-examples/api.github.com: issues/opened, issues/reopened, issue_comment/created,
ping), built field for field so a test can vary the issue, the people and the action."""

from __future__ import annotations

import copy
from typing import Any

API = "https://api.github.com"


def user(login: str = "Codertocat", id_: int = 21031067, kind: str = "User") -> dict[str, Any]:
    u = f"{API}/users/{login}"
    return {
        "login": login,
        "id": id_,
        "node_id": "MDQ6VXNlcjIxMDMxMDY3",
        "avatar_url": f"https://avatars1.githubusercontent.com/u/{id_}?v=4",
        "gravatar_id": "",
        "url": u,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{u}/followers",
        "following_url": f"{u}/following{{/other_user}}",
        "gists_url": f"{u}/gists{{/gist_id}}",
        "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{u}/subscriptions",
        "organizations_url": f"{u}/orgs",
        "repos_url": f"{u}/repos",
        "events_url": f"{u}/events{{/privacy}}",
        "received_events_url": f"{u}/received_events",
        "type": kind,
        "site_admin": False,
    }


def repository(full_name: str = "Codertocat/Hello-World") -> dict[str, Any]:
    owner, name = full_name.split("/")
    r = f"{API}/repos/{full_name}"
    urls = {
        "forks_url": f"{r}/forks",
        "keys_url": f"{r}/keys{{/key_id}}",
        "collaborators_url": f"{r}/collaborators{{/collaborator}}",
        "teams_url": f"{r}/teams",
        "hooks_url": f"{r}/hooks",
        "issue_events_url": f"{r}/issues/events{{/number}}",
        "events_url": f"{r}/events",
        "assignees_url": f"{r}/assignees{{/user}}",
        "branches_url": f"{r}/branches{{/branch}}",
        "tags_url": f"{r}/tags",
        "blobs_url": f"{r}/git/blobs{{/sha}}",
        "git_tags_url": f"{r}/git/tags{{/sha}}",
        "git_refs_url": f"{r}/git/refs{{/sha}}",
        "trees_url": f"{r}/git/trees{{/sha}}",
        "statuses_url": f"{r}/statuses/{{sha}}",
        "languages_url": f"{r}/languages",
        "stargazers_url": f"{r}/stargazers",
        "contributors_url": f"{r}/contributors",
        "subscribers_url": f"{r}/subscribers",
        "subscription_url": f"{r}/subscription",
        "commits_url": f"{r}/commits{{/sha}}",
        "git_commits_url": f"{r}/git/commits{{/sha}}",
        "comments_url": f"{r}/comments{{/number}}",
        "issue_comment_url": f"{r}/issues/comments{{/number}}",
        "contents_url": f"{r}/contents/{{+path}}",
        "compare_url": f"{r}/compare/{{base}}...{{head}}",
        "merges_url": f"{r}/merges",
        "archive_url": f"{r}/{{archive_format}}{{/ref}}",
        "downloads_url": f"{r}/downloads",
        "issues_url": f"{r}/issues{{/number}}",
        "pulls_url": f"{r}/pulls{{/number}}",
        "milestones_url": f"{r}/milestones{{/number}}",
        "notifications_url": f"{r}/notifications{{?since,all,participating}}",
        "labels_url": f"{r}/labels{{/name}}",
        "releases_url": f"{r}/releases{{/id}}",
        "deployments_url": f"{r}/deployments",
    }
    return {
        "id": 186853002,
        "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=",
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": user(owner),
        "html_url": f"https://github.com/{full_name}",
        "description": None,
        "fork": False,
        "url": r,
        **urls,
        "created_at": "2019-05-15T15:19:25Z",
        "updated_at": "2019-05-15T15:19:27Z",
        "pushed_at": "2019-05-15T15:20:13Z",
        "git_url": f"git://github.com/{full_name}.git",
        "ssh_url": f"git@github.com:{full_name}.git",
        "clone_url": f"https://github.com/{full_name}.git",
        "svn_url": f"https://github.com/{full_name}",
        "homepage": None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": True,
        "has_pages": True,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": 1,
        "license": None,
        "forks": 0,
        "open_issues": 1,
        "watchers": 0,
        "default_branch": "master",
        "is_template": False,
    }


def label(name: str = "bug") -> dict[str, Any]:
    return {
        "id": 1362934389,
        "node_id": "MDU6TGFiZWwxMzYyOTM0Mzg5",
        "url": f"{API}/repos/Codertocat/Hello-World/labels/{name}",
        "name": name,
        "color": "d73a4a",
        "default": True,
        "description": "Something isn't working",
    }


def issue(
    number: int = 1,
    title: str = "Spelling error in the README file",
    body: str | None = "It looks like you accidently spelled 'commit' with two 't's.",
    author: str = "Codertocat",
    labels: tuple[str, ...] = ("bug",),
    state: str = "open",
    state_reason: str | None = None,
    repo: str = "Codertocat/Hello-World",
) -> dict[str, Any]:
    i = f"{API}/repos/{repo}/issues/{number}"
    creator = user(author)
    return {
        "url": i,
        "repository_url": f"{API}/repos/{repo}",
        "labels_url": f"{i}/labels{{/name}}",
        "comments_url": f"{i}/comments",
        "events_url": f"{i}/events",
        "html_url": f"https://github.com/{repo}/issues/{number}",
        "id": 444500041,
        "node_id": "MDU6SXNzdWU0NDQ1MDAwNDE=",
        "number": number,
        "title": title,
        "user": creator,
        "labels": [label(n) for n in labels],
        "state": state,
        "locked": False,
        "assignee": creator,
        "assignees": [creator],
        "milestone": {
            "url": f"{API}/repos/{repo}/milestones/1",
            "html_url": f"https://github.com/{repo}/milestone/1",
            "labels_url": f"{API}/repos/{repo}/milestones/1/labels",
            "id": 4317517,
            "node_id": "MDk6TWlsZXN0b25lNDMxNzUxNw==",
            "number": 1,
            "title": "v1.0",
            "description": "Add new space flight simulator",
            "creator": creator,
            "open_issues": 1,
            "closed_issues": 0,
            "state": "closed",
            "created_at": "2019-05-15T15:20:17Z",
            "updated_at": "2019-05-15T15:20:18Z",
            "due_on": "2019-05-23T07:00:00Z",
            "closed_at": "2019-05-15T15:20:18Z",
        },
        "comments": 0,
        "created_at": "2019-05-15T15:20:18Z",
        "updated_at": "2019-05-15T15:20:18Z",
        "closed_at": None if state == "open" else "2021-07-05T18:07:10Z",
        "author_association": "OWNER",
        "active_lock_reason": None,
        "body": body,
        "reactions": {
            "url": f"{i}/reactions",
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        },
        "state_reason": state_reason,
    }


def issues_event(action: str, sender: str = "Codertocat", **kw: Any) -> dict[str, Any]:
    """``issues`` with ``action`` opened / labeled / closed / reopened."""
    the_issue = issue(**{k: v for k, v in kw.items() if k != "label"})
    event: dict[str, Any] = {
        "action": action,
        "issue": the_issue,
        "repository": repository(kw.get("repo", "Codertocat/Hello-World")),
        "sender": user(sender),
    }
    if action in ("labeled", "unlabeled"):
        event["label"] = label(kw.get("label", "bug"))
    return event


def comment_event(
    body: str = "You are totally right! I'll get this fixed right away.",
    commenter: str = "Codertocat",
    commenter_type: str = "User",
    comment_id: int = 492700400,
    **kw: Any,
) -> dict[str, Any]:
    """``issue_comment`` created, as GitHub's example."""
    the_issue = issue(**kw)
    repo = kw.get("repo", "Codertocat/Hello-World")
    number = the_issue["number"]
    return {
        "action": "created",
        "issue": the_issue,
        "comment": {
            "url": f"{API}/repos/{repo}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{comment_id}",
            "issue_url": f"{API}/repos/{repo}/issues/{number}",
            "id": comment_id,
            "node_id": "MDEyOklzc3VlQ29tbWVudDQ5MjcwMDQwMA==",
            "user": user(commenter, kind=commenter_type),
            "created_at": "2019-05-15T15:20:21Z",
            "updated_at": "2019-05-15T15:20:21Z",
            "author_association": "OWNER",
            "body": body,
        },
        "repository": repository(repo),
        "sender": user(commenter, kind=commenter_type),
    }


PING: dict[str, Any] = {
    "zen": "Anything added dilutes everything else.",
    "hook_id": 109948940,
    "hook": {
        "type": "Repository",
        "id": 109948940,
        "name": "web",
        "active": True,
        "events": ["*"],
        "config": {
            "content_type": "json",
            "url": "https://smee.io/YEbF2t8kjvPAn7Ck",
            "insecure_ssl": "0",
        },
        "updated_at": "2019-05-15T15:20:49Z",
        "created_at": "2019-05-15T15:20:49Z",
        "url": f"{API}/repos/Octocoders/Hello-World/hooks/109948940",
        "test_url": f"{API}/repos/Octocoders/Hello-World/hooks/109948940/test",
        "ping_url": f"{API}/repos/Octocoders/Hello-World/hooks/109948940/pings",
        "last_response": {"code": None, "status": "unused", "message": None},
    },
    "repository": repository("Octocoders/Hello-World"),
    "sender": user(),
}


def ping() -> dict[str, Any]:
    return copy.deepcopy(PING)


def project_item_event(
    content_type: str = "Issue",
    project: str = "PVT_kwDOAWcTxs07Gw",
    content_node_id: str = "I_kwDOAWcTxs5Ad7Bx",
    action: str = "created",
) -> dict[str, Any]:
    """``projects_v2_item`` created, as GitHub's example (which adds a DraftIssue)."""
    org = f"{API}/orgs/Octocoders"
    return {
        "action": action,
        "projects_v2_item": {
            "id": 5678510,
            "node_id": "PVTI_lADOAWcTxs07G84AVqWu",
            "project_node_id": project,
            "content_node_id": content_node_id,
            "content_type": content_type,
            "creator": user(),
            "created_at": "2022-06-08T20:34:26Z",
            "updated_at": "2022-06-08T20:34:26Z",
            "archived_at": None,
        },
        "organization": {
            "login": "Octocoders",
            "id": 38302899,
            "node_id": "MDEyOk9yZ2FuaXphdGlvbjM4MzAyODk5",
            "url": org,
            "repos_url": f"{org}/repos",
            "events_url": f"{org}/events",
            "hooks_url": f"{org}/hooks",
            "issues_url": f"{org}/issues",
            "members_url": f"{org}/members{{/member}}",
            "public_members_url": f"{org}/public_members{{/member}}",
            "avatar_url": "https://avatars1.githubusercontent.com/u/38302899?v=4",
            "description": "",
        },
        "sender": user(),
        "installation": {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="},
    }
