"""Backfill: a new repository's history, one sample a week for the last six months.

When the App is installed (``installation.created``) or given more repositories
(``installation_repositories.added``), each repository gets a backfill
(:mod:`bot.store.backfills`): ``SSOT_BACKFILL_WEEKS`` weekly samples counted back from then,
newest first. Each is the newest commit of the default branch at that date
(``GET /repos/{o}/{r}/commits?sha=...&until=...&per_page=1``) counted whole like a push
(its tree, and the blobs the findings cache does not know, in GraphQL batches): from one week
to the next few files change, so after the first sample most blobs are cached.

Low priority, within the installation's budget:

- it runs from the progress tick, one repository per installation per tick, and stops as
  soon as a pull-request job (``pull_request``, ``issue_comment``, ``check_run``,
  ``check_suite``) of that installation is queued or running: it yields, and continues at a
  later tick once they are done;
- per tick it spends at most ``SSOT_BACKFILL_REQUESTS_PER_MINUTE`` requests of the
  installation, and never brings the installation's remaining hourly requests
  (``x-ratelimit-remaining``) under ``SSOT_BACKFILL_RESERVE``: then it waits for the reset;
- GitHub's own waits (rate limits) postpone it like any job.

A repository without a policy at its head is done at once; going back, the first week
without a policy ends the backfill (the policy did not exist before).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bot.github.api import get_json, get_optional, installation_client
from bot.progress import recorder
from bot.store import backfills, dashboards, db, deliveries, history
from bot.work import JobContext, RetryLater

log = logging.getLogger(__name__)

PULL_EVENTS = ("pull_request", "issue_comment", "check_run", "check_suite")
LEASE = dt.timedelta(minutes=10)
NEXT_TICK = dt.timedelta(seconds=50)
MAX_ATTEMPTS = 5


class BudgetSpent(Exception):
    """This tick's share of the installation's requests is spent: continue at ``until``."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(f"backfill budget spent until {until.isoformat(timespec='seconds')}")
        self.until = until


class Yield(Exception):
    """A pull-request job of the installation is waiting: stop now, continue later."""


@dataclass
class ApiBudget:
    """Requests a backfill may spend now: its per-tick share, above the reserve."""

    per_tick: int
    reserve: int
    used: int = 0
    remaining: int | None = None
    reset_at: dt.datetime | None = None

    def observe(self, response: httpx.Response) -> None:
        """An httpx response hook: count the request, read the installation's core limit."""
        self.used += 1
        if response.headers.get("x-ratelimit-resource", "core") != "core":
            return
        remaining = response.headers.get("x-ratelimit-remaining", "")
        reset = response.headers.get("x-ratelimit-reset", "")
        if remaining.isdigit():
            self.remaining = int(remaining)
        if reset.isdigit():
            self.reset_at = dt.datetime.fromtimestamp(int(reset), dt.UTC)

    def check(self) -> None:
        """Raise :class:`BudgetSpent` when no more may be spent now."""
        now = db.utcnow()
        if self.remaining is not None and self.remaining < self.reserve:
            raise BudgetSpent(max(self.reset_at or now, now) + dt.timedelta(seconds=5))
        if self.used >= self.per_tick:
            raise BudgetSpent(now + NEXT_TICK)


def request_backfills(
    context: JobContext, installation_id: int, repositories: list[dict[str, Any]]
) -> int:
    """Queue a backfill for each repository of a webhook's list; how many were new."""
    if context.settings.backfill_weeks <= 0:
        return 0
    now = db.utcnow()
    queued = 0
    for item in repositories:
        name = item.get("full_name")
        if not isinstance(name, str) or "/" not in name:
            continue
        if isinstance(item.get("private"), bool):
            dashboards.set_private(context.engine, installation_id, name, item["private"], now=now)
        queued += backfills.request_backfill(context.engine, installation_id, name, now=now)
    if queued:
        log.info("installation %s: %d repositories to backfill", installation_id, queued)
    return queued


