"""A batch's branch and pull request, written through GitHub's Git Data and Pulls APIs.

A commit: one blob per file, a tree on the base commit's tree (``base_tree``), a commit whose
parent is the base; then the branch: ``POST git/refs`` for a new one, ``PATCH git/refs``
with ``force`` to regenerate it on a newer base. The ``ssot/consolidate/`` branches are the
App's: one that exists already (an earlier attempt that stopped half way) is taken over.

A refused write (403 without the permission, 422 from a branch protection or ruleset) raises
:class:`PushRefused`, which stops the campaign with one message instead of a retry loop; a
rate limit is not a refusal and propagates (the campaign pauses).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from githubkit.exception import RateLimitExceeded, RequestFailed

from bot.github.api import InstallationClient, get_optional
from bot.github.errors import error_message

if TYPE_CHECKING:
    from githubkit_schemas.latest.types import (
        ReposOwnerRepoGitTreesPostBodyPropTreeItemsType as TreeEntry,
    )

log = logging.getLogger(__name__)

_FILE_MODES = frozenset({"100644", "100755"})


class PushRefused(Exception):
    """GitHub refused a write to a batch's branch: ``status`` and GitHub's own message."""

    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message
        super().__init__(f"{status}: {message}")


def _refused(exc: RequestFailed) -> PushRefused | None:
    status = exc.response.status_code
    if status in (403, 409, 422) and not isinstance(exc, RateLimitExceeded):
        return PushRefused(status, error_message(exc))
    return None


def write_commit(
    gh: InstallationClient,
    owner: str,
    repo: str,
    *,
    base_sha: str,
    base_tree: str,
    contents: Mapping[str, str],
    modes: Mapping[str, str],
    message: str,
) -> str:
    """A commit of ``contents`` on top of ``base_sha`` (no branch moves); its sha."""
    try:
        entries: list[TreeEntry] = []
        for path, text in sorted(contents.items()):
            mode = modes.get(path, "100644")
            if mode not in _FILE_MODES:
                continue
            blob = gh.rest.git.create_blob(
                owner,
                repo,
                content=base64.b64encode(text.encode("utf-8")).decode("ascii"),
                encoding="base64",
            ).parsed_data
            entries.append({"path": path, "mode": mode, "type": "blob", "sha": blob.sha})  # type: ignore[typeddict-item]
        tree = gh.rest.git.create_tree(owner, repo, base_tree=base_tree, tree=entries).parsed_data
        commit = gh.rest.git.create_commit(
            owner, repo, message=message, tree=tree.sha, parents=[base_sha]
        ).parsed_data
    except RequestFailed as exc:
        refused = _refused(exc)
        if refused is not None:
            raise refused from None
        raise
    return str(commit.sha)


def branch_head(gh: InstallationClient, owner: str, repo: str, branch: str) -> str | None:
    """The commit ``branch`` points at, or None when it does not exist."""
    ref = get_optional(gh, f"/repos/{owner}/{repo}/git/ref/heads/{branch}")
    return None if ref is None else str(ref["object"]["sha"])


def put_branch(gh: InstallationClient, owner: str, repo: str, branch: str, sha: str) -> None:
    """Point ``branch`` at ``sha``: created, or (an earlier attempt's) forced there."""
    try:
        try:
            gh.rest.git.create_ref(owner, repo, ref=f"refs/heads/{branch}", sha=sha)
            return
        except RequestFailed as exc:
            if exc.response.status_code != 422 or "already exists" not in error_message(exc):
                raise
        gh.rest.git.update_ref(owner, repo, f"heads/{branch}", sha=sha, force=True)
    except RequestFailed as exc:
        refused = _refused(exc)
        if refused is not None:
            raise refused from None
        raise


def force_branch(gh: InstallationClient, owner: str, repo: str, branch: str, sha: str) -> None:
    """Move ``branch`` to ``sha`` whatever it pointed at (a regenerated batch)."""
    try:
        gh.rest.git.update_ref(owner, repo, f"heads/{branch}", sha=sha, force=True)
    except RequestFailed as exc:
        refused = _refused(exc)
        if refused is not None:
            raise refused from None
        raise


def delete_branch(gh: InstallationClient, owner: str, repo: str, branch: str) -> None:
    """Delete ``branch`` (gone already, or protected: left as it is, logged)."""
    try:
        gh.rest.git.delete_ref(owner, repo, f"heads/{branch}")
    except RequestFailed as exc:
        if exc.response.status_code not in (403, 404, 422) or isinstance(exc, RateLimitExceeded):
            raise
        log.info("branch %s of %s/%s not deleted: %s", branch, owner, repo, error_message(exc))


def open_pull(
    gh: InstallationClient,
    owner: str,
    repo: str,
    *,
    branch: str,
    base: str,
    title: str,
    body: str,
    draft: bool,
) -> int:
    """Open the pull request of ``branch`` into ``base`` (one already open is adopted); its
    number."""
    try:
        created = gh.rest.pulls.create(
            owner, repo, title=title, head=branch, base=base, body=body, draft=draft
        ).json()
        return int(created["number"])
    except RequestFailed as exc:
        if exc.response.status_code != 422 or "already exists" not in error_message(exc):
            refused = _refused(exc)
            if refused is not None:
                raise refused from None
            raise
    pulls = gh.request(
        "GET", f"/repos/{owner}/{repo}/pulls", params={"head": f"{owner}:{branch}", "state": "open"}
    ).json()
    if not pulls:
        raise RuntimeError(f"GitHub says a pull request exists for {branch} but lists none")
    number = int(pulls[0]["number"])
    update_pull(gh, owner, repo, number, title=title, body=body)
    return number


def update_pull(
    gh: InstallationClient,
    owner: str,
    repo: str,
    number: int,
    *,
    title: str | None = None,
    body: str | None = None,
    state: str | None = None,
) -> None:
    """Change a pull request's title, body or state."""
    data: dict[str, Any] = {}
    if title is not None:
        data["title"] = title
    if body is not None:
        data["body"] = body
    if state is not None:
        data["state"] = state
    gh.rest.pulls.update(owner, repo, number, data=cast(Any, data))


def get_pull(gh: InstallationClient, owner: str, repo: str, number: int) -> dict[str, Any] | None:
    """A pull request as GitHub has it now (None when gone)."""
    found = get_optional(gh, f"/repos/{owner}/{repo}/pulls/{number}")
    return found if isinstance(found, dict) else None


def request_reviews(
    gh: InstallationClient,
    owner: str,
    repo: str,
    number: int,
    users: Sequence[str],
    teams: Sequence[str],
) -> bool:
    """Ask CODEOWNERS' users and teams for a review; False when GitHub refused (an owner who
    is not a collaborator: the pull request stands without them)."""
    if not users and not teams:
        return True
    try:
        gh.rest.pulls.request_reviewers(
            owner, repo, number, reviewers=list(users), team_reviewers=list(teams)
        )
    except RequestFailed as exc:
        if exc.response.status_code != 422:
            raise
        log.warning("%s/%s#%s: reviewers refused: %s", owner, repo, number, error_message(exc))
        return False
    return True


def add_labels(
    gh: InstallationClient, owner: str, repo: str, number: int, labels: Sequence[str]
) -> None:
    if labels:
        gh.rest.issues.add_labels(owner, repo, number, labels=list(labels))


def comment(gh: InstallationClient, owner: str, repo: str, number: int, body: str) -> None:
    gh.rest.issues.create_comment(owner, repo, number, body=body)
