"""Run the engine over a checkout: ``scan`` (every file) and ``check`` (a change vs its base).

Files are analysed in this process and, with ``--jobs N``, N-1 forked workers (the policy
is inherited rather than pickled); results are cached per file and per blob. Nothing here
talks to GitHub.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import TYPE_CHECKING, TypeAlias

from analyzers import gitio
from analyzers.baseline import Comparison
from analyzers.cache import FindingsCache, stamp
from analyzers.findings import ENGINE_VERSION, Finding
from analyzers.policy import Policy
from analyzers.report_replay import Stamp, TreeEntry

if TYPE_CHECKING:
    from collections.abc import Callable

    from analyzers.change import ChangeResult, FileStatus
    from analyzers.engine import FileResult

# Below this many files to analyse, forking workers costs more than it saves.
PARALLEL_THRESHOLD = 200


@dataclass
class ScanResult:
    """Findings of every analysed file of a checkout."""

    root: Path
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    files: int = 0
    from_cache: int = 0
    # Every file git listed with the stamp of what was analysed (None: gone), what a stored
    # report is replayed against (report_replay); None when the scan was not of a whole git
    # tree with the cache on, or a file could not be read.
    tree: list[TreeEntry] | None = None

    @property
    def all_findings(self) -> list[Finding]:
        return [f for items in self.findings.values() for f in items]


@dataclass
class CheckResult:
    """A change compared with its merge base."""

    base: str
    result: ChangeResult
    changed: list[gitio.Change]

    @property
    def comparison(self) -> Comparison:
        return self.result.comparison

    @property
    def files(self) -> int:
        return self.result.files


def cache_key(policy: Policy) -> str:
    return f"{policy.digest}-e{ENGINE_VERSION}"


def scan(
    root: Path,
    policy: Policy,
    paths: Iterable[str] | None = None,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    fixes: bool = False,
    listing: gitio.PythonFileListing | None = None,
) -> ScanResult:
    """Analyse the Python files of ``root`` (or just ``paths``, relative to it).

    ``listing``: the files of ``root`` as already started by the caller (see
    :class:`gitio.PythonFileListing`), used when ``paths`` is None.

    ``fixes``: also give each finding its proven fix (JSON reports show them). Proving a fix
    re-analyses the file once per rewrite, so it happens in the workers and is cached.
    """
    root = root.resolve()
    every = paths is None
    listing = (listing or gitio.PythonFileListing(root)) if every else None
    listed = listing.result() if listing is not None else list(paths or ())
    rels = policy.excluded.unmatched(listed)
    cache = FindingsCache(root, cache_key(policy), enabled=use_cache)
    result = ScanResult(root=root, files=len(rels))
    present = set(rels)  # less the files found deleted on the way
    # The stamps of a whole git tree's files, for its stored report; None once one is unread.
    stamps: dict[str, Stamp | None] | None = (
        {} if cache.enabled and listing is not None and listing.from_git else None
    )
    todo: list[str] = []
    base = str(root)
    if not cache.enabled:
        todo = rels  # nothing to look up: the workers stat what they read
    # Stats already taken by a replay that found its stored report stale (a file changed).
    known = listing.stamps if listing is not None and listing.stamps is not None else {}
    for rel in rels if cache.enabled else ():
        try:
            seen = known[rel] if rel in known else _stamp_of(f"{base}/{rel}")
        except OSError as exc:
            from analyzers.engine import unanalysable

            result.findings[rel] = [unanalysable(rel, f"cannot read: {exc.strerror}", policy)]
            stamps = None
            continue
        if seen is None:
            result.files -= 1  # deleted from the working tree (git still lists it)
            present.discard(rel)
            if stamps is not None:
                stamps[rel] = None
            continue
        cached = cache.lookup(rel, seen, with_fixes=fixes)
        if cached is None:
            todo.append(rel)
        else:
            result.from_cache += 1
            if stamps is not None:
                stamps[rel] = seen
            if cached:
                result.findings[rel] = cached
    for rel, analysed in zip(todo, _analyze_files(root, todo, policy, jobs, fixes), strict=True):
        if analysed is None:
            result.files -= 1  # deleted from the working tree (git still lists it)
            present.discard(rel)
            if stamps is not None:
                stamps[rel] = None
            continue
        findings, read_stamp = analysed
        if read_stamp is not None and cache.enabled:
            cache.store(rel, read_stamp, findings, fixed=fixes)
        if stamps is not None:
            if read_stamp is None:
                stamps = None  # a read error: reported, and no report is stored
            else:
                stamps[rel] = read_stamp
        if findings:
            result.findings[rel] = findings
    if every:
        cache.forget_missing(present)
    cache.save()
    if stamps is not None:
        result.tree = _tree(base, listed, {**known, **stamps})
    return result


def _tree(base: str, listed: list[str], stamps: dict[str, Stamp | None]) -> list[TreeEntry] | None:
    """Every listed file with its stamp: from ``stamps`` (the analysed ones', and those a
    replay took), the others (excluded) stat-ed now: what is in them does not matter, only
    that the next scan sees the same."""
    tree: list[TreeEntry] = []
    for rel in listed:
        if rel not in stamps:
            try:
                stamps[rel] = _stamp_of(f"{base}/{rel}")
            except OSError:
                return None
        tree.append((rel, stamps[rel]))
    return tree


def _stamp_of(path: str) -> Stamp | None:
    """The stamp of a file (None: it is gone); other errors raise."""
    try:
        return stamp(os.stat(path))  # not pathlib nor os.path.join: runs per file
    except FileNotFoundError:
        return None


# What the engine gives the scan for one file: its findings and the stamp of the content it
# read (None: a read error was reported), or None when the file is gone. Plain lists and
# tuples, not the FileResult and os.stat_result: workers send one per file of a cold scan, and
# pickling those objects cost the workers and the parent (which shares their cores) far more.
Analysed: TypeAlias = "tuple[list[Finding], Stamp | None] | None"
# The engine's analyze and unanalysable, as the workers are given them (imported once a scan
# has files to analyse: a warm scan never imports the engine).
EngineCalls: TypeAlias = (
    "tuple[Callable[[str, bytes, Policy], FileResult], Callable[[str, str, Policy], Finding]]"
)


def _analyze_files(
    root: Path, rels: list[str], policy: Policy, jobs: int | None, fixes: bool = False
) -> list[Analysed]:
    """Each file's result and the stat taken when it was read (None: it is gone)."""
    if not rels:
        return []  # a warm scan: the engine is not even imported
    workers = jobs or os.cpu_count() or 1
    forking = workers > 1 and len(rels) >= PARALLEL_THRESHOLD
    # Before the fork: once, not in each child.
    _prepare_engine(policy, len(rels), forking=forking)
    from analyzers.engine import analyze, unanalysable  # imported by _prepare_engine

    # Bound here, not imported in each call: an import statement costs a microsecond, once
    # per file of a cold scan (6,454 on the real tree).
    analyse = functools.partial(
        _analyze_one, str(root), policy=policy, fixes=fixes, engine=(analyze, unanalysable)
    )
    if not forking:
        return [analyse(rel) for rel in rels]
    from analyzers import forkjoin

    # Each process reads its own files (no source is pickled), a chunk at a time: thousands
    # of files of all sizes even out between the processes.
    return forkjoin.run(analyse, rels, workers)


