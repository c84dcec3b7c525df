"""Sign-in with GitHub as GitHub plays it for an App's OAuth client (the web flow).

- ``GET /login/oauth/authorize``: GitHub's page where a person signs in and authorises the
  App; here a form asking who you are (no password: everyone is a test user), prefilled by
  the ``login`` parameter as on GitHub. Its button redirects to the App's ``redirect_uri``
  with ``code`` and the App's ``state``; "Cancel" with ``error=access_denied``.
- ``POST /login/oauth/access_token``: the code (one use, ten minutes) or a refresh token
  for a user access token (``ghu_``, eight hours, with a ``ghr_`` refresh token); errors
  are answered 200 with an ``error`` field, as GitHub does.
- With that token: ``GET /user``, ``GET /user/installations`` and
  ``GET /user/installations/{id}/repositories``: the App's installations and repositories
  the person has explicit access to (:meth:`FakeGitHubState.can_read`), nothing else.

Web pages (authorize, token exchange) and API routes are served by the same fake: point both
``SSOT_GITHUB_URL`` and ``SSOT_GITHUB_WEB_URL`` at it.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from . import render
from .limits import GitHubError, not_found
from .responses import api_base, json_response, paginate
from .state import Account, FakeGitHubState, Installation

router = APIRouter()

OAUTH_DOCS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")


def _state(request: Request) -> FakeGitHubState:
    state: FakeGitHubState = request.app.state.fake
    return state


async def _params(request: Request) -> dict[str, str]:
    """A request's parameters: the query string, then a form or JSON body on top."""
    values = dict(request.query_params)
    raw = await request.body()
    if not raw:
        return values
    if "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(raw)
        except ValueError:
            raise GitHubError(400, "Problems parsing JSON") from None
        if isinstance(data, dict):
            values.update({str(k): str(v) for k, v in data.items() if v is not None})
        return values
    values.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return values


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><link rel='icon' href='data:,'></head><body style='font-family:sans-serif;"
        "max-width:26em;margin:4em auto'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
    )


