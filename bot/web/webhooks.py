"""``POST /api/github/webhooks``: verify, store, enqueue, answer at once.

GitHub gives a webhook 10 seconds; everything slow happens in a job. A delivery is stored
before it is answered 202 (the stored delivery, not the queue, is the source of truth); a
duplicate id is answered 200 and has no second effect.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from bot.events import dispatch
from bot.ops import metrics
from bot.ops.logs import log_context, payload_context
from bot.store import db, tables
from bot.store import deliveries as delivery_store
from bot.web import health
from bot.web.delivery_writer import mark_due_now
from bot.web.runtime import Runtime, runtime
from bot.web.signature import verify

log = logging.getLogger(__name__)

MAX_HEADER_CHARS = 100  # a delivery GUID or an event name is far shorter (see bot.store.tables)
PARSE_IN_THREAD_BYTES = 1024 * 1024  # parse big payloads off the event loop
# GitHub gives up on a webhook after 10 s and counts it failed. A database that hangs (a
# failover, packets dropped) must not make us answer later than that: past this deadline the
# delivery is refused with a 503, and GitHub's redelivery brings it back.
STORE_DEADLINE_SECONDS = 8.0


class BodyTooLarge(Exception):
    pass


@dataclass
class _Answer:
    """What the webhook route answered, for its metrics."""

    outcome: str = "error"
    event: str | None = None


async def receive_webhook(request: Request) -> Response:
    """Verify, store, enqueue, answer: 202 queued, 200 duplicate or ignored, 503 when the
    database cannot store it (a queue that is down does not refuse: see the sweeper)."""
    started = time.perf_counter()
    answer = _Answer()
    try:
        response = await _receive_webhook(runtime(request), request, answer)
    except BaseException:
        metrics.record_delivery(answer.event, "error", time.perf_counter() - started)
        raise
    metrics.record_delivery(answer.event, answer.outcome, time.perf_counter() - started)
    return response


async def _receive_webhook(rt: Runtime, request: Request, answer: _Answer) -> Response:
    secret = rt.settings.webhook_secret
    if secret is None:
        answer.outcome = "not_configured"
        return _error(503, "the App is not set up: open / to create it")
    limit = rt.settings.max_webhook_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            answer.outcome = "bad_request"
            return _error(400, "malformed Content-Length")
        if int(declared) > limit:
            answer.outcome = "too_large"
            return _error(413, f"payload larger than {limit} bytes")
    try:
        body = await _read_body(request, limit)
    except BodyTooLarge:
        answer.outcome = "too_large"
        return _error(413, f"payload larger than {limit} bytes")
    if not verify(secret.get_secret_value(), body, request.headers.get("x-hub-signature-256")):
        log.warning("webhook with a missing or wrong signature from %s", request.client)
        answer.outcome = "unauthorized"
        return _error(401, "bad or missing X-Hub-Signature-256")
    delivery_id = request.headers.get("x-github-delivery", "").strip()
    event = request.headers.get("x-github-event", "").strip()
    answer.outcome = "bad_request"
    if not delivery_id or len(delivery_id) > MAX_HEADER_CHARS:
        return _error(400, "missing or malformed X-GitHub-Delivery")
    if not event or len(event) > MAX_HEADER_CHARS:
        return _error(400, "missing or malformed X-GitHub-Event")
    answer.event = event
    try:
        if len(body) > PARSE_IN_THREAD_BYTES:
            payload = await run_in_threadpool(json.loads, body)
        else:
            payload = json.loads(body)
    except ValueError:
        return _error(400, "body is not JSON")
    except RecursionError:
        # Signed, so from GitHub's side of the secret; still bad input, not our bug.
        return _error(400, "body is JSON nested too deeply")
    if not isinstance(payload, dict):
        return _error(400, "body is not a JSON object")
    with log_context(delivery_id=delivery_id, **payload_context(event, payload)):
        try:
            async with asyncio.timeout(STORE_DEADLINE_SECONDS):
                return await _store_and_enqueue(
                    rt, _new_delivery(delivery_id, event, payload, body), answer
                )
        except (DBAPIError, PoolTimeout, TimeoutError) as exc:
            if isinstance(exc, IntegrityError):  # a bug of ours, not an outage
                raise
            # Not known to be stored, so not accepted: a non-2xx answer makes GitHub mark the
            # delivery failed, and its redelivery (our sweeper's request, or "Redeliver", same
            # id) brings it back once the database answers. Should the commit have landed and
            # only its answer been lost, the redelivery is a duplicate (200) and the stored
            # delivery is enqueued by the sweeper. A 500 would tell the operator it is a bug.
            answer.outcome = "unavailable"
            log.warning(
                "delivery %s refused: database unavailable (%s)",
                delivery_id,
                health.describe_error(exc),
            )
            return JSONResponse(
                {
                    "delivery": delivery_id,
                    "status": "unavailable",
                    "reason": "database",
                    "detail": "the database is unavailable: delivery not stored, redeliver it",
                },
                status_code=503,
            )


async def _store_and_enqueue(
    rt: Runtime, delivery: delivery_store.NewDelivery, answer: _Answer
) -> Response:
    delivery_id = delivery.id
    now = db.utcnow()
    requeue_at = now + dt.timedelta(seconds=rt.settings.job_lease_seconds)
    if rt.writer is not None:  # stored and enqueued together with concurrent deliveries
        inserted = await rt.writer.store(delivery, now=now, requeue_at=requeue_at)
        enqueued = inserted
    else:
        inserted = await run_in_threadpool(
            lambda: delivery_store.insert_delivery(
                rt.engine, delivery, now=now, requeue_at=requeue_at
            )
        )
        enqueued = False
    if not inserted:
        # GitHub's "Redeliver" keeps the id: a delivery we gave up on gets a new chance;
        # any other state means it had (or is having) its one effect.
        if delivery.state == tables.IGNORED or not await run_in_threadpool(
            lambda: delivery_store.requeue_failed(rt.engine, delivery_id, requeue_at=requeue_at)
        ):
            answer.outcome = "duplicate"
            log.info("delivery %s is a duplicate: already stored", delivery_id)
            return JSONResponse({"delivery": delivery_id, "status": "duplicate"}, status_code=200)
        answer.outcome = "redelivered"
        log.info("delivery %s redelivered after it failed: queued again", delivery_id)
    if delivery.state == tables.IGNORED:
        answer.outcome = "ignored"
        log.info(
            "delivery %s (%s.%s) ignored: %s",
            delivery_id,
            delivery.event,
            delivery.action,
            delivery.error,
        )
        return JSONResponse(
            {"delivery": delivery_id, "status": "ignored", "reason": delivery.error},
            status_code=200,
        )
    if not enqueued:
        try:
            await run_in_threadpool(rt.jobs.enqueue, delivery_id)
        except Exception:
            # Stored is what counts: the sweeper enqueues it again.
            log.exception("delivery %s stored but not enqueued", delivery_id)
            await run_in_threadpool(mark_due_now, rt.engine, [delivery_id])
    if answer.outcome != "redelivered":
        answer.outcome = "queued"
        log.info("delivery %s (%s.%s) queued", delivery_id, delivery.event, delivery.action)
    return JSONResponse({"delivery": delivery_id, "status": "queued"}, status_code=202)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, counting while reading: a lying or absent Content-Length cannot make us
    buffer more than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _new_delivery(
    delivery_id: str, event: str, payload: dict[str, Any], body: bytes
) -> delivery_store.NewDelivery:
    action = payload.get("action")
    action = action if isinstance(action, str) and len(action) <= MAX_HEADER_CHARS else None
    installation = payload.get("installation")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    installation_id = installation_id if isinstance(installation_id, int) else None
    repository = payload.get("repository")
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    full_name = full_name if isinstance(full_name, str) and len(full_name) <= 300 else None
    reason = None
    if dispatch.find_handler(event, action) is None:
        reason = f"no handler for {event}" + (f".{action}" if action else "")
    elif installation_id is None:
        reason = "no installation in the payload: a repository webhook, not the App"
    return delivery_store.NewDelivery(
        id=delivery_id,
        event=event,
        action=action,
        installation_id=installation_id,
        repository=full_name,
        # Ignored deliveries keep their metadata (one effect per id) but not their body.
        body=None if reason else body,
        state=tables.IGNORED if reason else tables.QUEUED,
        error=reason,
        # GitHub signs the body, not the GUID header: a captured delivery replayed under a
        # new GUID verifies, and must still have one effect.
        body_sha256=hashlib.sha256(body).hexdigest(),
    )


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)
