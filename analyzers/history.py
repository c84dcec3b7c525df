"""``ssot history``: the totals of every commit of a branch's first-parent history.

Incremental: the first commit's tree is analysed whole (through the findings cache, so a
checkout already scanned costs little), then each next commit only in the files that changed
since the previous one (``git diff-tree`` blob ids, one process for the whole history). A
file's findings are cached per ``(path, blob id)`` under the policy's key in ``.ssot_cache/``,
the same entries ``ssot check`` uses, so a second run, or a run after ``ssot check``, reads
almost nothing. Totals are kept per file and added up, never recounted.

The policy is the one of each commit (``.github/ssot.toml`` or ``[tool.ssot]`` as it was
then), unless one is given for all of them. A commit whose policy differs from the previous
one's is counted whole again (its findings are others); commits without a policy, or with an
invalid one, have no totals and are reported as skipped. A concept renamed by the policy
starts a new series (see :mod:`analyzers.trend`).

Nothing of the repository is executed: git plumbing only, blobs read as bytes.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from analyzers import gitio
from analyzers.cache import FindingsCache
from analyzers.change import is_python
from analyzers.engine import analyze
from analyzers.exit_codes import UsageError
from analyzers.findings import Finding
from analyzers.policy import Policy
from analyzers.policy_loader import POLICY_PATHS, PolicyError
from analyzers.progress import count_findings, totals_from_counts
from analyzers.runner import PARALLEL_THRESHOLD, blob_sha, cache_key, read_regular
from analyzers.trend import Total, series_key
from analyzers.triggers import prepare

Counts = Counter[tuple[str, str]]
PolicyAt = Callable[[str], Policy | None]  # a commit's policy (None: it has none)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?(Z|[+-]\d{2}:?\d{2})?$")
# Which changed files can change a commit's policy (its own file, or one it extends).
_POLICY_PATHSPECS = ("*.toml",)


@dataclass(frozen=True)
class HistoryRow:
    """The totals of one commit (``totals``: ``(concept, rule, count, target)`` each)."""

    commit_sha: str
    committed_at: dt.datetime
    totals: tuple[Total, ...]
    series: str
    files: int  # Python files counted
    analysed: int  # files analysed for this row (the others came from the cache or before)


@dataclass(frozen=True)
class Skipped:
    """A commit without totals, and why."""

    commit_sha: str
    committed_at: dt.datetime
    reason: str


@dataclass
class History:
    """``ssot history``'s answer: rows oldest first, and what could not be counted."""

    rows: list[HistoryRow] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    commits: int = 0  # commits of the range (before --every)
    analysed: int = 0  # files analysed in all (cache misses)


def parse_since(value: str) -> dt.datetime | None:
    """A ``--since`` date (``YYYY-MM-DD``, optionally with a time), or None for a revision."""
    if not _DATE.match(value.strip()):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def select_commits(
    commits: list[gitio.Commit], root: Path, since: str | None, every: int
) -> list[gitio.Commit]:
    """The commits to count: from ``since`` (a date, or a revision on the first-parent
    history, itself included), every ``every``-th, the newest always."""
    if every < 1:
        raise UsageError(f"--every {every}: must be 1 or more")
    chosen = commits
    if since is not None:
        date = parse_since(since)
        if date is not None:
            cutoff = int(date.timestamp())
            chosen = [c for c in commits if c.timestamp >= cutoff]
        else:
            sha = gitio.resolve_commit(root, since)
            if sha is None:
                raise UsageError(
                    f"--since {since}: neither a date (YYYY-MM-DD) nor a revision of {root}"
                )
            index = next((i for i, c in enumerate(commits) if c.sha == sha), None)
            if index is None:
                raise UsageError(
                    f"--since {since}: {sha[:12]} is not on the first-parent history of HEAD"
                )
            chosen = commits[index:]
    if every > 1 and chosen:
        picked = chosen[::every]
        if picked[-1] is not chosen[-1]:
            picked.append(chosen[-1])
        chosen = picked
    return chosen


def _when(commit: gitio.Commit) -> dt.datetime:
    return dt.datetime.fromtimestamp(commit.timestamp, dt.UTC)


