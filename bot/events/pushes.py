"""Pushes: a push to the default branch refreshes the repository's totals, records them in
its history (:mod:`bot.progress.recorder`) and regenerates the consolidation batches whose
files it changed."""

from __future__ import annotations

from bot.campaigns import lifecycle
from bot.progress import recorder
from bot.work import JobContext, WebhookEvent


def push(event: WebhookEvent, context: JobContext) -> None:
    """Re-count the default branch and record a sample of it, then bring the consolidation
    batches up to date (tags, other branches and deletions change nothing)."""
    target = recorder.default_branch_push(event)
    if target is None:
        return
    assert event.installation_id is not None
    recorder.record_push(event, context)
    lifecycle.default_branch_moved(context, event.installation_id, target[0])
