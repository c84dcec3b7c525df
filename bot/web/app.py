"""The App's web side: ``create_app(settings)`` builds the FastAPI application.

Nothing happens at import or in ``create_app``: the lifespan opens the database, the job
queue and the HTTP client, and enqueues again the deliveries left over by the last run.

Routes: ``POST /api/github/webhooks`` (store, enqueue, answer at once), ``GET /`` (setup page
without credentials, else a status page), ``GET /setup/callback`` (manifest flow), and for
operations ``/healthz`` (alive), ``/readyz`` (database and job queue reachable, see
bot.web.health) and ``/metrics`` (Prometheus, see bot.ops.metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import json
import logging
import queue
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from bot.events import dispatch
from bot.jobs.queue import JobQueue, describe_backend
from bot.ops import metrics
from bot.ops.logs import log_context, payload_context
from bot.ops.settings import ENV_FILE, Settings
from bot.store import db, migrate, tables
from bot.store import deliveries as delivery_store
from bot.web import health, manifest
from bot.web.signature import verify

log = logging.getLogger(__name__)

MAX_HEADER_CHARS = 100  # a delivery GUID or an event name is far shorter (see bot.store.db)
PARSE_IN_THREAD_BYTES = 1024 * 1024  # parse big payloads off the event loop
SETUP_STATES_KEPT = 50
WRITE_BATCH_MAX = 200  # deliveries stored in one transaction by the DeliveryWriter
# GitHub gives up on a webhook after 10 s and counts it failed. A database that hangs (a
# failover, packets dropped) must not make us answer later than that: past this deadline the
# delivery is refused with a 503, and GitHub's redelivery brings it back.
STORE_DEADLINE_SECONDS = 8.0


class BodyTooLarge(Exception):
    pass


@dataclass
class Runtime:
    """What the lifespan opens, for the routes."""

    settings: Settings
    engine: Engine
    jobs: JobQueue
    http: httpx.AsyncClient
    env_file: Path
    # Read at each scrape of /metrics: jobs by state, tasks waiting in the queue.
    collectors: list[metrics.CachedGauges] = field(default_factory=list)
    # Stores and enqueues deliveries in batches (None in immediate mode: jobs run inline).
    writer: DeliveryWriter | None = None
    # One-use `state` values of setup pages shown (the manifest flow's CSRF guard).
    setup_states: OrderedDict[str, None] = field(default_factory=OrderedDict)
    created_app: str | None = None  # slug of the App created since start (restart pending)


def create_app(
    settings: Settings,
    *,
    env_file: Path | None = None,
    immediate_jobs: bool = False,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The App's ASGI application.

    ``env_file``: where the setup callback writes the credentials (default ``./.env``, the
    file the settings are read from). ``immediate_jobs``: run each job at once inside the
    request (tests). ``http_transport``: the transport of the outgoing HTTP client (tests).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = await run_in_threadpool(_open_database, settings.database_url)
        jobs = await run_in_threadpool(lambda: JobQueue(settings, engine, immediate=immediate_jobs))
        http = httpx.AsyncClient(transport=http_transport, timeout=30.0)
        app.state.runtime = Runtime(
            settings=settings,
            engine=engine,
            jobs=jobs,
            http=http,
            env_file=env_file if env_file is not None else Path(ENV_FILE),
            collectors=_state_collectors(engine, jobs),
            writer=None if immediate_jobs else DeliveryWriter(engine, jobs).start(),
        )
        try:
            # Whatever the last run stored but did not finish (even if it was killed).
            await run_in_threadpool(lambda: jobs.requeue_due(all_queued=True))
        except Exception:
            log.exception("could not enqueue the pending deliveries; the sweeper will retry")
        try:
            yield
        finally:
            if app.state.runtime.writer is not None:
                await run_in_threadpool(app.state.runtime.writer.stop)
            await http.aclose()
            close = getattr(jobs.huey.storage, "close", None)
            if close is not None:
                close()
            engine.dispose()

    app = FastAPI(title="SSOT guard", lifespan=lifespan, docs_url=None, redoc_url=None)

    def runtime(request: Request) -> Runtime:
        value: Runtime = request.app.state.runtime
        return value

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

    # A plain Starlette route: GitHub's POST needs none of FastAPI's parameter machinery,
    # and this is the one path that must stay cheap under load (benchmarks/bench_ingest.py).
    app.router.add_route("/api/github/webhooks", receive_webhook, methods=["POST"], name="webhooks")

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request, org: str | None = None) -> Response:
        """The setup page while the App has no credentials, else the status page."""
        rt = runtime(request)
        if rt.settings.has_credentials:
            counts = await run_in_threadpool(delivery_store.count_deliveries, rt.engine)
            installed = await run_in_threadpool(_count_installations, rt.engine)
            return HTMLResponse(_status_page(rt.settings, counts, installed))
        if rt.created_app is not None:
            return HTMLResponse(_created_page(rt.created_app, None, rt.env_file))
        public_url = rt.settings.public_url or str(request.base_url).rstrip("/")
        try:
            template = manifest.load_manifest(manifest.find_manifest())
            state = secrets.token_urlsafe(24)
            action = manifest.new_app_url(rt.settings.web_url, org or None, state)
        except manifest.ManifestError as exc:
            return HTMLResponse(_page("SSOT guard: setup", f"<p>{_e(str(exc))}</p>"), 400)
        rt.setup_states[state] = None
        while len(rt.setup_states) > SETUP_STATES_KEPT:
            rt.setup_states.popitem(last=False)
        app_manifest = manifest.build_manifest(template, public_url)
        return HTMLResponse(_setup_page(rt.settings, app_manifest, action, org, public_url))

    @app.get("/setup/callback", response_class=HTMLResponse)
    async def setup_callback(
        request: Request, code: str | None = None, state: str | None = None
    ) -> Response:
        """GitHub's redirect after creating the App: exchange the code, write ``.env``."""
        rt = runtime(request)
        if rt.settings.has_credentials or rt.created_app is not None:
            return HTMLResponse(
                _page("SSOT guard", "<p>The App is already set up.</p>"), status_code=409
            )
        if not state or state not in rt.setup_states:
            return HTMLResponse(
                _page(
                    "SSOT guard: setup",
                    "<p>Unknown or used setup link: start again from <a href='/'>the setup page</a>.</p>",
                ),
                status_code=400,
            )
        if not code:
            return HTMLResponse(_page("SSOT guard: setup", "<p>GitHub sent no code.</p>"), 400)
        del rt.setup_states[state]
        try:
            credentials = await manifest.convert_code(rt.http, rt.settings.github_url, code)
        except (manifest.ManifestError, httpx.HTTPError) as exc:
            log.warning("manifest code exchange failed: %s", exc)
            return HTMLResponse(_page("SSOT guard: setup", f"<p>{_e(str(exc))}</p>"), 502)
        await run_in_threadpool(manifest.write_env_file, rt.env_file, credentials)
        slug = str(credentials.get("slug") or credentials["id"])
        rt.created_app = slug
        log.info("created GitHub App %s; credentials written to %s", slug, rt.env_file)
        return HTMLResponse(_created_page(slug, credentials.get("html_url"), rt.env_file))

    @app.get("/healthz")
    async def healthz() -> Response:
        """Alive (liveness): the process answers. Dependencies are /readyz's business."""
        return JSONResponse({"status": "ok"})

    @app.get("/readyz")
    async def readyz(request: Request) -> Response:
        """Ready (readiness): database, schema and job queue answer; 503 with the reasons."""
        rt = runtime(request)
        ready, body = await health.readiness(rt.engine, rt.jobs.huey)
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics")
    async def metrics_endpoint(request: Request) -> Response:
        """Prometheus metrics (text exposition format)."""
        rt = runtime(request)
        text = await run_in_threadpool(metrics.exposition, rt.collectors)
        return Response(text, media_type=metrics.CONTENT_TYPE)

    return app


