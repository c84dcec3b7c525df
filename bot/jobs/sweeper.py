"""Catching up on what was missed: failed webhook deliveries and unchecked open pull requests.

GitHub does not retry a failed delivery (no 2xx within 10 seconds, the App down, a 5xx):
:func:`redeliver_failed` lists the App's recent deliveries (``GET /app/hook/deliveries``, App
JWT, kept 3 days) and asks GitHub once per GUID to deliver again each failed one that the
App never stored. :func:`reconcile_open_pulls` is the safety net behind it: an open pull
request whose head has no completed "SSOT guard" check run is checked now.

Both run as Huey periodic tasks (bot.jobs.queue) and may be called directly (tests, operators).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from githubkit.exception import RequestFailed
from sqlalchemy.engine import Engine

from bot.checks import pipeline
from bot.checks.render import CHECK_NAME
from bot.github import api
from bot.github.throttle import RateLimited
from bot.ops.settings import Settings
from bot.store import db, deliveries, installations
from bot.work import CheckRequest, JobContext, RetryLater

log = logging.getLogger(__name__)

DELIVERY_WINDOW = dt.timedelta(days=3)  # how long GitHub keeps deliveries
MAX_DELIVERY_PAGES = 50  # 100 deliveries a page: an upper bound on one sweep's reading
MAX_PULLS_PER_SWEEP = 200  # checks run by one reconcile sweep (the rest wait for the next)


@dataclasses.dataclass(frozen=True)
class HookDelivery:
    """One attempt at a delivery, as ``GET /app/hook/deliveries`` lists it."""

    id: int
    guid: str
    status: str
    status_code: int
    delivered_at: dt.datetime | None
    installation_id: int | None

    @property
    def failed(self) -> bool:
        return self.status_code >= 400 or self.status != "OK"


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def _hook_delivery(item: dict[str, Any]) -> HookDelivery | None:
    try:
        installation = item.get("installation_id")
        return HookDelivery(
            id=int(item["id"]),
            guid=str(item["guid"]),
            status=str(item.get("status") or ""),
            status_code=int(item.get("status_code") or 0),
            delivered_at=_parse_time(item.get("delivered_at")),
            installation_id=int(installation) if installation is not None else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def list_hook_deliveries(settings: Settings, *, since: dt.datetime) -> Iterator[HookDelivery]:
    """The App's delivery attempts, newest first, back to ``since`` (cursor pagination)."""
    gh = api.app_client(settings)
    next_url: str | None = "/app/hook/deliveries"
    query: dict[str, Any] | None = {"per_page": 100}
    for _ in range(MAX_DELIVERY_PAGES):
        if next_url is None:
            return
        response = gh.request("GET", next_url, params=query)
        page = response.json()
        if not isinstance(page, list):
            return
        for item in page:
            delivery = _hook_delivery(item) if isinstance(item, dict) else None
            if delivery is None:
                continue
            if delivery.delivered_at is not None and delivery.delivered_at < since:
                return  # newest first: everything after this is older still
            yield delivery
        link = response.raw_response.links.get("next")
        next_url = link.get("url") if link else None
        query = None  # the next link carries the cursor
    log.warning("redeliver: stopped after %d pages of deliveries", MAX_DELIVERY_PAGES)


