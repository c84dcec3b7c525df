"""The default branch as a campaign sees it: policy, CODEOWNERS, findings, file texts.

About five requests whatever the size of the tree: the repository (its default branch), the
branch's head, one GraphQL batch for the policy and CODEOWNERS files, the recursive tree,
then the findings through the installation's findings cache (:func:`repo_totals.scan_blobs`:
only blobs it does not know are read), and the texts of the few files a batch would change,
in GraphQL batches.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from analyzers.change import is_python
from analyzers.codeowners import CODEOWNERS_PATHS, Owners
from analyzers.findings import Finding
from analyzers.policy import Policy
from analyzers.policy_loader import PolicyError
from bot.checks import policy_source, repo_totals
from bot.github.api import InstallationClient, get_json
from bot.github.blobs import ObjectWant, contents, expression, fetch_objects
from bot.work import JobContext


@dataclass
class Snapshot:
    """One commit of a repository's default branch, read for a campaign."""

    owner: str
    repo: str
    default_branch: str
    sha: str
    tree_sha: str
    policy: Policy | None
    policy_error: PolicyError | None = None
    owners: Owners = field(default_factory=Owners)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    blobs: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (blob sha, mode)
    texts: dict[str, str | None] = field(default_factory=dict)

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.repo}"

    def read(self, path: str) -> str | None:
        """A file's text as read (None: not read, or not UTF-8)."""
        return self.texts.get(path)


def load_snapshot(
    gh: InstallationClient, context: JobContext, installation_id: int, repository: str
) -> Snapshot:
    """Read ``repository``'s default branch at its head (policy first: none, no more reads)."""
    owner, repo = repository.split("/", 1)
    info = get_json(gh, f"/repos/{owner}/{repo}")
    branch = str(info.get("default_branch") or "main")
    ref = get_json(gh, f"/repos/{owner}/{repo}/git/ref/heads/{branch}")
    sha = str(ref["object"]["sha"])
    owner_wants = [
        ObjectWant(("codeowners", path), owner, repo, expression(sha, path))
        for path in CODEOWNERS_PATHS
    ]
    found = fetch_objects(gh, [*policy_source.wants(owner, repo, sha), *owner_wants])
    lookup = policy_source.resolve(gh, owner, repo, sha, found, settings=context.settings)
    commit = get_json(gh, f"/repos/{owner}/{repo}/git/commits/{sha}")
    snap = Snapshot(
        owner,
        repo,
        branch,
        sha,
        str(commit["tree"]["sha"]),
        lookup.policy.policy if lookup.policy is not None else None,
        lookup.error,
    )
    if snap.policy is None or not snap.policy.campaign.enabled:
        return snap
    for path in CODEOWNERS_PATHS:
        blob = found.get(("codeowners", path))
        if blob is not None and not blob.binary:
            data = contents(gh, owner, repo, blob)
            snap.owners = Owners(data.decode("utf-8", "replace"))
            break
    policy = snap.policy
    tree = get_json(gh, f"/repos/{owner}/{repo}/git/trees/{sha}", {"recursive": "1"})
    entries = [
        e
        for e in tree.get("tree") or []
        if e.get("type") == "blob"
        and is_python(e.get("path"))
        and not policy.excluded.match(e["path"])
    ]
    snap.blobs = {str(e["path"]): (str(e["sha"]), str(e.get("mode") or "100644")) for e in entries}
    listing = [(str(e["path"]), str(e["sha"]), int(e.get("size") or 0)) for e in entries]
    flat = repo_totals.scan_blobs(gh, owner, repo, sha, listing, policy, context, installation_id)
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in flat:
        by_path[finding.path].append(finding)
    snap.findings = dict(by_path)
    snap.texts = _texts(gh, snap, policy)
    return snap


def _texts(gh: InstallationClient, snap: Snapshot, policy: Policy) -> dict[str, str | None]:
    """The texts of the regular files with findings a campaign would fix."""
    rules = set(policy.campaign.rules)
    wanted = [
        path
        for path, items in snap.findings.items()
        if any(f.rule in rules and f.suppressed is None for f in items)
        and snap.blobs.get(path, ("", ""))[1] in ("100644", "100755")  # no symlinks
    ]
    wants = [ObjectWant(path, snap.owner, snap.repo, oid=snap.blobs[path][0]) for path in wanted]
    infos = fetch_objects(gh, wants)
    texts: dict[str, str | None] = {}
    for path in wanted:
        blob = infos.get(path)
        if blob is None or blob.binary:
            texts[path] = None
            continue
        try:
            texts[path] = contents(gh, snap.owner, snap.repo, blob).decode("utf-8")
        except UnicodeDecodeError:
            texts[path] = None
    return texts
