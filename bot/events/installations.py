"""Installation events: keep the ``installations`` table in step with GitHub.

An installation is the App on one account (user or organisation), on all its repositories or
on a selection. Each repository it gains gets its history backfilled at low priority
(:mod:`bot.progress.backfill`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from bot.progress import backfill
from bot.store import db, installations
from bot.work import JobContext, WebhookEvent

log = logging.getLogger(__name__)


def _names(repositories: list[dict[str, Any]] | None) -> list[str]:
    return [str(repo["full_name"]) for repo in repositories or [] if "full_name" in repo]


def _timestamp(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def _save(event: WebhookEvent, context: JobContext, *, with_repositories: bool) -> None:
    installation = event.payload["installation"]
    installations.save_installation(
        context.engine,
        int(installation["id"]),
        account=str(installation["account"]["login"]),
        repository_selection=installation.get("repository_selection"),
        repositories=_names(event.payload.get("repositories")) if with_repositories else None,
        suspended_at=_timestamp(installation.get("suspended_at")),
        now=db.utcnow(),
    )


def installation_created(event: WebhookEvent, context: JobContext) -> None:
    """The App was installed: remember the account and its repositories, and queue the
    backfill of their history."""
    _save(event, context, with_repositories=True)
    installation_id = int(event.payload["installation"]["id"])
    backfill.request_backfills(context, installation_id, event.payload.get("repositories") or [])
    log.info(
        "installed on %s (installation %s)",
        event.payload["installation"]["account"]["login"],
        event.installation_id,
    )


def installation_deleted(event: WebhookEvent, context: JobContext) -> None:
    """The App was uninstalled: forget the installation and every row of it (tenant data)."""
    installations.delete_installation(
        context.engine,
        int(event.payload["installation"]["id"]),
        keep_delivery=context.delivery_id,
    )
    log.info("uninstalled (installation %s)", event.installation_id)


def installation_suspended(event: WebhookEvent, context: JobContext) -> None:
    """Suspended (``suspend``) or resumed (``unsuspend``): GitHub refuses our tokens meanwhile."""
    _save(event, context, with_repositories=False)


def repositories_changed(event: WebhookEvent, context: JobContext) -> None:
    """Repositories were added to or removed from an installation (added ones get their
    history backfilled)."""
    added = _names(event.payload.get("repositories_added"))
    removed = _names(event.payload.get("repositories_removed"))
    installation_id = int(event.payload["installation"]["id"])
    backfill.request_backfills(
        context, installation_id, event.payload.get("repositories_added") or []
    )
    backfill.forget_backfills(context, installation_id, removed)
    if not installations.change_repositories(
        context.engine, installation_id, added=added, removed=removed, now=db.utcnow()
    ):
        # Installed before this App kept state (or its `created` was lost): start from here.
        _save(event, context, with_repositories=False)
        installations.change_repositories(
            context.engine, installation_id, added=added, removed=removed, now=db.utcnow()
        )
