"""One run of a repository's campaign: keep its open batches current, then open new ones.

Under the repository's campaign lock (one run at a time, across workers):

1. read the default branch (:mod:`bot.campaigns.snapshot`); no policy, or ``[campaign]`` not
   enabled: nothing else happens;
2. plan the batches (:func:`analyzers.campaign.plan`) with every batch the store knows: an open
   or proposed one keeps its id and files, one a person closed is not proposed again;
3. each open batch: closed or merged on GitHub meanwhile (a missed webhook) is recorded; one
   with nothing left to fix is closed with a comment and its branch deleted; one whose branch
   head is not the commit the App pushed belongs to a person now (one comment, then it is left
   alone); one whose files the base changed is regenerated on the new base and force-pushed;
4. the plan's other batches are stored as proposed (the dashboard lists them with a
   checkbox), and opened, requested ones first, while ``max_open`` and ``max_per_hour``
   allow: on the schedule (a round stays open until its batches are all opened), or when a
   person asks (``/ssot consolidate``, a ticked checkbox).

GitHub refusing the App's push stops the campaign with one message (the dashboard issue when
there is one, else a log line) and a status in the store, until someone asks again. A rate
limit, or the write budget that pull-request checks need, pauses it: nothing is raised to the
job, the sweep resumes it later.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Literal

from githubkit.exception import RateLimitExceeded

from analyzers import campaign as planner
from analyzers.campaign import Batch, KnownBatch, KnownState
from analyzers.codeowners import reviewers
from analyzers.schedule import OFF, is_due, next_run
from bot.campaigns import git_write, text
from bot.campaigns.git_write import PushRefused
from bot.campaigns.snapshot import Snapshot, load_snapshot
from bot.checks import decisions
from bot.checks.pull_lock import pull_lock
from bot.github.api import InstallationClient, get_optional, installation_client
from bot.github.throttle import told_wait
from bot.store import campaigns as store
from bot.store import dashboards, db
from bot.store.campaigns import CampaignBatch, CampaignRepo
from bot.work import JobContext, RetryLater

log = logging.getLogger(__name__)

CAMPAIGN_LOCK = -1  # the pull_lock "pull request" of a repository's campaign (0: its totals)
PAUSE = dt.timedelta(minutes=15)  # at least, after GitHub's rate limit met a campaign write
RECHECK = dt.timedelta(days=1)  # a repository without a campaign, or with schedule "off"
ROUND_RECHECK = dt.timedelta(minutes=10)  # a round with batches waiting for the limits
COMPARE_FILES = 300  # GitHub's compare lists at most this many files

Reason = Literal["sweep", "push", "command", "checkbox"]


@dataclass(frozen=True)
class Ask:
    """A person asked: these batches, or those with a file under ``paths`` (neither: all)."""

    batch_ids: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()

    def wants(self, batch: Batch | CampaignBatch) -> bool:
        ident = batch.id if isinstance(batch, Batch) else batch.batch_id
        files = batch.paths if isinstance(batch, Batch) else list(batch.files)
        if self.batch_ids:
            return ident in self.batch_ids
        inside = planner.under(self.paths)
        return any(inside(path) for path in files)


@dataclass
class Outcome:
    """What a run did (for replies, logs and tests)."""

    opened: list[tuple[str, int]] = field(default_factory=list)  # (batch id, pull request)
    updated: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    noted: list[str] = field(default_factory=list)  # a person pushed: left alone
    waiting: list[str] = field(default_factory=list)  # held back by max_open / max_per_hour
    stopped: str | None = None  # why the run did nothing (or stopped half way)


def run_campaign(
    context: JobContext,
    installation_id: int,
    repository: str,
    *,
    reason: Reason,
    ask: Ask | None = None,
    dashboard_issue: int | None = None,
) -> Outcome:
    """Run ``repository``'s campaign now (see the module docstring).

    ``dashboard_issue``: where to say that GitHub refused a push (once); by default the
    repository's dashboard issue, when the App has one (a scheduled run included).
    """
    now = db.utcnow()
    if dashboard_issue is None:
        dashboard = dashboards.get_dashboard(context.engine, installation_id, repository)
        dashboard_issue = dashboard.issue_number if dashboard is not None else None
    with pull_lock(context, installation_id, repository, CAMPAIGN_LOCK):
        state = store.repo_or_new(context.engine, installation_id, repository, now)
        if ask is None and state.blocked:
            return Outcome(stopped=f"stopped: GitHub refused a push ({state.blocked})")
        if ask is None and state.paused_until is not None and state.paused_until > now:
            return Outcome(stopped=f"paused until {state.paused_until:%Y-%m-%d %H:%M} UTC")
        gh = installation_client(
            context.settings, installation_id, engine=context.engine, priority="campaign"
        )
        run = _Run(gh, context, installation_id, repository, state, now, dashboard_issue)
        run.reason = reason
        try:
            return run.go(reason, ask)
        except (RetryLater, RateLimitExceeded) as exc:
            return run.pause(exc)
        except PushRefused as refused:
            return run.block(refused)


class _Run:
    def __init__(
        self,
        gh: InstallationClient,
        context: JobContext,
        installation_id: int,
        repository: str,
        state: CampaignRepo,
        now: dt.datetime,
        dashboard_issue: int | None,
    ) -> None:
        self.gh, self.context, self.installation_id = gh, context, installation_id
        self.repository, self.state, self.now = repository, state, now
        self.owner, self.repo = repository.split("/", 1)
        self.dashboard_issue = dashboard_issue
        self.outcome = Outcome()
        self.branch: str | None = None  # the branch being written (for a refusal's message)
        self.reason: Reason = "sweep"

    def save_state(self, **changes: object) -> None:
        self.state = self.state.but(updated_at=self.now, **changes)
        store.save_repo(self.context.engine, self.state)

    # --- the run ----------------------------------------------------------------------------

    def go(self, reason: Reason, ask: Ask | None) -> Outcome:
        snap = load_snapshot(self.gh, self.context, self.installation_id, self.repository)
        policy = snap.policy
        if policy is None or not policy.campaign.enabled:
            why = (
                f"the policy cannot be used: {snap.policy_error}"
                if snap.policy_error is not None
                else "no policy"
                if policy is None
                else "[campaign] is not enabled in the policy"
            )
            self.save_state(next_check_at=self.now + RECHECK, round_open=False)
            self.outcome.stopped = why
            return self.outcome
        settings = policy.campaign
        if ask is not None:
            # Asked again: try again. ``blocked_noted`` stays until a push succeeds, so a
            # protection that still refuses is not announced twice.
            self.save_state(blocked=None, paused_until=None)
            self._ask_again(ask)
        stored = store.batches(self.context.engine, self.installation_id, self.repository)
        plan = planner.plan(
            snap.findings, snap.read, policy, snap.owners, known=[_known(b) for b in stored]
        )
        planned = {b.id: b for b in plan.batches}
        for known in stored:
            if known.state == "open":
                self._refresh(snap, known, planned.get(known.batch_id))
        stored_by_id = {b.batch_id: b for b in stored}
        for batch in plan.batches:
            row = stored_by_id.get(batch.id)
            if row is not None and row.state != "proposed":
                continue
            requested = (row is not None and row.requested) or (
                ask is not None and ask.wants(batch)
            )
            store.save_batch(self.context.engine, self._row(snap, batch, row, requested))
        store.forget_proposed(
            self.context.engine, self.installation_id, self.repository, list(planned)
        )
        proposed = {
            b.batch_id
            for b in store.batches(
                self.context.engine, self.installation_id, self.repository, ["proposed"]
            )
        }
        if proposed != {b.batch_id for b in stored if b.state == "proposed"}:
            # New checkboxes (or fewer): the dashboard issue lists them. Opened, merged and
            # closed batches ask through their own pull requests' events.
            decisions.dashboard_changed(self.context, self.installation_id, self.repository)
        scheduled = reason == "sweep" and is_due(
            settings.schedule, self.state.last_run_at, self.now
        )
        if scheduled:
            self.save_state(last_run_at=self.now, round_open=True)
        self._open_within_limits(snap, planned, opening_all=self.state.round_open)
        waiting = bool(self.outcome.waiting)
        if settings.schedule.strip().lower() == OFF:
            check_at = self.now + RECHECK
        else:
            check_at = next_run(settings.schedule, self.state.last_run_at or self.now) or (
                self.now + RECHECK
            )
        if waiting:
            check_at = min(check_at, self.now + ROUND_RECHECK)
        self.save_state(next_check_at=check_at, round_open=self.state.round_open and waiting)
        return self.outcome

    def _ask_again(self, ask: Ask) -> None:
        """A person asked: batches they closed come back as proposed (and requested)."""
        for batch in store.batches(
            self.context.engine, self.installation_id, self.repository, ["closed"]
        ):
            if ask.wants(batch):
                store.save_batch(
                    self.context.engine,
                    batch.but(
                        state="proposed",
                        requested=True,
                        closed_by_human=False,
                        pr=None,
                        head_sha=None,
                        updated_at=self.now,
                    ),
                )

    def _row(
        self, snap: Snapshot, batch: Batch, row: CampaignBatch | None, requested: bool
    ) -> CampaignBatch:
        return CampaignBatch(
            installation_id=self.installation_id,
            repo=self.repository,
            batch_id=batch.id,
            concept=batch.concept,
            group=batch.group,
            part=batch.part,
            branch=batch.branch,
            state="proposed",
            files=tuple(batch.paths),
            fixes=len(batch.fixes),
            updated_at=self.now,
            base_sha=snap.sha,
            left_out=tuple((item.path, item.reason) for item in batch.left_out),
            requested=requested,
            pr=row.pr if row is not None else None,
        )

    # --- opening ----------------------------------------------------------------------------------

    def _open_within_limits(
        self, snap: Snapshot, planned: dict[str, Batch], *, opening_all: bool
    ) -> None:
        assert snap.policy is not None
        settings = snap.policy.campaign
        rows = store.batches(
            self.context.engine, self.installation_id, self.repository, ["proposed"]
        )
        candidates = sorted(
            (r for r in rows if r.batch_id in planned and (r.requested or opening_all)),
            key=lambda r: (not r.requested, r.batch_id),
        )
        open_now = len(
            store.batches(self.context.engine, self.installation_id, self.repository, ["open"])
        )
        this_hour = store.opened_since(
            self.context.engine,
            self.installation_id,
            self.repository,
            self.now - dt.timedelta(hours=1),
        )
        for row in candidates:
            if open_now >= settings.max_open or this_hour >= settings.max_per_hour:
                self.outcome.waiting.append(row.batch_id)
                continue
            self._open(snap, planned[row.batch_id], row)
            open_now += 1
            this_hour += 1

    def _open(self, snap: Snapshot, batch: Batch, row: CampaignBatch) -> None:
        assert snap.policy is not None
        settings = snap.policy.campaign
        self.branch = batch.branch
        sha = self._commit(snap, batch)
        git_write.put_branch(self.gh, self.owner, self.repo, batch.branch, sha)
        # Stored before the pull request: a retry finds the branch its own and adopts it.
        row = row.but(head_sha=sha, base_sha=snap.sha, updated_at=self.now)
        store.save_batch(self.context.engine, row)
        number = git_write.open_pull(
            self.gh,
            self.owner,
            self.repo,
            branch=batch.branch,
            base=snap.default_branch,
            title=text.title(batch),
            body=text.body(batch, snap.default_branch, snap.sha),
            draft=settings.draft,
        )
        store.save_batch(
            self.context.engine,
            row.but(
                state="open",
                pr=number,
                opened_at=self.now,
                requested=False,
                check_state=None,
                human_push_noted=False,
            ),
        )
        self.outcome.opened.append((batch.id, number))
        log.info("%s: opened %s as #%s", self.repository, batch.id, number)
        if self.state.blocked_noted:
            self.save_state(blocked_noted=False)  # pushes work again: a new refusal is news
        wanted = reviewers(batch.owners)
        git_write.request_reviews(
            self.gh, self.owner, self.repo, number, wanted.users, wanted.teams
        )
        git_write.add_labels(self.gh, self.owner, self.repo, number, settings.labels)

    def _commit(self, snap: Snapshot, batch: Batch) -> str:
        return git_write.write_commit(
            self.gh,
            self.owner,
            self.repo,
            base_sha=snap.sha,
            base_tree=snap.tree_sha,
            contents=batch.contents,
            modes={path: snap.blobs.get(path, ("", "100644"))[1] for path in batch.paths},
            message=text.commit_message(batch),
        )

    # --- keeping open batches current -------------------------------------------------------------

    def _refresh(self, snap: Snapshot, row: CampaignBatch, batch: Batch | None) -> None:
        assert row.pr is not None
        pull = git_write.get_pull(self.gh, self.owner, self.repo, row.pr)
        if pull is None or pull.get("state") != "open":
            # Its webhook was missed. The App records its own closes before making them, so
            # an open batch closed on GitHub was closed by a person.
            merged = bool(pull and (pull.get("merged") or pull.get("merged_at")))
            record_closed(self.context, self.installation_id, self.repository, row, merged, True)
            return
        # A person's push first: once the branch is theirs the App neither regenerates nor
        # closes it, even when the base left nothing for the batch to fix.
        head = git_write.branch_head(self.gh, self.owner, self.repo, row.branch)
        if head != row.head_sha:
            if not row.human_push_noted:
                git_write.comment(
                    self.gh,
                    self.owner,
                    self.repo,
                    row.pr,
                    text.human_push_comment(row.branch, head or "(deleted)"),
                )
                store.save_batch(
                    self.context.engine, row.but(human_push_noted=True, updated_at=self.now)
                )
                self.outcome.noted.append(row.batch_id)
            return
        if batch is None:
            self._close_empty(snap, row)
            return
        if row.base_sha == snap.sha:
            return
        same_files = set(batch.paths) == set(row.files)
        if same_files and not self._base_changed(row.base_sha, snap.sha, row.files):
            return
        self.branch = row.branch
        sha = self._commit(snap, batch)
        git_write.force_branch(self.gh, self.owner, self.repo, row.branch, sha)
        git_write.update_pull(
            self.gh,
            self.owner,
            self.repo,
            row.pr,
            title=text.title(batch),
            body=text.body(batch, snap.default_branch, snap.sha),
        )
        store.save_batch(
            self.context.engine,
            row.but(
                head_sha=sha,
                base_sha=snap.sha,
                files=tuple(batch.paths),
                fixes=len(batch.fixes),
                left_out=tuple((item.path, item.reason) for item in batch.left_out),
                check_state=None,
                updated_at=self.now,
            ),
        )
        self.outcome.updated.append(row.batch_id)
        log.info("%s: regenerated %s on %s", self.repository, row.batch_id, snap.sha[:12])

    def _base_changed(self, old: str | None, new: str, files: tuple[str, ...]) -> bool:
        """Whether the base changed any of ``files`` between ``old`` and ``new``."""
        if old is None:
            return True
        data = get_optional(self.gh, f"/repos/{self.owner}/{self.repo}/compare/{old}...{new}")
        if data is None:
            return True
        changed = data.get("files") or []
        if len(changed) >= COMPARE_FILES:
            return True  # GitHub lists no more: assume it did
        names = {f.get("filename") for f in changed} | {f.get("previous_filename") for f in changed}
        return any(path in names for path in files)

    def _close_empty(self, snap: Snapshot, row: CampaignBatch) -> None:
        assert row.pr is not None
        # Recorded first: the pull_request.closed webhook of our own close finds it done.
        store.save_batch(
            self.context.engine, row.but(state="empty", closed_at=self.now, updated_at=self.now)
        )
        git_write.comment(
            self.gh, self.owner, self.repo, row.pr, text.emptied_comment(snap.default_branch)
        )
        git_write.update_pull(self.gh, self.owner, self.repo, row.pr, state="closed")
        head = git_write.branch_head(self.gh, self.owner, self.repo, row.branch)
        if head is not None and head == row.head_sha:
            git_write.delete_branch(self.gh, self.owner, self.repo, row.branch)
        self.outcome.closed.append(row.batch_id)
        log.info("%s: closed %s (nothing left to fix)", self.repository, row.batch_id)

    # --- stopping -----------------------------------------------------------------------------------

    def pause(self, exc: BaseException) -> Outcome:
        """GitHub's rate limit, or checks needing the write budget: pause the campaign."""
        until = told_wait(exc) or self.now + PAUSE
        if isinstance(exc, RateLimitExceeded):
            until = max(until, self.now + PAUSE)  # GitHub had to say it: back off for longer
        reason = f"{type(exc).__name__}: {exc}"[:300]
        self.save_state(paused_until=until, pause_reason=reason)
        log.warning("%s: campaign paused until %s (%s)", self.repository, until, reason)
        self.outcome.stopped = f"paused until {until:%Y-%m-%d %H:%M} UTC ({reason})"
        return self.outcome

    def block(self, refused: PushRefused) -> Outcome:
        """GitHub refused the push: say it once, stop until someone asks again."""
        branch = self.branch or "ssot/consolidate/..."
        message = f"{refused.status} {refused.message}".strip()
        noted = self.state.blocked_noted
        # A command's reply says it anyway; otherwise the dashboard issue, else the log.
        if self.reason == "command":
            pass
        elif not noted and self.dashboard_issue is not None:
            git_write.comment(
                self.gh,
                self.owner,
                self.repo,
                self.dashboard_issue,
                text.blocked_comment(branch, refused.status, refused.message),
            )
        elif not noted:
            log.warning(
                "%s: GitHub refused the push of %s (%s); the campaign stops until asked again",
                self.repository,
                branch,
                message,
            )
        self.save_state(blocked=message[:2000], blocked_noted=True, round_open=False)
        self.outcome.stopped = f"stopped: GitHub refused the push of {branch} ({message})"
        return self.outcome


def _known(batch: CampaignBatch) -> KnownBatch:
    state: KnownState = (
        "pinned"
        if batch.state in ("open", "proposed")
        else "declined"
        if batch.state == "closed"
        else "done"
    )
    return KnownBatch(batch.batch_id, batch.concept, batch.group, batch.part, batch.files, state)


def record_closed(
    context: JobContext,
    installation_id: int,
    repository: str,
    row: CampaignBatch,
    merged: bool,
    by_person: bool,
) -> CampaignBatch:
    """A batch's pull request was merged, or closed (by a person: never proposed again unless
    asked; by the App: it was emptied, already recorded)."""
    now = db.utcnow()
    if merged:
        row = row.but(state="merged", closed_at=now, updated_at=now)
    elif row.state == "open" and by_person:
        row = row.but(state="closed", closed_by_human=True, closed_at=now, updated_at=now)
    else:
        return row
    store.save_batch(context.engine, row)
    log.info("%s: batch %s %s", repository, row.batch_id, row.state)
    return row