def _prepare_engine(policy: Policy, files: int, *, forking: bool) -> None:
    """Import the engine (and with ``forking`` the fork-join) and build the policy's trigger
    set for ``files`` files, at once.

    Hyperscan compiles the native matchers of a large run without holding the GIL, so they
    are built in a thread while this one imports the engine: the two took turns before the
    first file was read. The compile took longer than the engine's import on a real tree
    (benchmarks/timeline_scan.py), so the fork-join's import fits in it too.
    """
    from analyzers.triggers import NATIVE_THRESHOLD, prepare

    if files < NATIVE_THRESHOLD:
        prepare(policy, files)
        import analyzers.engine

        return
    failed: list[BaseException] = []

    def build() -> None:
        try:
            prepare(policy, files)
        except BaseException as exc:  # raised here, in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=build, name="ssot-native-matchers")
    thread.start()
    try:
        import analyzers.engine

        if forking:
            import analyzers.forkjoin  # noqa: F401
    finally:
        thread.join()
    if failed:
        raise failed[0]


def _analyze_one(
    base: str, rel: str, *, policy: Policy, fixes: bool, engine: EngineCalls
) -> Analysed:
    """One file's findings and the stamp of what was read (see :data:`Analysed`), with
    ``engine``'s ``analyze`` and ``unanalysable``."""
    analyze, unanalysable = engine
    limit = policy.max_file_size
    try:
        stat, data = _read(f"{base}/{rel}", limit)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return [unanalysable(rel, f"cannot read: {exc.strerror}", policy)], None
    if data is None:
        # Not even read: a 50 MB file must not cost 50 MB of memory per worker.
        size = (
            f"{stat.st_size:,} > {limit:,} bytes"
            if stat.st_size > limit
            else f"grew past {limit:,} bytes while read"
        )
        return [unanalysable(rel, f"over the size limit ({size})", policy)], stamp(stat)
    result = analyze(rel, data, policy)
    if fixes and result.findings:
        result = _with_fixes(result, data, policy)
    return result.findings, stamp(stat)


