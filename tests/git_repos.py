"""Real git repositories in tmp_path for the `ssot` command's end-to-end tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE_POLICY = Path(__file__).resolve().parent.parent / "examples" / "websocket-ssot.toml"
DEPRECATED = (
    "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n"
)
CANONICAL = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"
HAS_GIT = shutil.which("git") is not None


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity; its stdout."""
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def make_repo(tmp_path: Path, files: dict[str, str], name: str = "repo") -> Path:
    """A repository on branch ``main`` with the example policy and ``files``, one commit."""
    repo = tmp_path / name
    (repo / ".github").mkdir(parents=True)
    shutil.copy(EXAMPLE_POLICY, repo / ".github" / "ssot.toml")
    write(repo, files)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return repo


def write(repo: Path, files: dict[str, str | None]) -> None:
    """Write (or, for None, delete) files of the working tree."""
    for rel, text in files.items():
        path = repo / rel
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def commit(repo: Path, files: dict[str, str | None], message: str = "change") -> str:
    """Write ``files``, commit everything; the new commit's sha."""
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD").strip()


def run_console(
    repo: Path, *argv: str, prelude: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``ssot ARGV`` in ``repo`` as the console script runs it, after ``prelude`` in the same
    process."""
    code = (
        f"import sys\n{prelude}\nsys.argv = ['ssot', *{list(argv)!r}]\n"
        "from analyzers.entry import console\nconsole()\n"
    )
    # Block-buffered, as a pipe is for a user (this sandbox may export PYTHONUNBUFFERED).
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
