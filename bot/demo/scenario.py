"""The scenario of ``ssot demo``: a repository, a pull request, and GitHub's real payloads.

The base branch is the bundled example repository (``bot/demo/sample-repo`` with its
``.github/ssot.toml``, shipped in the package like the payloads). The pull request adds a deprecated import and a legacy event
payload (both with automatic fixes) and another WebSocket manager class; it fixes one old
import, keeps another, and moves a file with old debt, so the check shows new, fixed and
unchanged findings side by side. The webhook payloads are GitHub's own (copied from
``shared/fixtures/github-webhooks/``, see ``payloads/README.md``), edited only where
they name the repository, the installation, refs and shas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fake_github import FakeGitHubState, PullRequest, Repository

PAYLOADS = Path(__file__).resolve().parent / "payloads"

SAMPLE_REPO = Path(__file__).resolve().parent / "sample-repo"
OPENED_PAYLOAD = PAYLOADS / "pull_request.opened.payload.json"
PUSH_PAYLOAD = PAYLOADS / "push.with-installation.payload.json"
OWNER, NAME, AUTHOR = "acme", "sample-repo", "alice"
HEAD_BRANCH = "feature/agent-progress"
PR_TITLE = "Notify users while agents think"
SKIPPED_PARTS = frozenset({".ssot_cache", "__pycache__", ".git"})
SUPERVISOR = "netra_backend/app/agents/supervisor.py"

NOTIFIER = '''\
"""Progress notifications while an agent thinks."""

from __future__ import annotations

import time

from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager


async def notify_thinking(
    manager: UnifiedWebSocketManager, user_id: str, thread_id: str, thought: str
) -> None:
    await manager.send_to_user(
        user_id,
        {"type": "agent_thinking", "time": time.time(), "user": user_id, "thread_id": thread_id, "data": {"thought": thought}},
    )
'''

SESSION_MANAGER = '''\
"""Per-session connections for the agent runner."""

from __future__ import annotations


class SessionWebSocketManager:
    def __init__(self) -> None:
        self.sessions: dict[str, object] = {}

    def add_connection(self, session_id: str, connection: object) -> None:
        self.sessions[session_id] = connection

    async def broadcast(self, message: dict[str, object]) -> None:
        for connection in self.sessions.values():
            await connection.send_json(message)  # type: ignore[attr-defined]
'''

TOOLS = '''\
"""Tool dispatcher."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netra_backend.app.websocket_core.websocket_manager import WebSocketManager

if TYPE_CHECKING:
    from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager


async def run_tool(manager: WebSocketManager, user_id: str, thread_id: str, tool: str) -> None:
    import time

    await manager.send_to_user(
        user_id,
        {
            "event_type": "tool_executing",
            "timestamp": time.time(),
            "user_id": user_id,
            "thread_id": thread_id,
            "data": {"tool": tool},
        },
    )


def legacy(manager: UnifiedWebSocketManager) -> None:
    pass
