"""``issues``: a checkbox ticked on the dashboard issue asks for a consolidation batch."""

from __future__ import annotations

import logging

from githubkit.exception import RequestFailed

from bot.campaigns import lifecycle
from bot.github.api import installation_client
from bot.store.campaign_section import ticked
from bot.work import JobContext, WebhookEvent

log = logging.getLogger(__name__)

WRITERS = frozenset({"admin", "maintain", "write"})


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
    try:
        permission = gh.rest.repos.get_collaborator_permission_level(owner, repo, login).parsed_data
    except RequestFailed as exc:
        if exc.response.status_code != 404:
            raise
        log.info("%s: %s ticked %s without access", event.repository, login, batch_ids)
        return
    if (
        permission.permission not in WRITERS
        and getattr(permission, "role_name", None) not in WRITERS
    ):
        log.info(
            "%s: %s may not ask for batches (%s)", event.repository, login, permission.permission
        )
        return
    lifecycle.batches_ticked(
        context, event.installation_id, event.repository, batch_ids, int(issue["number"])
    )
