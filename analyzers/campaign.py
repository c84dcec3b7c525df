"""Consolidation batches: the safe fixes of a whole tree, cut into reviewable pull requests.

Pure: findings and file texts in, a :class:`Plan` out. ``ssot consolidate`` prints or applies
it; the App opens one pull request per batch (``bot/campaigns/``).

- Only the rules of ``[campaign] rules`` (all of them safe, see :mod:`analyzers.fix`) and only
  fixes marked ``safe`` are applied.
- One file and one concept at a time: the file's safe fixes for that concept are applied
  together, then the result must parse, and a full analysis of it must report nothing that
  was not there before; what it no longer reports is exactly what the batch fixes, so a scan
  after applying it counts exactly that many fewer. A file that fails any of this (not UTF-8,
  not parsable, no safe fix, a rewrite that adds a finding) is left out and named with the
  reason, in the plan and in the pull request.
- Batches are per concept and per group: the first ``depth`` folders of the file's path
  (``batch = "directory"``) or its CODEOWNERS owners (``batch = "owner"``), sorted by path and
  cut into parts of ``max_files``. A batch's id is ``<concept>/<group>-<part>`` (made safe for
  a branch name) and its branch ``ssot/consolidate/<id>``.
- The App passes the batches it already knows (:class:`KnownBatch`): an open one keeps its id
  and its files (those still fixable), a declined one's files are not proposed again, and new
  parts are numbered after every part used before, so an id never names two different batches.
  A pinned batch none of whose files is fixable any more is listed in ``Plan.emptied``.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from analyzers.codeowners import Owners
from analyzers.engine import analyze
from analyzers.findings import Finding
from analyzers.fix import apply_fixes, attach_fixes
from analyzers.policy import Policy
from analyzers.source import parse_quietly

BRANCH_PREFIX = "ssot/consolidate/"
ROOT_GROUP = "(root)"
UNOWNED_GROUP = "(no owner)"
_UNSAFE_REF = re.compile(r"[^A-Za-z0-9._-]+")
MAX_SLUG = 60
_BOM = "\ufeff"

Reader = Callable[[str], "str | None"]


@dataclass(frozen=True)
class LeftOut:
    """A file with findings the campaign would fix, left out of every batch, and why."""

    path: str
    concept: str
    group: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {
            "path": self.path,
            "concept": self.concept,
            "group": self.group,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class FileFix:
    """One file of a batch: its fixed text and the findings the fix removes."""

    path: str
    concept: str
    text: str
    fixed: tuple[Finding, ...]
    remaining: int = 0  # findings of the batch's rules in this file that no safe fix removes


@dataclass(frozen=True)
class Batch:
    """One consolidation pull request: a concept's safe fixes in a group of files."""

    id: str
    concept: str
    group: str
    part: int
    files: tuple[FileFix, ...]
    left_out: tuple[LeftOut, ...] = ()
    owners: tuple[str, ...] = ()

    @property
    def branch(self) -> str:
        return BRANCH_PREFIX + self.id

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    @property
    def fixes(self) -> list[Finding]:
        """Every finding the batch removes, by file and line."""
        return sorted(
            (f for item in self.files for f in item.fixed), key=lambda f: (f.path, f.line, f.col)
        )

    @property
    def contents(self) -> dict[str, str]:
        """The new text of each file of the batch."""
        return {f.path: f.text for f in self.files}

    def totals_change(self) -> list[tuple[str, str, int]]:
        """``(concept, rule, change)``: how the repository's totals move once it is merged."""
        counts = Counter((f.concept, f.rule) for f in self.fixes)
        return [(concept, rule, -n) for (concept, rule), n in sorted(counts.items())]

    def to_dict(self) -> dict[str, Any]:
        """The batch as ``ssot consolidate --plan --format json`` prints it."""
        return {
            "id": self.id,
            "concept": self.concept,
            "group": self.group,
            "part": self.part,
            "branch": self.branch,
            "files": self.paths,
            "fixes": [
                {
                    "path": f.path,
                    "line": f.line,
                    "rule": f.rule,
                    "concept": f.concept,
                    "message": f.message,
                    "fingerprint": f.fingerprint,
                }
                for f in self.fixes
            ],
            "totals": [{"concept": c, "rule": r, "change": n} for c, r, n in self.totals_change()],
            "owners": list(self.owners),
            "left_out": [item.to_dict() for item in self.left_out],
        }


KnownState = Literal["pinned", "declined", "done"]


