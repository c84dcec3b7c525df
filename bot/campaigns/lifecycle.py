"""What GitHub tells about batch pull requests and the default branch, applied to campaigns.

Called by the webhook handlers of ``bot/events/``: a batch merged or closed, reopened by a
person, the default branch moved (open batches are regenerated), a checkbox ticked on the
dashboard issue.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.campaigns.run import Ask, Outcome, record_closed, run_campaign
from bot.store import campaigns as store
from bot.store import db
from bot.work import JobContext

log = logging.getLogger(__name__)


def pull_closed(
    context: JobContext,
    installation_id: int,
    repository: str,
    pull: dict[str, Any],
    sender: dict[str, Any],
) -> bool:
    """``pull_request.closed``: record a batch merged, or closed by a person; False when the
    pull request is no batch."""
    row = store.batch_for_pull(context.engine, installation_id, repository, int(pull["number"]))
    if row is None:
        return False
    merged = bool(pull.get("merged"))
    by_person = sender.get("type") != "Bot"
    record_closed(context, installation_id, repository, row, merged, by_person)
    return True


def pull_reopened(context: JobContext, installation_id: int, repository: str, number: int) -> bool:
    """``pull_request.reopened`` by a person: the batch is open again (and kept current)."""
    row = store.batch_for_pull(context.engine, installation_id, repository, number)
    if row is None or row.state != "closed":
        return False
    now = db.utcnow()
    store.save_batch(
        context.engine, row.but(state="open", closed_by_human=False, closed_at=None, updated_at=now)
    )
    return True


def default_branch_moved(
    context: JobContext, installation_id: int, repository: str
) -> Outcome | None:
    """A push to the default branch: regenerate the open batches whose files it changed.

    A repository without open batches only gets its next look brought forward (its policy
    may have changed): the sweep reads it soon.
    """
    engine = context.engine
    state = store.get_repo(engine, installation_id, repository)
    if state is not None:
        now = db.utcnow()
        if state.next_check_at is None or state.next_check_at > now:
            store.save_repo(engine, state.but(next_check_at=now, updated_at=now))
    if not store.batches(engine, installation_id, repository, ["open"]):
        return None
    return run_campaign(context, installation_id, repository, reason="push")


def batches_ticked(
    context: JobContext, installation_id: int, repository: str, batch_ids: list[str], issue: int
) -> Outcome:
    """Checkboxes ticked on the dashboard issue: open those batches (within the limits)."""
    return run_campaign(
        context,
        installation_id,
        repository,
        reason="checkbox",
        ask=Ask(batch_ids=tuple(batch_ids)),
        dashboard_issue=issue,
    )
