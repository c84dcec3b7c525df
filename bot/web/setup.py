"""``GET /``: the setup page (no credentials yet) or the status page; the manifest callback.

The setup page creates the GitHub App through GitHub's manifest flow (:mod:`bot.web.manifest`)
and ``/setup/callback`` writes its credentials to ``.env``.
"""

from __future__ import annotations

import logging
import secrets

import httpx
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from bot.store import deliveries as delivery_store
from bot.store import tables
from bot.web import manifest
from bot.web.pages import created_page, escape, page, setup_page, status_page
from bot.web.runtime import runtime

log = logging.getLogger(__name__)

SETUP_STATES_KEPT = 50

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, org: str | None = None) -> Response:
    """The setup page while the App has no credentials, else the status page."""
    rt = runtime(request)
    if rt.settings.has_credentials:
        counts = await run_in_threadpool(delivery_store.count_statuses, rt.engine)
        installed = await run_in_threadpool(_count_installations, rt.engine)
        unsettled = await run_in_threadpool(delivery_store.unsettled_deliveries, rt.engine)
        return HTMLResponse(status_page(rt.settings, counts, installed, unsettled))
    if rt.created_app is not None:
        return HTMLResponse(created_page(rt.created_app, None, rt.env_file))
    public_url = rt.settings.public_url or str(request.base_url).rstrip("/")
    try:
        template = manifest.load_manifest(manifest.find_manifest())
        state = secrets.token_urlsafe(24)
        action = manifest.new_app_url(rt.settings.web_url, org or None, state)
    except manifest.ManifestError as exc:
        return HTMLResponse(page("SSOT guard: setup", f"<p>{escape(str(exc))}</p>"), 400)
    rt.setup_states[state] = None
    while len(rt.setup_states) > SETUP_STATES_KEPT:
        rt.setup_states.popitem(last=False)
    app_manifest = manifest.build_manifest(template, public_url)
    return HTMLResponse(setup_page(rt.settings, app_manifest, action, org, public_url))


@router.get("/setup/callback", response_class=HTMLResponse)
async def setup_callback(
    request: Request, code: str | None = None, state: str | None = None
) -> Response:
    """GitHub's redirect after creating the App: exchange the code, write ``.env``."""
    rt = runtime(request)
    if rt.settings.has_credentials or rt.created_app is not None:
        return HTMLResponse(
            page("SSOT guard", "<p>The App is already set up.</p>"), status_code=409
        )
    if not state or state not in rt.setup_states:
        return HTMLResponse(
            page(
                "SSOT guard: setup",
                "<p>Unknown or used setup link: start again from <a href='/'>the setup page</a>.</p>",
            ),
            status_code=400,
        )
    if not code:
        return HTMLResponse(page("SSOT guard: setup", "<p>GitHub sent no code.</p>"), 400)
    del rt.setup_states[state]
    try:
        credentials = await manifest.convert_code(rt.http, rt.settings.github_url, code)
    except (manifest.ManifestError, httpx.HTTPError) as exc:
        if isinstance(exc, manifest.GitHubUnreachable):
            rt.setup_states[state] = None  # the code is unused: reloading this page retries
        log.warning("manifest code exchange failed: %s", exc)
        return HTMLResponse(page("SSOT guard: setup", f"<p>{escape(str(exc))}</p>"), 502)
    await run_in_threadpool(manifest.write_env_file, rt.env_file, credentials)
    slug = str(credentials.get("slug") or credentials["id"])
    rt.created_app = slug
    log.info("created GitHub App %s; credentials written to %s", slug, rt.env_file)
    return HTMLResponse(created_page(slug, credentials.get("html_url"), rt.env_file))


def _count_installations(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(tables.installations)).scalar_one()
        )
