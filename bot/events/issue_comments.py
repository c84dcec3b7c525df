"""Commands: ``/ssot ...`` in a PR comment, and the check run's buttons."""

from __future__ import annotations

from dataclasses import dataclass

from bot import pipeline
from bot.events import CheckRequest, JobContext, WebhookEvent

PREFIX = "/ssot"


@dataclass(frozen=True)
class Command:
    name: str  # "rescan", "explain", "fix", "accept", "help"; "help" when absent
    argument: str  # the rest of the line


def parse_command(body: str | None) -> Command | None:
    """The first ``/ssot <name> [argument]`` line of a comment, or None.

    >>> parse_command("LGTM\\n/ssot accept legacy client, removed in #12")
    Command(name='accept', argument='legacy client, removed in #12')
    """
    for line in (body or "").splitlines():
        words = line.strip().split(maxsplit=2)
        if not words or words[0].lower() != PREFIX:
            continue
        name = words[1].lower() if len(words) > 1 else "help"
        return Command(name=name, argument=words[2].strip() if len(words) > 2 else "")
    return None


def comment_created(event: WebhookEvent, context: JobContext) -> None:
    """A new comment: act on an ``/ssot`` command on a pull request (not on an issue)."""
    issue = event.payload["issue"]
    comment = event.payload["comment"]
    sender = event.payload.get("sender") or {}
    if not issue.get("pull_request") or sender.get("type") == "Bot":
        return  # commands live on PRs; never answer a bot (nor ourselves)
    command = parse_command(comment.get("body"))
    if command is None:
        return
    assert event.installation_id is not None and event.repository is not None
    pipeline.run_pull_request_check(
        CheckRequest(
            installation_id=event.installation_id,
            repository=event.repository,
            pull_number=int(issue["number"]),
            head_sha=None,
            reason=f"command.{command.name}",
            delivery_id=event.delivery_id,
            sender=sender.get("login"),
            command=command.name,
            command_argument=command.argument,
            comment_id=int(comment["id"]),
            event=event,
        ),
        context,
    )


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
            sender=(event.payload.get("sender") or {}).get("login"),
            requested_action=action,
            event=event,
        )
        for pull in pulls
    ]


def check_run_rerequested(event: WebhookEvent, context: JobContext) -> None:
    """The check run's "Re-run" link: the same as ``/ssot rescan``."""
    for request in _check_run_requests(event, reason="check_run.rerequested"):
        pipeline.run_pull_request_check(request, context)


def check_run_requested_action(event: WebhookEvent, context: JobContext) -> None:
    """A button of our check run (e.g. "Fix"): its identifier is ``requested_action``."""
    for request in _check_run_requests(event, reason="check_run.requested_action"):
        pipeline.run_pull_request_check(request, context)