'''

SUPERVISOR_ADDITION = """
    async def finish(self, user_id: str, thread_id: str) -> None:
        await self.manager.send_to_user(
            user_id,
            {
                "event_type": "agent_completed",
                "timestamp": datetime.now(timezone.utc).timestamp(),
                "user_id": user_id,
                "thread_id": thread_id,
                "data": {},
            },
        )
"""


def sample_files(root: Path = SAMPLE_REPO) -> dict[str, bytes]:
    """The example repository's files by path (its caches left out): the base branch."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and not SKIPPED_PARTS.intersection(path.relative_to(root).parts)
        and path.suffix != ".pyc"
    }


def pull_request_changes(base: dict[str, bytes]) -> dict[str, str | None]:
    """What the demo pull request changes (None deletes a path).

    New: a deprecated import and a legacy payload (both with automatic fixes) and another
    manager class. Fixed: the package import in ``tools.py``. Unchanged: the legacy import
    kept in ``tools.py``, and the legacy payload of ``supervisor.py``, which the pull
    request moves to ``agent_supervisor.py`` (a rename) and extends.
    """
    supervisor = base[SUPERVISOR].decode("utf-8")
    return {
        "netra_backend/app/agents/notifier.py": NOTIFIER,
        "netra_backend/app/websocket_core/session_manager.py": SESSION_MANAGER,
        "netra_backend/app/agents/tools.py": TOOLS,
        SUPERVISOR: None,
        "netra_backend/app/agents/agent_supervisor.py": supervisor + SUPERVISOR_ADDITION,
    }


def repository_fields(original: dict[str, Any], repo: Repository) -> dict[str, Any]:
    """A payload's ``repository`` object (real, from a fixture) made to name ``repo`` (fake)."""
    data = dict(original)
    owner = dict(data.get("owner") or {})
    owner.update(login=repo.owner.login, id=repo.owner.id, type=repo.owner.type)
    data.update(
        id=repo.id,
        node_id=repo.node_id,
        name=repo.name,
        full_name=repo.full_name,
        owner=owner,
        private=repo.private,
        fork=repo.fork,
        default_branch=repo.default_branch,
        master_branch=repo.default_branch,
    )
    return data


def opened_payload(state: FakeGitHubState, pr: PullRequest, installation_id: int) -> bytes:
    """GitHub's real ``pull_request.opened`` payload, edited to describe ``pr`` on the fake."""
    payload: dict[str, Any] = json.loads(OPENED_PAYLOAD.read_bytes())
    base_repo = state.repos[pr.repo_id]
    head_repo = state.repos[pr.head_repo_id]
    pull = payload["pull_request"]
    user = dict(pull["user"], login=pr.user.login, id=pr.user.id)
    pull.update(id=pr.id, node_id=pr.node_id, number=pr.number, title=pr.title, user=user)
    for side, ref, sha, repo in (
        ("head", pr.head_ref, pr.head_sha, head_repo),
        ("base", pr.base_ref, pr.base_sha, base_repo),
    ):
        pull[side] = dict(
            pull[side],
            ref=ref,
            sha=sha,
            label=f"{repo.owner.login}:{ref}",
            user=dict(pull[side]["user"], login=repo.owner.login, id=repo.owner.id),
            repo=repository_fields(pull[side]["repo"], repo),
        )
    payload.update(
        number=pr.number,
        repository=repository_fields(payload["repository"], base_repo),
        installation=dict(payload["installation"], id=installation_id),
        sender=dict(payload["sender"], login=pr.user.login, id=pr.user.id),
    )
    return json.dumps(payload).encode("utf-8")


def push_payload(
    state: FakeGitHubState,
    repo: Repository,
    installation_id: int,
    *,
    after: str | None = None,
    before: str | None = None,
) -> bytes:
    """GitHub's real ``push`` payload, edited: the default branch of ``repo`` moved from
    ``before`` to ``after`` (default: created at its current commit, what the App sees once
    the repository exists)."""
    payload: dict[str, Any] = json.loads(PUSH_PAYLOAD.read_bytes())
    branch = repo.default_branch
    sha = after or repo.branches[branch]
    commit = state.commits[sha]
    head_commit = dict(
        payload.get("head_commit") or {},
        id=sha,
        tree_id=commit.tree_sha,
        message=commit.message,
        timestamp=commit.date.isoformat(),
    )
    payload.update(
        ref=f"refs/heads/{branch}",
        before=before or "0" * 40,
        after=sha,
        created=before is None,
        deleted=False,
        forced=False,
        base_ref=None,
        compare=f"https://github.com/{repo.full_name}/commit/{sha[:12]}",
        commits=[dict(head_commit)],
        head_commit=head_commit,
        repository=repository_fields(payload["repository"], repo),
        installation=dict(payload["installation"], id=installation_id),
    )
    return json.dumps(payload).encode("utf-8")
