"""Findings cache under ``.ssot_cache/``: per file (mtime + size) and per git blob (sha).

One file per policy digest and engine version, so a policy change or an upgrade starts a
fresh cache instead of serving stale findings. ``marshal`` keeps loading it cheap: a warm
scan of ten thousand files is dominated by ``stat``, not by reading the cache.
"""

from __future__ import annotations

import marshal
import os
from dataclasses import astuple
from pathlib import Path
from typing import Any, cast

from analyzers.findings import Finding, Fix
from analyzers.report_replay import CACHE_DIR, Stamp
from analyzers.userkey import user_key

FORMAT = 2  # 2: findings carry their proven fix; file entries say whether fixes were sought
_FIELDS = tuple(f for f in Finding.__dataclass_fields__ if f != "fix")

Row = tuple[object, ...]
# mtime_ns, size, findings, and whether their fixes were sought (only JSON reports need them)
FileEntry = tuple[int, int, tuple[Row, ...], bool]
_TAG = 32


def seal(payload: bytes) -> bytes:
    """``payload`` followed by its HMAC under this user's key."""
    # Imported here: both load OpenSSL (analyzers.digests), which a --no-cache scan never needs.
    import hashlib
    import hmac

    return payload + hmac.new(user_key(), payload, hashlib.sha256).digest()


def unseal(blob: bytes) -> bytes | None:
    """The payload of a :func:`seal` ed blob, or None when it was not written by this user."""
    import hashlib
    import hmac

    payload, tag = blob[:-_TAG], blob[-_TAG:]
    if len(blob) <= _TAG or not hmac.compare_digest(
        tag, hmac.new(user_key(), payload, hashlib.sha256).digest()
    ):
        return None
    return payload


def stamp(stat: os.stat_result) -> Stamp:
    """The stamp of a file from its stat: a changed mtime or size means it must be read again."""
    return stat.st_mtime_ns, stat.st_size


def encode(findings: list[Finding]) -> tuple[Row, ...]:
    """Findings as plain tuples, each with its fix (a tuple) or None last."""
    return tuple(
        (*(getattr(f, k) for k in _FIELDS), None if f.fix is None else astuple(f.fix))
        for f in findings
    )


def decode(rows: tuple[Row, ...], *, fixes: bool = True) -> list[Finding]:
    """Inverse of :func:`encode`; ``fixes=False`` leaves every fix out."""
    out = []
    for *values, fix in rows:
        fields: dict[str, Any] = dict(zip(_FIELDS, values, strict=True))
        if fixes and fix is not None:
            fields["fix"] = Fix(*cast(tuple[Any, ...], fix))
        out.append(Finding(**fields))
    return out


class FindingsCache:
    """Load once, look up per file, save once (atomically) if anything changed."""

    def __init__(self, root: Path, key: str, enabled: bool = True) -> None:
        self.path = root / CACHE_DIR / f"findings-{key}.marshal"
        self.enabled = enabled
        self.files: dict[str, FileEntry] = {}
        self.blobs: dict[str, tuple[Row, ...]] = {}
        self.dirty = False
        if enabled:
            self._load()

    def _load(self) -> None:
        try:
            payload = unseal(self.path.read_bytes())
            data = None if payload is None else marshal.loads(payload)
        except (OSError, EOFError, ValueError, TypeError):
            return  # missing or corrupt: start empty, never fail a scan over a cache
        if isinstance(data, dict) and data.get("format") == FORMAT:
            self.files = data.get("files", {})
            self.blobs = data.get("blobs", {})

    def lookup(self, rel: str, seen: Stamp, *, with_fixes: bool = False) -> list[Finding] | None:
        """Cached findings for a working-tree file whose mtime and size did not change.

        ``with_fixes``: only an entry stored with its fixes sought will do (else None).
        """
        entry = self.files.get(rel)
        if entry is None or entry[:2] != seen:
            return None
        if not entry[2]:
            return []
        if with_fixes and not entry[3]:
            return None
        # Without: a report must not depend on whether an earlier run sought fixes.
        return decode(entry[2], fixes=with_fixes)

    def store(self, rel: str, read: Stamp, findings: list[Finding], *, fixed: bool = False) -> None:
        """Remember ``findings`` of a file read at ``read``; ``fixed`` when their fixes were
        sought."""
        self.files[rel] = (read[0], read[1], encode(findings), fixed)
        self.dirty = True

    def lookup_blob(self, sha: str) -> list[Finding] | None:
        """Cached findings of a git blob (content-addressed, so never stale)."""
        rows = self.blobs.get(sha)
        return None if rows is None else decode(rows)

    def store_blob(self, sha: str, findings: list[Finding]) -> None:
        self.blobs[sha] = encode(findings)
        self.dirty = True

    def forget_missing(self, present: set[str]) -> None:
        """Drop entries of files that no longer exist."""
        gone = [p for p in self.files if p not in present]
        for p in gone:
            del self.files[p]
        self.dirty = self.dirty or bool(gone)

    def save(self) -> None:
        """Write the cache atomically; a read-only checkout just goes without."""
        if not (self.enabled and self.dirty):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.path.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n")
            import tempfile  # only when writing: a warm scan that changed nothing never does

            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(
                    seal(
                        marshal.dumps({"format": FORMAT, "files": self.files, "blobs": self.blobs})
                    )
                )
            os.replace(tmp, self.path)
        except OSError:
            pass
