"""Pushes: a push to the default branch refreshes the repository's totals and regenerates
the consolidation batches whose files it changed."""

from __future__ import annotations

from bot.campaigns import lifecycle
from bot.checks import repo_totals
from bot.work import JobContext, WebhookEvent


def push(event: WebhookEvent, context: JobContext) -> None:
    """Re-count the default branch (tags, other branches and deletions change nothing)."""
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
        return
    full_name = str(repository.get("full_name") or event.repository)
    repo_totals.refresh(context, event.installation_id, full_name, after)
    lifecycle.default_branch_moved(context, event.installation_id, full_name)
