"""``check_suite``: "Re-run all checks" on a commit."""

from __future__ import annotations

from bot.events import route
from bot.work import CheckRequest, JobContext, WebhookEvent


def check_suite_rerequested(event: WebhookEvent, context: JobContext) -> None:
    """ "Re-run all checks": check each PR of the suite's head again."""
    suite = event.payload["check_suite"]
    assert event.installation_id is not None and event.repository is not None
    pulls = suite.get("pull_requests") or [{"number": None}]
    for pull in pulls:
        route.run_check_request(
            CheckRequest(
                installation_id=event.installation_id,
                repository=event.repository,
                pull_number=int(pull["number"]) if pull.get("number") is not None else None,
                head_sha=str(suite["head_sha"]),
                reason="check_suite.rerequested",
                delivery_id=event.delivery_id,
                sender=event.sender,
                event=event,
            ),
            context,
        )
