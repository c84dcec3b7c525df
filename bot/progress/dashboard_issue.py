"""The dashboard issue: one per repository whose policy asks for it, edited in place.

A push, a blocked pull request or an accepted finding *requests* an update
(:func:`bot.store.dashboards.request_update`); the update itself runs from the progress tick
(:func:`update_due`, every minute), at most once per ``SSOT_DASHBOARD_DEBOUNCE_SECONDS`` per
repository, and renders what is stored when it runs, so the last state is always delivered.

Finding the issue again: the number stored after creating it, checked to be an issue the
App's own bot user wrote that carries :data:`~bot.progress.dashboard_render.MARKER`; without
one (first run, or the issue was deleted), the repository's issues written by the bot user are
searched for the marker. Only when none exists is one created, so there is never a second.
An issue a person closed is left alone (no updates) until it is reopened
(:mod:`bot.events.issues`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from githubkit.exception import RequestFailed
from sqlalchemy.engine import Engine

from analyzers.policy import Policy
from analyzers.trend import trends
from bot.checks import policy_source
from bot.github.api import (
    InstallationClient,
    app_bot_login,
    get_optional,
    get_pages,
    installation_client,
    own_bot_user_id,
)
from bot.github.blobs import fetch_objects
from bot.progress.dashboard_render import (
    TITLE,
    Badges,
    DashboardData,
    has_marker,
    render_dashboard,
)
from bot.store import campaigns, dashboards, db, history
from bot.store.campaign_section import render_section
from bot.work import JobContext, RetryLater

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
FAILED_RETRY = dt.timedelta(minutes=5)
DECISIONS = 10


def debounce(context: JobContext) -> dt.timedelta:
    return dt.timedelta(seconds=context.settings.dashboard_debounce_seconds)


def request(context: JobContext, installation_id: int, repository: str) -> dt.datetime | None:
    """Ask for the issue of ``repository`` to be brought up to date (debounced)."""
    return dashboards.request_update(
        context.engine, installation_id, repository, now=db.utcnow(), debounce=debounce(context)
    )


def update_due(context: JobContext, *, limit: int = 50) -> int:
    """Bring every due dashboard issue up to date; how many were looked at."""
    done = 0
    for installation_id, repository in dashboards.due_updates(
        context.engine, now=db.utcnow(), limit=limit
    ):
        claimed_at = db.utcnow()
        if not dashboards.claim_update(
            context.engine, installation_id, repository, now=claimed_at, lease=LEASE
        ):
            continue  # another worker took it
        done += 1
        try:
            update(context, installation_id, repository, claimed_at=claimed_at)
        except RetryLater as wait:
            dashboards.release_update(context.engine, installation_id, repository, retry_at=wait.at)
        except Exception:
            log.exception("%s: the dashboard issue could not be updated", repository)
            dashboards.release_update(
                context.engine, installation_id, repository, retry_at=db.utcnow() + FAILED_RETRY
            )
    return done


def update(
    context: JobContext, installation_id: int, repository: str, *, claimed_at: dt.datetime
) -> int | None:
    """Create or edit the dashboard issue of ``repository``; its number (None: none wanted
    or possible)."""
    engine = context.engine
    owner, name = repository.split("/", 1)
    # Its edits give way to pull-request checks, as consolidation pull requests' writes do.
    gh = installation_client(context.settings, installation_id, engine=engine, priority="campaign")
    stored = dashboards.get_dashboard(engine, installation_id, repository)
    policy = default_branch_policy(gh, owner, name, context)

    def finish(number: int | None, digest: str | None, edited: bool) -> None:
        dashboards.finish_update(
            engine,
            installation_id,
            repository,
            claimed_at=claimed_at,
            now=db.utcnow(),
            debounce=debounce(context),
            issue_number=number,
            body_digest=digest,
            edited=edited,
        )

    number = stored.issue_number if stored is not None else None
    digest = stored.body_digest if stored is not None else None
    if policy is None or not policy.dashboard.issue:
        log.info("%s: the policy asks for no dashboard issue", repository)
        finish(number, digest, edited=False)
        return None
    author = BotUser(app_bot_login(context.settings), own_bot_user_id(context.settings, gh))
    try:
        found = find_issue(gh, owner, name, author, number)
    except RequestFailed as exc:
        if exc.response.status_code in (403, 410):  # no permission, or issues disabled
            log.warning("%s: no dashboard issue: %s", repository, exc.response.status_code)
            finish(None, None, edited=False)
            return None
        raise
    if found is not None and found.get("state") == "closed":
        closer = str((found.get("closed_by") or {}).get("login") or "someone")
        dashboards.mark_closed(engine, installation_id, repository, by=closer, now=db.utcnow())
        dashboards.set_issue_number(
            engine, installation_id, repository, int(found["number"]), now=db.utcnow()
        )
        return int(found["number"])
    body = render_dashboard(collect(context, installation_id, repository, policy))
    new_digest = hashlib.sha256(body.encode()).hexdigest()
    if found is None:
        created = gh.rest.issues.create(owner, name, title=TITLE, body=body).parsed_data
        log.info("%s: dashboard issue #%s created", repository, created.number)
        finish(created.number, new_digest, edited=True)
        return created.number
    number = int(found["number"])
    if new_digest == digest and found.get("body") == body:
        finish(number, digest, edited=False)
        return number
    gh.rest.issues.update(owner, name, number, body=body)
    finish(number, new_digest, edited=True)
    return number


@dataclass(frozen=True)
class BotUser:
    """The App's own bot user: its login (to list its issues) and its id (to trust them)."""

    login: str
    id: int


