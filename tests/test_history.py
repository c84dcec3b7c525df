"""`ssot history` on real git repositories made in tmp_path: totals per commit of the
first-parent history, computed incrementally, equal to a full scan of each commit."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from analyzers import history as history_module
from analyzers.cli import main
from analyzers.commands import policy_at
from analyzers.history import compute_history
from analyzers.policy import Policy
from analyzers.policy_loader import load_policy
from analyzers.progress import totals
from analyzers.runner import scan

EXAMPLE_POLICY = Path(__file__).resolve().parent.parent / "examples" / "websocket-ssot.toml"
LEGACY = "netra_backend.app.websocket_core.unified_manager"

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None, reason="git is needed to build test repositories"
)


def legacy(count: int, prefix: str = "M") -> str:
    """``count`` deprecated imports (SSOT001 findings)."""
    return "".join(
        f"from {LEGACY} import UnifiedWebSocketManager as {prefix}{i}\n" for i in range(count)
    )


class Repo:
    """A git repository whose commits get the dates we give them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.day = 0

    def git(self, *args: str, date: str | None = None) -> str:
        env = None
        if date is not None:
            import os

            env = {**os.environ, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date}
        return subprocess.run(
            ["git", "-C", str(self.root), "-c", "user.name=t", "-c", "user.email=t@e.com", *args],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        for rel, text in files.items():
            path = self.root / rel
            if text is None:
                self.git("rm", "-q", "--", rel)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            self.git("add", "--", rel)
        self.day += 1
        self.git(
            "commit", "-q", "--allow-empty", "-m", message, date=f"2026-01-{self.day:02d}T12:00:00Z"
        )
        return self.git("rev-parse", "HEAD").strip()


def policy_text(name: str = "websocket-manager") -> str:
    return EXAMPLE_POLICY.read_text().replace('name = "websocket-manager"', f'name = "{name}"', 1)


def history_json(
    root: Path, *args: str, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, Any]]:
    code = main(["history", "--root", str(root), "--format", "json", *args])
    assert code == 0
    data: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return data


def count_of(row: dict[str, Any], concept: str, rule: str) -> int | None:
    return next(
        (t["count"] for t in row["totals"] if (t["concept"], t["rule"]) == (concept, rule)), None
    )


def test_each_commit_gets_its_totals_oldest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repo(tmp_path / "repo")
    first = repo.commit({".github/ssot.toml": policy_text(), "app/a.py": legacy(2)})
    second = repo.commit({"app/b.py": legacy(3, "B")})
    third = repo.commit({"app/a.py": "x = 1\n"})
    rows = history_json(repo.root, capsys=capsys)
    assert [r["sha"] for r in rows] == [first, second, third]
    assert [count_of(r, "websocket-manager", "SSOT001") for r in rows] == [2, 5, 3]
    assert rows[0]["date"] == "2026-01-01T12:00:00Z"
    assert {"concept": "websocket-manager", "rule": "SSOT001", "count": 2, "target": 0} in rows[0][
        "totals"
    ]


