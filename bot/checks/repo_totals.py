"""Repository totals: the default branch's count per concept and rule, and a PR's total.

A push to the default branch runs :func:`refresh`: the policy at the pushed commit, the
whole tree (``GET git/trees/{sha}?recursive=1``), the Python blobs not in the blob cache
read in GraphQL batches and analysed, then :func:`analyzers.progress.totals` stored per
repository. A repeat scan reads only the blobs that changed. A pull request's total is that
stored total plus its new findings minus its fixed ones (:func:`pull_totals`); without a
stored total for the same policy, the summary says so instead of inventing numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from analyzers.baseline import Comparison
from analyzers.change import is_python
from analyzers.engine import analyze, unanalysable
from analyzers.findings import Finding
from analyzers.policy import Policy
from analyzers.progress import ConceptTotal, totals
from analyzers.report import escape
from bot.checks import policy_source
from bot.checks.blob_cache import BlobCache, policy_key
from bot.checks.pull_lock import pull_lock
from bot.checks.render import count_by_key
from bot.github.api import InstallationClient, chunks, get_json, installation_client
from bot.github.blobs import ObjectWant, contents, fetch_objects
from bot.store import db
from bot.store import totals as totals_store
from bot.work import JobContext

log = logging.getLogger(__name__)

SCAN_CHUNK = 600  # blobs read (and held in memory) at a time


def size_reason(size: int, policy: Policy) -> str:
    """The engine's reason for a file over ``max_file_size`` (same text, same fingerprint)."""
    return f"over the size limit ({size:,} > {policy.max_file_size:,} bytes)"


def pull_totals(
    stored: totals_store.RepoTotals | None,
    policy: Policy,
    comparison: Comparison,
    default_branch: str,
) -> tuple[list[ConceptTotal], list[str]]:
    """The "Total -> target" column of a PR's summary, and the note that explains it."""
    if stored is None or stored.policy_key != policy_key(policy):
        own = totals([*comparison.new, *comparison.unchanged], policy)
        return own, [
            "_Repository total not computed yet: the Total column counts the changed files "
            f"only. It is computed after the next push to {escape.code(default_branch)}._"
        ]
    new, fixed = count_by_key(comparison.new), count_by_key(comparison.fixed)
    out = [
        ConceptTotal(c, r, max(count + new[(c, r)] - fixed[(c, r)], 0), target)
        for c, r, count, target in stored.totals
    ]
    note = (
        f"_Total: {escape.code(default_branch)} at `{stored.commit_sha[:12]}` "
        f"({stored.files:,} Python files), plus this pull request's new minus fixed findings._"
    )
    if stored.truncated:
        note += " _GitHub truncated that tree listing: files past its limit are not counted._"
    return out, [note]


@dataclass(frozen=True)
class BranchScan:
    """One commit counted whole: its policy, totals and findings, and the extra files asked
    for (``path -> content``, None when absent)."""

    policy: Policy
    totals: totals_store.RepoTotals
    findings: list[Finding]
    extra: dict[str, bytes | None] = field(default_factory=dict)


def refresh(
    context: JobContext, installation_id: int, repository: str, commit_sha: str
) -> totals_store.RepoTotals | None:
    """Scan ``repository`` at ``commit_sha`` and store its totals (None: it has no policy)."""
    scan = refresh_scan(context, installation_id, repository, commit_sha)
    return None if scan is None else scan.totals


def refresh_scan(
    context: JobContext,
    installation_id: int,
    repository: str,
    commit_sha: str,
    *,
    extra_paths: Sequence[str] = (),
) -> BranchScan | None:
    """:func:`refresh`, with the findings and ``extra_paths`` of the commit (read in the
    same request as the policy) for whoever records more than the totals."""
    with pull_lock(context, installation_id, repository, 0):
        scan = scan_commit(
            context, installation_id, repository, commit_sha, extra_paths=extra_paths
        )
        if scan is None:
            return None
        totals_store.save_repo_totals(
            context.engine, installation_id=installation_id, repo=repository, totals=scan.totals
        )
        return scan