def redeliver_failed(
    settings: Settings, engine: Engine, since: dt.datetime | None = None
) -> list[str]:
    """Ask GitHub to deliver again each failed delivery since ``since`` the App never stored.

    A GUID is skipped when any of its attempts succeeded, when it is in the deliveries table
    (it reached us: the job's own retries take it from there), or when it was re-requested
    before (``redelivery_requests``: once per GUID, even if the redelivery fails too).
    Returns the GUIDs re-requested.
    """
    now = db.utcnow()
    since = since if since is not None else now - DELIVERY_WINDOW
    latest: dict[str, HookDelivery] = {}  # per GUID, its newest attempt
    succeeded: set[str] = set()
    for delivery in list_hook_deliveries(settings, since=since):
        if not delivery.failed:
            succeeded.add(delivery.guid)
        latest.setdefault(delivery.guid, delivery)
    candidates = [g for g in latest if g not in succeeded]
    stored = deliveries.known_delivery_ids(engine, candidates)
    gh = api.app_client(settings)
    requested: list[str] = []
    for guid in reversed(candidates):  # oldest first
        if guid in stored:
            continue
        attempt = latest[guid]
        if not deliveries.claim_redelivery(
            engine,
            guid,
            hook_delivery_id=attempt.id,
            installation_id=attempt.installation_id,
            now=now,
        ):
            continue  # re-requested before
        try:
            gh.request("POST", f"/app/hook/deliveries/{attempt.id}/attempts")
        except RequestFailed as exc:
            if exc.response.status_code in (404, 410, 422):
                log.warning("redeliver %s: GitHub refused (%s)", guid, exc.response.status_code)
                continue  # gone or not redeliverable: do not ask again
            deliveries.release_redelivery(engine, guid)  # transient: the next sweep asks again
            raise
        except Exception:
            deliveries.release_redelivery(engine, guid)
            raise
        requested.append(guid)
    if requested:
        log.info("asked GitHub to redeliver %d failed delivery(ies)", len(requested))
    return requested


def _has_completed_check(gh: api.InstallationClient, repository: str, sha: str) -> bool:
    data = api.get_optional(
        gh,
        f"/repos/{repository}/commits/{sha}/check-runs",
        {"check_name": CHECK_NAME, "filter": "all", "per_page": 100},
    )
    if data is None:
        return True  # the commit is gone: nothing to check
    runs = data.get("check_runs") or []
    return any(r.get("name") == CHECK_NAME and r.get("status") == "completed" for r in runs)


def reconcile_open_pulls(settings: Settings, context: JobContext) -> list[tuple[str, int]]:
    """Check each open pull request whose head has no completed "SSOT guard" check run.

    For each stored installation (not suspended) and each repository it can see. One pull
    request's error is logged and does not stop the others. Returns ``(repository, number)``
    of each pull request checked.
    """
    checked: list[tuple[str, int]] = []
    for installation in installations.list_installations(context.engine):
        if installation.suspended_at is not None:
            continue
        try:
            _reconcile_installation(settings, context, installation.id, checked)
        except RetryLater as exc:  # rate limited: the next sweep comes back to it
            log.warning("reconcile: installation %s postponed: %s", installation.id, exc)
        if len(checked) >= MAX_PULLS_PER_SWEEP:
            break
    if checked:
        log.info("reconcile: checked %d open pull request(s) without a check run", len(checked))
    return checked


def _reconcile_installation(
    settings: Settings, context: JobContext, installation_id: int, checked: list[tuple[str, int]]
) -> None:
    try:
        gh = api.installation_client(settings, installation_id, engine=context.engine)
        repos = api.get_pages(gh, "/installation/repositories", key="repositories")
    except RequestFailed as exc:
        log.warning("reconcile: installation %s unreadable: %s", installation_id, exc)
        return
    for repo in repos:
        repository = str(repo["full_name"])
        try:
            pulls = api.get_pages(gh, f"/repos/{repository}/pulls", {"state": "open"})
        except RequestFailed as exc:
            log.warning("reconcile: %s: pulls unreadable: %s", repository, exc)
            continue
        for pull in pulls:
            if len(checked) >= MAX_PULLS_PER_SWEEP:
                return
            number, sha = int(pull["number"]), str(pull["head"]["sha"])
            try:
                if _has_completed_check(gh, repository, sha):
                    continue
                pipeline.check_pull_request(
                    CheckRequest(
                        installation_id=installation_id,
                        repository=repository,
                        pull_number=number,
                        head_sha=sha,
                        reason="reconcile",
                        delivery_id=f"reconcile:{installation_id}:{repository}#{number}",
                    ),
                    context,
                )
            except RateLimited:
                raise  # the whole installation waits
            except Exception:  # this pull request's error, or its lock busy: the next one
                log.exception("reconcile: %s#%s failed", repository, number)
                continue
            checked.append((repository, number))