def forget_backfills(context: JobContext, installation_id: int, names: list[str]) -> None:
    """Repositories removed from the installation are not backfilled any more."""
    for name in names:
        backfills.forget_backfill(context.engine, installation_id, name)


def run(context: JobContext, *, deadline: float) -> int:
    """Backfill until ``deadline`` (``time.monotonic()``), one repository per installation,
    skipping installations with pull-request jobs waiting; how many samples were taken."""
    taken = 0
    served: set[int] = set()
    while time.monotonic() < deadline:
        busy = deliveries.busy_installations(context.engine, PULL_EVENTS)
        claimed = backfills.claim_backfill(
            context.engine, now=db.utcnow(), lease=LEASE, skip_installations=busy | served
        )
        if claimed is None:
            break
        served.add(claimed.installation_id)
        taken += step(context, claimed, deadline=deadline)
    return taken


def step(context: JobContext, claimed: backfills.Backfill, *, deadline: float) -> int:
    """Take the next weeks of one claimed backfill within the budget; samples taken."""
    settings = context.settings
    installation_id, repository = claimed.installation_id, claimed.repo
    budget = ApiBudget(settings.backfill_requests_per_minute, settings.backfill_reserve)
    gh = installation_client(
        settings, installation_id, engine=context.engine, observe=budget.observe
    )
    owner, name = repository.split("/", 1)
    week, done, taken = claimed.next_week, False, 0
    not_before = db.utcnow() + NEXT_TICK
    error: str | None = None
    failed = False

    def between() -> None:
        budget.check()
        if installation_id in deliveries.busy_installations(context.engine, PULL_EVENTS):
            raise Yield()

    try:
        info = get_optional(gh, f"/repos/{owner}/{name}")
        if info is None:
            done = True  # gone, or no longer readable by the App
        else:
            if isinstance(info.get("private"), bool):
                dashboards.set_private(
                    context.engine, installation_id, repository, info["private"], now=db.utcnow()
                )
            branch = str(info.get("default_branch") or "main")
            while week < settings.backfill_weeks:
                if time.monotonic() > deadline:
                    break
                between()
                until = claimed.anchor_at - dt.timedelta(weeks=week)
                commits = get_json(
                    gh,
                    f"/repos/{owner}/{name}/commits",
                    {"sha": branch, "until": until.strftime("%Y-%m-%dT%H:%M:%SZ"), "per_page": 1},
                )
                if not commits:
                    done = True  # the repository is younger than that
                    break
                sha = str(commits[0]["sha"])
                committed = ((commits[0].get("commit") or {}).get("committer") or {}).get("date")
                committed_at = recorder.parse_time(committed) or until
                if history.sample_at(context.engine, installation_id, repository, sha) is None:
                    sample = recorder.record_commit(
                        context,
                        installation_id,
                        repository,
                        sha,
                        committed_at,
                        between=between,
                        gh=gh,
                    )
                    if sample is None:
                        done = True  # no policy at that commit: none before it either
                        break
                    taken += 1
                week += 1
            else:
                done = True
    except BudgetSpent as spent:
        not_before = spent.until
    except Yield:
        not_before = db.utcnow()  # as soon as the pull requests' jobs are done
    except RetryLater as wait:
        not_before = wait.at
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        failed = claimed.attempts >= MAX_ATTEMPTS
        not_before = db.utcnow() + dt.timedelta(minutes=5 * 2 ** min(claimed.attempts, 6))
        log.warning("%s: backfill failed (attempt %d): %s", repository, claimed.attempts, error)
    backfills.release_backfill(
        context.engine,
        installation_id,
        repository,
        next_week=week,
        done=done,
        not_before=not_before,
        now=db.utcnow(),
        error=error,
        failed=failed,
    )
    if taken:
        log.info(
            "%s: backfilled %d weeks (%d of %d done), %d requests",
            repository,
            taken,
            week,
            settings.backfill_weeks,
            budget.used,
        )
    return taken
