"""Recording the default branch: a sample of its totals per push, and per backfilled week.

:func:`record_push` runs for every push to the default branch: the repository's totals are
refreshed as before (:func:`bot.checks.repo_totals.refresh_scan`), and the same scan becomes
a :class:`~bot.store.history.HistorySample` with its breakdown per directory and CODEOWNERS
owner. A forced push rewrites the branch: samples of commits after the old and new heads'
merge base are forgotten, so the history is always that of the branch as it is.
:func:`record_commit` does the same for any commit (the backfill), without touching the
repository's current totals.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from analyzers.codeowners import CODEOWNERS_PATHS, Owners
from analyzers.trend import series_key
from bot.checks import repo_totals
from bot.checks.repo_totals import BranchScan
from bot.github.api import InstallationClient, get_optional, installation_client
from bot.progress.breakdown import breakdown
from bot.store import dashboards, db, history
from bot.work import JobContext, WebhookEvent

log = logging.getLogger(__name__)

MAX_CODEOWNERS_BYTES = 3 * 1024 * 1024


def default_branch_push(event: WebhookEvent) -> tuple[str, str] | None:
    """``(repository, after)`` when ``event`` moved the default branch to a commit, else None
    (tags, other branches, deletions)."""
    payload = event.payload
    repository = payload.get("repository") or {}
    default_branch = repository.get("default_branch") or repository.get("master_branch")
    after = str(payload.get("after") or "")
    if (
        event.installation_id is None
        or payload.get("deleted")
        or not default_branch
        or payload.get("ref") != f"refs/heads/{default_branch}"
        or not after.strip("0")
    ):
        return None
    return str(repository.get("full_name") or event.repository), after


def record_push(event: WebhookEvent, context: JobContext) -> history.HistorySample | None:
    """Refresh the totals of the pushed default branch and record them as a sample."""
    target = default_branch_push(event)
    if target is None:
        return None
    assert event.installation_id is not None
    repository, after = target
    installation_id = event.installation_id
    payload = event.payload
    private = (payload.get("repository") or {}).get("private")
    if isinstance(private, bool):
        dashboards.set_private(
            context.engine, installation_id, repository, private, now=db.utcnow()
        )
    scan = repo_totals.refresh_scan(
        context, installation_id, repository, after, extra_paths=CODEOWNERS_PATHS
    )
    if scan is None:
        return None
    gh = installation_client(context.settings, installation_id, engine=context.engine)
    owner, name = repository.split("/", 1)
    committed_at = commit_time(gh, owner, name, after) or _payload_time(payload) or db.utcnow()
    before = str(payload.get("before") or "")
    if payload.get("forced") and before.strip("0"):
        forget_rewritten(context, gh, installation_id, repository, before, after, committed_at)
    sample = _sample(scan, installation_id, repository, after, committed_at, "push")
    history.record_sample(context.engine, sample)
    if scan.policy.dashboard.issue:
        dashboards.request_update(
            context.engine,
            installation_id,
            repository,
            now=db.utcnow(),
            debounce=dt.timedelta(seconds=context.settings.dashboard_debounce_seconds),
        )
    return sample


def record_commit(
    context: JobContext,
    installation_id: int,
    repository: str,
    commit_sha: str,
    committed_at: dt.datetime,
    *,
    between: Callable[[], None] | None = None,
    gh: InstallationClient | None = None,
) -> history.HistorySample | None:
    """Count one commit of the default branch and record it (None: it has no policy)."""
    scan = repo_totals.scan_commit(
        context,
        installation_id,
        repository,
        commit_sha,
        extra_paths=CODEOWNERS_PATHS,
        between=between,
        gh=gh,
    )
    if scan is None:
        return None
    sample = _sample(scan, installation_id, repository, commit_sha, committed_at, "backfill")
    history.record_sample(context.engine, sample)
    return sample


def _sample(
    scan: BranchScan,
    installation_id: int,
    repository: str,
    commit_sha: str,
    committed_at: dt.datetime,
    source: history.Source,
) -> history.HistorySample:
    totals = tuple(scan.totals.totals)
    return history.HistorySample(
        installation_id=installation_id,
        repo=repository,
        commit_sha=commit_sha,
        committed_at=committed_at,
        policy_key=scan.totals.policy_key,
        series=series_key(totals),
        totals=totals,
        source=source,
        recorded_at=db.utcnow(),
        files=scan.totals.files,
        breakdown=breakdown(
            scan.findings, owners=owners_of(scan), depth=scan.policy.dashboard.depth
        ),
    )


def owners_of(scan: BranchScan) -> Owners | None:
    """The CODEOWNERS GitHub uses at the scanned commit (the first of its three places;
    GitHub ignores one over 3 MB)."""
    for path in CODEOWNERS_PATHS:
        data = scan.extra.get(path)
        if data is not None and len(data) <= MAX_CODEOWNERS_BYTES:
            return Owners(data.decode("utf-8", "replace"))
    return None


def commit_time(gh: InstallationClient, owner: str, repo: str, sha: str) -> dt.datetime | None:
    """The committer date of a commit (the order of a branch's history), if GitHub has it."""
    data = get_optional(gh, f"/repos/{owner}/{repo}/git/commits/{sha}")
    return parse_time(((data or {}).get("committer") or {}).get("date"))


def parse_time(value: Any) -> dt.datetime | None:
    """An aware UTC time from GitHub's ISO 8601 text, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _payload_time(payload: dict[str, Any]) -> dt.datetime | None:
    return parse_time((payload.get("head_commit") or {}).get("timestamp"))


def forget_rewritten(
    context: JobContext,
    gh: InstallationClient,
    installation_id: int,
    repository: str,
    before: str,
    after: str,
    committed_at: dt.datetime,
) -> int:
    """After a forced push from ``before`` to ``after``: forget the samples of commits that
    are no longer on the branch (those after the merge base of the two); how many."""
    owner, name = repository.split("/", 1)
    compared = get_optional(gh, f"/repos/{owner}/{name}/compare/{before}...{after}")
    base = ((compared or {}).get("merge_base_commit") or {}).get("commit") or {}
    since = parse_time((base.get("committer") or {}).get("date"))
    if since is None:
        # The old head is gone (or unrelated): nothing after the new head can be on the branch.
        since = committed_at
    dropped = history.drop_rewritten(
        context.engine, installation_id, repository, after=since, keep={after}
    )
    if dropped:
        log.info(
            "%s: forced push %s..%s: %d samples of rewritten commits forgotten",
            repository,
            before[:12],
            after[:12],
            dropped,
        )
    return dropped
