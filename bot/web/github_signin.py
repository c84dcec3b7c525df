"""Sign-in with GitHub through the App's OAuth client, and what a signed-in person may read.

The web flow: the browser goes to ``{web}/login/oauth/authorize`` with the App's client id,
comes back to ``/login/callback`` with a code, and :func:`exchange_code` trades it at
``{web}/login/oauth/access_token`` for a user access token. With that token GitHub itself
says what the person can read: ``GET /user/installations`` (this App's installations they
have access to) and ``GET /user/installations/{id}/repositories`` (the repositories of each
they can read), so the dashboard shows nothing GitHub would not.

These calls are made with the person's token, on their own rate limit, not the
installation's: they do not go through the installation's throttle of :mod:`bot.github`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
MAX_PAGES = 100  # 10,000 repositories per installation, then we stop asking
VISIBILITY_SECONDS = 60.0  # how long what a person can read is reused before asking again
VISIBILITY_SESSIONS = 1000  # sessions whose lists are kept (the least recent ones go first)


class SignInError(Exception):
    """The sign-in failed; the message says so to the person."""


class TokenRejected(Exception):
    """GitHub no longer accepts the person's token (expired, revoked): sign in again."""


@dataclass(frozen=True)
class Person:
    login: str
    user_id: int


@dataclass(frozen=True)
class ReadableRepository:
    """A repository of one of the App's installations that the person can read."""

    installation_id: int
    full_name: str  # "owner/name" as GitHub spells it
    private: bool
    html_url: str

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


def authorize_url(web_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Where the browser signs in at GitHub and authorises the App."""
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "allow_signup": "false",
        }
    )
    return f"{web_url.rstrip('/')}/login/oauth/authorize?{query}"


async def exchange_code(
    http: httpx.AsyncClient,
    web_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
) -> tuple[str, float | None]:
    """The user access token for the callback's ``code``, and when it expires (if it does)."""
    try:
        response = await http.post(
            f"{web_url.rstrip('/')}/login/oauth/access_token",
            data={
                "client_id": client_id,
                "client_secret": client_secret,
                "code": code,
                "redirect_uri": redirect_uri,
            },
            headers={"Accept": "application/json"},
        )
        data = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError) as exc:
        raise SignInError(f"GitHub could not be reached ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not data.get("access_token"):
        reason = data.get("error_description") if isinstance(data, dict) else None
        raise SignInError(str(reason or f"GitHub answered {response.status_code}"))
    expires_in = data.get("expires_in")
    expires_at = time.time() + float(expires_in) if expires_in else None
    return str(data["access_token"]), expires_at


async def _get(http: httpx.AsyncClient, url: str, token: str) -> httpx.Response:
    try:
        response = await http.get(url, headers={**HEADERS, "Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise SignInError(f"GitHub could not be reached ({type(exc).__name__})") from None
    if response.status_code == 401:
        raise TokenRejected()
    if response.status_code != 200:
        raise SignInError(f"GitHub answered {response.status_code} to {url}")
    return response


async def person(http: httpx.AsyncClient, api_url: str, token: str) -> Person:
    """Who the token belongs to (``GET /user``)."""
    data = (await _get(http, f"{api_url.rstrip('/')}/user", token)).json()
    return Person(login=str(data["login"]), user_id=int(data["id"]))


async def _pages(
    http: httpx.AsyncClient, url: str, token: str, key: str
) -> list[dict[str, object]]:
    """Every item under ``key`` of a paginated listing, following GitHub's ``Link`` header."""
    items: list[dict[str, object]] = []
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if next_url is None:
            break
        response = await _get(http, next_url, token)
        items.extend(response.json().get(key) or [])
        next_url = response.links.get("next", {}).get("url")
    return items


async def readable_repositories(
    http: httpx.AsyncClient, api_url: str, token: str
) -> list[ReadableRepository]:
    """The repositories of the App's installations the person can read, by name."""
    api = api_url.rstrip("/")
    installations = await _pages(
        http, f"{api}/user/installations?per_page=100", token, "installations"
    )
    found: list[ReadableRepository] = []
    for installation in installations:
        installation_id = int(str(installation["id"]))
        repos = await _pages(
            http,
            f"{api}/user/installations/{installation_id}/repositories?per_page=100",
            token,
            "repositories",
        )
        found.extend(
            ReadableRepository(
                installation_id=installation_id,
                full_name=str(repo["full_name"]),
                private=bool(repo.get("private")),
                html_url=str(repo.get("html_url") or ""),
            )
            for repo in repos
        )
    return sorted(found, key=lambda r: r.full_name.lower())


class VisibilityCache:
    """What each session may read, kept for a minute so that paging through the dashboard
    does not ask GitHub again at every click (a permission removed shows within a minute)."""

    def __init__(
        self, *, seconds: float = VISIBILITY_SECONDS, sessions: int = VISIBILITY_SESSIONS
    ) -> None:
        self.seconds = seconds
        self.sessions = sessions
        self._entries: OrderedDict[str, tuple[float, list[ReadableRepository]]] = OrderedDict()

    def get(self, session_id: str, *, now: float) -> list[ReadableRepository] | None:
        entry = self._entries.get(session_id)
        if entry is None or entry[0] <= now:
            self._entries.pop(session_id, None)
            return None
        self._entries.move_to_end(session_id)
        return entry[1]

    def put(self, session_id: str, repos: list[ReadableRepository], *, now: float) -> None:
        self._entries[session_id] = (now + self.seconds, repos)
        self._entries.move_to_end(session_id)
        while len(self._entries) > self.sessions:
            self._entries.popitem(last=False)

    def forget(self, session_id: str) -> None:
        self._entries.pop(session_id, None)