def scan_commit(
    context: JobContext,
    installation_id: int,
    repository: str,
    commit_sha: str,
    *,
    extra_paths: Sequence[str] = (),
    between: Callable[[], None] | None = None,
    gh: InstallationClient | None = None,
) -> BranchScan | None:
    """Count ``repository`` at ``commit_sha`` under the policy it has there (stores nothing
    but the findings cache); None when it has no usable policy.

    ``between`` is called between batches of blobs (it may raise to stop: the blobs read so
    far stay in the findings cache, so a later call continues where this one stopped).
    """
    owner, repo = repository.split("/", 1)
    if gh is None:
        gh = installation_client(context.settings, installation_id, engine=context.engine)
    extra = [
        ObjectWant(("extra", path), owner, repo, expression=f"{commit_sha}:{path}")
        for path in extra_paths
    ]
    found = fetch_objects(gh, [*policy_source.wants(owner, repo, commit_sha), *extra])
    lookup = policy_source.resolve(
        gh,
        owner,
        repo,
        commit_sha,
        found,
        settings=context.settings,
    )
    if lookup.policy is None:
        log.info("%s: no usable policy at %s, no totals", repository, commit_sha[:12])
        return None
    policy = lookup.policy.policy
    tree = get_json(gh, f"/repos/{owner}/{repo}/git/trees/{commit_sha}", {"recursive": "1"})
    blobs = [
        (str(e["path"]), str(e["sha"]), int(e.get("size") or 0))
        for e in tree.get("tree") or []
        if e.get("type") == "blob"
        and is_python(e.get("path"))
        and not policy.excluded.match(e["path"])
    ]
    findings = scan_blobs(
        gh, owner, repo, commit_sha, blobs, policy, context, installation_id, between=between
    )
    result = totals_store.RepoTotals(
        policy_key=policy_key(policy),
        commit_sha=commit_sha,
        totals=[(t.concept, t.rule, t.count, t.target) for t in totals(findings, policy)],
        files=len(blobs),
        truncated=bool(tree.get("truncated")),
        computed_at=db.utcnow(),
    )
    texts: dict[str, bytes | None] = {}
    for path in extra_paths:
        info = found.get(("extra", path))
        texts[path] = None if info is None else contents(gh, owner, repo, info)
    log.info("%s: totals at %s over %d files", repository, commit_sha[:12], len(blobs))
    return BranchScan(policy, result, findings, texts)


def scan_blobs(
    gh: InstallationClient,
    owner: str,
    repo: str,
    commit_sha: str,
    blobs: Sequence[tuple[str, str, int]],
    policy: Policy,
    context: JobContext,
    installation_id: int,
    *,
    between: Callable[[], None] | None = None,
) -> list[Finding]:
    """Findings of ``(path, blob sha, size)`` at ``commit_sha``, cached blobs not read."""
    cache = BlobCache(context.engine, policy, installation_id)
    cache.load((sha, path) for path, sha, _ in blobs)
    findings: list[Finding] = []
    missing: list[tuple[str, str, int]] = []
    for path, sha, size in blobs:
        hit = cache.get(sha, path)
        if hit is not None:
            findings.extend(hit)
        elif size > policy.max_file_size:
            found = [unanalysable(path, size_reason(size, policy), policy)]
            cache.put(sha, path, found)
            findings.extend(found)
        else:
            missing.append((path, sha, size))
    for batch in chunks(missing, SCAN_CHUNK):
        wants = [ObjectWant((sha, path), owner, repo, oid=sha) for path, sha, _ in batch]
        infos = fetch_objects(gh, wants)
        for path, sha, _ in batch:
            info = infos.get((sha, path))
            if info is None:
                continue
            found = analyze(path, contents(gh, owner, repo, info), policy).findings
            cache.put(sha, path, found)
            findings.extend(found)
        cache.save()
        context.renew_lease()
        if between is not None:
            between()
    cache.save()
    return findings
