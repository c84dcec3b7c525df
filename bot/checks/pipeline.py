"""The pull-request pipeline: fetch policy and files, analyse, compare, report.

:func:`check_pull_request` is what :mod:`bot.events.route` calls for a pull request to
check (commands and buttons go to :mod:`bot.commands.runner`, which calls it for a rescan).
Under the PR's lock (:mod:`bot.checks.pull_lock`):

1. :func:`load_pull_context` (:mod:`bot.checks.pull_context`) reads the PR, its merge base, its
   changed files, the policy of its base branch (or of the organisation) and the blobs the
   cache does not know, in about five requests whatever the number of files;
2. :func:`analyse_pull` (:mod:`bot.checks.analysis`) compares base and head through the blob cache
   and proves fixes for the new findings;
3. the check run (one per head) and one review are posted by :mod:`bot.checks.publish` from what
   :mod:`bot.checks.render` rendered, after re-reading the PR's head: a head that moved meanwhile
   makes this result "superseded" (neutral, no review).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from githubkit.exception import RequestFailed

from analyzers.change import ChangeResult
from analyzers.findings import Finding
from analyzers.report import build_check_report
from bot.checks import decisions, publish, pull_trend, render, repo_totals
from bot.checks.analysis import analyse_pull
from bot.checks.engine_process import AnalysisLimit
from bot.checks.pull_context import (
    MAX_PULL_FILES,
    BlobContents,
    PullContext,
    find_pull_number,
    load_pull_context,
)
from bot.checks.pull_lock import PullRequestBusy, pull_lock
from bot.github import api
from bot.store import acceptances, db, history
from bot.store import campaigns as campaign_store
from bot.store import comments as comment_store
from bot.store import totals as totals_store
from bot.work import CheckRequest, JobContext

__all__ = [
    "BlobContents",
    "CheckOutcome",
    "PullContext",
    "PullRequestBusy",
    "analyse_pull",
    "check_pull_request",
    "load_pull_context",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckOutcome:
    """What :func:`check_pull_request` did for one head.

    ``new`` holds the PR's new findings (accepted ones as warnings, proven fixes attached);
    ``blocking`` those that fail the gate.
    """

    head_sha: str
    conclusion: str  # success, failure, neutral
    title: str
    check_run_id: int | None = None
    new: list[Finding] = field(default_factory=list)
    blocking: list[Finding] = field(default_factory=list)
    fixed: int = 0
    review_comments: int = 0
    minimized: int = 0
    superseded_by: str | None = None
    context: PullContext | None = field(default=None, repr=False)
    result: ChangeResult | None = field(default=None, repr=False)


# --- entry points -------------------------------------------------------------------------


def check_pull_request(request: CheckRequest, context: JobContext) -> CheckOutcome | None:
    """The full check of the PR's head (``request.head_sha``, else its current head).

    None when there is nothing to report: the PR is gone or closed, or the repository and
    its organisation have no policy (unless ``SSOT_NEUTRAL_WITHOUT_POLICY``). Raises
    :class:`~bot.checks.pull_lock.PullRequestBusy` while another job checks the same PR, and GitHub's
    errors (5xx, rate limits) so that the job is retried.
    """
    gh = api.installation_client(context.settings, request.installation_id, engine=context.engine)
    try:
        number = request.pull_number
        if number is None:
            number = find_pull_number(gh, request)
            if number is None:
                return None
            request = dataclasses.replace(request, pull_number=number)
        with pull_lock(context, request.installation_id, request.repository, number):
            pull = load_pull_context(request, context)
            if pull is None:
                return None
            return _report(pull, context)
    except RequestFailed as exc:
        if exc.response.status_code == 401:
            api.forget_tokens()  # the next attempt exchanges a fresh token
        raise


# --- reporting ------------------------------------------------------------------------------


def _report(pull: PullContext, context: JobContext) -> CheckOutcome | None:
    gh, owner, repo = pull.gh, pull.owner, pull.repo
    external = render.external_id(pull.installation_id, pull.repository, pull.head_sha)
    if pull.stale:
        run = publish.find_check_run(gh, owner, repo, pull.head_sha, external)
        if run is not None and not run.completed:
            publish.complete_check_run(
                gh, owner, repo, run, render.render_superseded(pull.current_head)
            )
        return _superseded(pull, run.id if run else None)
    if pull.policy is None and pull.policy_error is None:
        if not context.settings.neutral_without_policy:
            log.info("%s: no policy in the repository or %s/.github", pull.repository, owner)
            return None
        return _post_only(pull, external, render.render_no_policy(owner))
    if pull.policy_error is not None:
        return _post_only(pull, external, render.render_invalid_policy(pull.policy_error))
    run = publish.ensure_check_run(gh, owner, repo, pull.head_sha, external)
    try:
        result = analyse_pull(pull, context)
    except AnalysisLimit as limit:
        # The job ends here: a retry would only hit the same bound.
        log.warning("%s#%s at %s: %s", pull.repository, pull.number, pull.head_sha[:12], limit)
        output = render.render_analysis_limit(limit.what, limit.bound)
        publish.complete_check_run(gh, owner, repo, run, output)
        return CheckOutcome(
            head_sha=pull.head_sha,
            conclusion=output.conclusion,
            title=output.title,
            check_run_id=run.id,
            context=pull,
        )
    accepted = acceptances.accepted_for_pull(
        context.engine, installation_id=pull.installation_id, repo=pull.repository, pr=pull.number
    )
    comparison = render.apply_acceptances(result.comparison, accepted)
    assert pull.policy is not None
    stored = totals_store.get_repo_totals(
        context.engine, installation_id=pull.installation_id, repo=pull.repository
    )
    totals, notes = repo_totals.pull_totals(
        stored, pull.policy.policy, comparison, pull.default_branch or pull.base_ref
    )
    if pull.changed_files > len(pull.files) and pull.changed_files > MAX_PULL_FILES:
        notes.append(
            f"_GitHub lists the first {MAX_PULL_FILES:,} of {pull.changed_files:,} changed "
            "files: the others were not analysed._"
        )
    now = db.utcnow()
    samples = history.trend_samples(
        context.engine, pull.installation_id, pull.repository, now=now, weeks=0
    )
    trends = pull_trend.pull_trends(totals, comparison, samples, now=now)
    report = build_check_report(
        comparison, totals, files=result.files, base=pull.base_sha, trends=trends
    )
    output = render.render_check(report, accepted, notes)

    latest = api.get_optional(gh, f"/repos/{owner}/{repo}/pulls/{pull.number}")
    moved = latest is not None and latest["head"]["sha"] != pull.head_sha
    if moved:
        assert latest is not None
        pull.current_head = str(latest["head"]["sha"])
        publish.complete_check_run(
            gh, owner, repo, run, render.render_superseded(pull.current_head)
        )
        return _superseded(pull, run.id)
    publish.complete_check_run(gh, owner, repo, run, output)
    # A consolidation batch's pull request: its check state is on the dashboard issue.
    if campaign_store.record_check(
        context.engine,
        pull.installation_id,
        pull.repository,
        pull.number,
        output.conclusion,
        db.utcnow(),
    ):
        decisions.dashboard_changed(context, pull.installation_id, pull.repository)
    if latest is not None:
        _record_decision(pull, context, latest, output, comparison.new)
    posted, minimized = 0, 0
    if latest is not None and latest.get("state") == "open":
        posted, minimized = _review(pull, context, result, comparison.new, accepted)
    return CheckOutcome(
        head_sha=pull.head_sha,
        conclusion=output.conclusion,
        title=output.title,
        check_run_id=run.id,
        new=comparison.new,
        blocking=[f for f in comparison.new if f.blocking],
        fixed=len(comparison.fixed),
        review_comments=posted,
        minimized=minimized,
        context=pull,
        result=result,
    )


def _record_decision(
    pull: PullContext,
    context: JobContext,
    latest: dict[str, Any],
    output: render.CheckOutput,
    new: list[Finding],
) -> None:
    """Blocked or passed, by the pull request's author, for the dashboard."""
    blocking = sorted((f for f in new if f.blocking), key=lambda f: (f.path, f.line))
    where = ", ".join(f"{f.rule} {f.path}:{f.line}" for f in blocking[:3])
    more = f" and {len(blocking) - 3:,} more" if len(blocking) > 3 else ""
    reason = output.title + (f": {where}{more}" if where else "")
    decisions.record(
        context,
        installation_id=pull.installation_id,
        repository=pull.repository,
        pr=pull.number,
        head_sha=pull.head_sha,
        outcome="blocked" if output.conclusion == "failure" else "passed",
        user=str((latest.get("user") or {}).get("login") or "someone"),
        reason=reason,
        url=str(latest.get("html_url") or ""),
        policy=pull.policy.policy if pull.policy is not None else None,
    )