@dataclass
class _Answer:
    """What the webhook route answered, for its metrics."""

    outcome: str = "error"
    event: str | None = None


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
            await run_in_threadpool(_due_now, rt.engine, [delivery_id])
    if answer.outcome != "redelivered":
        answer.outcome = "queued"
        log.info("delivery %s (%s.%s) queued", delivery_id, delivery.event, delivery.action)
    return JSONResponse({"delivery": delivery_id, "status": "queued"}, status_code=202)


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
                _due_now(self.engine, ids)
        return inserted


def _due_now(engine: Engine, delivery_ids: list[str]) -> None:
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
            health.describe_error(exc),
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
    """Insert the deliveries of ``batch`` in one transaction; False for each id already
    stored (or repeated within the batch), as :func:`bot.store.db.insert_delivery` would."""
    c = tables.deliveries.c
    ids = {p.delivery.id for p in batch}
    rows: list[dict[str, Any]] = []
    inserted: list[bool] = []
    with engine.begin() as conn:
        seen = set(conn.execute(sa.select(c.id).where(c.id.in_(ids))).scalars())
        for p in batch:
            d = p.delivery
            if d.id in seen:
                inserted.append(False)
                continue
            seen.add(d.id)
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
                }
            )
        if rows:
            conn.execute(tables.deliveries.insert(), rows)
    return inserted


