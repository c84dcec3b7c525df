"""githubkit as the App: one client per process, installation tokens cached, errors sorted.

- Authentication: ``AppAuthStrategy(app_id, private key)`` and, per job,
  ``.with_auth(.as_installation(id))``. githubkit keeps the App JWT and each installation
  token in its cache strategy; ours is one process-wide memory cache that renews a token
  five minutes before GitHub expires it (githubkit's own margin is one minute), so every job
  of a process shares one token exchange per installation and hour.
- The API base URL is ``SSOT_GITHUB_URL`` (GitHub Enterprise Server: ``https://HOST/api/v3``).
- Limits: each installation client goes through :mod:`bot.github.throttle`, which keeps GitHub's
  limits per installation across every worker: a told wait (``retry-after``, reset) is
  honoured by all of them, content-creating calls are made one at a time and within budget.
- Retries: a rate limit whose ``retry-after`` is short, or one 5xx, is retried in place;
  a longer wait postpones the job to the time GitHub gave; other errors raise, and the job
  is retried later with back-off.
- HTTP caching is off: a PR re-read before posting must never come from a cache.
- One connection pool per process: githubkit opens an httpx client per request (outside a
  ``with`` block), and each would build its own TLS context and connections; they all share
  :data:`TRANSPORT` instead.

Reads use plain JSON (``gh.request``); writes go through githubkit's typed REST methods so
that request bodies are validated against GitHub's schema before they are sent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.cache.mem_cache import MemCache
from githubkit.exception import RequestFailed
from sqlalchemy.engine import Engine

from bot.github import throttle
from bot.github.errors import GraphQLError, GraphQLRateLimited, NotConfigured
from bot.github.throttle import retry_in_place
from bot.ops import metrics
from bot.ops.settings import Settings

InstallationClient = GitHub[AppInstallationAuthStrategy]

RENEW_EARLY = dt.timedelta(minutes=4)
TIMEOUT_SECONDS = 30.0
RAW = "application/vnd.github.raw+json"
_GHES_API = re.compile(r"/api/v3/?$")


class _EarlyExpiryCache(MemCache):
    """githubkit's memory cache, keeping tokens a few minutes less than they live."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def set(self, key: str, value: str, ex: dt.timedelta) -> None:
        if ex > 2 * RENEW_EARLY:
            ex -= RENEW_EARLY
        super().set(key, value, ex)

    async def aset(self, key: str, value: str, ex: dt.timedelta) -> None:
        self.set(key, value, ex)


class TokenCache(MemCacheStrategy):
    """Where the App JWT and installation tokens of this process live."""

    def __init__(self) -> None:
        super().__init__()
        self._storage = _EarlyExpiryCache()

    def get_cache_storage(self) -> MemCache:
        return self._storage

    def clear(self) -> None:
        """Forget every token (after a 401: the next call exchanges a fresh one)."""
        self._storage = _EarlyExpiryCache()


class SharedTransport(httpx.BaseTransport):
    """An HTTP transport many short-lived httpx clients share (their ``close`` keeps it)."""

    def __init__(self) -> None:
        self._transport: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._transport is None:
                self._transport = httpx.HTTPTransport(retries=1)
            transport = self._transport
        return transport.handle_request(request)

    def close(self) -> None:
        pass  # a client closing must not close the pool every other client uses

    def reset(self) -> None:
        """Close the pooled connections (the next request opens new ones)."""
        with self._lock:
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()


TOKENS = TokenCache()
TRANSPORT = SharedTransport()
_clients: dict[tuple[int, str, str], GitHub[AppAuthStrategy]] = {}
_clients_lock = threading.Lock()


def app_client(settings: Settings) -> GitHub[AppAuthStrategy]:
    """The App's client for ``settings`` (one per process, app id and API URL)."""
    pem = settings.private_key_pem()
    if settings.app_id is None or pem is None:
        raise NotConfigured("SSOT_APP_ID and SSOT_PRIVATE_KEY are not set")
    key = (settings.app_id, pem, settings.github_url)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = GitHub(
                AppAuthStrategy(settings.app_id, pem),
                base_url=settings.github_url + "/",
                cache_strategy=TOKENS,
                http_cache=False,
                auto_retry=retry_in_place,
                timeout=TIMEOUT_SECONDS,
                user_agent="ssot-guard",
                transport=TRANSPORT,
                event_hooks=metrics.github_event_hooks(),
            )
            _clients[key] = client
        return client


def installation_client(
    settings: Settings,
    installation_id: int,
    *,
    engine: Engine,
    priority: throttle.Priority = "check",
    observe: Callable[[httpx.Response], None] | None = None,
) -> InstallationClient:
    """A client acting as installation ``installation_id`` (its token shared per process).

    Its requests pass the installation's gate (:mod:`bot.github.throttle`), kept in ``engine``'s
    database so that every worker honours the same limits. ``priority="campaign"``: its writes
    give way to pull-request checks. ``observe`` sees every response (a budget counting what
    a low-priority job spends).
    """
    gh = app_client(settings)
    budget = throttle.WriteBudget(
        settings.github_writes_per_minute, settings.github_writes_per_hour
    )
    gate = throttle.InstallationGate(
        engine, installation_id, budget, priority, settings.campaign_write_share
    )
    hooks = dict(gh.config.event_hooks or {})
    hooks["response"] = [*hooks.get("response", []), gate.on_response]
    if observe is not None:
        hooks["response"].append(observe)
    config = dataclasses.replace(
        gh.config, throttler=gate.throttler, auto_retry=gate.retry_decision, event_hooks=hooks
    )
    return GitHub(gh.auth.as_installation(installation_id), config=config)


