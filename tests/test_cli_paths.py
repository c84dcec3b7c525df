"""The PATH arguments of `ssot scan` and `ssot fix`: files, folders, the root, and mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from git_repos import CANONICAL, DEPRECATED, HAS_GIT, make_repo

from analyzers.cli import main
from analyzers.exit_codes import EXIT_ERROR

pytestmark = pytest.mark.skipif(not HAS_GIT, reason="git is needed to build test repositories")

Capsys = pytest.CaptureFixture[str]


def _tree(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path,
        {
            "app/a.py": DEPRECATED,
            "app/deep/b.py": DEPRECATED,
            "lib/c.py": DEPRECATED,
            "application/d.py": DEPRECATED,  # shares a prefix with app/, is not under it
            "docs/notes.txt": "not Python\n",
        },
    )


def _listed(out: str) -> list[str]:
    return sorted(line.split(":")[0] for line in out.splitlines() if ": SSOT001 " in line)


def test_a_folder_stands_for_the_python_files_under_it(tmp_path: Path, capsys: Capsys) -> None:
    repo = _tree(tmp_path)
    assert main(["scan", "--list", "--no-cache", "--root", str(repo), "app"]) == 0
    out = capsys.readouterr().out
    assert _listed(out) == ["app/a.py", "app/deep/b.py"]
    assert "in 2 files" in out


def test_folders_and_files_mix_and_a_trailing_slash_is_the_same_folder(
    tmp_path: Path, capsys: Capsys
) -> None:
    repo = _tree(tmp_path)
    argv = ["scan", "--list", "--no-cache", "--root", str(repo)]
    assert main([*argv, "app/deep/", "lib/c.py", "app/deep/b.py"]) == 0
    assert _listed(capsys.readouterr().out) == ["app/deep/b.py", "lib/c.py"]


def test_the_root_itself_is_the_whole_tree(tmp_path: Path, capsys: Capsys) -> None:
    repo = _tree(tmp_path)
    assert main(["scan", "--list", "--no-cache", "--root", str(repo)]) == 0
    whole = capsys.readouterr().out
    assert main(["scan", "--list", "--no-cache", "--root", str(repo), "."]) == 0
    assert capsys.readouterr().out == whole
    assert main(["scan", "--list", "--no-cache", "--root", str(repo), str(repo)]) == 0
    assert capsys.readouterr().out == whole
    assert _listed(whole) == ["app/a.py", "app/deep/b.py", "application/d.py", "lib/c.py"]


def test_an_absolute_path_through_a_symlink_to_the_checkout_is_inside_it(
    tmp_path: Path, capsys: Capsys
) -> None:
    repo = _tree(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(repo, target_is_directory=True)
    assert main(["scan", "--list", "--no-cache", "--root", str(repo), str(link / "lib")]) == 0
    assert _listed(capsys.readouterr().out) == ["lib/c.py"]


def test_a_path_that_does_not_exist_is_an_error_naming_it(tmp_path: Path, capsys: Capsys) -> None:
    repo = _tree(tmp_path)
    assert main(["scan", "--root", str(repo), "app/a.py", "app/mistyped.py"]) == EXIT_ERROR
    captured = capsys.readouterr()
    assert "app/mistyped.py: no such file or folder in " in captured.err
    assert captured.out == ""  # no report that would pass for a clean one
    assert main(["scan", "--root", str(repo), ".", "app/mistyped.py"]) == EXIT_ERROR
    assert "app/mistyped.py: no such file" in capsys.readouterr().err


def test_a_path_outside_the_root_is_an_error(tmp_path: Path, capsys: Capsys) -> None:
    repo = _tree(tmp_path)
    (tmp_path / "outside.py").write_text(DEPRECATED)
    assert main(["scan", "--root", str(repo), "../outside.py"]) == EXIT_ERROR
    assert "../outside.py: outside the checkout " in capsys.readouterr().err
    assert main(["scan", "--root", str(repo), str(tmp_path / "outside.py")]) == EXIT_ERROR


def test_a_folder_without_python_files_is_said_so(tmp_path: Path, capsys: Capsys) -> None:
    repo = _tree(tmp_path)
    assert main(["scan", "--no-cache", "--root", str(repo), "docs"]) == 0
    captured = capsys.readouterr()
    assert "ssot: docs: no Python file to analyse in this folder" in captured.err
    assert "in 0 files" in captured.out


def test_fix_of_a_folder_fixes_only_the_files_under_it(tmp_path: Path, capsys: Capsys) -> None:
    repo = _tree(tmp_path)
    assert main(["fix", "--root", str(repo), "app/deep"]) == 0
    fixed = "WebSocketManager as UnifiedWebSocketManager\n"
    assert (repo / "app/deep/b.py").read_text() == CANONICAL.replace("WebSocketManager\n", fixed)
    for untouched in ("app/a.py", "lib/c.py", "application/d.py"):
        assert (repo / untouched).read_text() == DEPRECATED
