"""GitHub's JSON shapes for the fake's state objects.

Each function returns what the real REST API returns for the object, with at least every
field githubkit's generated response models require (checked by tests/test_fake_github.py,
which parses every response through githubkit). ``api`` is the fake's base URL with a
trailing slash; web links point at https://github.com/ as on the real service.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

from .gitdiff import FileChange, tree_shas
from .state import (
    Account,
    CheckRun,
    Commit,
    FakeGitHubState,
    HookDelivery,
    Installation,
    Issue,
    IssueComment,
    Permission,
    PullRequest,
    Reaction,
    Repository,
    Review,
    ReviewComment,
)

WEB = "https://github.com/"
DOCS = "https://docs.github.com/rest"

Json = dict[str, Any]


def timestamp(when: datetime | None) -> str | None:
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_base64(content: bytes) -> str:
    """Base64 with a newline every 60 characters, as GitHub sends file and blob contents."""
    text = base64.b64encode(content).decode("ascii")
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


def user(account: Account, api: str) -> Json:
    login = account.login
    base = f"{api}users/{login}"
    html = f"{WEB}apps/{login.removesuffix('[bot]')}" if account.type == "Bot" else f"{WEB}{login}"
    return {
        "login": login,
        "id": account.id,
        "node_id": account.node_id,
        "avatar_url": f"https://avatars.githubusercontent.com/u/{account.id}?v=4",
        "gravatar_id": "",
        "url": base,
        "html_url": html,
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
        "type": account.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def app(state: FakeGitHubState, api: str) -> Json:
    return {
        "id": state.app_id,
        "slug": state.app_slug,
        "client_id": state.client_id,
        "node_id": f"A_kwDO{state.app_id:08d}",
        "owner": user(state.app_owner, api),
        "name": state.app_name,
        "description": "Keeps a Python monorepo on its single source of truth.",
        "external_url": "https://ssot-guard.example",
        "html_url": f"{WEB}apps/{state.app_slug}",
        "created_at": timestamp(state.app_created_at),
        "updated_at": timestamp(state.app_created_at),
        "permissions": {
            "checks": "write",
            "contents": "write",
            "issues": "write",
            "metadata": "read",
            "pull_requests": "write",
        },
        "events": ["check_run", "check_suite", "issue_comment", "pull_request", "push"],
        "installations_count": len(state.installations),
    }


def installation(state: FakeGitHubState, item: Installation, api: str) -> Json:
    return {
        "id": item.id,
        "account": user(item.account, api),
        "repository_selection": item.repository_selection,
        "access_tokens_url": f"{api}app/installations/{item.id}/access_tokens",
        "repositories_url": f"{api}installation/repositories",
        "html_url": f"{WEB}organizations/{item.account.login}/settings/installations/{item.id}",
        "app_id": state.app_id,
        "app_slug": state.app_slug,
        "target_id": item.account.id,
        "target_type": item.account.type,
        "permissions": dict(item.permissions),
        "events": list(item.events),
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def repository(state: FakeGitHubState, repo: Repository, api: str) -> Json:
    """The full repository shape (a superset of Repository, MinimalRepository, FullRepository)."""
    name = repo.full_name
    base = f"{api}repos/{name}"
    created = timestamp(repo.created_at)
    data: Json = {
        "id": repo.id,
        "node_id": repo.node_id,
        "name": repo.name,
        "full_name": name,
        "private": repo.private,
        "owner": user(repo.owner, api),
        "html_url": f"{WEB}{name}",
        "description": None,
        "fork": repo.fork,
        "url": base,
        "archive_url": f"{base}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{base}/assignees{{/user}}",
        "blobs_url": f"{base}/git/blobs{{/sha}}",
        "branches_url": f"{base}/branches{{/branch}}",
        "collaborators_url": f"{base}/collaborators{{/collaborator}}",
        "comments_url": f"{base}/comments{{/number}}",
        "commits_url": f"{base}/commits{{/sha}}",
        "compare_url": f"{base}/compare/{{base}}...{{head}}",
        "contents_url": f"{base}/contents/{{+path}}",
        "contributors_url": f"{base}/contributors",
        "deployments_url": f"{base}/deployments",
        "downloads_url": f"{base}/downloads",
        "events_url": f"{base}/events",
        "forks_url": f"{base}/forks",
        "git_commits_url": f"{base}/git/commits{{/sha}}",
        "git_refs_url": f"{base}/git/refs{{/sha}}",
        "git_tags_url": f"{base}/git/tags{{/sha}}",
        "git_url": f"git://github.com/{name}.git",
        "issue_comment_url": f"{base}/issues/comments{{/number}}",
        "issue_events_url": f"{base}/issues/events{{/number}}",
        "issues_url": f"{base}/issues{{/number}}",
        "keys_url": f"{base}/keys{{/key_id}}",
        "labels_url": f"{base}/labels{{/name}}",
        "languages_url": f"{base}/languages",
        "merges_url": f"{base}/merges",
        "milestones_url": f"{base}/milestones{{/number}}",
        "notifications_url": f"{base}/notifications{{?since,all,participating}}",
        "pulls_url": f"{base}/pulls{{/number}}",
        "releases_url": f"{base}/releases{{/id}}",
        "ssh_url": f"git@github.com:{name}.git",
        "stargazers_url": f"{base}/stargazers",
        "statuses_url": f"{base}/statuses/{{sha}}",
        "subscribers_url": f"{base}/subscribers",
        "subscription_url": f"{base}/subscription",
        "tags_url": f"{base}/tags",
        "teams_url": f"{base}/teams",
        "trees_url": f"{base}/git/trees{{/sha}}",
        "clone_url": f"{WEB}{name}.git",
        "mirror_url": None,
        "hooks_url": f"{base}/hooks",
        "svn_url": f"{WEB}{name}",
        "homepage": None,
        "language": "Python",
        "forks_count": 0,
        "forks": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "size": 0,
        "default_branch": repo.default_branch,
        "open_issues_count": 0,
        "open_issues": 0,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "visibility": "private" if repo.private else "public",
        "pushed_at": created,
        "created_at": created,
        "updated_at": created,
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "license": None,
        "subscribers_count": 0,
        "network_count": 0,
        "temp_clone_token": None,
    }
    if repo.parent_id is not None:
        parent = state.repos[repo.parent_id]
        data["parent"] = {k: v for k, v in repository(state, parent, api).items() if k != "parent"}
        data["source"] = data["parent"]
    return data


def _link(href: str) -> Json:
    return {"href": href}


def pull_request(state: FakeGitHubState, pr: PullRequest, api: str, *, full: bool) -> Json:
    """A pull request; ``full`` adds the counts of ``GET /pulls/{n}`` to the list shape."""
    repo = state.repos[pr.repo_id]
    head_repo = state.repos[pr.head_repo_id]
    base = f"{api}repos/{repo.full_name}"
    url = f"{base}/pulls/{pr.number}"
    html = f"{WEB}{repo.full_name}/pull/{pr.number}"
    data: Json = {
        "url": url,
        "id": pr.id,
        "node_id": pr.node_id,
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": f"{base}/issues/{pr.number}",
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{base}/pulls/comments{{/number}}",
        "comments_url": f"{base}/issues/{pr.number}/comments",
        "statuses_url": f"{base}/statuses/{pr.head_sha}",
        "number": pr.number,
        "state": pr.state,
        "locked": False,
        "title": pr.title,
        "user": user(pr.user, api),
        "body": pr.body,
        "labels": [label(repo, name, api) for name in pr.labels],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": timestamp(pr.created_at),
        "updated_at": timestamp(pr.updated_at),
        "closed_at": timestamp(pr.closed_at),
        "merged_at": timestamp(pr.closed_at) if pr.merged else None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [user(state.user(login), api) for login in pr.requested_reviewers],
        "requested_teams": [team(repo, slug, api) for slug in pr.requested_teams],
        "head": {
            "label": f"{head_repo.owner.login}:{pr.head_ref}",
            "ref": pr.head_ref,
            "sha": pr.head_sha,
            "user": user(head_repo.owner, api),
            "repo": repository(state, head_repo, api),
        },
        "base": {
            "label": f"{repo.owner.login}:{pr.base_ref}",
            "ref": pr.base_ref,
            "sha": pr.base_sha,
            "user": user(repo.owner, api),
            "repo": repository(state, repo, api),
        },
        "_links": {
            "self": _link(url),
            "html": _link(html),
            "issue": _link(f"{base}/issues/{pr.number}"),
            "comments": _link(f"{base}/issues/{pr.number}/comments"),
            "review_comments": _link(f"{url}/comments"),
            "review_comment": _link(f"{base}/pulls/comments{{/number}}"),
            "commits": _link(f"{url}/commits"),
            "statuses": _link(f"{base}/statuses/{pr.head_sha}"),
        },
        "author_association": author_association(state, repo, pr.user),
        "auto_merge": None,
        "draft": pr.draft,
    }
    if full:
        files = state.pull_files(pr)
        data.update(
            {
                "merged": pr.merged,
                "mergeable": True if pr.state == "open" else None,
                "rebaseable": True if pr.state == "open" else None,
                "mergeable_state": "clean" if pr.state == "open" else "unknown",
                "merged_by": (
                    user(state.user(pr.closed_by), api) if pr.merged and pr.closed_by else None
                ),
                "comments": len(state.issue_comments_for(repo, pr.number)),
                "review_comments": len(state.review_comments_for(repo, pr.number)),
                "maintainer_can_modify": pr.maintainer_can_modify,
                "commits": len(state.pull_commits(pr)),
                "additions": sum(f.additions for f in files),
                "deletions": sum(f.deletions for f in files),
                "changed_files": len(files),
            }
        )
    return data


def author_association(state: FakeGitHubState, repo: Repository, account: Account) -> str:
    if account.login.lower() == repo.owner.login.lower():
        return "OWNER"
    if account.login.lower() in repo.permissions:
        return "COLLABORATOR"
    if account.type == "Bot":
        return "NONE"
    return "CONTRIBUTOR"


def diff_entry(repo: Repository, head_sha: str, change: FileChange, api: str) -> Json:
    name = repo.full_name
    data: Json = {
        "sha": change.sha,
        "filename": change.filename,
        "status": change.status,
        "additions": change.additions,
        "deletions": change.deletions,
        "changes": change.changes,
        "blob_url": f"{WEB}{name}/blob/{head_sha}/{change.filename}",
        "raw_url": f"{WEB}{name}/raw/{head_sha}/{change.filename}",
        "contents_url": f"{api}repos/{name}/contents/{change.filename}?ref={head_sha}",
    }
    if change.patch is not None:
        data["patch"] = change.patch
    if change.previous_filename is not None:
        data["previous_filename"] = change.previous_filename
    return data


def _git_user(commit: Commit) -> Json:
    return {"name": commit.author, "email": commit.email, "date": timestamp(commit.date)}


_UNSIGNED = {
    "verified": False,
    "reason": "unsigned",
    "signature": None,
    "payload": None,
    "verified_at": None,
}


def commit(state: FakeGitHubState, repo: Repository, item: Commit, api: str) -> Json:
    """The REST ``Commit`` shape (``GET /commits/{ref}``, the commits of a comparison)."""
    base = f"{api}repos/{repo.full_name}"
    author = state.accounts.get(item.author.lower())
    return {
        "url": f"{base}/commits/{item.sha}",
        "sha": item.sha,
        "node_id": f"C_kwDO{item.sha[:16]}",
        "html_url": f"{WEB}{repo.full_name}/commit/{item.sha}",
        "comments_url": f"{base}/commits/{item.sha}/comments",
        "commit": {
            "url": f"{base}/git/commits/{item.sha}",
            "author": _git_user(item),
            "committer": _git_user(item),
            "message": item.message,
            "comment_count": 0,
            "tree": {"sha": item.tree_sha, "url": f"{base}/git/trees/{item.tree_sha}"},
            "verification": _UNSIGNED,
        },
        "author": user(author, api) if author else None,
        "committer": user(author, api) if author else None,
        "parents": [
            {
                "sha": parent,
                "url": f"{base}/commits/{parent}",
                "html_url": f"{WEB}{repo.full_name}/commit/{parent}",
            }
            for parent in item.parents
        ],
    }


def git_commit(repo: Repository, item: Commit, api: str) -> Json:
    base = f"{api}repos/{repo.full_name}"
    return {
        "sha": item.sha,
        "node_id": f"C_kwDO{item.sha[:16]}",
        "url": f"{base}/git/commits/{item.sha}",
        "html_url": f"{WEB}{repo.full_name}/commit/{item.sha}",
        "author": _git_user(item),
        "committer": _git_user(item),
        "message": item.message,
        "tree": {"sha": item.tree_sha, "url": f"{base}/git/trees/{item.tree_sha}"},
        "parents": [
            {
                "sha": parent,
                "url": f"{base}/git/commits/{parent}",
                "html_url": f"{WEB}{repo.full_name}/commit/{parent}",
            }
            for parent in item.parents
        ],
        "verification": _UNSIGNED,
    }


def git_tree(
    state: FakeGitHubState,
    repo: Repository,
    sha: str,
    files: dict[str, str],
    api: str,
    *,
    recursive: bool,
) -> Json:
    """A tree: its direct entries, or with ``recursive`` every file and directory below it."""
    base = f"{api}repos/{repo.full_name}"
    subtrees = tree_shas(files)
    entries: list[Json] = []
    seen_dirs: set[str] = set()
    for path in sorted(files):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            directory = "/".join(parts[:depth])
            if directory in seen_dirs or (not recursive and depth > 1):
                continue
            seen_dirs.add(directory)
            tree = subtrees[directory + "/"]
            entries.append(
                {
                    "path": directory,
                    "mode": "040000",
                    "type": "tree",
                    "sha": tree,
                    "url": f"{base}/git/trees/{tree}",
                }
            )
        if recursive or len(parts) == 1:
            blob = files[path]
            entries.append(
                {
                    "path": path,
                    "mode": "100644",
                    "type": "blob",
                    "sha": blob,
                    "size": len(state.blobs[blob]),
                    "url": f"{base}/git/blobs/{blob}",
                }
            )
    entries.sort(key=lambda e: str(e["path"]))
    return {"sha": sha, "url": f"{base}/git/trees/{sha}", "tree": entries, "truncated": False}


def git_ref(repo: Repository, branch: str, sha: str, api: str) -> Json:
    base = f"{api}repos/{repo.full_name}"
    return {
        "ref": f"refs/heads/{branch}",
        "node_id": f"REF_kwDO{repo.id:08d}{branch}",
        "url": f"{base}/git/refs/heads/{branch}",
        "object": {"type": "commit", "sha": sha, "url": f"{base}/git/commits/{sha}"},
    }


def branch(repo: Repository, name: str, sha: str, api: str) -> Json:
    """``GET /repos/{o}/{r}/branches/{branch}``: the fields a client reads."""
    base = f"{api}repos/{repo.full_name}"
    return {
        "name": name,
        "commit": {"sha": sha, "url": f"{base}/commits/{sha}"},
        "protected": name in repo.protected_branches,
        "protection_url": f"{base}/branches/{name}/protection",
        "_links": {"self": f"{base}/branches/{name}", "html": f"{base}/tree/{name}"},
    }


def blob(repo: Repository, sha: str, content: bytes, api: str) -> Json:
    return {
        "sha": sha,
        "node_id": f"B_kwDO{sha[:16]}",
        "size": len(content),
        "url": f"{api}repos/{repo.full_name}/git/blobs/{sha}",
        "content": encode_base64(content),
        "encoding": "base64",
    }


def content_item(
    repo: Repository, ref: str, path: str, sha: str, kind: str, size: int, api: str
) -> Json:
    base = f"{api}repos/{repo.full_name}"
    self_url = f"{base}/contents/{path}?ref={ref}"
    git_url = f"{base}/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}"
    html = f"{WEB}{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{path}"
    return {
        "type": kind,
        "size": size,
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "url": self_url,
        "git_url": git_url,
        "html_url": html,
        "download_url": None
        if kind == "dir"
        else f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{path}",
        "_links": {"self": self_url, "git": git_url, "html": html},
    }


def check_run(state: FakeGitHubState, run: CheckRun, api: str) -> Json:
    repo = state.repos[run.repo_id]
    base = f"{api}repos/{repo.full_name}"
    pulls = [
        {
            "id": pr.id,
            "number": pr.number,
            "url": f"{base}/pulls/{pr.number}",
            "head": {
                "ref": pr.head_ref,
                "sha": pr.head_sha,
                "repo": _minimal_repo(state.repos[pr.head_repo_id], api),
            },
            "base": {"ref": pr.base_ref, "sha": pr.base_sha, "repo": _minimal_repo(repo, api)},
        }
        for pr in state.pulls.values()
        if pr.repo_id == repo.id and pr.state == "open" and pr.head_sha == run.head_sha
    ]
    return {
        "id": run.id,
        "head_sha": run.head_sha,
        "node_id": run.node_id,
        "external_id": run.external_id,
        "url": f"{base}/check-runs/{run.id}",
        "html_url": f"{WEB}{repo.full_name}/runs/{run.id}",
        "details_url": run.details_url,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": timestamp(run.started_at),
        "completed_at": timestamp(run.completed_at),
        "output": {
            "title": run.output.title,
            "summary": run.output.summary,
            "text": run.output.text,
            "annotations_count": len(run.annotations),
            "annotations_url": f"{base}/check-runs/{run.id}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.check_suite_id},
        "app": app(state, api),
        "pull_requests": pulls,
    }


def _minimal_repo(repo: Repository, api: str) -> Json:
    return {"id": repo.id, "url": f"{api}repos/{repo.full_name}", "name": repo.name}


def annotation(repo: Repository, run: CheckRun, item: dict[str, Any]) -> Json:
    return {
        "path": item["path"],
        "start_line": item["start_line"],
        "end_line": item["end_line"],
        "start_column": item.get("start_column"),
        "end_column": item.get("end_column"),
        "annotation_level": item.get("annotation_level"),
        "title": item.get("title"),
        "message": item.get("message"),
        "raw_details": item.get("raw_details"),
        "blob_href": f"{WEB}{repo.full_name}/blob/{run.head_sha}/{item['path']}",
    }


def reactions_summary(reactions: list[Reaction], url: str) -> Json:
    counts = {c: 0 for c in ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")}
    for reaction in reactions:
        counts[reaction.content] += 1
    return {"url": url, "total_count": len(reactions), **counts}


def issue_comment(state: FakeGitHubState, comment: IssueComment, api: str) -> Json:
    repo = state.repos[comment.repo_id]
    base = f"{api}repos/{repo.full_name}"
    url = f"{base}/issues/comments/{comment.id}"
    data: Json = {
        "id": comment.id,
        "node_id": comment.node_id,
        "url": url,
        "html_url": f"{WEB}{repo.full_name}/pull/{comment.issue_number}#issuecomment-{comment.id}",
        "body": comment.body,
        "user": user(comment.user, api),
        "created_at": timestamp(comment.created_at),
        "updated_at": timestamp(comment.updated_at),
        "issue_url": f"{base}/issues/{comment.issue_number}",
        "author_association": author_association(state, repo, comment.user),
        "reactions": reactions_summary(comment.reactions, f"{url}/reactions"),
    }
    if comment.user.type == "Bot":
        data["performed_via_github_app"] = app(state, api)
    return data


def issue(state: FakeGitHubState, item: Issue, api: str) -> Json:
    """The REST ``Issue`` shape (``GET /repos/{o}/{r}/issues/{n}``)."""
    repo = state.repos[item.repo_id]
    base = f"{api}repos/{repo.full_name}"
    url = f"{base}/issues/{item.number}"
    data: Json = {
        "id": item.id,
        "node_id": item.node_id,
        "url": url,
        "repository_url": base,
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{WEB}{repo.full_name}/issues/{item.number}",
        "number": item.number,
        "state": item.state,
        "state_reason": item.state_reason,
        "title": item.title,
        "body": item.body,
        "user": user(item.user, api),
        "labels": [label(repo, name, api) for name in item.labels],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "locked": False,
        "active_lock_reason": None,
        "comments": len(state.issue_comments_for(repo, item.number)),
        "closed_at": timestamp(item.closed_at),
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
        "closed_by": user(item.closed_by, api) if item.closed_by else None,
        "author_association": author_association(state, repo, item.user),
        "timeline_url": f"{url}/timeline",
        "reactions": reactions_summary([], f"{url}/reactions"),
        "performed_via_github_app": app(state, api) if item.user.type == "Bot" else None,
    }
    return data


def pull_request_as_issue(state: FakeGitHubState, pr: PullRequest, api: str) -> Json:
    """A pull request as the issues API lists it (with a ``pull_request`` object)."""
    repo = state.repos[pr.repo_id]
    base = f"{api}repos/{repo.full_name}"
    url = f"{base}/issues/{pr.number}"
    return {
        "id": pr.id,
        "node_id": pr.node_id,
        "url": url,
        "repository_url": base,
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{WEB}{repo.full_name}/pull/{pr.number}",
        "number": pr.number,
        "state": pr.state,
        "title": pr.title,
        "body": pr.body,
        "user": user(pr.user, api),
        "labels": [label(repo, name, api) for name in pr.labels],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "locked": False,
        "comments": len(state.issue_comments_for(repo, pr.number)),
        "closed_at": timestamp(pr.closed_at),
        "created_at": timestamp(pr.created_at),
        "updated_at": timestamp(pr.updated_at),
        "author_association": author_association(state, repo, pr.user),
        "pull_request": {
            "url": f"{base}/pulls/{pr.number}",
            "html_url": f"{WEB}{repo.full_name}/pull/{pr.number}",
            "diff_url": f"{WEB}{repo.full_name}/pull/{pr.number}.diff",
            "patch_url": f"{WEB}{repo.full_name}/pull/{pr.number}.patch",
            "merged_at": timestamp(pr.closed_at) if pr.merged else None,
        },
    }


def reaction(item: Reaction, api: str) -> Json:
    return {
        "id": item.id,
        "node_id": item.node_id,
        "user": user(item.user, api),
        "content": item.content,
        "created_at": timestamp(item.created_at),
    }


def review(state: FakeGitHubState, item: Review, api: str) -> Json:
    repo = state.repos[item.repo_id]
    pr_url = f"{api}repos/{repo.full_name}/pulls/{item.pr_number}"
    html = f"{WEB}{repo.full_name}/pull/{item.pr_number}#pullrequestreview-{item.id}"
    return {
        "id": item.id,
        "node_id": item.node_id,
        "user": user(item.user, api),
        "body": item.body,
        "state": item.state,
        "html_url": html,
        "pull_request_url": pr_url,
        "_links": {"html": _link(html), "pull_request": _link(pr_url)},
        "submitted_at": None if item.state == "PENDING" else timestamp(item.submitted_at),
        "commit_id": item.commit_id,
        "author_association": author_association(state, repo, item.user),
    }


def review_comment(
    state: FakeGitHubState, item: ReviewComment, api: str, *, outdated: bool
) -> Json:
    """A review comment; an ``outdated`` one (its line changed since) has ``line`` None."""
    repo = state.repos[item.repo_id]
    base = f"{api}repos/{repo.full_name}"
    url = f"{base}/pulls/comments/{item.id}"
    pr_url = f"{base}/pulls/{item.pr_number}"
    html = f"{WEB}{repo.full_name}/pull/{item.pr_number}#discussion_r{item.id}"
    return {
        "url": url,
        "pull_request_review_id": item.review_id,
        "id": item.id,
        "node_id": item.node_id,
        "diff_hunk": item.diff_hunk,
        "path": item.path,
        "position": None if outdated else item.position,
        "original_position": item.position,
        "commit_id": item.commit_id,
        "original_commit_id": item.commit_id,
        "in_reply_to_id": item.in_reply_to_id,
        "user": user(item.user, api),
        "body": item.body,
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
        "html_url": html,
        "pull_request_url": pr_url,
        "author_association": author_association(state, repo, item.user),
        "_links": {"self": _link(url), "html": _link(html), "pull_request": _link(pr_url)},
        "start_line": None if outdated else item.start_line,
        "original_start_line": item.start_line,
        "start_side": item.start_side,
        "line": None if outdated else item.line,
        "original_line": item.line,
        "side": item.side,
        "subject_type": "line",
        "reactions": reactions_summary(item.reactions, f"{url}/reactions"),
        "performed_via_github_app": app(state, api) if item.user.type == "Bot" else None,
    }


def role_flags(role: Permission) -> dict[str, bool]:
    """A role as the ``permissions`` flags of a repository or collaborator."""
    return {
        "admin": role == "admin",
        "maintain": role in ("admin", "maintain"),
        "push": role in ("admin", "maintain", "write"),
        "triage": role in ("admin", "maintain", "write", "triage"),
        "pull": role != "none",
    }


def authenticated_user(account: Account, api: str) -> Json:
    """``GET /user`` with a user access token: the public profile and the private counters."""
    return {
        **user(account, api),
        "name": account.login.capitalize(),
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
        "private_gists": 0,
        "total_private_repos": 0,
        "owned_private_repos": 0,
        "disk_usage": 0,
        "collaborators": 0,
        "two_factor_authentication": True,
    }


def user_repository(state: FakeGitHubState, repo: Repository, role: Permission, api: str) -> Json:
    """A repository as ``/user/installations/{id}/repositories`` lists it: with the
    person's ``permissions``."""
    return {**repository(state, repo, api), "permissions": role_flags(role)}


