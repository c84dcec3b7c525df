"""The gate's decisions, recorded for the dashboard: blocked, passed, accepted.

The pipeline records ``blocked`` or ``passed`` for each head it completes, ``/ssot accept``
records ``accepted`` (who, why, where). A blocked pull request or an accepted finding also
asks for the repository's dashboard issue to be brought up to date, when its policy has one;
so does a change of its consolidation pull requests (:func:`dashboard_changed`).
"""

from __future__ import annotations

import datetime as dt
import logging

from analyzers.policy import Policy
from bot.store import dashboards, db, history
from bot.work import JobContext

log = logging.getLogger(__name__)

MAX_REASON = 1_000


def record(
    context: JobContext,
    *,
    installation_id: int,
    repository: str,
    pr: int,
    head_sha: str,
    outcome: history.Outcome,
    user: str,
    reason: str,
    url: str,
    policy: Policy | None,
) -> bool:
    """Record a decision (once per PR, head, outcome and user); True when it is new."""
    now = db.utcnow()
    new = history.record_decision(
        context.engine,
        history.PullDecision(
            installation_id=installation_id,
            repo=repository,
            pr=pr,
            head_sha=head_sha,
            outcome=outcome,
            user=user,
            reason=reason[:MAX_REASON],
            url=url,
            at=now,
        ),
    )
    if new and outcome != "passed" and policy is not None and policy.dashboard.issue:
        dashboards.request_update(
            context.engine,
            installation_id,
            repository,
            now=now,
            debounce=dt.timedelta(seconds=context.settings.dashboard_debounce_seconds),
        )
    return new


def dashboard_changed(context: JobContext, installation_id: int, repository: str) -> None:
    """Something the dashboard issue shows changed (a consolidation batch's check, a batch
    opened, merged or closed): ask for an update when the repository has the issue."""
    if dashboards.get_dashboard(context.engine, installation_id, repository) is None:
        return
    dashboards.request_update(
        context.engine,
        installation_id,
        repository,
        now=db.utcnow(),
        debounce=dt.timedelta(seconds=context.settings.dashboard_debounce_seconds),
    )
