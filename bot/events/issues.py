"""Issue events: the dashboard issue's checkboxes, and who may stop its updates.

- ``edited``: a checkbox ticked on the dashboard issue asks for a consolidation batch
  (:mod:`bot.campaigns`), for a person with write access;
- ``closed`` by a person (anyone but the App's bot user): the dashboard issue's updates stop;
- ``reopened``: they resume, the first as soon as the debounce allows
  (:mod:`bot.progress.dashboard_issue`).

Only the repository's own dashboard issue counts for closing and reopening (the number the App
stored when it created or found it).
"""

from __future__ import annotations

import logging

from bot.campaigns import lifecycle
from bot.checks import decisions
from bot.commands.replies import can_write
from bot.github.api import app_bot_login, collaborator_permission, installation_client
from bot.progress import dashboard_issue
from bot.store import dashboards, db
from bot.store.campaign_section import ticked
from bot.work import JobContext, WebhookEvent

log = logging.getLogger(__name__)


def issue_edited(event: WebhookEvent, context: JobContext) -> None:
    """edited: the batches whose checkbox the edit ticked are opened, for a person with write
    access (the collaborator permission API; the App's own edits are ignored)."""
    payload = event.payload
    sender = payload.get("sender") or {}
    if sender.get("type") == "Bot" or event.installation_id is None or not event.repository:
        return
    before = ((payload.get("changes") or {}).get("body") or {}).get("from")
    issue = payload.get("issue") or {}
    batch_ids = ticked(before, issue.get("body"))
    if not batch_ids:
        return
    login = str(sender.get("login") or "")
    owner, repo = event.repository.split("/", 1)
    gh = installation_client(context.settings, event.installation_id, engine=context.engine)
    permission, role = collaborator_permission(gh, owner, repo, login)
    if not can_write(permission, role):
        log.info("%s: %s may not ask for batches (%s)", event.repository, login, permission)
        return
    lifecycle.batches_ticked(
        context, event.installation_id, event.repository, batch_ids, int(issue["number"])
    )
    decisions.dashboard_changed(context, event.installation_id, event.repository)


def _dashboard_of(event: WebhookEvent, context: JobContext) -> dashboards.DashboardIssue | None:
    """The stored dashboard issue the event is about, if it is about one."""
    issue = event.payload.get("issue") or {}
    repository = (event.payload.get("repository") or {}).get("full_name") or event.repository
    if event.installation_id is None or not repository or "pull_request" in issue:
        return None
    stored = dashboards.get_dashboard(context.engine, event.installation_id, str(repository))
    if stored is None or stored.issue_number is None:
        return None
    return stored if stored.issue_number == issue.get("number") else None


def issue_closed(event: WebhookEvent, context: JobContext) -> None:
    """Closed by a person (anyone but the App's bot user): no more updates."""
    stored = _dashboard_of(event, context)
    if stored is None:
        return
    sender = event.sender or "someone"
    if sender.lower() == app_bot_login(context.settings).lower():
        return
    dashboards.mark_closed(
        context.engine, stored.installation_id, stored.repo, by=sender, now=db.utcnow()
    )
    log.info("%s: dashboard issue closed by %s: updates stop", stored.repo, sender)


def issue_reopened(event: WebhookEvent, context: JobContext) -> None:
    """Reopened: updates resume, the first as soon as the debounce allows."""
    stored = _dashboard_of(event, context)
    if stored is None:
        return
    dashboards.mark_reopened(context.engine, stored.installation_id, stored.repo, now=db.utcnow())
    dashboard_issue.request(context, stored.installation_id, stored.repo)
    log.info("%s: dashboard issue reopened by %s: updates resume", stored.repo, event.sender)
