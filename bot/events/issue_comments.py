"""``issue_comment``: an ``/ssot ...`` command in a pull request's comment."""

from __future__ import annotations

from bot.commands.parse import parse_command
from bot.events import route
from bot.work import CheckRequest, JobContext, WebhookEvent


def comment_created(event: WebhookEvent, context: JobContext) -> None:
    """A new comment: act on an ``/ssot`` command on a pull request; on an issue (the
    dashboard issue) only ``/ssot consolidate`` is a command."""
    issue = event.payload["issue"]
    comment = event.payload["comment"]
    sender = event.payload.get("sender") or {}
    if sender.get("type") == "Bot":
        return  # never answer a bot (nor ourselves)
    command = parse_command(comment.get("body"))
    if command is None:
        return
    if not issue.get("pull_request") and command.name != "consolidate":
        return  # commands about a pull request live on pull requests
    assert event.installation_id is not None and event.repository is not None
    route.run_check_request(
        CheckRequest(
            installation_id=event.installation_id,
            repository=event.repository,
            pull_number=int(issue["number"]),
            head_sha=None,
            reason=f"command.{command.name}",
            delivery_id=event.delivery_id,
            sender=event.sender,
            command=command.name,
            command_argument=command.argument,
            comment_id=int(comment["id"]),
            event=event,
        ),
        context,
    )
