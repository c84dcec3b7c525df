"""The demo repository's past: six weeks of consolidation on ``main``, and their totals.

Six weekly commits lead to the example repository as it is: the oldest carries more debt
(a bridge module with deprecated imports and a third manager class, a pool manager, an old
progress notifier sending legacy payloads), and each week removes some of it. Three weeks
ago the policy renamed its concept ``ws-manager`` to ``websocket-manager``: the dashboard
shows the new name as a new series, the break said so on its charts.

The commits are real ones in the fake GitHub, dated a week apart up to now. The demo pushes
them to the App one by one, as GitHub would have, and the App records each push's totals
as a history sample (:mod:`bot.progress.recorder`): what the dashboard draws.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from fake_github import FakeGitHubState, Repository

POLICY = ".github/ssot.toml"
OLD_NAME, NEW_NAME = "ws-manager", "websocket-manager"

BRIDGE = '''\
"""Bridge between the old socket layer and the agents (to be removed)."""

from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager
from netra_backend.app.websocket_core.websocket_manager_factory import create_manager


class BridgeWebSocketManager:
    def __init__(self) -> None:
        self.inner: UnifiedWebSocketManager = create_manager()

    def add_connection(self, user_id: str, connection: object) -> None:
        self.inner.add_connection(user_id, connection)

    async def broadcast(self, message: dict[str, object]) -> None:
        await self.inner.broadcast(message)
'''

BRIDGE_IMPORTS_FIXED = BRIDGE.replace(
    "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n"
    "from netra_backend.app.websocket_core.websocket_manager_factory import create_manager\n",
    "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n",
).replace("UnifiedWebSocketManager = create_manager()", "WebSocketManager = WebSocketManager()")

POOL = '''\
"""A pool of sockets per user (superseded by WebSocketManager)."""


class PoolWebSocketManager:
    def __init__(self) -> None:
        self.pools: dict[str, list[object]] = {}

    def add_connection(self, user_id: str, connection: object) -> None:
        self.pools.setdefault(user_id, []).append(connection)

    async def send_to_user(self, user_id: str, message: dict[str, object]) -> None:
        for connection in self.pools.get(user_id, []):
            await connection.send_json(message)  # type: ignore[attr-defined]
'''

PROGRESS = '''\
"""Progress events of the first agent runner."""

import time

from netra_backend.app.websocket_core import WebSocketManager


async def started(manager: WebSocketManager, user_id: str) -> None:
    await manager.send_to_user(user_id, {"type": "agent_started", "time": time.time(), "user": user_id})


async def thinking(manager: WebSocketManager, user_id: str) -> None:
    await manager.send_to_user(user_id, {"type": "agent_thinking", "time": time.time(), "user": user_id})
'''

BRIDGE_PATH = "netra_backend/app/legacy/bridge.py"
POOL_PATH = "netra_backend/app/websocket_core/pool_manager.py"
PROGRESS_PATH = "netra_backend/app/agents/progress_old.py"


def weekly_states(base: Mapping[str, bytes]) -> list[tuple[str, dict[str, bytes | None]]]:
    """``main``'s changes week by week, oldest first: (message, files; None deletes a path).

    The first is the whole tree of six weeks ago; the last leaves ``main`` equal to ``base``.
    """
    policy = base[POLICY].decode("utf-8")
    old_policy = policy.replace(f'name = "{NEW_NAME}"', f'name = "{OLD_NAME}"', 1)
    if old_policy == policy:
        raise ValueError(f"{POLICY}: no concept named {NEW_NAME!r} to rename")
    first: dict[str, bytes | None] = {
        **base,
        POLICY: old_policy.encode(),
        BRIDGE_PATH: BRIDGE.encode(),
        POOL_PATH: POOL.encode(),
        PROGRESS_PATH: PROGRESS.encode(),
    }
    return [
        ("Agents and sockets as they were", first),
        ("Remove the pool manager: WebSocketManager pools per user", {POOL_PATH: None}),
        (f"Policy: rename the concept {OLD_NAME} to {NEW_NAME}", {POLICY: policy.encode()}),
        (
            "Bridge: import the canonical WebSocketManager",
            {BRIDGE_PATH: BRIDGE_IMPORTS_FIXED.encode()},
        ),
        ("Progress events: the canonical payload, through the supervisor", {PROGRESS_PATH: None}),
        ("Remove the bridge", {BRIDGE_PATH: None}),
    ]


def build_main(
    state: FakeGitHubState, repo: Repository, base: Mapping[str, bytes], *, now: dt.datetime
) -> list[str]:
    """Commit the weekly states on ``repo``'s default branch, a week apart up to ``now``;
    their shas, oldest first."""
    steps = weekly_states(base)
    shas: list[str] = []
    with state.lock:
        parent = repo.branches[repo.default_branch]
        tree = dict(state.get_commit(parent).files)
        for index, (message, files) in enumerate(steps):
            if index == 0:
                tree = {}
            for path, content in files.items():
                if content is None:
                    tree.pop(path, None)
                else:
                    tree[path] = state.store_blob(content)
            when = now - dt.timedelta(weeks=len(steps) - 1 - index)
            parent = state.commit_tree(
                tree, (parent,), message, author="alice", timestamp=int(when.timestamp())
            )
            shas.append(parent)
        state.push(repo, repo.default_branch, parent)
    return shas
