"""The App's web side: ``create_app(settings)`` builds the FastAPI application.

Nothing happens at import or in ``create_app``: the lifespan opens the database, the job
queue and the HTTP client, and enqueues again the deliveries left over by the last run.

Routes: ``POST /api/github/webhooks`` (store, enqueue, answer at once), ``GET /`` (setup page
without credentials, else a status page), ``GET /setup/callback`` (manifest flow), ``/healthz``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import secrets
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
from starlette.concurrency import run_in_threadpool

from bot import handlers, manifest, store
from bot.jobs import JobQueue, describe_backend
from bot.settings import ENV_FILE, Settings
from bot.signature import verify

log = logging.getLogger(__name__)

MAX_HEADER_CHARS = 100  # a delivery GUID or an event name is far shorter (see bot.store)
PARSE_IN_THREAD_BYTES = 1024 * 1024  # parse big payloads off the event loop
SETUP_STATES_KEPT = 50


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
        engine = await run_in_threadpool(store.open_database, settings.database_url)
        jobs = await run_in_threadpool(lambda: JobQueue(settings, engine, immediate=immediate_jobs))
        http = httpx.AsyncClient(transport=http_transport, timeout=30.0)
        app.state.runtime = Runtime(
            settings=settings,
            engine=engine,
            jobs=jobs,
            http=http,
            env_file=env_file if env_file is not None else Path(ENV_FILE),
        )
        try:
            # Whatever the last run stored but did not finish (even if it was killed).
            await run_in_threadpool(lambda: jobs.requeue_due(all_queued=True))
        except Exception:
            log.exception("could not enqueue the pending deliveries; the sweeper will retry")
        try:
            yield
        finally:
            await http.aclose()
            close = getattr(jobs.huey.storage, "close", None)
            if close is not None:
                close()
            engine.dispose()

    app = FastAPI(title="SSOT guard", lifespan=lifespan, docs_url=None, redoc_url=None)

    def runtime(request: Request) -> Runtime:
        value: Runtime = request.app.state.runtime
        return value

    @app.post("/api/github/webhooks", name="webhooks")
    async def receive_webhook(request: Request) -> Response:
        """Verify, store, enqueue, answer: 202 queued, 200 duplicate or ignored."""
        rt = runtime(request)
        secret = rt.settings.webhook_secret
        if secret is None:
            return _error(503, "the App is not set up: open / to create it")
        limit = rt.settings.max_webhook_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                return _error(400, "malformed Content-Length")
            if int(declared) > limit:
                return _error(413, f"payload larger than {limit} bytes")
        try:
            body = await _read_body(request, limit)
        except BodyTooLarge:
            return _error(413, f"payload larger than {limit} bytes")
        if not verify(secret.get_secret_value(), body, request.headers.get("x-hub-signature-256")):
            log.warning("webhook with a missing or wrong signature from %s", request.client)
            return _error(401, "bad or missing X-Hub-Signature-256")
        delivery_id = request.headers.get("x-github-delivery", "").strip()
        event = request.headers.get("x-github-event", "").strip()
        if not delivery_id or len(delivery_id) > MAX_HEADER_CHARS:
            return _error(400, "missing or malformed X-GitHub-Delivery")
        if not event or len(event) > MAX_HEADER_CHARS:
            return _error(400, "missing or malformed X-GitHub-Event")
        try:
            if len(body) > PARSE_IN_THREAD_BYTES:
                payload = await run_in_threadpool(json.loads, body)
            else:
                payload = json.loads(body)
        except ValueError:
            return _error(400, "body is not JSON")
        if not isinstance(payload, dict):
            return _error(400, "body is not a JSON object")

        delivery = _new_delivery(delivery_id, event, payload, body)
        now = store.utcnow()
        requeue_at = now + dt.timedelta(seconds=rt.settings.job_lease_seconds)
        inserted = await run_in_threadpool(
            lambda: store.insert_delivery(rt.engine, delivery, now=now, requeue_at=requeue_at)
        )
        if not inserted:
            # GitHub's "Redeliver" keeps the id: a delivery we gave up on gets a new chance;
            # any other state means it had (or is having) its one effect.
            if delivery.state == store.IGNORED or not await run_in_threadpool(
                lambda: store.requeue_failed(rt.engine, delivery_id, requeue_at=requeue_at)
            ):
                return JSONResponse(
                    {"delivery": delivery_id, "status": "duplicate"}, status_code=200
                )
            log.info("delivery %s redelivered after it failed: queued again", delivery_id)
        if delivery.state == store.IGNORED:
            log.info(
                "delivery %s (%s.%s) ignored: %s",
                delivery_id,
                event,
                delivery.action,
                delivery.error,
            )
            return JSONResponse(
                {"delivery": delivery_id, "status": "ignored", "reason": delivery.error},
                status_code=200,
            )
        try:
            await run_in_threadpool(rt.jobs.enqueue, delivery_id)
        except Exception:
            # Stored is what counts: the sweeper enqueues it again.
            log.exception("delivery %s stored but not enqueued", delivery_id)
        return JSONResponse({"delivery": delivery_id, "status": "queued"}, status_code=202)

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request, org: str | None = None) -> Response:
        """The setup page while the App has no credentials, else the status page."""
        rt = runtime(request)
        if rt.settings.has_credentials:
            counts = await run_in_threadpool(store.count_deliveries, rt.engine)
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
    async def healthz(request: Request) -> Response:
        """Alive, and the database answers."""
        rt = runtime(request)
        try:
            await run_in_threadpool(_ping, rt.engine)
        except Exception as exc:
            return JSONResponse({"status": "error", "database": str(exc)[:200]}, 503)
        return JSONResponse({"status": "ok"})

    return app


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
) -> store.NewDelivery:
    action = payload.get("action")
    action = action if isinstance(action, str) and len(action) <= MAX_HEADER_CHARS else None
    installation = payload.get("installation")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    installation_id = installation_id if isinstance(installation_id, int) else None
    repository = payload.get("repository")
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    full_name = full_name if isinstance(full_name, str) and len(full_name) <= 300 else None
    reason = None
    if handlers.find_handler(event, action) is None:
        reason = f"no handler for {event}" + (f".{action}" if action else "")
    elif installation_id is None:
        reason = "no installation in the payload: a repository webhook, not the App"
    return store.NewDelivery(
        id=delivery_id,
        event=event,
        action=action,
        installation_id=installation_id,
        repository=full_name,
        # Ignored deliveries keep their metadata (one effect per id) but not their body.
        body=None if reason else body,
        state=store.IGNORED if reason else store.QUEUED,
        error=reason,
    )


def _ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def _count_installations(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(store.installations)).scalar_one()
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
