"""Sign-in with GitHub for the dashboard: ``/login``, ``/login/callback``, ``/logout``.

``GET /login`` is the sign-in page (the only page someone who is not signed in sees of the
dashboard); its button posts to ``/login``, which remembers a random ``state`` in a sealed
cookie and sends the browser to GitHub's authorize page. GitHub sends it back to
``/login/callback`` with a code and that state; the code becomes the person's user access
token (:mod:`bot.web.github_signin`) and the token a sealed session cookie
(:mod:`bot.web.session`). ``/logout`` forgets it.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.web import github_signin
from bot.web.dashboard_pages import signin_page
from bot.web.runtime import Runtime, runtime
from bot.web.session import (
    SESSION_COOKIE,
    STATE_COOKIE,
    STATE_SECONDS,
    PendingSignIn,
    SignedIn,
    new_session_id,
)

log = logging.getLogger(__name__)

router = APIRouter()

CALLBACK_PATH = "/login/callback"
HOME = "/dashboard"
MAX_FORM_BYTES = 4096


def public_base(request: Request) -> str:
    """This App's URL as browsers reach it: ``SSOT_PUBLIC_URL`` only (never the request's
    Host header, which whoever sends the request chooses); empty when unset."""
    return (runtime(request).settings.public_url or "").rstrip("/")


def secure_cookies(request: Request) -> bool:
    return public_base(request).startswith("https://")


def safe_next(value: str | None) -> str:
    """A page of the dashboard to return to; anything else (another site) is the dashboard."""
    if not value or not value.startswith(HOME) or value.startswith("//"):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value:
        return HOME
    return value


def page_headers(request: Request) -> dict[str, str]:
    """Headers of every sign-in and dashboard page: no framing, no scripts, no caching of
    private data; forms post here or to GitHub's sign-in only."""
    web = urlsplit(runtime(request).settings.web_url)
    return {
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; "
            f"form-action 'self' {web.scheme}://{web.netloc}; frame-ancestors 'none'; "
            "base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def html(request: Request, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=page_headers(request))


def current_session(request: Request) -> SignedIn | None:
    """The person signed in on this request, or None."""
    return runtime(request).seal.open_session(request.cookies.get(SESSION_COOKIE), now=time.time())


def to_login(request: Request) -> RedirectResponse:
    """Where a request without a session goes: the sign-in page, then back here."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(
        f"/login?next={quote(safe_next(target), safe='/')}", status_code=303
    )
    response.headers.update(page_headers(request))
    return response


def forget_session(request: Request, response: Response) -> None:
    session = current_session(request)
    if session is not None:
        runtime(request).visibility.forget(session.session_id)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure_cookies(request), httponly=True)


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, next: str | None = None, signed_out: bool = False
) -> Response:
    """The sign-in page; a person already signed in goes on to the dashboard."""
    rt = runtime(request)
    if current_session(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303, headers=page_headers(request))
    notice = "You are signed out." if signed_out else ""
    return html(request, signin_page(rt.settings, safe_next(next), notice=notice))


@router.post("/login")
async def start_sign_in(request: Request) -> Response:
    """Send the browser to GitHub's authorize page, with a state bound to this browser."""
    rt = runtime(request)
    if not rt.settings.can_sign_in or rt.settings.client_id is None:
        return html(request, signin_page(rt.settings, HOME), 503)  # it says what is missing
    body = (await request.body())[:MAX_FORM_BYTES].decode("utf-8", "replace")
    form = dict(parse_qsl(body))
    state = secrets.token_urlsafe(24)
    target = github_signin.authorize_url(
        rt.settings.web_url, rt.settings.client_id, public_base(request) + CALLBACK_PATH, state
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        STATE_COOKIE,
        rt.seal.seal_state(PendingSignIn(state=state, next=safe_next(form.get("next")))),
        max_age=STATE_SECONDS,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


def _failed(request: Request, rt: Runtime, message: str, status: int) -> Response:
    response = html(request, signin_page(rt.settings, HOME, error=message), status)
    response.delete_cookie(
        STATE_COOKIE, path="/login", secure=secure_cookies(request), httponly=True
    )
    return response


@router.get(CALLBACK_PATH)
async def sign_in_callback(
    request: Request, code: str | None = None, state: str | None = None, error: str | None = None
) -> Response:
    """GitHub's redirect: check the state, trade the code for a token, open a session."""
    rt = runtime(request)
    pending = rt.seal.open_state(request.cookies.get(STATE_COOKIE))
    if error:
        return _failed(request, rt, "Sign-in was cancelled at GitHub.", 400)
    if pending is None or not state or not hmac.compare_digest(pending.state, state):
        return _failed(
            request,
            rt,
            "This sign-in is not the one this browser started, or it took more than ten "
            "minutes: sign in again.",
            400,
        )
    if not code or not rt.settings.can_sign_in:
        return _failed(request, rt, "GitHub sent no code: sign in again.", 400)
    assert rt.settings.client_id is not None and rt.settings.client_secret is not None
    try:
        token, expires_at = await github_signin.exchange_code(
            rt.http,
            rt.settings.web_url,
            rt.settings.client_id,
            rt.settings.client_secret.get_secret_value(),
            code,
            public_base(request) + CALLBACK_PATH,
        )
        person = await github_signin.person(rt.http, rt.settings.github_url, token)
    except (github_signin.SignInError, github_signin.TokenRejected) as exc:
        log.warning("sign-in failed: %s", exc or "token rejected")
        return _failed(request, rt, f"GitHub did not sign you in: {exc or 'token refused'}.", 502)
    now = time.time()
    lasts = rt.seal.session_seconds
    session = SignedIn(
        login=person.login,
        user_id=person.user_id,
        token=token,
        session_id=new_session_id(),
        expires_at=min(expires_at or now + lasts, now + lasts),
    )
    log.info("signed in: %s", person.login)
    response = RedirectResponse(pending.next, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        rt.seal.seal_session(session),
        max_age=int(session.expires_at - now),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    response.delete_cookie(
        STATE_COOKIE, path="/login", secure=secure_cookies(request), httponly=True
    )
    return response


@router.api_route("/logout", methods=["GET", "POST"])
async def logout(request: Request) -> Response:
    """Forget the session (and what it could read); back to the sign-in page."""
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    forget_session(request, response)
    return response
