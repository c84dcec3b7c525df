"""The benchmark corpus generator: deterministic by seed, and shaped like the real tree."""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import corpus


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, corpus.CorpusStats]:
    root = tmp_path_factory.mktemp("corpus") / "c600"
    return root, corpus.generate(root, files=600, seed=11, git=False)


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = corpus.generate(tmp_path / "a", files=80, seed=7, git=False)
    b = corpus.generate(tmp_path / "b", files=80, seed=7, git=False)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert a.bytes == b.bytes and a.files == b.files == 80


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    corpus.generate(tmp_path / "a", files=80, seed=1, git=False)
    corpus.generate(tmp_path / "b", files=80, seed=2, git=False)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a != b
    shared = set(a) & set(b)
    assert sum(a[p] == b[p] for p in shared) < len(shared) // 2 + 1


def test_git_commit_is_reproducible(tmp_path: Path) -> None:
    first = corpus.generate(tmp_path / "a", files=40, seed=3)
    second = corpus.generate(tmp_path / "b", files=40, seed=3)
    assert first.commit and first.commit == second.commit
    status = subprocess.run(
        ["git", "-C", str(tmp_path / "a"), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""  # every file is committed and the index is fresh
    listed = subprocess.run(
        ["git", "-C", str(tmp_path / "a"), "ls-files", "*.py"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(listed.stdout.split()) == 40


def test_shares_are_roughly_those_of_the_real_tree(medium: tuple[Path, corpus.CorpusStats]) -> None:
    _, stats = medium
    assert stats.files == 600
    share = stats.share
    assert 40 <= share(stats.websocket_files) <= 58
    assert 3.5 <= share(stats.deprecated_files) <= 9
    assert 11 <= share(stats.event_files) <= 21
    assert 9 <= share(stats.event_quoted_files) <= 17
    assert 12 <= share(stats.ws_class_files) <= 23
    assert 22 <= share(stats.any_trigger_files) <= 40
    assert 55 <= share(stats.test_files) <= 75
    assert stats.legacy_payloads_planted > 3 * stats.legacy_payloads_outside_tests
    assert 1 <= stats.syntax_error_files <= 3
    assert 0.33 <= stats.top_folders["netra_backend"] / 600 <= 0.48
    assert 0.30 <= stats.top_folders["tests"] / 600 <= 0.44


def test_sizes_follow_the_real_distribution(medium: tuple[Path, corpus.CorpusStats]) -> None:
    _, stats = medium
    p = stats.size_percentiles
    assert 600 <= p["p10"] <= 3_500
    assert 9_000 <= p["p50"] <= 20_000
    assert 28_000 <= p["p90"] <= 52_000
    assert 8 <= stats.mb <= 16  # ~18 KB a file, as 180 MB for 10,000 files


def test_files_are_python_except_the_planted_syntax_errors(
    medium: tuple[Path, corpus.CorpusStats],
) -> None:
    root, stats = medium
    broken = set(stats.syntax_error_paths)
    paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    assert len(paths) == 600
    for rel in paths[::5]:  # a sample keeps the test fast
        text = (root / rel).read_text(encoding="utf-8")
        if rel in broken:
            with pytest.raises(SyntaxError):
                ast.parse(text)
        else:
            ast.parse(text)
    for rel in broken:
        with pytest.raises(SyntaxError):
            ast.parse((root / rel).read_text(encoding="utf-8"))


def test_the_concept_lives_where_the_policy_says(medium: tuple[Path, corpus.CorpusStats]) -> None:
    root, _ = medium
    canonical = (root / corpus.CANONICAL_MODULE).read_text()
    tree = ast.parse(canonical)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    assert "WebSocketManager" in classes
    methods = {
        f.name
        for f in classes["WebSocketManager"].body
        if isinstance(f, ast.AsyncFunctionDef | ast.FunctionDef)
    }
    assert {"add_connection", "send_to_user", "broadcast"} <= methods
    every = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))
    for form in (
        "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager",
        "from netra_backend.app.websocket_core.websocket_manager_factory import ",
        "from netra_backend.app.websocket_core import WebSocketManager",
    ):
        assert form in every
    assert '"type": "agent_' in every  # legacy payloads