def _read(path: str, limit: int) -> tuple[os.stat_result, bytes | None]:
    """The stat of the open file and its content (None when over ``limit`` bytes).

    One ``read`` of the size that ``fstat`` gives, plus one byte to see the end: a file
    object's ``readall`` costs an object and a second call per file, over every file of a
    cold scan. A file that grew since its ``fstat`` is read to its end, or until it is over
    ``limit``. Anything but a regular file (a tracked symlink to ``/dev/zero`` or to a FIFO,
    which would be read, or waited for, forever) raises OSError.
    """
    # Non-blocking: opening a FIFO waits for a writer otherwise; a regular file ignores it.
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        stat = os.fstat(fd)
        if not S_ISREG(stat.st_mode):
            if S_ISDIR(stat.st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
            raise OSError(errno.EINVAL, "not a regular file", path)
        if stat.st_size > limit:
            return stat, None
        data = os.read(fd, stat.st_size + 1)
        if len(data) > stat.st_size:  # it grew since its fstat
            chunks, size = [data], len(data)
            while size <= limit and (chunk := os.read(fd, 1 << 20)):
                chunks.append(chunk)
                size += len(chunk)
            if size > limit:
                return stat, None
            data = b"".join(chunks)
        return stat, data
    finally:
        os.close(fd)


def read_regular(path: Path) -> bytes:
    """The bytes of a regular file, whatever its size; OSError for anything else (see
    :func:`_read`)."""
    _, data = _read(str(path), sys.maxsize)
    if data is None:  # pragma: no cover - no file holds more than sys.maxsize bytes
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(path))
    return data


def _with_fixes(result: FileResult, data: bytes, policy: Policy) -> FileResult:
    from analyzers.fix import attach_fixes  # libcst: only when fixes are asked for

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return result  # the engine reported it; nothing to rewrite
    return replace(result, findings=attach_fixes(result.path, text, result.findings, policy))


def check(root: Path, policy: Policy, base_rev: str, *, use_cache: bool = True) -> CheckResult:
    """Compare the working tree with the merge base of ``base_rev``, changed files only."""
    # Here, not at the top: a warm `scan` answers from its cache without the engine.
    from analyzers.change import ChangedFile, compare_change
    from analyzers.diff import split_git_diff
    from analyzers.engine import analyze

    root = root.resolve()
    base = gitio.merge_base(root, base_rev)
    changes = gitio.changed_files(root, base)
    patches = split_git_diff(
        gitio.unified_diff(root, base, [c.path for c in changes if c.status != "D"])
    )
    status: dict[str, FileStatus] = {"A": "added", "M": "modified", "D": "removed", "R": "renamed"}
    files = [
        ChangedFile(
            c.path,
            status[c.status],
            c.old_path if c.status == "R" else None,
            patches.get(c.path, ""),
        )
        for c in changes
    ]
    head_content: dict[str, bytes] = {}
    for f in files:
        if f.status != "removed":
            try:
                head_content[f.path] = read_regular(root / f.path)
            except OSError:
                continue
    base_paths = [f.base_path for f in files if f.base_path]
    base_content = {
        path: data
        for path, _sha, data in gitio.read_blobs(root, base, base_paths)
        if data is not None
    }
    cache = FindingsCache(root, cache_key(policy), enabled=use_cache)

    def lookup(blob_id: str, path: str, data: bytes) -> list[Finding]:
        # Keyed by path too: the same content is test code under tests/ (another severity)
        # and another module elsewhere (relative imports resolve differently).
        key = f"{path}\0{blob_id}"
        found = cache.lookup_blob(key)
        if found is None:
            found = analyze(path, data, policy).findings
            cache.store_blob(key, found)
        return found

    files = [
        replace(
            f,
            base_sha=blob_sha(base_content[f.base_path]) if f.base_path in base_content else None,
            head_sha=blob_sha(head_content[f.path]) if f.path in head_content else None,
        )
        for f in files
    ]
    result = compare_change(policy, files, base_content, head_content, lookup)
    cache.save()
    return CheckResult(base=base, result=result, changed=changes)


def blob_sha(data: bytes) -> str:
    """Git's object id of a blob with this content (the cache key shared with the App)."""
    import hashlib  # here: a cold scan never needs it, and it loads OpenSSL (analyzers.digests)

    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
