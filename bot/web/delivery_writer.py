"""Group commit of webhook deliveries: one thread stores what concurrent requests bring.

See :class:`DeliveryWriter`. The webhook route (:mod:`bot.web.webhooks`) awaits
:meth:`DeliveryWriter.store`, which returns once the delivery's transaction has committed
and its job is enqueued.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.jobs.queue import JobQueue
from bot.store import db, tables
from bot.store import deliveries as delivery_store
from bot.web.health import describe_error

log = logging.getLogger(__name__)

WRITE_BATCH_MAX = 200  # deliveries stored in one transaction


@dataclass
class _PendingWrite:
    delivery: delivery_store.NewDelivery
    now: dt.datetime
    requeue_at: dt.datetime
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[bool]


class DeliveryWriter:
    """Group commit for the webhook route: one thread stores the deliveries that concurrent
    requests bring in one transaction, then enqueues their jobs in one write.

    A commit is what makes a delivery durable and costs a flush to disk (SQLite with
    ``synchronous=FULL``, PostgreSQL's WAL) whether it holds one row or a hundred; and SQLite
    takes one writer at a time. Writing together what arrived meanwhile keeps every request's
    promise (it is answered only after its own row is committed and its job enqueued) at
    hundreds of deliveries per second, where one transaction per request managed about 80.
    """

    def __init__(self, engine: Engine, jobs: JobQueue, *, max_batch: int = WRITE_BATCH_MAX) -> None:
        self.engine = engine
        self.jobs = jobs
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_PendingWrite | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="delivery-writer", daemon=True)

    def start(self) -> DeliveryWriter:
        """Start the writing thread."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is pending, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    async def store(
        self, delivery: delivery_store.NewDelivery, *, now: dt.datetime, requeue_at: dt.datetime
    ) -> bool:
        """Store ``delivery`` (and enqueue its job if it is queued); False for a duplicate id.

        Returns once the transaction holding it has committed.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._queue.put(_PendingWrite(delivery, now, requeue_at, loop, future))
        # Shielded: a request that gives up (its deadline) leaves the write to finish; the
        # callback takes the outcome nobody awaits any more, so it is not reported as lost.
        future.add_done_callback(_consume)
        return await asyncio.shield(future)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            try:
                outcome: list[bool] | BaseException = self._write(batch)
            except BaseException as exc:  # never leave a request waiting
                outcome = exc
            # One wake-up of each event loop per batch, not one per request.
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], Any]]] = {}
            for index, pending in enumerate(batch):
                result = outcome if isinstance(outcome, BaseException) else outcome[index]
                by_loop.setdefault(pending.loop, []).append((pending.future, result))
            for loop, settled in by_loop.items():
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                    loop.call_soon_threadsafe(_settle, settled)

    def _write(self, batch: list[_PendingWrite]) -> list[bool]:
        try:
            inserted = _insert_deliveries(self.engine, batch)
        except IntegrityError:
            # Another replica stored one of these ids meanwhile: one transaction each.
            inserted = [
                delivery_store.insert_delivery(
                    self.engine, p.delivery, now=p.now, requeue_at=p.requeue_at
                )
                for p in batch
            ]
        ids = [
            p.delivery.id
            for p, new in zip(batch, inserted, strict=True)
            if new and p.delivery.state == tables.QUEUED
        ]
        if ids:
            try:
                self.jobs.enqueue_many(ids)
            except Exception:
                # Stored is what counts: the sweeper enqueues them again.
                log.exception("deliveries %s stored but not enqueued", ", ".join(ids))
                mark_due_now(self.engine, ids)
        return inserted


def mark_due_now(engine: Engine, delivery_ids: list[str]) -> None:
    """Make stored deliveries whose job could not be enqueued (the queue is down) due at the
    sweeper's next run, rather than after the lease they were stored with: the sweeper takes
    a queued delivery only once its ``lease_until`` passed, ``SSOT_JOB_LEASE_SECONDS`` (10
    minutes by default) after it arrived."""
    try:
        delivery_store.postpone_requeue(engine, delivery_ids, until=db.utcnow())
    except Exception as exc:  # stored all the same: the sweeper takes them after the lease
        log.warning(
            "deliveries %s not enqueued, not marked due either (%s)",
            ", ".join(delivery_ids),
            describe_error(exc),
        )


def _consume(future: asyncio.Future[bool]) -> None:
    if not future.cancelled():
        future.exception()


def _settle(settled: list[tuple[asyncio.Future[bool], bool | BaseException]]) -> None:
    for future, result in settled:
        if future.done():  # the request went away
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


def _insert_deliveries(engine: Engine, batch: list[_PendingWrite]) -> list[bool]:
    """Insert the deliveries of ``batch`` in one transaction; False for each id (or body)
    already stored or repeated within the batch, as :func:`bot.store.db.insert_delivery` would."""
    c = tables.deliveries.c
    ids = {p.delivery.id for p in batch}
    hashes = {p.delivery.body_sha256 for p in batch if p.delivery.body_sha256}
    rows: list[dict[str, Any]] = []
    inserted: list[bool] = []
    with engine.begin() as conn:
        seen = set(conn.execute(sa.select(c.id).where(c.id.in_(ids))).scalars())
        bodies = set(
            conn.execute(sa.select(c.body_sha256).where(c.body_sha256.in_(hashes))).scalars()
        )
        for p in batch:
            d = p.delivery
            if d.id in seen or (d.body_sha256 is not None and d.body_sha256 in bodies):
                inserted.append(False)
                continue
            seen.add(d.id)
            if d.body_sha256 is not None:
                bodies.add(d.body_sha256)
            inserted.append(True)
            rows.append(
                {
                    "id": d.id,
                    "event": d.event,
                    "action": d.action,
                    "installation_id": d.installation_id,
                    "repository": d.repository,
                    "received_at": p.now,
                    "body": d.body,
                    "state": d.state,
                    "attempts": 0,
                    "lease_until": p.requeue_at if d.state == tables.QUEUED else None,
                    "error": d.error,
                    "body_sha256": d.body_sha256,
                }
            )
        if rows:
            conn.execute(tables.deliveries.insert(), rows)
    return inserted
