"""What a webhook handler receives, and what it hands to the pull-request pipeline."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from bot.ops.settings import Settings
from bot.store import db, deliveries
from bot.store.deliveries import Delivery


@dataclass(frozen=True)
class WebhookEvent:
    """One stored delivery, parsed: what GitHub said happened."""

    delivery_id: str
    name: str  # X-GitHub-Event: "pull_request", "issue_comment", ...
    action: str | None  # payload["action"]; None for events without one (push)
    installation_id: int | None
    repository: str | None  # "owner/name"
    payload: dict[str, Any]

    @property
    def sender(self) -> str | None:
        """Login of who caused the event (``payload["sender"]``), when GitHub says."""
        login = (self.payload.get("sender") or {}).get("login")
        return str(login) if login else None

    @classmethod
    def from_delivery(cls, delivery: Delivery) -> WebhookEvent:
        payload = json.loads(delivery.body or b"{}")
        return cls(
            delivery_id=delivery.id,
            name=delivery.event,
            action=delivery.action,
            installation_id=delivery.installation_id,
            repository=delivery.repository,
            payload=payload if isinstance(payload, dict) else {},
        )


@dataclass(frozen=True)
class JobContext:
    """What a job may use: the settings and the database of the process running it, and
    the claim on the delivery being processed."""

    settings: Settings
    engine: Engine
    delivery_id: str | None = None
    attempt: int = 0  # the claim's token (see bot.store.db.claim_delivery)

    def renew_lease(self, seconds: float | None = None) -> bool:
        """Tell the sweeper this job is alive for ``seconds`` more (default: a full lease).

        A job longer than ``SSOT_JOB_LEASE_SECONDS`` must call this now and then, or another
        worker takes the delivery over. False when the claim was already lost: stop then.
        """
        if self.delivery_id is None:
            return True
        until = db.utcnow() + dt.timedelta(
            seconds=self.settings.job_lease_seconds if seconds is None else seconds
        )
        return deliveries.renew_lease(self.engine, self.delivery_id, self.attempt, until=until)


class RetryLater(RuntimeError):
    """Not now, and not the job's fault: run the delivery again at ``at``.

    Raised when GitHub asked us to wait (a rate limit), or another job holds what this one
    needs (a pull request's lock). The job is postponed without counting as a failed
    attempt, so a busy day never exhausts ``SSOT_JOB_MAX_ATTEMPTS``.
    """

    def __init__(self, message: str, *, at: dt.datetime) -> None:
        super().__init__(message)
        self.at = at


Handler = Callable[[WebhookEvent, JobContext], None]
"""A webhook handler. Runs in a job (not in the request); raising makes the job retry."""


@dataclass(frozen=True)
class CheckRequest:
    """Why and where to (re)check a pull request: the input of the pipeline.

    ``pull_number`` is None when GitHub did not say (a check run of a fork's PR lists no pull
    requests): the pipeline finds the PR from ``head_sha``. ``head_sha`` is None when the
    trigger is a comment: the pipeline uses the PR's current head.
    """

    installation_id: int
    repository: str  # "owner/name" of the base repository
    pull_number: int | None
    head_sha: str | None
    reason: str  # "pull_request.opened", "command.rescan", "check_run.rerequested", ...
    delivery_id: str
    sender: str | None = None  # login of who caused it
    command: str | None = None  # "/ssot <command>": rescan, explain, fix, accept, help, ...
    command_argument: str = ""  # the rest of the command line (a rule code, a reason)
    comment_id: int | None = None  # the comment holding the command (to react to it)
    requested_action: str | None = None  # a check run button's identifier
    event: WebhookEvent | None = field(default=None, compare=False, repr=False)