def is_own(item: Any, author: BotUser) -> bool:
    """Whether an issue is a dashboard issue the App's own bot user wrote (a marker copied
    into someone else's issue, or another App's, does not make it one)."""
    if not isinstance(item, dict) or "pull_request" in item:
        return False
    user = item.get("user") or {}
    if user.get("type") != "Bot" or user.get("id") != author.id:
        return False
    return has_marker(item.get("body"))


def find_issue(
    gh: InstallationClient,
    owner: str,
    repo: str,
    author: BotUser,
    number: int | None,
) -> dict[str, Any] | None:
    """The repository's dashboard issue: the stored one if it still is ours, else the oldest
    issue of the bot user carrying the marker; None when there is none."""
    if number is not None:
        try:
            item = get_optional(gh, f"/repos/{owner}/{repo}/issues/{number}")
        except RequestFailed as exc:
            if exc.response.status_code != 410:  # 410: deleted; look for another
                raise
            item = None
        if is_own(item, author):
            assert isinstance(item, dict)
            return item
    candidates = [
        item
        for item in get_pages(
            gh,
            f"/repos/{owner}/{repo}/issues",
            {"state": "all", "creator": author.login, "direction": "asc"},
        )
        if is_own(item, author)
    ]
    return min(candidates, key=lambda item: int(item["number"]), default=None)


def default_branch_policy(
    gh: InstallationClient, owner: str, repo: str, context: JobContext
) -> Policy | None:
    """The policy of the default branch (or the organisation's), None without a usable one."""
    found = fetch_objects(gh, policy_source.wants(owner, repo, "HEAD"))
    lookup = policy_source.resolve(
        gh,
        owner,
        repo,
        "HEAD",
        found,
        settings=context.settings,
    )
    return lookup.policy.policy if lookup.policy is not None else None


def collect(
    context: JobContext, installation_id: int, repository: str, policy: Policy | None = None
) -> DashboardData:
    """What the issue shows, from the store (the consolidation section when the policy runs a
    campaign or batches exist)."""
    engine = context.engine
    now = db.utcnow()
    samples = history.trend_samples(engine, installation_id, repository, now=now)
    latest = samples[-1] if samples else None
    badge = dashboards.badge_repo(engine, installation_id, repository, now=now)
    return DashboardData(
        repository=repository,
        trends=trends(samples, now=now),
        breakdown=latest.breakdown if latest is not None else {},
        decisions=history.recent_decisions(engine, installation_id, repository, limit=DECISIONS),
        badges=Badges(
            base_url=context.settings.public_url,
            key=badge.key if badge.needs_key else None,
        ),
        campaign=campaign_section(engine, installation_id, repository, policy),
        commit_sha=latest.commit_sha if latest is not None else None,
        committed_at=latest.committed_at if latest is not None else None,
        now=now,
    )


def campaign_section(
    engine: Engine, installation_id: int, repository: str, policy: Policy | None
) -> str | None:
    """The consolidation pull requests' part of the issue (with a checkbox per proposed
    batch, :mod:`bot.store.campaign_section`), when there is a campaign to show."""
    view = campaigns.dashboard(engine, installation_id, repository)
    running = policy is not None and policy.campaign.enabled
    if not running and not (view.open or view.proposed or view.merged or view.closed):
        return None
    return render_section(view)
