"""The demo repository's past: six weeks of consolidation on ``main``, and their totals.

Six weekly commits lead to the example repository as it is: the oldest carries more debt
(a bridge module with deprecated imports and a third manager class, a pool manager, an old
progress notifier sending legacy payloads), and each week removes some of it. Three weeks
ago the policy renamed its concept ``ws-manager`` to ``websocket-manager``: the dashboard
shows the new name as a new series, the break said so on its charts.

The commits are real ones in the fake GitHub (dated a week apart, up to now), and their
totals are the engine's own (:func:`analyzers.engine.analyze`, :func:`analyzers.progress.totals`),
stored as history samples (:func:`bot.store.history.record_sample`) as a backfill would.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping

from sqlalchemy.engine import Engine

from analyzers import trend
from analyzers.change import is_python
from analyzers.engine import analyze
from analyzers.findings import Finding
from analyzers.policy_loader import load_policy
from analyzers.progress import totals
from bot.store import history
from bot.store.history import Breakdown, HistorySample
from fake_github import FakeGitHubState, Repository

POLICY = ".github/ssot.toml"
OLD_NAME, NEW_NAME = "ws-manager", "websocket-manager"
DIRECTORY_DEPTH = 3
TOP = 10

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


def sample_of(
    state: FakeGitHubState, installation_id: int, repo: Repository, sha: str
) -> HistorySample:
    """The totals of one commit, analysed by the engine as the App analyses a push."""
    commit = state.get_commit(sha)
    files = {path: state.blobs[blob] for path, blob in commit.files.items()}
    policy = load_policy(files[POLICY].decode("utf-8"), POLICY).policy
    findings: list[Finding] = []
    scanned = 0
    for path, data in sorted(files.items()):
        if is_python(path) and not policy.excluded.match(path):
            scanned += 1
            findings.extend(analyze(path, data, policy).findings)
    counted = tuple((t.concept, t.rule, t.count, t.target) for t in totals(findings, policy))
    return HistorySample(
        installation_id=installation_id,
        repo=repo.full_name,
        commit_sha=sha,
        committed_at=commit.date,
        policy_key=policy.digest,
        series=trend.series_key(counted),
        totals=counted,
        source="backfill",
        recorded_at=dt.datetime.now(dt.UTC),
        files=scanned,
        breakdown=_by_directory(findings),
    )


def _by_directory(findings: list[Finding]) -> dict[str, Breakdown]:
    counts: dict[str, Counter[str]] = {}
    for finding in findings:
        if finding.suppressed is None and finding.concept:
            directory = "/".join(finding.path.split("/")[:-1][:DIRECTORY_DEPTH]) or "."
            counts.setdefault(finding.concept, Counter())[directory] += 1
    return {
        concept: Breakdown(directories=tuple(sorted(c.items(), key=lambda i: (-i[1], i[0]))[:TOP]))
        for concept, c in sorted(counts.items())
    }


def record(
    engine: Engine, state: FakeGitHubState, installation_id: int, repo: Repository, shas: list[str]
) -> list[HistorySample]:
    """Store the samples of ``shas`` in the App's history; the samples."""
    samples = [sample_of(state, installation_id, repo, sha) for sha in shas]
    for item in samples:
        history.record_sample(engine, item)
    return samples
