"""Read a git checkout: tracked files, the merge base, changed paths and blobs at a revision.

Only plumbing commands with fixed arguments are run; nothing from the repository is executed
(hooks do not run for these commands, and paths are passed after ``--`` or on stdin).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

PYTHON_SUFFIXES = (".py", ".pyi")
_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".ssot_cache",
        ".tox",
        ".mypy_cache",
    }
)


class GitError(RuntimeError):
    """A git command failed; the message carries git's own words."""


class NoMergeBase(GitError):
    """Two revisions share no history (unrelated branches, or a clone too shallow to tell)."""


# Where `ssot check` without --base looks for the branch a change will merge into: the
# remote's default branch first (what a pull request targets), then the usual names.
DEFAULT_BASES = ("origin/HEAD", "origin/main", "origin/master", "main", "master")


def _git(root: Path, *args: str, input: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            input=input,
            capture_output=True,
            check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def toplevel(path: Path) -> Path | None:
    """The root of the git checkout holding ``path``, or None outside git."""
    try:
        return Path(_git(path, "rev-parse", "--show-toplevel").decode().strip())
    except GitError:
        return None


def python_files(root: Path) -> list[str]:
    """Repository-relative POSIX paths of the Python files of a checkout.

    In git: tracked files plus untracked ones that are not ignored (as ``git status`` shows
    them). Outside git: every Python file below ``root``, skipping virtualenvs and caches.
    """
    if toplevel(root) is not None:
        out = _git(
            root,
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            "*.py",
            "*.pyi",
        )
        names = {n for n in out.decode("utf-8", "surrogateescape").split("\0") if n}
        # Tracked files deleted in the working tree are still in the index.
        gone = _git(root, "ls-files", "-z", "--deleted", "--", "*.py", "*.pyi")
        names.difference_update(gone.decode("utf-8", "surrogateescape").split("\0"))
        return sorted(names)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        rel = os.path.relpath(dirpath, root)
        for name in filenames:
            if name.endswith(PYTHON_SUFFIXES):
                found.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return sorted(found)


def merge_base(root: Path, rev: str) -> str:
    """The merge base of ``rev`` and HEAD (the commit a pull request would be compared with).

    Raises :class:`NoMergeBase` when they share no history (git says nothing then).
    """
    try:
        return _git(root, "merge-base", rev, "HEAD").decode().strip()
    except GitError:
        if commit_of(root, rev) is not None and commit_of(root, "HEAD") is not None:
            raise NoMergeBase(f"{rev} and HEAD have no common ancestor") from None
        raise


def commit_of(root: Path, rev: str) -> str | None:
    """The commit ``rev`` names, or None when it names none (unknown, or not a commit)."""
    try:
        out = _git(
            root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"
        )
    except GitError:
        return None
    return out.decode().strip() or None


def default_base(root: Path) -> tuple[str, str] | None:
    """``(name, commit)`` of the first of :data:`DEFAULT_BASES` that exists, else None.

    ``origin/HEAD`` is named after the branch it points to (``origin/HEAD -> origin/main``).
    """
    for name in DEFAULT_BASES:
        commit = commit_of(root, name)
        if commit is None:
            continue
        if name == "origin/HEAD":
            try:
                target = _git(
                    root, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"
                )
                name = f"origin/HEAD -> {target.decode().strip()}"
            except GitError:
                pass
        return name, commit
    return None


def is_shallow(root: Path) -> bool:
    """True in a shallow clone (CI checkouts often are), where a merge base may be cut off."""
    try:
        return _git(root, "rev-parse", "--is-shallow-repository").strip() == b"true"
    except GitError:
        return False


@dataclass(frozen=True)
class Change:
    """One changed Python file between a base commit and the working tree."""

    status: str  # A, M, D or R
    path: str  # the path now (for D: the old path)
    old_path: str | None  # the path at base (None for added files)


def changed_files(root: Path, base: str) -> list[Change]:
    """Python files that differ between ``base`` and the working tree, renames followed."""
    out = _git(root, "diff", "--name-status", "-z", "-M", "--relative", "--no-ext-diff", base, "--")
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    changes: list[Change] = []
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i][0]
        if status in "RC":
            old, new = fields[i + 1], fields[i + 2]
            i += 3
            changes.append(
                Change("R" if status == "R" else "A", new, old if status == "R" else None)
            )
            continue
        path = fields[i + 1]
        i += 2
        if status == "A":
            changes.append(Change("A", path, None))
        elif status == "D":
            changes.append(Change("D", path, path))
        else:
            changes.append(Change("M", path, path))
    untracked = _git(
        root, "ls-files", "-z", "--others", "--exclude-standard", "--", "*.py", "*.pyi"
    )
    changes.extend(
        Change("A", p, None) for p in untracked.decode("utf-8", "surrogateescape").split("\0") if p
    )
    return [
        c
        for c in changes
        if c.path.endswith(PYTHON_SUFFIXES) or (c.old_path or "").endswith(PYTHON_SUFFIXES)
    ]


def read_blobs(
    root: Path, rev: str, paths: Iterable[str]
) -> Iterator[tuple[str, str | None, bytes | None]]:
    """``(path, blob sha, content)`` of each path at ``rev``, in one ``git cat-file`` call."""
    wanted = list(paths)
    if not wanted:
        return
    request = "".join(f"{rev}:./{p}\n" for p in wanted).encode("utf-8", "surrogateescape")
    out = _git(root, "cat-file", "--batch", input=request)
    pos = 0
    for path in wanted:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] != b"blob":
            yield path, None, None  # missing at rev ("<name> missing")
            continue
        size = int(header[2])
        yield path, header[0].decode(), out[pos : pos + size]
        pos += size + 1


def unified_diff(root: Path, base: str, paths: Iterable[str]) -> str:
    """``git diff -U0`` text between ``base`` and the working tree for ``paths``."""
    wanted = list(paths)
    if not wanted:
        return ""
    return _git(
        root, "diff", "-U0", "-M", "--relative", "--no-ext-diff", "--no-color", base, "--", *wanted
    ).decode("utf-8", "replace")
