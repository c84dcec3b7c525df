"""``check_run``: the "Re-run" link and the buttons of our check run."""

from __future__ import annotations

from bot.events import route
from bot.work import CheckRequest, JobContext, WebhookEvent


def _check_run_requests(event: WebhookEvent, *, reason: str) -> list[CheckRequest]:
    check_run = event.payload["check_run"]
    assert event.installation_id is not None and event.repository is not None
    action = (event.payload.get("requested_action") or {}).get("identifier")
    pulls = check_run.get("pull_requests") or [{"number": None}]  # a fork's PR: none listed
    return [
        CheckRequest(
            installation_id=event.installation_id,
            repository=event.repository,
            pull_number=int(pull["number"]) if pull.get("number") is not None else None,
            head_sha=str(check_run["head_sha"]),
            reason=reason,
            delivery_id=event.delivery_id,
            sender=event.sender,
            requested_action=action,
            event=event,
        )
        for pull in pulls
    ]


def check_run_rerequested(event: WebhookEvent, context: JobContext) -> None:
    """The check run's "Re-run" link: the same as ``/ssot rescan``."""
    for request in _check_run_requests(event, reason="check_run.rerequested"):
        route.run_check_request(request, context)


def check_run_requested_action(event: WebhookEvent, context: JobContext) -> None:
    """A button of our check run (e.g. "Fix"): its identifier is ``requested_action``."""
    for request in _check_run_requests(event, reason="check_run.requested_action"):
        route.run_check_request(request, context)
