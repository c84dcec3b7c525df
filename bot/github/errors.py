"""What can go wrong talking to GitHub, beyond githubkit's own exceptions.

In a module of its own so that the client (:mod:`bot.github.api`) and the limits
(:mod:`bot.github.throttle`) can both name these errors without importing each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from githubkit.exception import RequestFailed


class NotConfigured(RuntimeError):
    """The App has no id or private key (run ``ssot serve`` and open / to create it)."""


class GraphQLError(RuntimeError):
    """A GraphQL request that returned no data; ``errors`` as GitHub sent them."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        messages = "; ".join(str(e.get("message", e)) for e in errors[:3])
        super().__init__(f"GraphQL failed: {messages}")


class GraphQLRateLimited(GraphQLError):
    """GraphQL's own rate limit (errors of type RATE_LIMITED): the job retries later."""


def connection_error(exc: BaseException) -> httpx.TransportError | None:
    """The network error under ``exc`` when GitHub could not be reached at all, else None.

    githubkit raises ``RequestError`` from httpx's own error (refused, unknown host, timed out,
    connection reset); the App's own errors may carry one as their cause too.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, httpx.TransportError):
            return current
        current = current.__cause__ or current.__context__
    return None


def github_host(github_url: str) -> str:
    """``api.github.com`` of ``https://api.github.com`` (the host and port people recognise)."""
    return urlsplit(github_url).netloc or github_url


def unreachable(error: httpx.TransportError, github_url: str) -> str:
    """One line for a person: which host could not be reached, why, and what to check."""
    detail = str(error).strip() or "no answer"
    return (
        f"GitHub at {github_host(github_url)} could not be reached "
        f"({type(error).__name__}: {detail}); check SSOT_GITHUB_URL ({github_url}) "
        "and this machine's network"
    )


def error_message(exc: RequestFailed) -> str:
    """GitHub's message of a failed request, with the messages of its ``errors``."""
    try:
        body = exc.response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    details = [
        str(e.get("message") if isinstance(e, dict) else e)
        for e in body.get("errors") or []
        if (isinstance(e, dict) and e.get("message")) or isinstance(e, str)
    ]
    return "; ".join(m.strip() for m in [str(body.get("message") or ""), *details] if m.strip())
