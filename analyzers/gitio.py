"""Read a git checkout: tracked files, the merge base, changed paths and blobs at a revision.

Only plumbing commands with fixed arguments are run; nothing from the repository is executed
(hooks do not run for these commands, and paths are passed after ``--`` or on stdin).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from analyzers.report_replay import (
    LISTING_ARGS,
    Listed,
    finish_listing,
    listed_paths,
    stop_listing,
)

# subprocess is imported where git is run: a cold scan, whose listing the replay started
# with posix_spawn, runs no other git command, and subprocess takes 4 ms to import.
if TYPE_CHECKING:
    import subprocess

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
    import subprocess

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
    them), tracked ones deleted from the working tree included. Outside git: every Python
    file below ``root``, skipping virtualenvs and caches.
    """
    return PythonFileListing(root).result()


class PythonFileListing:
    """:func:`python_files`, started now and read later: git lists the tree on another core
    while this process goes on (a cold scan validates its policy meanwhile).

    ``listed``: what a warm scan whose stored report was stale already has: git's paths (or
    the git still listing them) and the stamps of the files (:attr:`stamps`; the scan stats
    them no second time).
    """

    def __init__(self, root: Path, listed: Listed | None = None) -> None:
        self.root = root
        self._process: subprocess.Popen[bytes] | None = None
        self._spawned = listed.git if listed is not None else None
        self._listed = listed.rels if listed is not None else None
        self.stamps = listed.stamps if listed is not None else None
        # Whether the paths are git's (a scan outside a checkout walks the folder instead).
        self.from_git = self._listed is not None
        if listed is not None:
            return
        import subprocess

        with contextlib.suppress(FileNotFoundError):  # no git: result() walks the folder
            # One git call (a warm scan is a few dozen milliseconds; each spawn costs some).
            # Tracked files deleted in the working tree are still listed: the scan stats or
            # opens every file anyway and skips those it cannot find.
            self._process = subprocess.Popen(
                ["git", "-C", str(root), *LISTING_ARGS],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
            )

    def result(self) -> list[str]:
        """The sorted paths (waits for git; walks the folder outside a checkout)."""
        if self._spawned is not None:
            self._listed, self._spawned = finish_listing(*self._spawned), None
            self.from_git = self._listed is not None
        if self._listed is not None:
            return self._listed
        if self._process is not None:
            out, _ = self._process.communicate()
            if self._process.returncode == 0:
                self.from_git = True
                return listed_paths(out)
        return _walk_python_files(self.root)  # not a checkout, or no git

    def cancel(self) -> None:
        """Stop git when the listing will not be read (the policy was refused)."""
        if self._spawned is not None:
            stop_listing(*self._spawned)
            self._spawned = None
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        if self._process is not None:
            self._process.communicate()


def _walk_python_files(root: Path) -> list[str]:
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


class BlobReader:
    """Blob contents by id from one long-lived ``git cat-file --batch`` process.

    Each :meth:`read` writes one request and reads its answer before the next, so neither
    pipe fills up and memory holds one blob at a time, however many are read.
    """

    def __init__(self, root: Path) -> None:
        import subprocess

        try:
            self._process = subprocess.Popen(
                ["git", "-C", str(root), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
            )
        except FileNotFoundError:
            raise GitError("git is not installed") from None

    def read(self, sha: str) -> bytes | None:
        """The content of blob ``sha``, or None when the repository does not have it."""
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(f"{sha}\n".encode())
        process.stdin.flush()
        header = process.stdout.readline().split()
        if len(header) < 3:
            if not header:
                raise GitError("git cat-file --batch stopped answering")
            return None  # "<sha> missing"
        data = process.stdout.read(int(header[2]))
        process.stdout.read(1)  # the newline after each object
        return data if header[1] == b"blob" else None

    def close(self) -> None:
        process = self._process
        if process.stdin is not None:
            process.stdin.close()
        if process.stdout is not None:
            process.stdout.close()
        process.wait()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Commit:
    """A commit of the first-parent history: its id and committer time (seconds, UTC)."""

    sha: str
    timestamp: int


def has_commits(root: Path) -> bool:
    """Whether ``HEAD`` names a commit (a fresh ``git init`` has none yet)."""
    try:
        _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except GitError:
        return False
    return True


def first_parent_commits(root: Path, rev: str = "HEAD") -> list[Commit]:
    """The first-parent history of ``rev``, oldest first (the branch as it was merged into)."""
    out = _git(root, "log", "--first-parent", "--reverse", "--format=%H %ct", rev, "--")
    commits: list[Commit] = []
    for line in out.decode().splitlines():
        sha, _, when = line.partition(" ")
        commits.append(Commit(sha, int(when)))
    return commits


def resolve_commit(root: Path, rev: str) -> str | None:
    """The commit id ``rev`` names, or None."""
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    except GitError:
        return None


def tree_blobs(root: Path, commit: str) -> dict[str, str]:
    """``path -> blob id`` of every file of ``commit``'s tree (submodules left out)."""
    out = _git(root, "ls-tree", "-r", "-z", "--full-tree", commit)
    found: dict[str, str] = {}
    for entry in out.decode("utf-8", "surrogateescape").split("\0"):
        meta, tab, path = entry.partition("\t")
        parts = meta.split()
        if tab and len(parts) == 3 and parts[1] == "blob":
            found[path] = parts[2]
    return found


@dataclass(frozen=True)
class TreeChange:
    """A file changed between two commits: its new blob id, or None when deleted."""

    path: str
    blob: str | None


def tree_changes(
    root: Path, pairs: Iterable[tuple[str, str]], pathspecs: Iterable[str] = ()
) -> dict[str, list[TreeChange]]:
    """For each ``(old, new)`` commit pair, the files that differ (renames as a deletion and
    an addition), keyed by ``new``; one ``git diff-tree --stdin`` for every pair."""
    wanted = list(pairs)
    if not wanted:
        return {}
    # A line "<commit> <parent>" compares the commit with that parent: new first, then old.
    request = "".join(f"{new} {old}\n" for old, new in wanted).encode()
    out = _git(
        root,
        "diff-tree",
        "--stdin",
        "-r",
        "-z",
        "--no-renames",
        "--always",
        "--no-ext-diff",
        "--",
        *pathspecs,
        input=request,
    )
    changes: dict[str, list[TreeChange]] = {new: [] for _, new in wanted}
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    current: list[TreeChange] | None = None
    i = 0
    while i < len(fields):
        item = fields[i]
        if item.startswith(":"):
            meta = item[1:].split()
            path = fields[i + 1]
            i += 2
            if current is None or len(meta) < 5:
                continue
            status, new_mode, new_blob = meta[4], meta[1], meta[3]
            gone = status.startswith("D") or new_mode == "160000"
            current.append(TreeChange(path, None if gone else new_blob))
            continue
        if item.strip():
            current = changes.setdefault(item.strip(), [])
        i += 1
    return changes
