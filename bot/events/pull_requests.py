"""``pull_request``: (re)check the PR's head against its base."""

from __future__ import annotations

from typing import Any

from bot.campaigns import lifecycle
from bot.checks import decisions
from bot.events import route
from bot.work import CheckRequest, JobContext, WebhookEvent


def _base_repository(event: WebhookEvent, pull_request: dict[str, Any]) -> str:
    # The base repository, never a fork's: the baseline and the policy live there.
    base_repo = (pull_request.get("base") or {}).get("repo") or {}
    return str(base_repo.get("full_name") or event.repository)


def pull_request_changed(event: WebhookEvent, context: JobContext) -> None:
    """opened, reopened, synchronize (new commits), ready_for_review: check the head."""
    pull_request = event.payload["pull_request"]
    assert event.installation_id is not None
    if event.action == "reopened":
        # A consolidation batch a person closed, reopened by a person: open (and kept) again.
        lifecycle.pull_reopened(
            context,
            event.installation_id,
            _base_repository(event, pull_request),
            int(pull_request["number"]),
        )
    route.run_check_request(
        CheckRequest(
            installation_id=event.installation_id,
            repository=_base_repository(event, pull_request),
            pull_number=int(pull_request["number"]),
            head_sha=str(pull_request["head"]["sha"]),
            reason=f"pull_request.{event.action}",
            delivery_id=event.delivery_id,
            sender=event.sender,
            event=event,
        ),
        context,
    )


def pull_request_edited(event: WebhookEvent, context: JobContext) -> None:
    """edited: a new base branch means a new baseline; a new title or body changes nothing."""
    if "base" in (event.payload.get("changes") or {}):
        pull_request_changed(event, context)


def pull_request_closed(event: WebhookEvent, context: JobContext) -> None:
    """closed: a consolidation batch merged, or closed by a person (never proposed again)."""
    pull_request = event.payload["pull_request"]
    assert event.installation_id is not None
    repository = _base_repository(event, pull_request)
    lifecycle.pull_closed(
        context, event.installation_id, repository, pull_request, event.payload.get("sender") or {}
    )
    decisions.dashboard_changed(context, event.installation_id, repository)