def _open_database(url: str) -> Engine:
    """The engine; an embedded SQLite file gets its tables, a server database is only checked
    (``ssot migrate`` changes it). An unreachable server database is logged, not fatal:
    /readyz reports it until it answers."""
    engine = db.create_engine(url)
    if engine.dialect.name == "sqlite":
        db.create_schema(engine)
        return engine
    try:
        status = migrate.schema_status(engine)
    except Exception as exc:
        log.warning("database unreachable at start (%s): /readyz reports it", type(exc).__name__)
        return engine
    if not status.usable:
        log.error("%s", status.describe())
    return engine


def _state_collectors(engine: Engine, jobs: JobQueue) -> list[metrics.CachedGauges]:
    return [
        metrics.CachedGauges(
            "ssot_jobs",
            "Deliveries in the durable store, by job state (the same in every replica).",
            "state",
            lambda: delivery_store.count_deliveries(engine),
        ),
        metrics.CachedGauges(
            "ssot_queue_pending",
            "Tasks waiting in the job queue (Redis or SQLite).",
            None,
            lambda: {"": float(jobs.huey.pending_count())},
        ),
    ]


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
    )


def _count_installations(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(tables.installations)).scalar_one()
        )


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:3em auto;padding:0 1em}"
        "code,pre{background:#f4f4f4;padding:.1em .3em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}</style></head>"
        f"<body><h1>{_e(title)}</h1>{body}</body></html>"
    )


def _setup_page(
    settings: Settings, app_manifest: dict[str, Any], action: str, org: str | None, public_url: str
) -> str:
    local = any(
        host in public_url for host in ("://127.", "://localhost", "://0.0.0.0", "://[::1]")
    )
    warning = (
        "<p><strong>GitHub cannot reach this address.</strong> Webhooks go to "
        f"<code>{_e(public_url)}</code>: expose the server (a tunnel or a public host) and set "
        "<code>SSOT_PUBLIC_URL</code> to that URL before creating the App.</p>"
        if local
        else ""
    )
    owner = f"the organisation <code>{_e(org)}</code>" if org else "your personal account"
    return _page(
        "SSOT guard: create the GitHub App",
        f"<p>No App credentials are configured. This creates a GitHub App on {owner} at "
        f"<code>{_e(settings.web_url)}</code> from <code>app.yml</code>; GitHub then sends you "
        "back here and the credentials are written to <code>.env</code>.</p>"
        f"{warning}"
        f"<form action='{_e(action)}' method='post'>"
        f"<input type='hidden' name='manifest' value='{_e(json.dumps(app_manifest))}'>"
        "<button type='submit'>Create the GitHub App</button></form>"
        "<form method='get' action='/' style='margin-top:1em'>"
        f"<label>For an organisation: <input name='org' value='{_e(org or '')}'></label> "
        "<button type='submit'>Use it</button></form>"
        f"<details><summary>Manifest</summary><pre>{_e(json.dumps(app_manifest, indent=2))}</pre></details>",
    )


def _created_page(slug: str, html_url: Any, env_file: Path) -> str:
    install = (
        f"<p>Then install it on your repositories: <a href='{_e(str(html_url))}/installations/new'>"
        f"{_e(str(html_url))}/installations/new</a>.</p>"
        if html_url
        else ""
    )
    return _page(
        "SSOT guard: App created",
        f"<p>The GitHub App <code>{_e(slug)}</code> exists and its credentials are in "
        f"<code>{_e(str(env_file))}</code> (readable by you only).</p>"
        "<p><strong>Restart <code>ssot serve</code></strong> so that it reads them.</p>"
        f"{install}",
    )


def _status_page(settings: Settings, counts: dict[str, int], installed: int) -> str:
    rows = "".join(f"<tr><td>{_e(state)}</td><td>{n}</td></tr>" for state, n in counts.items())
    backend = describe_backend(settings)["backend"]
    return _page(
        "SSOT guard",
        f"<p>App {settings.app_id} is running; {installed} installation(s); jobs on {_e(backend)}.</p>"
        f"<table><tr><th>deliveries</th><th>count</th></tr>{rows}</table>",
    )
