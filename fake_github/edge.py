"""The edge every request crosses before its route: latency, faults, limits, the call log."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import Response

from .faults import Faults
from .graphql import is_mutation
from .state import ApiCall, FakeGitHubState

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ACCESS_TOKENS = re.compile(r"^/app/installations/(\d+)/access_tokens$")


class GitHubEdge:
    """ASGI middleware in front of every route of the fake."""

    def __init__(self, app: ASGIApp, state: FakeGitHubState, faults: Faults) -> None:
        self.app = app
        self.state = state
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, clock = time.time(), time.perf_counter()
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        method: str = scope["method"]
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        kind = "GraphQL" if path == "/graphql" else "REST"
        installation_id = self._installation_of(path, headers)
        creating = self._content_creating(method, path, bytes(body))
        status = 0
        fault: str | None = None
        limit_headers: list[tuple[bytes, bytes]] = []

        recorded = False

        def record() -> None:
            # Before the response starts: a client that got its answer finds its call in the
            # log already (a 304 is complete with its headers).
            nonlocal recorded
            if recorded:
                return
            recorded = True
            self.state.record_call(
                ApiCall(
                    method=method,
                    path=path,
                    status=status or 500,
                    started_at=started,
                    duration=time.perf_counter() - clock,
                    kind="GraphQL" if kind == "GraphQL" else "REST",
                    installation_id=installation_id,
                    content_creating=creating,
                    fault=fault,
                )
            )

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *limit_headers]
                record()
            await send(message)

        answer = self.faults.take(method, path, installation_id)
        if answer is None:
            limit, remaining, answer = self.faults.admit_primary(installation_id, started)
            resource = "graphql" if kind == "GraphQL" else "core"
            limit_headers = [
                (b"x-ratelimit-limit", str(limit).encode()),
                (b"x-ratelimit-remaining", str(remaining).encode()),
                (b"x-ratelimit-reset", str(int(started) + 3600).encode()),
                (b"x-ratelimit-used", str(limit - remaining).encode()),
                (b"x-ratelimit-resource", resource.encode()),
            ]
        if answer is None and creating:
            answer = self.faults.admit_content_creation(installation_id, started)
        # A content-creating call is "in flight" from its admission, latency included, so
        # calls a client sends in parallel overlap here as they would on GitHub.
        in_flight = answer is None and creating
        if in_flight:
            self.faults.enter_content_creation(installation_id)
        try:
            if self.faults.latency > 0:
                await asyncio.sleep(self.faults.latency)
            if answer is not None:
                fault = answer.label
                payload = json.dumps(answer.body).encode()
                response = Response(
                    payload,
                    status_code=answer.status,
                    headers=answer.headers,
                    media_type="application/json; charset=utf-8",
                )
                await response(scope, replay, send_with_headers)
            else:
                await self.app(scope, replay, send_with_headers)
        finally:
            if in_flight:
                self.faults.leave_content_creation(installation_id)
            record()

    def _installation_of(self, path: str, headers: dict[str, str]) -> int | None:
        match = ACCESS_TOKENS.match(path)
        if match:
            return int(match.group(1))
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        if scheme.lower() in ("token", "bearer") and credential:
            installation = self.state.token_installation(credential.strip())
            if installation is not None:
                return installation.id
        return None

    @staticmethod
    def _content_creating(method: str, path: str, body: bytes) -> bool:
        if method not in ("POST", "PATCH", "PUT", "DELETE") or ACCESS_TOKENS.match(path):
            return False
        if path == "/graphql":
            try:
                query = json.loads(body or b"{}").get("query", "")
            except (ValueError, AttributeError):
                return False
            return isinstance(query, str) and is_mutation(query)
        return True
