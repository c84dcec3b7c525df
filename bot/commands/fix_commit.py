"""``/ssot fix``: the automatic fixes of a pull request's new findings, as one commit.

:func:`plan_fixes` is pure (findings and file contents in, fixed contents out);
:func:`commit_fixes` writes them with the git data API: one blob per fixed file, a tree on
top of the head commit's tree, a commit whose parent is the head, then a fast-forward update
of ``refs/heads/<branch>`` (``force=false``: if someone pushed meanwhile, GitHub refuses and
nothing is lost). The push makes GitHub send ``pull_request.synchronize``, which checks the
new head like any other.
"""

from __future__ import annotations

import base64
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from githubkit.exception import RateLimitExceeded, RequestFailed

from analyzers.engine import analyze
from analyzers.findings import Finding, Fix
from analyzers.fix import apply_fixes, attach_fixes
from analyzers.policy import Policy
from bot.github.api import InstallationClient
from bot.github.errors import error_message

if TYPE_CHECKING:
    from githubkit_schemas.latest.types import (
        ReposOwnerRepoGitTreesPostBodyPropTreeItemsType as TreeEntry,
    )

_FILE_MODES = frozenset({"100644", "100755"})  # regular files; never rewrite a symlink


@dataclass
class FixPlan:
    """What ``/ssot fix`` would commit: new contents by path, and which findings they fix."""

    contents: dict[str, bytes] = field(default_factory=dict)
    fixed: list[Finding] = field(default_factory=list)
    unfixable: list[Finding] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to commit."""
        return not self.contents


class PushRefused(Exception):
    """GitHub refused to move the branch (403: no permission; 422: protected or moved)."""

    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message
        super().__init__(f"{status}: {message}")


def plan_fixes(
    findings: Iterable[Finding], head_content: Mapping[str, bytes], policy: Policy
) -> FixPlan:
    """The proven fixes of ``findings`` (computed from ``head_content``) applied per file.

    A file that is not UTF-8 text, or whose fixes leave it unchanged, is not in the plan.
    """
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_path[finding.path].append(finding)
    plan = FixPlan()
    for path, items in sorted(by_path.items()):
        data = head_content.get(path)
        try:
            text = None if data is None else data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None:
            plan.unfixable.extend(items)
            continue
        with_fixes = attach_fixes(path, text, items, policy)
        fixes: list[Fix] = [f.fix for f in with_fixes if f.fix is not None]
        fixed_text = apply_fixes(text, fixes) if fixes else text
        if fixed_text == text:
            plan.unfixable.extend(items)
            continue
        # Each fix is proven alone; count as fixed what is really gone once all are applied.
        before = Counter(f.fingerprint for f in analyze(path, text, policy).active)
        gone = before - Counter(f.fingerprint for f in analyze(path, fixed_text, policy).active)
        for finding in items:
            if gone[finding.fingerprint] > 0:
                gone[finding.fingerprint] -= 1
                plan.fixed.append(finding)
            else:
                plan.unfixable.append(finding)
        plan.contents[path] = fixed_text.encode("utf-8")
    return plan


def commit_fixes(
    gh: InstallationClient,
    owner: str,
    repo: str,
    *,
    head_sha: str,
    branch: str,
    contents: Mapping[str, bytes],
    message: str,
) -> str | None:
    """Commit ``contents`` on top of ``head_sha`` and move ``branch`` to it; the new sha, or
    None when none of the paths is a regular file (nothing is committed then).

    ``gh`` is an installation's githubkit client. Raises :class:`PushRefused` when GitHub
    refuses a write (403: the installation may not write contents; 409/422: the branch is
    protected or moved on): nothing then points at what was written.
    """
    try:
        head = gh.rest.git.get_commit(owner, repo, head_sha).parsed_data
        modes = _file_modes(gh, owner, repo, head.tree.sha, contents)
        entries: list[TreeEntry] = []
        for path, data in sorted(contents.items()):
            mode = modes.get(path, "100644")
            if mode not in _FILE_MODES:
                continue  # a symlink or a submodule: not a file the engine read
            blob = gh.rest.git.create_blob(
                owner, repo, content=base64.b64encode(data).decode("ascii"), encoding="base64"
            ).parsed_data
            entries.append(
                {
                    "path": path,
                    "mode": "100755" if mode == "100755" else "100644",
                    "type": "blob",
                    "sha": blob.sha,
                }
            )
        if not entries:
            return None
        tree = gh.rest.git.create_tree(
            owner, repo, base_tree=head.tree.sha, tree=entries
        ).parsed_data
        commit = gh.rest.git.create_commit(
            owner, repo, message=message, tree=tree.sha, parents=[head_sha]
        ).parsed_data
        gh.rest.git.update_ref(owner, repo, f"heads/{branch}", sha=commit.sha, force=False)
    except RequestFailed as exc:
        status = exc.response.status_code
        # A (secondary) rate limit is a 403 too: that one is retried, not reported.
        if status in (403, 409, 422) and not isinstance(exc, RateLimitExceeded):
            raise PushRefused(status, error_message(exc)) from None
        raise
    return str(commit.sha)


def _file_modes(
    gh: InstallationClient, owner: str, repo: str, root_tree: str, paths: Iterable[str]
) -> dict[str, str]:
    """The git mode of each path in the head tree, walking only the folders on the paths
    (one call per folder; a recursive listing of a monorepo can be 100,000 entries)."""
    listings: dict[str, dict[str, Any]] = {}

    def listing(folder: str, sha: str) -> dict[str, Any]:
        if folder not in listings:
            tree = gh.rest.git.get_tree(owner, repo, sha).parsed_data
            listings[folder] = {entry.path: entry for entry in tree.tree}
        return listings[folder]

    modes: dict[str, str] = {}
    for path in paths:
        folder, sha = "", root_tree
        *dirs, name = path.split("/")
        for part in dirs:
            entry = listing(folder, sha).get(part)
            if entry is None or entry.type != "tree":
                break
            folder, sha = f"{folder}{part}/", entry.sha
        else:
            entry = listing(folder, sha).get(name)
            if entry is not None and entry.mode:
                modes[path] = str(entry.mode)
    return modes