def collaborator_permission(
    state: FakeGitHubState, repo: Repository, account: Account, role: Permission, api: str
) -> Json:
    # The legacy ``permission`` field folds maintain into write and triage into read.
    legacy = {"maintain": "write", "triage": "read"}.get(role, role)
    permissions = role_flags(role)
    return {
        "permission": legacy,
        "role_name": role,
        "user": {**user(account, api), "permissions": permissions, "role_name": role},
    }


def hook_delivery(item: HookDelivery, *, full: bool) -> Json:
    data: Json = {
        "id": item.id,
        "guid": item.guid,
        "delivered_at": timestamp(item.delivered_at),
        "redelivery": item.redelivery,
        "duration": item.duration,
        "status": item.status,
        "status_code": item.status_code,
        "event": item.event,
        "action": item.action,
        "installation_id": item.installation_id,
        "repository_id": item.repository_id,
        "throttled_at": None,
    }
    if full:
        data["url"] = "https://ssot-guard.example/api/github/webhooks"
        data["request"] = {
            "headers": {"X-GitHub-Event": item.event, "X-GitHub-Delivery": item.guid},
            "payload": item.payload,
        }
        data["response"] = {"headers": {}, "payload": ""}
    return data


def label(repo: Repository, name: str, api: str) -> Json:
    """A label of ``repo`` (created on first use, grey, as GitHub does)."""
    ident = int(hashlib.sha1(f"{repo.id}:{name.lower()}".encode()).hexdigest()[:8], 16)
    return {
        "id": ident,
        "node_id": f"LA_kwDO{ident:08d}",
        "url": f"{api}repos/{repo.full_name}/labels/{name}",
        "name": name,
        "color": "ededed",
        "default": False,
        "description": None,
        "archived_at": None,
        "archived_by": None,
    }


def team(repo: Repository, slug: str, api: str) -> Json:
    """A team of the repository's organisation, as a review request lists it."""
    ident = int(hashlib.sha1(f"{repo.owner.login}/{slug}".encode()).hexdigest()[:8], 16)
    return {
        "id": ident,
        "node_id": f"T_kwDO{ident:08d}",
        "url": f"{api}orgs/{repo.owner.login}/teams/{slug}",
        "html_url": f"{WEB}orgs/{repo.owner.login}/teams/{slug}",
        "name": slug,
        "slug": slug,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": f"{api}teams/{ident}/members{{/member}}",
        "repositories_url": f"{api}teams/{ident}/repos",
        "type": "organization",
        "organization_id": repo.owner.id,
        "parent": None,
    }
