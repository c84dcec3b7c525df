"""What can go wrong talking to GitHub, beyond githubkit's own exceptions.

In a module of its own so that the client (:mod:`bot.github.api`) and the limits
(:mod:`bot.github.throttle`) can both name these errors without importing each other.
"""

from __future__ import annotations

from typing import Any


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
