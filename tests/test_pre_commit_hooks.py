"""The hooks of .pre-commit-hooks.yaml, run as pre-commit runs them (at the repository root)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from git_repos import DEPRECATED, HAS_GIT, commit, git, make_repo, write

from analyzers.cli import main

ROOT = Path(__file__).resolve().parent.parent
HOOKS = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}

pytestmark = pytest.mark.skipif(not HAS_GIT, reason="git is needed to build test repositories")


def run_hook(hook: dict[str, Any], files: tuple[str, ...] = ()) -> int:
    command = shlex.split(hook["entry"])
    assert command[0] == "ssot"
    return main([*command[1:], *([] if hook.get("pass_filenames") is False else files)])


def feature_clone(tmp_path: Path) -> Path:
    upstream = make_repo(tmp_path, {"app/a.py": "x = 1\n"}, name="upstream")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(upstream), str(work))
    git(work, "switch", "-q", "-c", "feature")
    return work


def test_ssot_check_hook_needs_no_base_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = HOOKS["ssot-check"]
    assert hook["entry"] == "ssot check"
    work = feature_clone(tmp_path)
    monkeypatch.chdir(work)
    commit(work, {"app/clean.py": "y = 2\n"})
    assert run_hook(hook) == 0
    write(work, {"app/b.py": DEPRECATED})
    git(work, "add", "app/b.py")
    assert run_hook(hook) == 1
    err = capsys.readouterr().err
    assert "comparing with origin/HEAD -> origin/main" in err


def test_ssot_scan_hook_fails_on_a_staged_file_with_a_blocking_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = HOOKS["ssot-scan"]
    work = feature_clone(tmp_path)
    monkeypatch.chdir(work)
    write(work, {"app/b.py": DEPRECATED, "app/c.py": "z = 3\n"})
    assert run_hook(hook, ("app/c.py",)) == 0
    assert run_hook(hook, ("app/b.py", "app/c.py")) == 1
    assert "app/b.py:1:" in capsys.readouterr().out
