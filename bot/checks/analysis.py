"""A loaded pull request analysed: new / fixed / unchanged findings through the blob cache.

Unchanged blobs are not analysed again (:mod:`bot.checks.blob_cache`). What is analysed is
analysed in a child process bounded in time and memory (:mod:`bot.checks.engine_process`):
past a bound, :class:`~bot.checks.engine_process.AnalysisLimit` is raised. New findings get their
proven fixes (suggestions, the "Fix" button), computed once per head blob and finding:
proving a fix re-analyses the file once per proposal, so it is bounded per check.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping

from analyzers.change import ChangeResult, compare_change
from analyzers.engine import unanalysable
from analyzers.findings import Finding, Fix
from analyzers.report.model import sort_key
from bot.checks.blob_cache import BlobCache, fixable
from bot.checks.engine_process import EngineProcess
from bot.checks.pull_context import BlobContents, PullContext
from bot.checks.repo_totals import size_reason
from bot.work import JobContext

MAX_FIXED = 40  # new findings per check whose fix is proven (suggestions, the Fix button)
MAX_FINDINGS_TO_FIX = 200  # a file with more findings gets no fix (proving is quadratic)
FIX_SECONDS = 10.0  # proving time per check


def analyse_pull(pull: PullContext, context: JobContext) -> ChangeResult:
    """New / fixed / unchanged findings of a loaded PR, through the blob cache.

    New findings carry their proven fixes (up to :data:`MAX_FIXED` of them: proving a fix
    costs a libcst round trip per finding); new cache entries are stored.
    """
    if pull.policy is None:
        raise ValueError("no policy: nothing to analyse")
    policy = pull.policy.policy
    cache = (
        pull.cache
        if pull.cache is not None
        else BlobCache(context.engine, policy, pull.installation_id)
    )
    pull.cache = cache
    settings = context.settings
    with EngineProcess(
        policy,
        seconds=settings.analysis_seconds,
        memory_bytes=settings.analysis_memory_mb * 2**20,
    ) as engine:
        result = _compare(pull, cache, engine)
        result.comparison.new = _with_fixes(pull, cache, result.comparison.new, engine)
    cache.save()
    return result


def _compare(pull: PullContext, cache: BlobCache, engine: EngineProcess) -> ChangeResult:
    assert pull.policy is not None
    policy = pull.policy.policy

    def lookup(blob_id: str, path: str, data: bytes) -> list[Finding]:
        hit = cache.get(blob_id, path)
        if hit is not None:
            return hit
        size = pull.oversized.get((blob_id, path))
        if size is not None:
            findings = [unanalysable(path, size_reason(size, policy), policy)]
        else:
            findings = engine.analyze(path, data).findings
        cache.put(blob_id, path, findings)
        return findings

    return compare_change(
        policy, pull.files, _view(pull.base_content), _view(pull.head_content), lookup
    )


def _with_fixes(
    pull: PullContext, cache: BlobCache, new: list[Finding], engine: EngineProcess
) -> list[Finding]:
    """``new`` with proven fixes, computed once per head blob and finding (then cached).

    Proving re-analyses the file once per proposal, so files with more than
    :data:`MAX_FINDINGS_TO_FIX` findings get no fix, and proving stops after
    :data:`FIX_SECONDS` (the findings not tried yet are tried by the next check).
    """
    head_sha = {f.path: f.head_sha for f in pull.files if f.head_sha}
    ordered = sorted((f for f in new if fixable(f)), key=lambda f: (not f.blocking, *sort_key(f)))
    todo: dict[str, list[Finding]] = {}
    for finding in ordered[:MAX_FIXED]:
        sha = head_sha.get(finding.path)
        entry = cache.entry(sha, finding.path) if sha else None
        if sha and (entry is None or finding.fingerprint not in entry.tried):
            todo.setdefault(finding.path, []).append(finding)
    if not todo:
        return new
    crowded = {p for p in todo if len(cache.get(head_sha[p], p) or []) > MAX_FINDINGS_TO_FIX}
    wanted = [p for p in todo if p not in crowded]
    if wanted and isinstance(pull.head_content, BlobContents):
        pull.head_content.load(wanted)
    proven: dict[tuple[str, int, int, str], Fix] = {}
    deadline = time.monotonic() + FIX_SECONDS
    for path, items in todo.items():
        sha = head_sha[path]
        cached = cache.get(sha, path) or []
        if path in crowded:
            cache.put(sha, path, cached, tried={f.fingerprint for f in items})
            continue
        if time.monotonic() > deadline:
            break
        try:
            text = pull.head_content[path].decode("utf-8")
        except (KeyError, UnicodeDecodeError):
            continue
        for finding in engine.attach_fixes(path, text, items):
            if finding.fix is not None:
                proven[_spot(finding)] = finding.fix
        updated = [
            dataclasses.replace(f, fix=proven[_spot(f)]) if _spot(f) in proven else f
            for f in cached
        ]
        cache.put(sha, path, updated, tried={f.fingerprint for f in items})
    return [dataclasses.replace(f, fix=proven[_spot(f)]) if _spot(f) in proven else f for f in new]


def _spot(finding: Finding) -> tuple[str, int, int, str]:
    return (finding.path, finding.line, finding.col, finding.fingerprint)


def _view(content: Mapping[str, bytes]) -> dict[str, bytes]:
    """Every path of ``content`` without reading pending blobs (their findings are cached)."""
    if isinstance(content, BlobContents):
        return {path: content.fetched.get(path, b"") for path in content}
    return dict(content)