_bot_ids: dict[tuple[int | None, str], int] = {}


def own_bot_user_id(settings: Settings, gh: InstallationClient) -> int:
    """The id of the App's bot user (``<slug>[bot]``), asked once per process: only its
    comments are the App's, whatever another account or App writes in theirs."""
    key = (settings.app_id, settings.github_url)
    found = _bot_ids.get(key)
    if found is None:
        answer: Any = app_client(settings).rest.apps.get_authenticated().json()
        slug = answer["slug"]
        found = int(get_json(gh, f"/users/{slug}[bot]")["id"])
        _bot_ids[key] = found
    return found


_bot_logins: dict[tuple[int, str], str] = {}


def app_bot_login(settings: Settings) -> str:
    """The login of the App's bot user (``<slug>[bot]``): the author of what it creates.
    Asked once per process (``GET /app``)."""
    assert settings.app_id is not None
    key = (settings.app_id, settings.github_url)
    login = _bot_logins.get(key)
    if login is None:
        slug = app_client(settings).request("GET", "/app").json()["slug"]
        login = _bot_logins[key] = f"{slug}[bot]"
    return login


def forget_tokens() -> None:
    """Drop cached tokens (and the bot user's id): call after GitHub answered 401."""
    TOKENS.clear()
    _bot_ids.clear()


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a failed request, or None for other errors."""
    return exc.response.status_code if isinstance(exc, RequestFailed) else None


def get_json(gh: InstallationClient, url: str, params: Mapping[str, Any] | None = None) -> Any:
    """GET ``url`` and return its JSON body."""
    return gh.request("GET", url, params=dict(params or {})).json()


def get_optional(
    gh: InstallationClient, url: str, params: Mapping[str, Any] | None = None
) -> Any | None:
    """GET ``url``; None when GitHub answers 404 (or 422 for an unknown commit)."""
    try:
        return get_json(gh, url, params)
    except RequestFailed as exc:
        if exc.response.status_code in (404, 422):
            return None
        raise


def collaborator_permission(
    gh: InstallationClient, owner: str, repo: str, user: str | None
) -> tuple[str | None, str | None]:
    """``(permission, role_name)`` of ``user`` on the repository (GitHub's collaborator
    permission API); ``("none", None)`` for someone who is not a collaborator, ``(None,
    None)`` without a user."""
    if user is None:
        return None, None
    try:
        data = gh.rest.repos.get_collaborator_permission_level(owner, repo, user).parsed_data
    except RequestFailed as exc:
        if exc.response.status_code == 404:
            return "none", None
        raise
    return data.permission, getattr(data, "role_name", None)


def get_pages(
    gh: InstallationClient,
    url: str,
    params: Mapping[str, Any] | None = None,
    *,
    key: str | None = None,
    max_items: int | None = None,
) -> list[Any]:
    """Every item of a paginated list (``per_page=100``, following ``Link: rel="next"``).

    ``key``: the list is under this key of each page (``check_runs``); ``max_items``: stop
    once that many were read.
    """
    items: list[Any] = []
    next_url: str | None = url
    query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
    while next_url is not None:
        response = gh.request("GET", next_url, params=query)
        page = response.json()
        items.extend(page[key] if key is not None else page)
        if max_items is not None and len(items) >= max_items:
            return items[:max_items]
        link = response.raw_response.links.get("next")
        next_url = link.get("url") if link else None
        query = None  # the next link carries the query
    return items


def get_raw_blob(gh: InstallationClient, owner: str, repo: str, sha: str) -> bytes:
    """A blob's bytes (up to 100 MB) from the git blobs API."""
    response = gh.request("GET", f"/repos/{owner}/{repo}/git/blobs/{sha}", headers={"Accept": RAW})
    return response.content


def graphql_endpoint(gh: InstallationClient) -> str:
    """``/graphql``, or ``/api/graphql`` on GitHub Enterprise Server."""
    base = gh.config.base_url
    path, replaced = _GHES_API.subn("/api/graphql", base.path)
    return str(base.copy_with(path=path)) if replaced else "/graphql"


def graphql(
    gh: InstallationClient, query: str, variables: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run a GraphQL query; ``(data, errors)`` where field errors do not fail the query.

    Raises :class:`GraphQLRateLimited` or :class:`GraphQLError` when there is no data.
    """
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = dict(variables)
    response = gh.request("POST", graphql_endpoint(gh), json=body)
    answer = response.json()
    errors: list[dict[str, Any]] = list(answer.get("errors") or [])
    if any(e.get("type") in ("RATE_LIMITED", "RATE_LIMIT") for e in errors):
        # A 200 that no response hook reads as a limit: tell the installation's gate here,
        # so that every worker waits (GitHub gives no time: at least a minute).
        gate = getattr(gh.config.throttler, "gate", None)
        if isinstance(gate, throttle.InstallationGate):
            gate.block(dt.datetime.now(dt.UTC) + throttle.MINUTE, "GraphQL RATE_LIMITED", "graphql")
        raise GraphQLRateLimited(errors)
    data = answer.get("data")
    if not isinstance(data, dict):
        raise GraphQLError(errors or [{"message": "no data"}])
    return data, errors


def graphql_string(value: str) -> str:
    """A GraphQL string literal (JSON's escapes are GraphQL's)."""
    return json.dumps(value, ensure_ascii=False)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
