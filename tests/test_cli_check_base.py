"""`ssot check` without --base, and what it says when there is no base or no policy there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from git_repos import DEPRECATED, EXAMPLE_POLICY, HAS_GIT, commit, git, make_repo, write

from analyzers.cli import main

pytestmark = pytest.mark.skipif(not HAS_GIT, reason="git is needed to build test repositories")

Capsys = pytest.CaptureFixture[str]


def check(capsys: Capsys, repo: Path, *argv: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code = main(["check", "--root", str(repo), "--format", "json", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else {}), err


def clone(tmp_path: Path, upstream: Path) -> Path:
    """A clone of ``upstream`` (so origin/HEAD points at its default branch)."""
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(upstream), str(work))
    return work


def test_without_base_a_clone_compares_with_the_merge_base_of_origin_head(
    tmp_path: Path, capsys: Capsys
) -> None:
    upstream = make_repo(tmp_path, {"app/a.py": "x = 1\n"}, name="upstream")
    work = clone(tmp_path, upstream)
    git(work, "switch", "-q", "-c", "feature")
    commit(work, {"app/feature.py": "y = 2\n"})
    fork_point = git(work, "merge-base", "origin/main", "HEAD").strip()
    # main moves on after the branch was made: only the branch's own changes are judged.
    commit(upstream, {"app/later.py": DEPRECATED}, "later on main")
    git(work, "fetch", "-q")
    write(work, {"app/b.py": DEPRECATED})

    code, report, err = check(capsys, work)
    assert code == 1
    assert report["base"] == fork_point
    assert [f["path"] for f in report["findings"] if f["status"] == "new"] == ["app/b.py"]
    assert f"comparing with origin/HEAD -> origin/main: merge base {fork_point[:12]}" in err


def test_without_base_or_remote_the_main_branch_is_the_base(tmp_path: Path, capsys: Capsys) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    main_sha = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "switch", "-q", "-c", "feature")
    commit(repo, {"app/b.py": DEPRECATED})
    code, report, err = check(capsys, repo)
    assert code == 1
    assert report["base"] == main_sha
    assert f"comparing with main: merge base {main_sha[:12]}" in err


def test_without_base_a_master_branch_is_found_too(tmp_path: Path, capsys: Capsys) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    git(repo, "branch", "-m", "main", "master")
    git(repo, "switch", "-q", "-c", "feature")
    code, _, err = check(capsys, repo)
    assert code == 0
    assert "comparing with master:" in err


def test_without_any_base_branch_it_says_what_to_pass(tmp_path: Path, capsys: Capsys) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    git(repo, "branch", "-m", "main", "trunk")
    code, report, err = check(capsys, repo)
    assert (code, report) == (2, {})
    assert "none of origin/HEAD, origin/main, origin/master, main, master exists" in err
    assert "pass --base REV" in err


def test_a_base_with_no_shared_history_says_there_is_no_merge_base(
    tmp_path: Path, capsys: Capsys
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    git(repo, "switch", "-q", "--orphan", "unrelated")
    commit(repo, {"app/z.py": "z = 1\n"}, "another root")
    git(repo, "switch", "-q", "main")
    code, _, err = check(capsys, repo, "--base", "unrelated")
    assert code == 2
    assert "no merge base: unrelated and HEAD share no history" in err
    assert "git merge-base" not in err  # git's own empty complaint is not what the user gets


def test_an_unknown_base_says_so(tmp_path: Path, capsys: Capsys) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    code, _, err = check(capsys, repo, "--base", "no-such-branch")
    assert code == 2
    assert "--base no-such-branch: no such commit, branch or tag" in err


def test_a_base_without_a_policy_uses_the_working_trees_and_says_so(
    tmp_path: Path, capsys: Capsys
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    base = commit(repo, {"app/a.py": "x = 1\n"}, "before any policy")
    write(repo, {".github/ssot.toml": EXAMPLE_POLICY.read_text(), "app/b.py": DEPRECATED})
    code, report, err = check(capsys, repo, "--base", "main")
    assert code == 1
    assert report["base"] == base
    assert f"the base {base[:12]} has no policy; using the working tree's .github/ssot.toml" in err


def test_a_base_with_a_policy_says_nothing_about_it(tmp_path: Path, capsys: Capsys) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    code, _, err = check(capsys, repo, "--base", "main")
    assert code == 0
    assert err == ""


def test_a_repository_without_a_commit_says_to_commit_first(tmp_path: Path, capsys: Capsys) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, {".github/ssot.toml": EXAMPLE_POLICY.read_text(), "app/a.py": DEPRECATED})
    code, _, err = check(capsys, repo)
    assert code == 2
    assert "HEAD has no commit yet" in err