@dataclass(frozen=True)
class KnownBatch:
    """A batch the App proposed or opened before, and what the plan does with it.

    ``pinned`` (open, or proposed on the dashboard): it keeps its id and its files that are
    still fixable; ``declined`` (a person closed it): its files are not proposed again;
    ``done`` (merged, or closed as empty): nothing, but its part number is never reused.
    """

    id: str
    concept: str
    group: str
    part: int
    files: tuple[str, ...]
    state: KnownState


@dataclass(frozen=True)
class Plan:
    """Every batch, the files left out, and the known open batches that have nothing left."""

    batches: tuple[Batch, ...] = ()
    left_out: tuple[LeftOut, ...] = ()
    emptied: tuple[str, ...] = ()

    def batch(self, batch_id: str) -> Batch | None:
        return next((b for b in self.batches if b.id == batch_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batches": [b.to_dict() for b in self.batches],
            "left_out": [item.to_dict() for item in self.left_out],
            "emptied": list(self.emptied),
        }


# --- one file ---------------------------------------------------------------------------------


def fix_file(
    path: str, text: str, findings: Sequence[Finding], policy: Policy, concept: str
) -> FileFix | str:
    """The safe fixes of ``concept``'s findings in one file, proven; else why not (a reason).

    ``findings``: the file's findings (any rule); only those of the campaign's rules and
    ``concept`` are fixed.
    """
    rules = set(policy.campaign.rules)
    # Fixes found earlier (the App's cache keeps those proven for a review) are proven again.
    wanted = [
        replace(f, fix=None)
        for f in findings
        if f.concept == concept and f.rule in rules and f.suppressed is None
    ]
    if not wanted:
        return "nothing to fix"
    if any(f.rule == "SSOT900" for f in findings):
        return (
            "the file cannot be analysed ("
            + next(f.message for f in findings if f.rule == "SSOT900")
            + ")"
        )
    try:
        parse_quietly(text.removeprefix(_BOM))
    except SyntaxError as exc:
        return f"the file does not parse (line {exc.lineno}: {exc.msg})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"the file does not parse ({type(exc).__name__})"
    before = analyze(path, text, policy).active
    with_fixes = attach_fixes(path, text, wanted, policy)
    fixes = [f.fix for f in with_fixes if f.fix is not None and f.fix.safe]
    if not fixes:
        return "no safe automatic fix for its findings (star import, attribute use, ...)"
    fixed_text = apply_fixes(text, fixes)
    if fixed_text == text:
        return "the fixes change nothing"
    try:
        parse_quietly(fixed_text.removeprefix(_BOM))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "the fixed file would not parse"
    after = analyze(path, fixed_text, policy).active
    old = Counter(f.fingerprint for f in before)
    new = Counter(f.fingerprint for f in after)
    added = new - old
    if added:
        return f"the rewrite would add {sum(added.values())} finding(s)"
    gone = old - new
    fixed: list[Finding] = []
    for finding in before:
        if gone[finding.fingerprint] > 0:
            gone[finding.fingerprint] -= 1
            fixed.append(finding)
    if not fixed:
        return "the fixes remove no finding"
    remaining = sum(1 for f in after if f.concept == concept and f.rule in rules)
    return FileFix(path, concept, fixed_text, tuple(fixed), remaining)


# --- grouping -----------------------------------------------------------------------------------


def slug(text: str) -> str:
    """``text`` as one safe component of a branch name (``@acme/web`` -> ``acme-web``)."""
    value = _UNSAFE_REF.sub("-", text).replace("..", "-")
    value = re.sub(r"-{2,}", "-", value).strip("-.")
    if value.endswith(".lock"):
        value = value[: -len(".lock")]
    if len(value) > MAX_SLUG:
        digest = hashlib.blake2b(text.encode(), digest_size=4).hexdigest()
        value = value[: MAX_SLUG - 9].rstrip("-.") + "-" + digest
    return value or "x"


def batch_id(concept: str, group: str, part: int) -> str:
    """The stable id of part ``part`` of ``group`` for ``concept``."""
    name = "root" if group == ROOT_GROUP else "unowned" if group == UNOWNED_GROUP else group
    return f"{slug(concept)}/{slug(name)}-{part}"


def group_of(path: str, policy: Policy, owners: Owners) -> str:
    """The group a file's batch is cut from: its first folders, or its CODEOWNERS owners."""
    campaign = policy.campaign
    if campaign.batch == "owner":
        found = owners.of(path)
        return " ".join(found) if found else UNOWNED_GROUP
    folders = path.split("/")[:-1][: campaign.depth]
    return "/".join(folders) if folders else ROOT_GROUP


# --- the plan -------------------------------------------------------------------------------------


@dataclass
class _Pool:
    fixes: dict[tuple[str, str], FileFix] = field(default_factory=dict)  # (concept, path)
    left_out: list[LeftOut] = field(default_factory=list)


def _candidates(
    findings: Mapping[str, Sequence[Finding]],
    read: Reader,
    policy: Policy,
    owners: Owners,
    wanted: Callable[[str], bool],
) -> _Pool:
    rules = set(policy.campaign.rules)
    pool = _Pool()
    for path in sorted(findings):
        items = findings[path]
        concepts = sorted(
            {f.concept for f in items if f.rule in rules and f.suppressed is None and f.concept}
        )
        if not concepts or not wanted(path):
            continue
        text = read(path)
        for concept in concepts:
            result = (
                "not UTF-8 text" if text is None else fix_file(path, text, items, policy, concept)
            )
            if isinstance(result, FileFix):
                pool.fixes[(concept, path)] = result
            else:
                group = group_of(path, policy, owners)
                pool.left_out.append(LeftOut(path, concept, group, result))
    return pool


def under(prefixes: Iterable[str]) -> Callable[[str], bool]:
    """A path filter: the path is one of ``prefixes`` or inside one (no prefixes: all)."""
    cleaned = [p.strip().strip("/") for p in prefixes if p.strip().strip("/")]
    if not cleaned:
        return lambda path: True
    return lambda path: any(path == p or path.startswith(p + "/") for p in cleaned)


def plan(
    findings: Mapping[str, Sequence[Finding]],
    read: Reader,
    policy: Policy,
    owners: Owners | None = None,
    *,
    known: Sequence[KnownBatch] = (),
    paths: Iterable[str] = (),
) -> Plan:
    """The campaign's batches for a tree.

    ``findings``: the tree's findings by path (a scan); ``read(path)``: a file's text (None
    when it is not UTF-8); ``owners``: the CODEOWNERS file; ``known``: batches opened before
    (see the module docstring); ``paths``: only files under these folders or files.
    """
    owners = owners if owners is not None else Owners()
    wanted = under(paths)
    pinned_paths = {p for k in known if k.state == "pinned" for p in k.files}
    pool = _candidates(findings, read, policy, owners, lambda p: wanted(p) or p in pinned_paths)
    max_files = policy.campaign.max_files
    batches: list[Batch] = []
    emptied: list[str] = []
    taken: set[tuple[str, str]] = set()
    used_parts: dict[tuple[str, str], int] = defaultdict(int)
    for k in known:
        key = (k.concept, k.group)
        used_parts[key] = max(used_parts[key], k.part)
        if k.state == "declined":
            taken.update((k.concept, p) for p in k.files)
    left_by_group: dict[tuple[str, str], list[LeftOut]] = defaultdict(list)
    for item in pool.left_out:
        left_by_group[(item.concept, item.group)].append(item)
    for k in sorted((k for k in known if k.state == "pinned"), key=lambda k: k.id):
        files = tuple(
            pool.fixes[(k.concept, p)]
            for p in sorted(k.files)
            if (k.concept, p) in pool.fixes and (k.concept, p) not in taken
        )
        taken.update((k.concept, p) for p in k.files)
        if not files:
            emptied.append(k.id)
            continue
        batches.append(_batch(k.id, k.concept, k.group, k.part, files, left_by_group, owners))
    grouped: dict[tuple[str, str], list[FileFix]] = defaultdict(list)
    for (concept, path), file_fix in sorted(pool.fixes.items()):
        if (concept, path) in taken or not wanted(path):
            continue
        grouped[(concept, group_of(path, policy, owners))].append(file_fix)
    for (concept, group), items in sorted(grouped.items()):
        for start in range(0, len(items), max_files):
            used_parts[(concept, group)] += 1
            part = used_parts[(concept, group)]
            chunk = tuple(items[start : start + max_files])
            ident = batch_id(concept, group, part)
            batches.append(_batch(ident, concept, group, part, chunk, left_by_group, owners))
    batches.sort(key=lambda b: (b.concept, b.group, b.part))
    return Plan(tuple(batches), tuple(pool.left_out), tuple(emptied))


def _batch(
    ident: str,
    concept: str,
    group: str,
    part: int,
    files: tuple[FileFix, ...],
    left_by_group: Mapping[tuple[str, str], list[LeftOut]],
    owners: Owners,
) -> Batch:
    found: list[str] = []
    for item in files:
        for owner in owners.of(item.path):
            if owner not in found:
                found.append(owner)
    left = tuple(left_by_group.get((concept, group), ()))
    return Batch(ident, concept, group, part, files, left, tuple(found))
