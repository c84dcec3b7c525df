"""Webhook deliveries, the source of truth of every job, and redelivery requests.

A delivery is the source of truth for its job until it is marked done::

    queued --claim--> running --done--> done
      ^                  |
      |   error, attempts left (retry later)
      +------------------+--error, no attempts left--> failed
      +-- lease expired (the worker died) --+
    ignored: acknowledged, nothing to do (no handler, or not an App delivery)

``lease_until`` of a running delivery is when its claim lapses; of a queued one, when it is
due to be enqueued again if no worker took it (a lost queue, a retry's back-off).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.db import existing_values, insert_once
from bot.store.tables import (
    DONE,
    FAILED,
    IGNORED,
    MAX_ERROR_CHARS,
    QUEUED,
    RUNNING,
    STATES,
    deliveries,
    redelivery_requests,
)


@dataclass(frozen=True)
class NewDelivery:
    """A webhook delivery as received, before it is stored."""

    id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    body: bytes | None
    state: str = QUEUED
    error: str | None = None  # why it is ignored
    body_sha256: str | None = None  # of the raw body: one effect per body too


@dataclass(frozen=True)
class Delivery:
    """A stored delivery."""

    id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    received_at: dt.datetime
    body: bytes | None
    state: str
    attempts: int
    lease_until: dt.datetime | None
    error: str | None
    body_sha256: str | None = None


def _delivery(row: sa.Row[Any]) -> Delivery:
    return Delivery(**row._asdict())


def insert_delivery(
    engine: Engine, delivery: NewDelivery, *, now: dt.datetime, requeue_at: dt.datetime | None
) -> bool:
    """Store ``delivery``; False when a delivery with that id is already stored (a redelivery).

    ``requeue_at``: when a queued delivery that no worker has claimed is enqueued again.
    """
    values = {
        "id": delivery.id,
        "event": delivery.event,
        "action": delivery.action,
        "installation_id": delivery.installation_id,
        "repository": delivery.repository,
        "received_at": now,
        "body": delivery.body,
        "state": delivery.state,
        "attempts": 0,
        "lease_until": requeue_at if delivery.state == QUEUED else None,
        "error": delivery.error,
        "body_sha256": delivery.body_sha256,
    }
    # False for a stored id, and for a body stored under another id (a replay).
    return insert_once(engine, deliveries, **values)


def requeue_failed(engine: Engine, delivery_id: str, *, requeue_at: dt.datetime) -> bool:
    """A redelivery (same id) of a delivery that failed for good: give it fresh attempts.

    Returns False for any other state: done, ignored, queued and running keep one effect.
    """
    c = deliveries.c
    with engine.begin() as conn:
        return bool(
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.state == FAILED)
                .values(state=QUEUED, attempts=0, lease_until=requeue_at)
            ).rowcount
        )


def renew_lease(engine: Engine, delivery_id: str, attempt: int, *, until: dt.datetime) -> bool:
    """Keep claim ``attempt`` alive until ``until`` (a long job); False when it was lost."""
    c = deliveries.c
    with engine.begin() as conn:
        return bool(
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.state == RUNNING, c.attempts == attempt)
                .values(lease_until=until)
            ).rowcount
        )


def get_delivery(engine: Engine, delivery_id: str) -> Delivery | None:
    with engine.begin() as conn:
        row = conn.execute(deliveries.select().where(deliveries.c.id == delivery_id)).first()
    return None if row is None else _delivery(row)


def claim_delivery(
    engine: Engine,
    delivery_id: str,
    *,
    now: dt.datetime,
    lease_seconds: float,
    max_attempts: int,
) -> Delivery | None:
    """Take ``delivery_id`` for processing: queued, or running with an expired lease.

    Returns the claimed delivery (``attempts`` counts this claim and is the lease's token for
    :func:`mark_done` / :func:`mark_failed`), or None when it is done, ignored, failed or held
    by a live lease. A delivery whose worker died ``max_attempts`` times is marked failed.
    """
    c = deliveries.c
    claimable = sa.or_(c.state == QUEUED, sa.and_(c.state == RUNNING, c.lease_until < now))
    with engine.begin() as conn:
        claimed = conn.execute(
            deliveries.update()
            .where(c.id == delivery_id, claimable, c.attempts < max_attempts)
            .values(
                state=RUNNING,
                attempts=c.attempts + 1,
                lease_until=now + dt.timedelta(seconds=lease_seconds),
            )
        ).rowcount
        if not claimed:
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, claimable, c.attempts >= max_attempts)
                .values(
                    state=FAILED,
                    lease_until=None,
                    error=sa.func.coalesce(c.error, "")
                    + f"\ngave up after {max_attempts} attempts (lease expired: worker stopped?)",
                )
            )
            return None
        row = conn.execute(deliveries.select().where(c.id == delivery_id)).one()
    return _delivery(row)


def mark_done(engine: Engine, delivery_id: str, attempt: int) -> bool:
    """Record the job of claim ``attempt`` as done; False when that claim had been lost."""
    c = deliveries.c
    with engine.begin() as conn:
        return bool(
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.state == RUNNING, c.attempts == attempt)
                .values(state=DONE, lease_until=None, error=None)
            ).rowcount
        )


def mark_failed(
    engine: Engine, delivery_id: str, attempt: int, error: str, *, retry_at: dt.datetime | None
) -> bool:
    """Record a failed attempt: queued again for ``retry_at``, or failed for good when None."""
    c = deliveries.c
    values: dict[str, Any] = {"error": error[-MAX_ERROR_CHARS:]}
    if retry_at is None:
        values.update(state=FAILED, lease_until=None)
    else:
        values.update(state=QUEUED, lease_until=retry_at)
    with engine.begin() as conn:
        return bool(
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.state == RUNNING, c.attempts == attempt)
                .values(**values)
            ).rowcount
        )


def postpone(
    engine: Engine, delivery_id: str, attempt: int, reason: str, *, retry_at: dt.datetime
) -> bool:
    """Queue claim ``attempt`` again for ``retry_at`` without counting it as an attempt.

    For "not now" (a rate limit, a busy pull request), not for failures. False when the claim
    had been lost.
    """
    c = deliveries.c
    with engine.begin() as conn:
        return bool(
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.state == RUNNING, c.attempts == attempt)
                .values(
                    state=QUEUED,
                    attempts=c.attempts - 1,
                    lease_until=retry_at,
                    error=reason[-MAX_ERROR_CHARS:],
                )
            ).rowcount
        )


def deliveries_due(
    engine: Engine, *, now: dt.datetime, all_queued: bool = False, limit: int = 1000
) -> list[str]:
    """Ids of deliveries to enqueue again, oldest first.

    Running ones whose lease expired (their worker died), and queued ones due again (their
    ``lease_until`` passed) or, with ``all_queued`` (at start-up), every queued one.
    """
    c = deliveries.c
    queued = c.state == QUEUED
    if not all_queued:
        queued = sa.and_(queued, sa.or_(c.lease_until.is_(None), c.lease_until < now))
    expired = sa.and_(c.state == RUNNING, c.lease_until < now)
    query = (
        sa.select(c.id).where(sa.or_(queued, expired)).order_by(c.received_at, c.id).limit(limit)
    )
    with engine.begin() as conn:
        return list(conn.execute(query).scalars())


def postpone_requeue(engine: Engine, delivery_ids: Sequence[str], *, until: dt.datetime) -> None:
    """Just enqueued: do not enqueue these queued deliveries again before ``until``."""
    if not delivery_ids:
        return
    c = deliveries.c
    with engine.begin() as conn:
        conn.execute(
            deliveries.update()
            .where(c.id.in_(list(delivery_ids)), c.state == QUEUED)
            .values(lease_until=until)
        )


def busy_installations(engine: Engine, events: Iterable[str]) -> set[int]:
    """Installations that have a delivery of one of ``events`` queued or running (what
    low-priority work waits for)."""
    c = deliveries.c
    query = (
        sa.select(c.installation_id)
        .where(
            c.state.in_([QUEUED, RUNNING]),
            c.event.in_(list(events)),
            c.installation_id.is_not(None),
        )
        .distinct()
    )
    with engine.begin() as conn:
        return {int(i) for i in conn.execute(query).scalars()}


def count_deliveries(engine: Engine) -> dict[str, int]:
    """Number of stored deliveries per state (every state present, zero or more)."""
    c = deliveries.c
    with engine.begin() as conn:
        rows = conn.execute(sa.select(c.state, sa.func.count()).group_by(c.state)).all()
    counts = dict.fromkeys(STATES, 0)
    counts.update({state: int(n) for state, n in rows})
    return counts


# How the status page tells queued deliveries apart: a failed attempt waiting for its retry,
# a job told by GitHub to wait ("postponed: ..." is the reason recorded by postpone), or new.
RETRYING, POSTPONED = "retrying", "postponed"
POSTPONED_PREFIX = "postponed:"


def _status_column() -> sa.ColumnElement[str]:
    c = deliveries.c
    postponed = c.error.like(f"{POSTPONED_PREFIX}%")
    return sa.case(
        (sa.and_(c.state == QUEUED, postponed), POSTPONED),
        (sa.and_(c.state == QUEUED, c.attempts > 0, c.error.is_not(None)), RETRYING),
        else_=c.state,
    )


def count_statuses(engine: Engine) -> dict[str, int]:
    """:func:`count_deliveries` with queued ones split: new, retrying after a failed attempt,
    postponed by GitHub's limits (for the status page: a failing delivery is not "queued")."""
    status = _status_column().label("status")
    with engine.begin() as conn:
        rows = conn.execute(sa.select(status, sa.func.count()).group_by(status)).all()
    counts = dict.fromkeys((QUEUED, RETRYING, POSTPONED, RUNNING, DONE, FAILED, IGNORED), 0)
    counts.update({str(name): int(n) for name, n in rows})
    return counts