def _post_only(pull: PullContext, external: str, output: render.CheckOutput) -> CheckOutcome:
    run = publish.ensure_check_run(pull.gh, pull.owner, pull.repo, pull.head_sha, external)
    publish.complete_check_run(pull.gh, pull.owner, pull.repo, run, output)
    return CheckOutcome(
        head_sha=pull.head_sha,
        conclusion=output.conclusion,
        title=output.title,
        check_run_id=run.id,
        context=pull,
    )


def _superseded(pull: PullContext, run_id: int | None) -> CheckOutcome:
    log.info(
        "%s#%s: %s superseded by %s",
        pull.repository,
        pull.number,
        pull.head_sha[:12],
        pull.current_head[:12],
    )
    return CheckOutcome(
        head_sha=pull.head_sha,
        conclusion="neutral",
        title=f"Superseded by {pull.current_head[:12]}",
        check_run_id=run_id,
        superseded_by=pull.current_head,
        context=pull,
    )


def _review(
    pull: PullContext,
    context: JobContext,
    result: ChangeResult,
    new: list[Finding],
    accepted: list[acceptances.AcceptedFinding],
) -> tuple[int, int]:
    """Post the review of new findings and minimise outdated comments; (posted, minimised)."""
    gh, owner, repo = pull.gh, pull.owner, pull.repo
    bot_id = api.own_bot_user_id(context.settings, gh)
    existing = publish.bot_review_comments(gh, owner, repo, pull.number, bot_id)
    done = comment_store.minimized_among(context.engine, [c.node_id for c in existing])
    live = [c for c in existing if c.node_id not in done]

    def commentable(path: str, line: int) -> bool:
        diff = result.diffs.get(path)
        return diff is not None and diff.commentable(line, "RIGHT")

    plan = render.plan_review(
        new,
        commentable,
        already={(c.path, fp) for c in live for fp in c.fingerprints},
        accepted={a.fingerprint for a in accepted},
    )
    posted = 0
    if not plan.empty:
        total = sum(1 for f in new if f.suppressed is None)
        body = render.review_body(plan, total)
        if publish.post_review(gh, owner, repo, pull.number, pull.head_sha, body, plan.comments):
            posted = len(plan.comments)
    outdated = render.outdated_comments(live, {(f.path, f.fingerprint) for f in new})
    minimized: list[str] = []
    if outdated:
        minimized = publish.minimize(gh, [c.node_id for c in outdated])
        comment_store.record_minimized(
            context.engine,
            minimized,
            installation_id=pull.installation_id,
            repo=pull.repository,
            pr=pull.number,
            now=db.utcnow(),
        )
    return posted, len(minimized)
