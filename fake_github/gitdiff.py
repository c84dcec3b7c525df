"""Git objects and diffs as GitHub computes them: blob/tree/commit shas, per-file patches.

Independent of ``analyzers.diff`` on purpose: the fake is the oracle the bot is tested
against, so it must not share the code (and the bugs) of what it checks.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

FileStatus = Literal["added", "removed", "modified", "renamed"]
Side = Literal["LEFT", "RIGHT"]

FILE_MODE = "100644"
TREE_MODE = "40000"
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file"
# Past this many removed x added pairs, only exact renames are looked for (difflib is O(n^2)).
_MAX_SIMILARITY_PAIRS = 10_000


def blob_sha(content: bytes) -> str:
    """The git blob sha of ``content`` (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _object_sha(kind: bytes, body: bytes) -> str:
    return hashlib.sha1(kind + b" %d\0" % len(body) + body).hexdigest()


def tree_shas(files: Mapping[str, str]) -> dict[str, str]:
    """Shas of the root tree ("") and of every directory ("pkg/", "pkg/sub/") of a flat tree.

    ``files`` maps paths to blob shas; every file has mode 100644. Directory keys end in "/".
    """
    # directory -> entry name -> (mode, blob sha; "" for a subdirectory, filled in below)
    entries: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for path, sha in files.items():
        parts = path.split("/")
        directory = ""
        for part in parts[:-1]:
            entries[directory][part] = (TREE_MODE, "")
            directory += part + "/"
            entries.setdefault(directory, {})
        entries[directory][parts[-1]] = (FILE_MODE, sha)
    shas: dict[str, str] = {}
    # Deepest directories first so a parent can use its children's shas.
    for directory in sorted(entries, key=lambda d: d.count("/"), reverse=True):
        children = entries[directory]
        # git sorts a subdirectory as if its name ended in "/".
        order = sorted(children, key=lambda n: n + "/" if children[n][0] == TREE_MODE else n)
        body = b"".join(
            f"{children[name][0]} {name}".encode()
            + b"\0"
            + bytes.fromhex(
                shas[directory + name + "/"]
                if children[name][0] == TREE_MODE
                else children[name][1]
            )
            for name in order
        )
        shas[directory] = _object_sha(b"tree", body)
    return shas


def commit_sha(
    tree: str,
    parents: tuple[str, ...],
    message: str,
    author: str,
    email: str,
    timestamp: int,
) -> str:
    """The git commit sha of a commit with the same author and committer."""
    signature = f"{author} <{email}> {timestamp} +0000"
    lines = [f"tree {tree}", *(f"parent {p}" for p in parents)]
    lines += [f"author {signature}", f"committer {signature}", "", message]
    text = "\n".join(lines)
    if not text.endswith("\n"):
        text += "\n"
    return _object_sha(b"commit", text.encode())


def is_binary(content: bytes) -> bool:
    """Git's rule of thumb (a NUL byte early on), plus: not UTF-8 means no text patch."""
    if b"\0" in content[:8000]:
        return True
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def git_lines(text: str) -> list[str]:
    """Lines split on "\\n" only (as git does), each keeping its newline, if it had one."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _hunk_range(start: int, length: int) -> str:
    # git's format: "-3" for one line, "-3,0" for none (start = line before), "-3,4" otherwise.
    if length == 0:
        return f"{start},0"
    if length == 1:
        return f"{start + 1}"
    return f"{start + 1},{length}"


def _function_heading(old: list[str], start: int) -> str:
    """git's default hunk heading: the last line before the hunk that starts a "function".

    git's default rule: a line beginning with a letter, "_" or "$", trailing blanks removed,
    at most 80 bytes.
    """
    for index in range(start - 1, -1, -1):
        line = old[index]
        if line and ((line[0].isascii() and line[0].isalpha()) or line[0] in "_$"):
            return line.rstrip().encode()[:80].decode("utf-8", "ignore")
    return ""


def unified_patch(old: str, new: str, context: int = 3) -> tuple[str, int, int]:
    """GitHub's ``patch`` for one file: hunks only (no ---/+++ lines), and the +/- counts."""
    a, b = git_lines(old), git_lines(new)
    out: list[str] = []
    additions = deletions = 0

    def emit(tag: str, line: str) -> None:
        if line.endswith("\n"):
            out.append(tag + line[:-1])
        else:
            out.append(tag + line)
            out.append(_NO_NEWLINE)

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        header = f"@@ -{_hunk_range(i1, i2 - i1)} +{_hunk_range(j1, j2 - j1)} @@"
        heading = _function_heading(a, i1)
        out.append(f"{header} {heading}" if heading else header)
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                for line in a[a1:a2]:
                    emit(" ", line)
                continue
            if tag in ("replace", "delete"):
                for line in a[a1:a2]:
                    emit("-", line)
                deletions += a2 - a1
            if tag in ("replace", "insert"):
                for line in b[b1:b2]:
                    emit("+", line)
                additions += b2 - b1
    return "\n".join(out), additions, deletions


@dataclass(frozen=True)
class PatchLine:
    """One line of a patch: its 1-based position in the patch (GitHub's ``position``)."""

    position: int
    tag: str  # "+", "-", " "
    old_line: int | None
    new_line: int | None
    hunk_start: int  # index in the patch's lines of this line's hunk header


def patch_lines(patch: str) -> Iterator[PatchLine]:
    """Walk a patch's lines with their old/new line numbers.

    ``position`` counts lines after the first hunk header, later headers included, which is
    how GitHub's deprecated ``position`` parameter addresses a line.
    """
    old = new = 0
    hunk_start = 0
    for index, line in enumerate(patch.split("\n")):
        match = _HUNK_HEADER.match(line)
        if match:
            old, new = int(match.group(1)), int(match.group(3))
            hunk_start = index
            continue
        if not line or line.startswith("\\"):
            continue
        tag = line[0]
        if tag == "+":
            yield PatchLine(index, tag, None, new, hunk_start)
            new += 1
        elif tag == "-":
            yield PatchLine(index, tag, old, None, hunk_start)
            old += 1
        else:
            yield PatchLine(index, " ", old, new, hunk_start)
            old += 1
            new += 1


def find_patch_line(patch: str, line: int, side: Side) -> PatchLine | None:
    """The patch line a review comment on (``line``, ``side``) lands on, or None (off the diff).

    RIGHT: added or context lines of the new file; LEFT: deleted or context lines of the old.
    """
    for item in patch_lines(patch):
        if side == "RIGHT" and item.tag in "+ " and item.new_line == line:
            return item
        if side == "LEFT" and item.tag in "- " and item.old_line == line:
            return item
    return None


def commentable_lines(patch: str) -> tuple[set[int], set[int]]:
    """(RIGHT lines, LEFT lines) that accept a review comment."""
    right: set[int] = set()
    left: set[int] = set()
    for item in patch_lines(patch):
        if item.new_line is not None and item.tag in "+ ":
            right.add(item.new_line)
        if item.old_line is not None and item.tag in "- ":
            left.add(item.old_line)
    return right, left


def diff_hunk(patch: str, target: PatchLine) -> str:
    """The ``diff_hunk`` GitHub stores with a comment: its hunk header through its line."""
    lines = patch.split("\n")
    return "\n".join(lines[target.hunk_start : target.position + 1])


@dataclass(frozen=True)
class FileChange:
    """One entry of a pull request's or comparison's file list."""

    filename: str
    status: FileStatus
    sha: str  # blob sha at head (at base for a removed file)
    previous_filename: str | None
    additions: int
    deletions: int
    patch: str | None  # None: binary, or too large for GitHub to show

    @property
    def changes(self) -> int:
        return self.additions + self.deletions


def _text(content: bytes) -> str | None:
    return None if is_binary(content) else content.decode("utf-8")


def _change(
    filename: str,
    status: FileStatus,
    sha: str,
    old: bytes,
    new: bytes,
    patch_size_limit: int,
    previous: str | None = None,
) -> FileChange:
    old_text, new_text = _text(old), _text(new)
    if old_text is None or new_text is None:
        return FileChange(filename, status, sha, previous, 0, 0, None)
    patch, additions, deletions = unified_patch(old_text, new_text)
    shown: str | None = patch if len(patch) <= patch_size_limit else None
    return FileChange(filename, status, sha, previous, additions, deletions, shown)


def _similarity(old: bytes, new: bytes) -> float:
    old_text, new_text = _text(old), _text(new)
    if old_text is None or new_text is None:
        return 0.0
    matcher = difflib.SequenceMatcher(None, git_lines(old_text), git_lines(new_text))
    if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
        return 0.0
    return matcher.ratio()


def diff_trees(
    old: Mapping[str, str],
    new: Mapping[str, str],
    blobs: Mapping[str, bytes],
    *,
    rename_similarity: float | None = 0.5,
    patch_size_limit: int = 1_000_000,
) -> list[FileChange]:
    """Files changed from tree ``old`` to tree ``new`` (both path -> blob sha), by path.

    A removed file whose blob equals an added file's blob is a rename; when
    ``rename_similarity`` is set, so is a removed/added pair at least that similar (git's
    default is 50%), with the patch of the edit.
    """
    removed = sorted(p for p in old if p not in new)
    added = sorted(p for p in new if p not in old)
    changes: list[FileChange] = []
    for path in sorted(p for p in new if p in old and old[p] != new[p]):
        changes.append(
            _change(
                path, "modified", new[path], blobs[old[path]], blobs[new[path]], patch_size_limit
            )
        )

    renamed_to: dict[str, str] = {}  # added path -> removed path
    by_blob: dict[str, list[str]] = {}
    for path in removed:
        by_blob.setdefault(old[path], []).append(path)
    for path in added:
        same_blob = by_blob.get(new[path])
        if same_blob:
            renamed_to[path] = same_blob.pop(0)
    gone = [p for p in removed if p not in renamed_to.values()]
    fresh = [p for p in added if p not in renamed_to]
    if rename_similarity is not None and gone and len(gone) * len(fresh) <= _MAX_SIMILARITY_PAIRS:
        scored = sorted(
            (
                (score, target, source)
                for source in gone
                for target in fresh
                if (score := _similarity(blobs[old[source]], blobs[new[target]]))
                >= rename_similarity
            ),
            reverse=True,
        )
        for _, target, source in scored:
            if target not in renamed_to and source not in renamed_to.values():
                renamed_to[target] = source

    for path in added:
        origin = renamed_to.get(path)
        if origin is None:
            changes.append(
                _change(path, "added", new[path], b"", blobs[new[path]], patch_size_limit)
            )
        elif old[origin] == new[path]:
            changes.append(FileChange(path, "renamed", new[path], origin, 0, 0, None))
        else:
            changes.append(
                _change(
                    path,
                    "renamed",
                    new[path],
                    blobs[old[origin]],
                    blobs[new[path]],
                    patch_size_limit,
                    previous=origin,
                )
            )
    renamed_from = set(renamed_to.values())
    for path in removed:
        if path not in renamed_from:
            changes.append(
                _change(path, "removed", old[path], blobs[old[path]], b"", patch_size_limit)
            )
    changes.sort(key=lambda change: change.filename)
    return changes
