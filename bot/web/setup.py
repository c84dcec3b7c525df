"""``GET /``: the setup page (no credentials yet) or the status page; the manifest callback.

The setup page creates the GitHub App through GitHub's manifest flow (:mod:`bot.web.manifest`)
and ``/setup/callback`` writes its credentials to ``.env``. Whoever reaches the server first
must not be able to create the App in its operator's place, so, as Jupyter does:

- a one-time token is printed to the console at start; ``/?token=...`` sets it as a cookie,
  and the setup page and its callback answer only a browser holding it;
- the manifest's ``state`` is issued to that browser and checked with its cookie;
- every URL of the manifest comes from ``SSOT_PUBLIC_URL``, never from the request's ``Host``;
- no absolute path of the server is shown; once the App is set up, the setup routes are gone.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import sys
from pathlib import Path

import httpx
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from bot.ops.settings import Settings
from bot.store import deliveries as delivery_store
from bot.store import tables
from bot.web import manifest
from bot.web.pages import created_page, escape, page, setup_page, status_page
from bot.web.runtime import Runtime, authorised, runtime

log = logging.getLogger(__name__)

SETUP_STATES_KEPT = 50
SETUP_COOKIE = "ssot_setup"

router = APIRouter()


def announce_setup_token(settings: Settings) -> str:
    """A new one-time setup token, printed to the console with the URL that uses it."""
    token = secrets.token_urlsafe(24)
    where = settings.public_url or "http://<this server>"
    print(
        f"SSOT guard is not set up yet. Open this address to create the GitHub App:\n"
        f"    {where.rstrip('/')}/?token={token}",
        file=sys.stderr,
        flush=True,
    )
    return token


def _holds_setup_token(rt: Runtime, request: Request) -> bool:
    cookie = request.cookies.get(SETUP_COOKIE, "")
    return rt.setup_token is not None and hmac.compare_digest(
        cookie.encode(), rt.setup_token.encode()
    )


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, org: str | None = None, token: str | None = None) -> Response:
    """The setup page while the App has no credentials, else the status page."""
    rt = runtime(request)
    if rt.settings.has_credentials:
        if not authorised(rt, request):
            return HTMLResponse(page("SSOT guard", "<p>A bearer token is required.</p>"), 401)
        counts = await run_in_threadpool(delivery_store.count_statuses, rt.engine)
        installed = await run_in_threadpool(_count_installations, rt.engine)
        unsettled = await run_in_threadpool(delivery_store.unsettled_deliveries, rt.engine)
        return HTMLResponse(status_page(rt.settings, counts, installed, unsettled))
    if rt.created_app is not None:
        return HTMLResponse(created_page(rt.created_app, None, _shown_path(rt.env_file)))
    if token is not None and rt.setup_token is not None:
        if not hmac.compare_digest(token.encode(), rt.setup_token.encode()):
            return _needs_token(403)
        # Keep the token out of the address bar (and of any Referer) from here on.
        response = RedirectResponse("/" + (f"?org={org}" if org else ""), status_code=303)
        response.set_cookie(SETUP_COOKIE, token, httponly=True, samesite="lax")
        return response
    if not _holds_setup_token(rt, request):
        return _needs_token(403)
    public_url = rt.settings.public_url
    if not public_url:
        return HTMLResponse(
            page(
                "SSOT guard: setup",
                "<p>Set <code>SSOT_PUBLIC_URL</code> to the address GitHub reaches this "
                "server at (the App's webhook and callback URLs are made from it), then "
                "restart.</p>",
            ),
            400,
        )
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
        return HTMLResponse(page("SSOT guard", "<p>Not found.</p>"), status_code=404)
    if not _holds_setup_token(rt, request):
        # The state was issued to the browser holding the token; GitHub sends that same
        # browser back here, with its cookie.
        return _needs_token(403)
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
    return HTMLResponse(created_page(slug, credentials.get("html_url"), _shown_path(rt.env_file)))


def _needs_token(status: int) -> Response:
    return HTMLResponse(
        page(
            "SSOT guard: setup",
            "<p>Open the setup address printed in the server's console when it started "
            "(it carries a one-time token).</p>",
        ),
        status,
    )


def _shown_path(path: Path) -> Path:
    """``path`` as the page may show it: relative to the working folder, else its name."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return Path(path.name)


def _count_installations(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(tables.installations)).scalar_one()
        )
