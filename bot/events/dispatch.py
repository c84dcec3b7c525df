"""The dispatch table: every webhook event the App handles, one line each.

A handler is ``handler(event: WebhookEvent, context: JobContext) -> None``. It runs in a job
(never in the webhook request); raising makes the delivery retry with back-off. A delivery
whose ``(event, action)`` is not in :data:`DISPATCH` is acknowledged, stored as ``ignored``
(without its body) and never processed. To handle a new event, write the function in the
module of its event and add one line here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.events import (
    check_runs,
    check_suites,
    installations,
    issue_comments,
    issues,
    pull_requests,
    pushes,
)
from bot.work import Handler

DISPATCH: Mapping[tuple[str, str | None], Handler] = MappingProxyType(
    {
        # (X-GitHub-Event, payload["action"]): handler; action None for events without one.
        ("installation", "created"): installations.installation_created,
        ("installation", "deleted"): installations.installation_deleted,
        ("installation", "suspend"): installations.installation_suspended,
        ("installation", "unsuspend"): installations.installation_suspended,
        ("installation_repositories", "added"): installations.repositories_changed,
        ("installation_repositories", "removed"): installations.repositories_changed,
        ("pull_request", "opened"): pull_requests.pull_request_changed,
        ("pull_request", "reopened"): pull_requests.pull_request_changed,
        ("pull_request", "synchronize"): pull_requests.pull_request_changed,
        ("pull_request", "ready_for_review"): pull_requests.pull_request_changed,
        ("pull_request", "edited"): pull_requests.pull_request_edited,
        ("pull_request", "closed"): pull_requests.pull_request_closed,
        ("issues", "edited"): issues.issue_edited,
        ("check_suite", "rerequested"): check_suites.check_suite_rerequested,
        ("issue_comment", "created"): issue_comments.comment_created,
        ("issues", "closed"): issues.issue_closed,
        ("issues", "reopened"): issues.issue_reopened,
        ("check_run", "rerequested"): check_runs.check_run_rerequested,
        ("check_run", "requested_action"): check_runs.check_run_requested_action,
        ("push", None): pushes.push,
    }
)


def find_handler(event: str, action: str | None) -> Handler | None:
    """The handler of ``(event, action)``, or None: such deliveries are ignored."""
    return DISPATCH.get((event, action))
