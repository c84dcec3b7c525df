"""The campaigns' periodic sweep: each repository of each installation, when it is due.

Like the sweeper of missed deliveries (bot/jobs/sweeper.py) it runs as a Huey periodic task
in every worker (at most one run per repository at a time: the campaign lock). A repository
is due when the store says so (``next_check_at``: its schedule's next time, a day for one
without a campaign, ten minutes while a round's batches wait for the limits, now after a push
to its default branch), or when a person asked for a batch that waits. A paused or blocked
campaign is skipped.
"""

from __future__ import annotations

import logging

from githubkit.exception import RequestFailed

from bot.campaigns.run import run_campaign
from bot.checks.pull_lock import PullRequestBusy
from bot.github import api
from bot.github.throttle import RateLimited
from bot.ops.settings import Settings
from bot.store import campaigns as store
from bot.store import db, installations
from bot.work import JobContext

log = logging.getLogger(__name__)

MAX_RUNS_PER_SWEEP = 50  # the rest wait for the next sweep


def sweep(settings: Settings, context: JobContext) -> list[str]:
    """Run each due campaign; the repositories run."""
    ran: list[str] = []
    for installation in installations.list_installations(context.engine):
        if installation.suspended_at is not None:
            continue
        try:
            gh = api.installation_client(settings, installation.id, engine=context.engine)
            repos = api.get_pages(gh, "/installation/repositories", key="repositories")
        except (RequestFailed, RateLimited) as exc:
            log.warning("campaigns: installation %s unreadable: %s", installation.id, exc)
            continue
        for repo in repos:
            if len(ran) >= MAX_RUNS_PER_SWEEP:
                return ran
            repository = str(repo["full_name"])
            if not _due(context, installation.id, repository):
                continue
            try:
                outcome = run_campaign(context, installation.id, repository, reason="sweep")
            except PullRequestBusy:
                continue  # another worker runs it
            except Exception:
                log.exception("campaigns: %s failed", repository)
                continue
            ran.append(repository)
            if outcome.opened or outcome.updated or outcome.closed:
                log.info(
                    "campaigns: %s: %d opened, %d updated, %d closed",
                    repository,
                    len(outcome.opened),
                    len(outcome.updated),
                    len(outcome.closed),
                )
    return ran


def _due(context: JobContext, installation_id: int, repository: str) -> bool:
    now = db.utcnow()
    state = store.get_repo(context.engine, installation_id, repository)
    if state is None:
        return True
    if state.blocked or (state.paused_until is not None and state.paused_until > now):
        return False
    if state.next_check_at is None or state.next_check_at <= now:
        return True
    waiting = store.batches(context.engine, installation_id, repository, ["proposed"])
    return any(b.requested for b in waiting)