def test_only_the_files_that_changed_are_analysed_and_a_second_run_reads_the_cache(
    tmp_path: Path,
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit(
        {".github/ssot.toml": policy_text(), **{f"app/m{i}.py": f"x = {i}\n" for i in range(20)}}
    )
    repo.commit({"app/m3.py": legacy(1)})
    repo.commit({"app/m4.py": legacy(1), "app/m5.py": None})
    policy = load_policy(policy_text(), ".github/ssot.toml").policy
    result = compute_history(repo.root, policy_at=lambda sha: policy, fixed_policy=True)
    assert [row.analysed for row in result.rows] == [20, 1, 1]  # a deletion needs no analysis
    assert [row.files for row in result.rows] == [20, 20, 19]
    again = compute_history(repo.root, policy_at=lambda sha: policy, fixed_policy=True)
    assert again.analysed == 0
    assert [r.totals for r in again.rows] == [r.totals for r in result.rows]


def test_the_totals_equal_a_full_scan_of_every_commit(tmp_path: Path) -> None:
    """The incremental sums against `ssot scan` of a checkout of each commit, merges included."""
    repo = Repo(tmp_path / "repo")
    repo.commit(
        {".github/ssot.toml": policy_text(), "app/a.py": legacy(2), "tests/test_a.py": legacy(1)}
    )
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit({"app/topic.py": legacy(4, "T"), "app/a.py": legacy(1)})
    repo.git("checkout", "-q", "main")
    repo.commit({"app/main.py": legacy(1, "X"), "app/old.py": legacy(2, "O")})
    repo.git("merge", "-q", "--no-ff", "topic", "-m", "merge topic", date="2026-01-20T12:00:00Z")
    repo.commit({"app/old.py": None, "app/renamed.py": legacy(2, "O")})
    result = compute_history(repo.root, policy_at=lambda sha: _policy(repo.root, sha))
    assert len(result.rows) == 4  # first-parent: the topic's own commit is not listed
    for row in result.rows:
        checkout = tmp_path / f"at-{row.commit_sha[:8]}"
        repo.git("worktree", "add", "-q", "--detach", str(checkout), row.commit_sha)
        policy = _policy(repo.root, row.commit_sha)
        assert policy is not None
        full = scan(checkout, policy, use_cache=False, jobs=1)
        expected = tuple(
            (t.concept, t.rule, t.count, t.target) for t in totals(full.all_findings, policy)
        )
        assert row.totals == expected, row.commit_sha


def _policy(root: Path, sha: str) -> Policy | None:
    found = policy_at(root, sha)
    return None if found is None else found[0]


def test_many_changed_files_are_analysed_in_worker_processes_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit(
        {
            ".github/ssot.toml": policy_text(),
            **{f"app/m{i}.py": legacy(i % 3, f"M{i}_") for i in range(30)},
        }
    )
    serial = compute_history(
        repo.root, policy_at=lambda sha: _policy(repo.root, sha), use_cache=False, jobs=1
    )
    monkeypatch.setattr(history_module, "PARALLEL_THRESHOLD", 5)
    parallel = compute_history(
        repo.root, policy_at=lambda sha: _policy(repo.root, sha), use_cache=False, jobs=2
    )
    assert parallel.rows[0].analysed == 30
    assert parallel.rows[0].totals == serial.rows[0].totals
    assert count_of_row(parallel.rows[0].totals) == sum(i % 3 for i in range(30))


def count_of_row(totals: tuple[Any, ...]) -> int:
    return next(t[2] for t in totals if t[:2] == ("websocket-manager", "SSOT001"))


def test_since_a_revision_starts_there_and_every_keeps_the_newest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repo(tmp_path / "repo")
    shas = [repo.commit({".github/ssot.toml": policy_text(), "app/a.py": legacy(1)})]
    shas += [repo.commit({f"app/f{i}.py": legacy(1, f"F{i}")}) for i in range(5)]
    assert [r["sha"] for r in history_json(repo.root, "--since", shas[3], capsys=capsys)] == shas[
        3:
    ]
    assert [
        r["sha"] for r in history_json(repo.root, "--since", "2026-01-05", capsys=capsys)
    ] == shas[4:]
    every = history_json(repo.root, "--every", "4", capsys=capsys)
    assert [r["sha"] for r in every] == [shas[0], shas[4], shas[5]]
    assert [count_of(r, "websocket-manager", "SSOT001") for r in every] == [1, 5, 6]


def test_a_since_that_is_neither_date_nor_revision_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit({".github/ssot.toml": policy_text()})
    assert main(["history", "--root", str(repo.root), "--since", "no-such-thing"]) == 2
    assert (
        "--since no-such-thing: neither a date (YYYY-MM-DD) nor a revision"
        in capsys.readouterr().err
    )
    assert main(["history", "--root", str(repo.root), "--every", "0"]) == 2


def test_a_repository_without_commits_has_an_empty_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repo(tmp_path / "repo")
    assert main(["history", "--root", str(repo.root), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == []
    assert "has no commits yet" in captured.err
    assert main(["history", "--root", str(repo.root), "--format", "csv"]) == 0
    assert capsys.readouterr().out == "sha,date,concept,rule,count,target\n"


def test_a_single_commit_is_a_history_of_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repo(tmp_path / "repo")
    sha = repo.commit({".github/ssot.toml": policy_text(), "app/a.py": legacy(2)})
    assert main(["history", "--root", str(repo.root)]) == 0
    out = capsys.readouterr().out
    assert sha[:12] in out
    assert "websocket-manager SSOT001: 2 -> 0" in out


def test_outside_git_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--root", str(tmp_path)]) == 2
    assert "is not a git checkout" in capsys.readouterr().err


def test_a_renamed_concept_starts_a_new_series_and_the_text_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit({".github/ssot.toml": policy_text("ws"), "app/a.py": legacy(2)})
    repo.commit({".github/ssot.toml": policy_text("websocket-manager")})
    rows = history_json(repo.root, capsys=capsys)
    assert count_of(rows[0], "ws", "SSOT001") == 2 and count_of(rows[1], "ws", "SSOT001") is None
    assert count_of(rows[1], "websocket-manager", "SSOT001") == 2
    assert rows[0]["series"] != rows[1]["series"]
    assert main(["history", "--root", str(repo.root)]) == 0
    out = capsys.readouterr().out
    assert "-- a new series from here: websocket-manager SSOT001 (renamed from ws)" in out
    assert "renamed from ws on 2026-01-02: a new series starts there" in out


def test_commits_without_a_policy_or_with_an_invalid_one_are_skipped_and_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit({"app/a.py": legacy(1)})
    repo.commit({".github/ssot.toml": "[[concept]]\nname = 3\n"})
    good = repo.commit({".github/ssot.toml": policy_text()})
    rows = history_json(repo.root, capsys=capsys)
    assert [r["sha"] for r in rows] == [good]
    assert count_of(rows[0], "websocket-manager", "SSOT001") == 1
    main(["history", "--root", str(repo.root), "--format", "json"])
    err = capsys.readouterr().err
    assert "2 commits skipped" in err and "no policy" in err and "invalid policy" in err
    # One policy for every commit counts them all.
    policy_file = tmp_path / "ssot.toml"
    policy_file.write_text(policy_text())
    all_rows = history_json(repo.root, "--policy", str(policy_file), capsys=capsys)
    assert [count_of(r, "websocket-manager", "SSOT001") for r in all_rows] == [1, 1, 1]


def test_csv_has_one_line_per_commit_concept_and_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repo(tmp_path / "repo")
    sha = repo.commit({".github/ssot.toml": policy_text(), "app/a.py": legacy(2)})
    out = tmp_path / "history.csv"
    assert main(["history", "--root", str(repo.root), "--format", "csv", "-o", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "sha,date,concept,rule,count,target"
    assert f"{sha},2026-01-01T12:00:00Z,websocket-manager,SSOT001,2,0" in lines


def test_a_history_without_any_policy_is_a_usage_error_naming_the_way_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repo(tmp_path / "repo")
    sha = repo.commit({"app/a.py": legacy(1)})
    assert main(["history", "--root", str(repo.root)]) == 2
    err = capsys.readouterr().err
    assert f"no commit of {repo.root.resolve()} has a usable policy" in err
    assert sha[:12] in err and "pass --policy FILE" in err


def test_uncommitted_changes_in_the_working_tree_never_count(tmp_path: Path) -> None:
    # Files of the working tree are read only when they are the committed blob itself.
    repo = Repo(tmp_path / "repo")
    repo.commit(
        {".github/ssot.toml": policy_text(), "app/a.py": legacy(2), "app/b.py": legacy(1, "B")}
    )
    (repo.root / "app" / "a.py").write_text(legacy(7))
    (repo.root / "app" / "b.py").unlink()
    policy = load_policy(policy_text(), ".github/ssot.toml").policy
    result = compute_history(repo.root, policy_at=lambda sha: policy, use_cache=False)
    assert count_of_row(result.rows[0].totals) == 3
