"""Pull-request events: (re)check the PR's head against its base."""

from __future__ import annotations

from typing import Any

from bot import pipeline
from bot.events import CheckRequest, JobContext, WebhookEvent


def _sender(event: WebhookEvent) -> str | None:
    sender = event.payload.get("sender") or {}
    login = sender.get("login")
    return str(login) if login else None


def _base_repository(event: WebhookEvent, pull_request: dict[str, Any]) -> str:
    # The base repository, never a fork's: the baseline and the policy live there.
    base_repo = (pull_request.get("base") or {}).get("repo") or {}
    return str(base_repo.get("full_name") or event.repository)


def pull_request_changed(event: WebhookEvent, context: JobContext) -> None:
    """opened, reopened, synchronize (new commits), ready_for_review: check the head."""
    pull_request = event.payload["pull_request"]
    assert event.installation_id is not None
    pipeline.run_pull_request_check(
        CheckRequest(
            installation_id=event.installation_id,
            repository=_base_repository(event, pull_request),
            pull_number=int(pull_request["number"]),
            head_sha=str(pull_request["head"]["sha"]),
            reason=f"pull_request.{event.action}",
            delivery_id=event.delivery_id,
            sender=_sender(event),
            event=event,
        ),
        context,
    )


def pull_request_edited(event: WebhookEvent, context: JobContext) -> None:
    """edited: a new base branch means a new baseline; a new title or body changes nothing."""
    if "base" in (event.payload.get("changes") or {}):
        pull_request_changed(event, context)


def check_suite_rerequested(event: WebhookEvent, context: JobContext) -> None:
    """ "Re-run all checks": check each PR of the suite's head again."""
    suite = event.payload["check_suite"]
    assert event.installation_id is not None and event.repository is not None
    pulls = suite.get("pull_requests") or [{"number": None}]
    for pull in pulls:
        pipeline.run_pull_request_check(
            CheckRequest(
                installation_id=event.installation_id,
                repository=event.repository,
                pull_number=int(pull["number"]) if pull.get("number") is not None else None,
                head_sha=str(suite["head_sha"]),
                reason="check_suite.rerequested",
                delivery_id=event.delivery_id,
                sender=_sender(event),
                event=event,
            ),
            context,
        )