def _redirect_uri_allowed(state: FakeGitHubState, redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return not state.callback_urls or any(redirect_uri.startswith(u) for u in state.callback_urls)


def _with_query(url: str, **params: str) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


@router.get("/login/oauth/authorize")
async def authorize_page(request: Request) -> Response:
    """The page a person sees when an App asks them to sign in."""
    state = _state(request)
    params = dict(request.query_params)
    if params.get("client_id") != state.client_id:
        return _page("Not Found", "<p>No application with this client id.</p>", 404)
    redirect_uri = params.get("redirect_uri") or (state.callback_urls or [""])[0]
    if not _redirect_uri_allowed(state, redirect_uri):
        return _page(
            "Redirect URI mismatch",
            "<p>The redirect_uri is not associated with this application.</p>",
            400,
        )
    hidden = "".join(
        f"<input type='hidden' name='{name}' value='{html.escape(value)}'>"
        for name, value in (
            ("client_id", state.client_id),
            ("redirect_uri", redirect_uri),
            ("state", params.get("state", "")),
        )
    )
    body = (
        f"<p>Sign in to the simulated GitHub to continue to <strong>{html.escape(state.app_name)}"
        "</strong>. Every account is a test account: no password.</p>"
        f"<form method='post' action='/login/oauth/authorize'>{hidden}"
        "<p><label for='login'>Username</label><br>"
        f"<input id='login' name='login' autocomplete='username' required "
        f"value='{html.escape(params.get('login', ''))}'></p>"
        "<p><button type='submit' name='decision' value='authorize'>Authorize</button> "
        "<button type='submit' name='decision' value='cancel' formnovalidate>Cancel</button>"
        "</p></form>"
    )
    return _page("Sign in to GitHub", body)


@router.post("/login/oauth/authorize")
async def authorize(request: Request) -> Response:
    """The authorize page's buttons: back to the App with a code, or with access_denied."""
    state = _state(request)
    params = await _params(request)
    if params.get("client_id") != state.client_id:
        return _page("Not Found", "<p>No application with this client id.</p>", 404)
    redirect_uri = params.get("redirect_uri", "")
    if not _redirect_uri_allowed(state, redirect_uri):
        return _page("Redirect URI mismatch", "<p>Unknown redirect_uri.</p>", 400)
    back = {"state": params["state"]} if params.get("state") else {}
    if params.get("decision") != "authorize":
        return RedirectResponse(
            _with_query(
                redirect_uri,
                error="access_denied",
                error_description="The user has denied your application access.",
                error_uri=OAUTH_DOCS,
                **back,
            ),
            status_code=302,
        )
    login = params.get("login", "").strip()
    if not _LOGIN.match(login):
        return _page("Sign in to GitHub", "<p>Incorrect username.</p>", 422)
    code = state.authorize_user(login, redirect_uri)
    return RedirectResponse(_with_query(redirect_uri, code=code, **back), status_code=302)


def _token_answer(request: Request, data: dict[str, Any]) -> Response:
    """GitHub answers form-encoded unless asked for JSON; errors are 200s too."""
    if "json" in request.headers.get("accept", ""):
        return json_response(request, data)
    return Response(
        urlencode({k: str(v) for k, v in data.items()}),
        media_type="application/x-www-form-urlencoded; charset=utf-8",
    )


def _oauth_error(request: Request, error: str, description: str) -> Response:
    return _token_answer(
        request, {"error": error, "error_description": description, "error_uri": OAUTH_DOCS}
    )


@router.post("/login/oauth/access_token")
async def access_token(request: Request) -> Response:
    """A code (or a refresh token) for a user access token."""
    state = _state(request)
    params = await _params(request)
    if (
        params.get("client_id") != state.client_id
        or params.get("client_secret") != state.client_secret
    ):
        return _oauth_error(
            request,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        )
    if params.get("grant_type") == "refresh_token":
        with state.lock:
            old = next(
                (
                    t
                    for t in state.user_tokens.values()
                    if t.refresh_token == params.get("refresh_token")
                ),
                None,
            )
            if old is None:
                return _oauth_error(
                    request,
                    "bad_refresh_token",
                    "The refresh token passed is incorrect or expired.",
                )
            old.refresh_token = ""  # a refresh token works once
            login = old.login
    else:
        code = state.take_code(params.get("code", ""))
        if code is None:
            return _oauth_error(
                request, "bad_verification_code", "The code passed is incorrect or expired."
            )
        given = params.get("redirect_uri")
        if given and code.redirect_uri and given != code.redirect_uri:
            return _oauth_error(
                request,
                "redirect_uri_mismatch",
                "The redirect_uri MUST match the registered callback URL for this application.",
            )
        login = code.login
    token = state.issue_user_token(login)
    return _token_answer(
        request,
        {
            "access_token": token.token,
            "expires_in": int(state.user_token_ttl.total_seconds()),
            "refresh_token": token.refresh_token,
            "refresh_token_expires_in": 15_897_600,  # six months, as GitHub says
            "scope": "",
            "token_type": "bearer",
        },
    )


def _require_user(request: Request) -> Account:
    """The person whose user access token authorises the request."""
    state = _state(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in ("token", "bearer") or not token.strip():
        raise GitHubError(401, "Requires authentication")
    account = state.token_user(token.strip())
    if account is None:
        if state.token_installation(token.strip()) is not None:
            raise GitHubError(403, "Resource not accessible by integration")
        raise GitHubError(401, "Bad credentials")
    return account


@router.get("/user")
async def authenticated_user(request: Request) -> Response:
    account = _require_user(request)
    return json_response(request, render.authenticated_user(account, api_base(request)))


@router.get("/user/installations")
async def user_installations(request: Request) -> Response:
    """The App's installations the person has access to."""
    account = _require_user(request)
    state, api = _state(request), api_base(request)
    with state.lock:
        items = [
            render.installation(state, i, api) for i in state.user_installations(account.login)
        ]
    page, headers = paginate(request, items)
    return json_response(
        request, {"total_count": len(items), "installations": page}, headers=headers
    )


def _user_installation(state: FakeGitHubState, login: str, installation_id: int) -> Installation:
    found = state.installations.get(installation_id)
    if found is None or found not in state.user_installations(login):
        raise not_found()
    return found


@router.get("/user/installations/{installation_id}/repositories")
async def user_installation_repositories(request: Request, installation_id: int) -> Response:
    """The repositories of one installation the person can read, with their permissions."""
    account = _require_user(request)
    state, api = _state(request), api_base(request)
    with state.lock:
        installation = _user_installation(state, account.login, installation_id)
        items = [
            render.user_repository(state, repo, state.permission_of(repo, account.login), api)
            for repo in state.user_repositories(account.login, installation)
        ]
    page, headers = paginate(request, items)
    data = {
        "total_count": len(items),
        "repository_selection": installation.repository_selection,
        "repositories": page,
    }
    return json_response(request, data, headers=headers)
