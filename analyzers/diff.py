"""Line ranges from unified diffs: which lines a change touched, where GitHub takes comments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class FileDiff:
    """Lines of one file's diff: added (new side), deleted (old side) and context lines."""

    added: set[int] = field(default_factory=set)
    deleted: set[int] = field(default_factory=set)
    context_new: set[int] = field(default_factory=set)
    context_old: set[int] = field(default_factory=set)

    def commentable(self, line: int, side: str = "RIGHT") -> bool:
        """True when GitHub accepts a review comment on ``line`` of ``side``."""
        if side == "RIGHT":
            return line in self.added or line in self.context_new
        return line in self.deleted or line in self.context_old


def parse_patch(patch: str) -> FileDiff:
    """Parse the hunks of one file's patch (GitHub's ``patch`` field or ``git diff`` output)."""
    result = FileDiff()
    old = new = 0
    for line in patch.splitlines():
        match = _HUNK.match(line)
        if match:
            old, new = int(match.group(1)), int(match.group(3))
            continue
        if not line or line.startswith(("diff ", "index ", "--- ", "+++ ", "\\")):
            continue
        tag = line[0]
        if tag == "+":
            result.added.add(new)
            new += 1
        elif tag == "-":
            result.deleted.add(old)
            old += 1
        elif tag == " ":
            result.context_new.add(new)
            result.context_old.add(old)
            old += 1
            new += 1
    return result


def split_git_diff(text: str) -> dict[str, str]:
    """``git diff`` output as one patch text per file (keyed by the new path)."""
    files: dict[str, str] = {}
    current: list[str] = []
    path: str | None = None

    def flush() -> None:
        if path is not None:
            files[path] = "\n".join(current)

    for line in text.splitlines():
        if line.startswith("diff --git "):
            flush()
            path, current = None, []
        elif line.startswith("+++ "):
            name = line[4:]
            path = None if name == "/dev/null" else name.removeprefix("b/")
        current.append(line)
    flush()
    return files


def parse_git_diff(text: str) -> dict[str, FileDiff]:
    """Split ``git diff`` output by file (new path) and parse each file's hunks."""
    return {path: parse_patch(patch) for path, patch in split_git_diff(text).items()}
