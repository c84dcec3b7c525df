"""The App's web side: ``create_app(settings)`` builds the FastAPI application.

Nothing happens at import or in ``create_app``: the lifespan opens the database, the job
queue and the HTTP client, and enqueues again the deliveries left over by the last run.

Routes, one module each: ``POST /api/github/webhooks`` (:mod:`bot.web.webhooks`: store,
enqueue, answer at once), ``GET /`` and ``GET /setup/callback`` (:mod:`bot.web.setup`: the
setup page without credentials, else a status page; the manifest flow), ``GET /badges/...``
(:mod:`bot.web.badges`: a concept's count as a badge), the dashboard (:mod:`bot.web.dashboard`,
behind sign-in with GitHub: :mod:`bot.web.signin`), its stylesheet (:mod:`bot.web.assets`),
and for operations ``/healthz``, ``/readyz`` and ``/metrics`` (:mod:`bot.web.probes`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from bot.jobs.queue import JobQueue
from bot.ops import metrics
from bot.ops.settings import ENV_FILE, Settings
from bot.store import db, migrate
from bot.store import deliveries as delivery_store
from bot.web import assets, badges, dashboard, probes, setup, signin
from bot.web.delivery_writer import DeliveryWriter
from bot.web.runtime import Runtime
from bot.web.session import CookieSeal, session_secret
from bot.web.webhooks import receive_webhook

log = logging.getLogger(__name__)


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
        secret = await run_in_threadpool(session_secret, settings)
        app.state.runtime = Runtime(
            settings=settings,
            engine=engine,
            jobs=jobs,
            http=http,
            env_file=env_file if env_file is not None else Path(ENV_FILE),
            seal=CookieSeal(secret, session_seconds=settings.session_hours * 3600),
            collectors=_state_collectors(engine, jobs),
            writer=None if immediate_jobs else DeliveryWriter(engine, jobs).start(),
        )
        if not settings.has_credentials:
            app.state.runtime.setup_token = setup.announce_setup_token(settings)
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

    # No /docs, /redoc or /openapi.json: the App's routes are for GitHub and its operator.
    app = FastAPI(
        title="SSOT guard", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )

    # A plain Starlette route: GitHub's POST needs none of FastAPI's parameter machinery,
    # and this is the one path that must stay cheap under load (benchmarks/bench_ingest.py).
    app.include_router(setup.router)
    app.include_router(assets.router)
    app.include_router(signin.router)
    app.include_router(dashboard.router)
    app.include_router(probes.router)
    app.include_router(badges.router)
    app.router.add_route("/api/github/webhooks", receive_webhook, methods=["POST"], name="webhooks")

    return app


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
