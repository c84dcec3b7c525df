"""Compare one change (a pull request, or a working tree against its merge base).

The single code path shared by ``ssot check`` and the GitHub App: given which files changed
(renames followed), their content at base and at head, and their patches, return what is
new, fixed and unchanged, and whether each new finding sits on a line the change touched.
Content is passed in; this module does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from analyzers.baseline import Comparison, compare
from analyzers.diff import FileDiff, parse_patch
from analyzers.engine import analyze
from analyzers.findings import Finding
from analyzers.policy import Policy

FileStatus = Literal["added", "modified", "removed", "renamed"]
# Looks up (or computes and stores) findings by blob id; the App keys it by git blob sha.
FindingsLookup = Callable[[str, str, bytes], list[Finding]]


@dataclass(frozen=True)
class ChangedFile:
    """One file of a change, as GitHub's pull-request files API describes it."""

    path: str
    status: FileStatus
    previous_path: str | None = None
    patch: str | None = None
    base_sha: str | None = None
    head_sha: str | None = None

    @property
    def base_path(self) -> str | None:
        """Where the file was at the base (None when the change adds it)."""
        if self.status == "added":
            return None
        return self.previous_path or self.path


@dataclass
class ChangeResult:
    """What a change did to the findings, and where it touched the files."""

    comparison: Comparison
    diffs: dict[str, FileDiff] = field(default_factory=dict)
    files: int = 0

    def on_changed_line(self, finding: Finding) -> bool:
        """True when ``finding`` starts on a line the change added (a review comment fits)."""
        diff = self.diffs.get(finding.path)
        return diff is not None and finding.line in diff.added

    def commentable(self, finding: Finding) -> bool:
        """True when GitHub accepts a review comment on the finding's line."""
        diff = self.diffs.get(finding.path)
        return diff is not None and diff.commentable(finding.line, "RIGHT")


def is_python(path: str | None) -> bool:
    return path is not None and path.endswith((".py", ".pyi"))


def compare_change(
    policy: Policy,
    files: list[ChangedFile],
    base_content: Mapping[str, bytes],
    head_content: Mapping[str, bytes],
    lookup: FindingsLookup | None = None,
) -> ChangeResult:
    """Analyse the changed Python files at base and head and compare them.

    ``base_content`` is keyed by base path, ``head_content`` by head path; a path missing
    from a mapping is treated as absent on that side. ``lookup`` lets the caller cache
    findings per blob: it is called as ``lookup(blob_id, path, data)``.
    """
    wanted = [
        f
        for f in files
        if (is_python(f.path) or is_python(f.previous_path)) and not policy.excluded.match(f.path)
    ]

    def findings(blob_id: str | None, path: str, data: bytes) -> list[Finding]:
        if lookup is not None and blob_id:
            return [x if x.path == path else x.with_path(path) for x in lookup(blob_id, path, data)]
        return analyze(path, data, policy).findings

    base: dict[str, list[Finding]] = {}
    head: dict[str, list[Finding]] = {}
    renames: dict[str, str] = {}
    diffs: dict[str, FileDiff] = {}
    for f in wanted:
        old = f.base_path
        if old is not None and old in base_content:
            base[old] = findings(f.base_sha, old, base_content[old])
        if f.status != "removed":
            data = head_content.get(f.path)
            head[f.path] = [] if data is None else findings(f.head_sha, f.path, data)
            if f.previous_path and f.previous_path != f.path:
                renames[f.path] = f.previous_path
        if f.patch is not None:
            diffs[f.path] = parse_patch(f.patch)
    return ChangeResult(comparison=compare(base, head, renames), diffs=diffs, files=len(wanted))
