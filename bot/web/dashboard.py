"""The organisation dashboard: ``/dashboard`` and ``/dashboard/{owner}/{repo}``.

Only for a signed-in person (:mod:`bot.web.signin`); anyone else is sent to the sign-in page
before anything is read, so not even a repository's name shows. What a person sees is what
GitHub says they can read (:func:`bot.web.github_signin.readable_repositories`, kept a
minute per session); a repository outside it is "not found", as on GitHub. The data is the
store's history (:mod:`bot.web.dashboard_view`), rendered on the server
(:mod:`bot.web.dashboard_pages`).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.web import dashboard_view, frame, github_signin
from bot.web.dashboard_pages import overview_page, repository_page
from bot.web.frame import escape, render_page
from bot.web.github_signin import ReadableRepository
from bot.web.runtime import runtime
from bot.web.session import SignedIn
from bot.web.signin import current_session, forget_session, html, to_login

log = logging.getLogger(__name__)

router = APIRouter()

PER_PAGE = 10


def _message(request: Request, session: SignedIn, title: str, text: str, status: int) -> Response:
    body = f"<div class='card'><p>{escape(text)}</p><p><a href='/dashboard'>Dashboard</a></p></div>"
    page = render_page(
        f"{title}: SSOT guard",
        body,
        heading=title,
        user=session.login,
        sections=_sections(request),
        current="/dashboard",
    )
    return html(request, page, status)


def _sections(request: Request) -> tuple[tuple[str, str], ...]:
    return frame.sections(status_open=runtime(request).settings.status_token is None)


async def _readable(request: Request, session: SignedIn) -> list[ReadableRepository] | Response:
    """What GitHub says this person can read (cached a minute), or the response to send."""
    rt = runtime(request)
    cached = rt.visibility.get(session.session_id, now=time.time())
    if cached is not None:
        return cached
    try:
        repos = await github_signin.readable_repositories(
            rt.http, rt.settings.github_url, session.token
        )
    except github_signin.TokenRejected:
        response = to_login(request)  # the token expired or was revoked: sign in again
        forget_session(request, response)
        return response
    except github_signin.SignInError as exc:
        log.warning("listing what %s can read failed: %s", session.login, exc)
        return _message(
            request, session, "GitHub did not answer", f"{exc}. Try again in a moment.", 502
        )
    rt.visibility.put(session.session_id, repos, now=time.time())
    return repos


@router.get("/dashboard", response_class=HTMLResponse)
async def overview(request: Request, page: str = "1") -> Response:
    """Every repository the person can read, those with history first, ten per page."""
    session = current_session(request)
    if session is None:
        return to_login(request)
    repos = await _readable(request, session)
    if isinstance(repos, Response):
        return repos
    rt = runtime(request)
    now = dt.datetime.now(dt.UTC)
    with_history = await run_in_threadpool(
        dashboard_view.repositories_with_history,
        rt.engine,
        {r.installation_id for r in repos},
    )
    ordered = sorted(
        repos,
        key=lambda r: ((r.installation_id, r.full_name) not in with_history, r.full_name.lower()),
    )
    pages = max(1, math.ceil(len(ordered) / PER_PAGE))
    number = min(max(int(page) if page.isdigit() else 1, 1), pages)
    shown = ordered[(number - 1) * PER_PAGE : number * PER_PAGE]
    views = await run_in_threadpool(
        lambda: [dashboard_view.repository_view(rt.engine, repo, now=now) for repo in shown]
    )
    return html(
        request,
        overview_page(
            session.login,
            views,
            total=len(ordered),
            with_history=sum(1 for r in repos if (r.installation_id, r.full_name) in with_history),
            page=number,
            pages=pages,
            sections=_sections(request),
        ),
    )


@router.get("/dashboard/{owner}/{name}", response_class=HTMLResponse)
async def repository(request: Request, owner: str, name: str) -> Response:
    """One repository: counts, history, burn-downs, where the debt is, recent decisions."""
    session = current_session(request)
    if session is None:
        return to_login(request)
    repos = await _readable(request, session)
    if isinstance(repos, Response):
        return repos
    wanted = f"{owner}/{name}".lower()
    found = next((r for r in repos if r.full_name.lower() == wanted), None)
    if found is None:
        return _message(
            request,
            session,
            "Not found",
            f"No repository {owner}/{name} that you can read has the App installed.",
            404,
        )
    rt = runtime(request)
    now = dt.datetime.now(dt.UTC)
    detail = await run_in_threadpool(
        lambda: dashboard_view.repository_detail(rt.engine, found, now=now)
    )
    return html(request, repository_page(session.login, detail, _sections(request)))


@router.get("/dashboard/{rest:path}", response_class=HTMLResponse)
async def elsewhere(request: Request, rest: str) -> Response:
    """Any other dashboard address: the sign-in page first, then "not found"."""
    session = current_session(request)
    if session is None:
        return to_login(request)
    return _message(request, session, "Not found", "There is no such page.", 404)