@dataclass(frozen=True)
class Unsettled:
    """A delivery that failed at least one attempt and is not done: what the status page lists."""

    id: str
    event: str
    action: str | None
    repository: str | None
    status: str  # retrying, postponed or failed
    attempts: int
    next_try: dt.datetime | None  # None once failed for good
    error: str


def unsettled_deliveries(engine: Engine, *, limit: int = 20) -> list[Unsettled]:
    """Retrying, postponed and failed deliveries with their last error, latest first."""
    c = deliveries.c
    status = _status_column()
    query = (
        sa.select(c.id, c.event, c.action, c.repository, status, c.attempts, c.lease_until, c.error)
        .where(status.in_((RETRYING, POSTPONED, FAILED)))
        .order_by(c.received_at.desc(), c.id)
        .limit(limit)
    )
    with engine.begin() as conn:
        rows = conn.execute(query).all()
    return [
        Unsettled(
            id=row[0],
            event=row[1],
            action=row[2],
            repository=row[3],
            status=row[4],
            attempts=int(row[5]),
            next_try=None if row[4] == FAILED else row[6],
            error=row[7] or "",
        )
        for row in rows
    ]


def prune_deliveries(engine: Engine, *, received_before: dt.datetime) -> int:
    """Forget done and ignored deliveries received before the given time (GitHub redelivers
    for 3 days, so keep them longer than that). Returns how many were deleted."""
    c = deliveries.c
    with engine.begin() as conn:
        return int(
            conn.execute(
                deliveries.delete().where(
                    c.state.in_((DONE, IGNORED)), c.received_at < received_before
                )
            ).rowcount
        )


def known_delivery_ids(engine: Engine, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` are stored deliveries."""
    return existing_values(engine, deliveries.c.id, ids)


def claim_redelivery(
    engine: Engine,
    guid: str,
    *,
    hook_delivery_id: int,
    installation_id: int | None,
    now: dt.datetime,
) -> bool:
    """Record that ``guid`` is being redelivered; False when it already was (once per GUID)."""
    return insert_once(
        engine,
        redelivery_requests,
        guid=guid,
        installation_id=installation_id,
        hook_delivery_id=hook_delivery_id,
        requested_at=now,
    )


def release_redelivery(engine: Engine, guid: str) -> None:
    """Forget a redelivery claim whose request failed (the next sweep tries again)."""
    with engine.begin() as conn:
        conn.execute(redelivery_requests.delete().where(redelivery_requests.c.guid == guid))


def prune_redeliveries(engine: Engine, *, requested_before: dt.datetime) -> int:
    """Forget redelivery requests older than GitHub keeps deliveries (3 days)."""
    c = redelivery_requests.c
    with engine.begin() as conn:
        return int(
            conn.execute(
                redelivery_requests.delete().where(c.requested_at < requested_before)
            ).rowcount
        )
