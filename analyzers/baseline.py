"""Compare findings at base and at head: what a change adds, fixes, and leaves as it was.

Findings are matched as multisets of fingerprints per file (renamed files are matched with
their old path), so old debt in a touched file is never new and a line move changes
nothing. What is left unmatched is then paired across the changed files by fingerprint,
so a block of legacy code (a class, a payload) moved to another file is not new either;
imports are the exception, since an import added to a file is a new dependency of that file
even when the change removes the same import elsewhere.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from analyzers.findings import Finding

# Rules whose findings belong to their file: never paired across files as "moved".
PER_FILE_RULES = frozenset({"SSOT001", "SSOT900"})


@dataclass
class Comparison:
    """Findings of a change, split by what the change did to them."""

    new: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    unchanged: list[Finding] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        """New findings that fail the gate."""
        return [f for f in self.new if f.blocking]

    @property
    def passed(self) -> bool:
        return not self.blocking


def compare(
    base: Mapping[str, Iterable[Finding]],
    head: Mapping[str, Iterable[Finding]],
    renames: Mapping[str, str] | None = None,
) -> Comparison:
    """New / fixed / unchanged between ``base`` and ``head`` findings keyed by path.

    ``renames`` maps a head path to its base path. Files present on one side only are all
    new (added files) or all fixed (deleted files), except for code moved between files.
    """
    renames = renames or {}
    result = Comparison()
    left_new: list[Finding] = []
    left_fixed: list[Finding] = []
    base_by_path = {path: list(items) for path, items in base.items()}
    matched_base: set[str] = set()
    for path, items in head.items():
        old_path = renames.get(path, path)
        old = base_by_path.get(old_path, [])
        matched_base.add(old_path)
        new, fixed, same = _diff_multiset(old, list(items))
        left_new.extend(new)
        left_fixed.extend(fixed)
        result.unchanged.extend(same)
    for path, items in base_by_path.items():
        if path not in matched_base:
            left_fixed.extend(items)
    # Pair what moved between files: same fingerprint disappeared here, appeared there.
    # Imports never move: an import is a dependency of its own file, so the same deprecated
    # import removed from one file and added to another is new in the other.
    pool: dict[str, list[Finding]] = defaultdict(list)
    for finding in left_fixed:
        if finding.rule not in PER_FILE_RULES:
            pool[finding.fingerprint].append(finding)
    for finding in left_new:
        gone = pool.get(finding.fingerprint) if finding.rule not in PER_FILE_RULES else None
        if gone:
            gone.pop()
            result.unchanged.append(finding)
        else:
            result.new.append(finding)
    result.fixed = [f for items in pool.values() for f in items]
    result.fixed.extend(f for f in left_fixed if f.rule in PER_FILE_RULES)
    for bucket in (result.new, result.fixed, result.unchanged):
        bucket.sort(key=lambda f: (f.path, f.line, f.col, f.rule))
    return result


def _diff_multiset(
    old: list[Finding], new: list[Finding]
) -> tuple[list[Finding], list[Finding], list[Finding]]:
    remaining = Counter(f.fingerprint for f in old)
    added, same = [], []
    for finding in new:
        if remaining[finding.fingerprint] > 0:
            remaining[finding.fingerprint] -= 1
            same.append(finding)
        else:
            added.append(finding)
    fixed = []
    for finding in reversed(old):
        if remaining[finding.fingerprint] > 0:
            remaining[finding.fingerprint] -= 1
            fixed.append(finding)
    fixed.reverse()
    return added, fixed, same