class _Tally:
    """The per-file counts of one policy, and their sum."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.per_file: dict[str, Counts] = {}
        self.total: Counts = Counter()

    def set(self, path: str, counts: Counts | None) -> None:
        old = self.per_file.pop(path, None)
        if old:
            self.total.subtract(old)
        if counts is not None:
            self.per_file[path] = counts
            self.total.update(counts)

    def totals(self) -> tuple[Total, ...]:
        found = totals_from_counts(+self.total, self.policy)
        return tuple((t.concept, t.rule, t.count, t.target) for t in found)


def compute_history(
    root: Path,
    *,
    policy_at: PolicyAt,
    since: str | None = None,
    every: int = 1,
    use_cache: bool = True,
    jobs: int | None = None,
    fixed_policy: bool = False,
) -> History:
    """The totals of each selected commit of HEAD's first-parent history, oldest first.

    ``policy_at(sha)`` gives a commit's policy (raising :class:`PolicyError` for an invalid
    one); with ``fixed_policy`` it is asked once, as the same policy counts every commit.
    """
    root = root.resolve()
    if gitio.toplevel(root) is None:
        raise UsageError(f"{root} is not a git checkout: `ssot history` reads its commits")
    result = History()
    if not gitio.has_commits(root):
        return result
    commits = gitio.first_parent_commits(root)
    result.commits = len(commits)
    chosen = select_commits(commits, root, since, every)
    pairs = list(zip((c.sha for c in chosen), (c.sha for c in chosen[1:]), strict=False))
    pathspecs = ("*.py", "*.pyi", *_POLICY_PATHSPECS, *POLICY_PATHS)
    changes = gitio.tree_changes(root, pairs, pathspecs)
    blobs: dict[str, str] = {}  # every Python file of the commit: path -> blob id
    tally: _Tally | None = None
    policy: Policy | None = None
    policy_error: str | None = None
    caches: dict[str, FindingsCache] = {}
    with gitio.BlobReader(root) as reader:
        for index, commit in enumerate(chosen):
            if index == 0:
                tree = gitio.tree_blobs(root, commit.sha)
                blobs = {p: s for p, s in tree.items() if is_python(p)}
                changed = set(blobs)
                policy_moved = True
            else:
                changed = set()
                policy_moved = False
                for change in changes.get(commit.sha, []):
                    if is_python(change.path):
                        changed.add(change.path)
                        if change.blob is None:
                            blobs.pop(change.path, None)
                        else:
                            blobs[change.path] = change.blob
                    else:
                        policy_moved = True
            if policy_moved and not (fixed_policy and policy is not None):
                try:
                    policy, policy_error = policy_at(commit.sha), None
                except PolicyError as exc:
                    policy, policy_error = None, str(exc)
            if policy is None:
                reason = f"invalid policy: {policy_error}" if policy_error else "no policy"
                result.skipped.append(Skipped(commit.sha, _when(commit), reason))
                tally = None
                continue
            if tally is None or tally.policy.digest != policy.digest:
                tally = _Tally(policy)
                changed = set(blobs)  # another policy: every file counts anew
            key = cache_key(policy)
            cache = caches.get(key)
            if cache is None:
                cache = caches[key] = FindingsCache(root, key, enabled=use_cache)
            analysed = _count(root, reader, tally, blobs, changed, cache, jobs)
            result.analysed += analysed
            totals = tally.totals()
            result.rows.append(
                HistoryRow(
                    commit.sha,
                    _when(commit),
                    totals,
                    series_key(totals),
                    len(tally.per_file),
                    analysed,
                )
            )
    for cache in caches.values():
        cache.save()
    return result


def _count(
    root: Path,
    reader: gitio.BlobReader,
    tally: _Tally,
    blobs: dict[str, str],
    changed: set[str],
    cache: FindingsCache,
    jobs: int | None,
) -> int:
    """Bring ``tally`` up to date for the ``changed`` paths; how many files were analysed."""
    policy = tally.policy
    misses: list[tuple[str, str]] = []
    for path in changed:
        sha = blobs.get(path)
        if sha is None or policy.excluded.match(path):
            tally.set(path, None)
            continue
        found = cache.lookup_blob(f"{path}\0{sha}")
        if found is None:
            misses.append((path, sha))
        else:
            tally.set(path, count_findings(found))
    for path, sha, findings in _analyse(root, reader, misses, policy, jobs):
        cache.store_blob(f"{path}\0{sha}", findings)
        tally.set(path, count_findings(findings))
    return len(misses)


# --- analysing blobs, in worker processes when there are many -------------------------------

_WORKER: tuple[Path, Policy] | None = None
_WORKER_READER: gitio.BlobReader | None = None


def _analyse(
    root: Path,
    reader: gitio.BlobReader,
    items: list[tuple[str, str]],
    policy: Policy,
    jobs: int | None,
) -> Iterator[tuple[str, str, list[Finding]]]:
    prepare(policy, len(items))
    workers = jobs or os.cpu_count() or 1
    if workers == 1 or len(items) < PARALLEL_THRESHOLD:
        for path, sha in items:
            yield path, sha, _analyse_one(root, reader, path, sha, policy)
        return
    global _WORKER
    _WORKER = (root, policy)
    size = max(8, len(items) // (workers * 48))
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for batch in pool.map(_analyse_batch, batches):
            yield from batch


def _analyse_batch(items: list[tuple[str, str]]) -> list[tuple[str, str, list[Finding]]]:
    # Each worker process reads blobs through a `git cat-file` of its own.
    global _WORKER_READER
    assert _WORKER is not None
    root, policy = _WORKER
    if _WORKER_READER is None:
        _WORKER_READER = gitio.BlobReader(root)
    return [
        (path, sha, _analyse_one(root, _WORKER_READER, path, sha, policy)) for path, sha in items
    ]


def _analyse_one(
    root: Path, reader: gitio.BlobReader, path: str, sha: str, policy: Policy
) -> list[Finding]:
    data = read_blob(root, reader, path, sha)
    if data is None:
        return []  # not in the object store (a shallow or partial clone): nothing to count
    return analyze(path, data, policy).findings


def read_blob(root: Path, reader: gitio.BlobReader, path: str, sha: str) -> bytes | None:
    """The content of blob ``sha``: the working tree's file when it is that very blob (its
    git id says so), else read from git. Most files of a commit are unchanged since, and a
    file is cheaper to read and hash than a packed object to inflate."""
    try:
        data = read_regular(root / path)  # not a symlink to /dev/zero
    except OSError:
        data = None
    if data is not None and blob_sha(data) == sha:
        return data
    return reader.read(sha)
