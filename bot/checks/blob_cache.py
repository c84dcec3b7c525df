"""Findings per git blob, stored in the database: an unchanged blob is never analysed twice.

The key is (installation, policy digest + engine version, blob sha, path). The installation
is part of it because an entry quotes the code it was found in: it belongs to that tenant,
and is deleted with it. The path is part of it because
findings depend on where a file lives (test or source scope, ``allowed_in``, the module name
that resolves relative imports); the same content at the same path, in any commit, pull
request or default-branch scan, is a hit.

An entry also remembers the fixes proven for its findings and which fingerprints were
tried: proving a fix re-analyses the file once per proposal (libcst, quadratic in the
number of findings), so it is done only for the new findings of a pull request, once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from analyzers.findings import ENGINE_VERSION, Finding
from analyzers.policy import Policy
from bot.store import db, findings_cache

FIXABLE_RULES = frozenset({"SSOT001", "SSOT003"})  # the rules analyzers.fix rewrites

BlobPath = tuple[str, str]  # (blob sha, path)


def policy_key(policy: Policy) -> str:
    """The cache namespace of a policy under this engine version."""
    return f"{ENGINE_VERSION}-{policy.digest}"


def path_hash(path: str) -> str:
    return hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def fixable(finding: Finding) -> bool:
    """Whether :func:`analyzers.fix.attach_fixes` may give ``finding`` a fix."""
    return finding.rule in FIXABLE_RULES and finding.suppressed is None and finding.fix is None


@dataclass(frozen=True)
class Entry:
    """A blob's findings, and the fingerprints whose fix was already tried."""

    findings: list[Finding]
    tried: frozenset[str] = field(default_factory=frozenset)

    def encode(self) -> bytes:
        data = {"findings": [f.to_dict() for f in self.findings], "tried": sorted(self.tried)}
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        value = json.loads(data)
        return cls([Finding.from_dict(f) for f in value["findings"]], frozenset(value["tried"]))


class BlobCache:
    """Read many keys in one query, then look up and add entries; :meth:`save` writes them."""

    def __init__(self, engine: Engine, policy: Policy, installation_id: int) -> None:
        self.engine = engine
        self.key = policy_key(policy)
        self.installation_id = installation_id
        self._found: dict[BlobPath, Entry] = {}
        self._new: dict[BlobPath, Entry] = {}

    def load(self, keys: Iterable[BlobPath]) -> None:
        """Read the rows of ``keys`` (those not read yet) from the database."""
        wanted = {k for k in keys if k not in self._found and k not in self._new}
        if not wanted:
            return
        by_hash = {(sha, path_hash(path)): (sha, path) for sha, path in wanted}
        rows = findings_cache.get_blob_findings(
            self.engine, self.installation_id, self.key, list(by_hash)
        )
        for hashed, data in rows.items():
            self._found[by_hash[hashed]] = Entry.decode(data)

    def entry(self, sha: str, path: str) -> Entry | None:
        return self._new.get((sha, path)) or self._found.get((sha, path))

    def get(self, sha: str, path: str) -> list[Finding] | None:
        """Cached findings of ``sha`` at ``path``, or None."""
        entry = self.entry(sha, path)
        return None if entry is None else entry.findings

    def put(self, sha: str, path: str, findings: list[Finding], tried: Iterable[str] = ()) -> None:
        old = self.entry(sha, path)
        done = frozenset(tried) | (old.tried if old is not None else frozenset())
        self._new[(sha, path)] = Entry(findings, done)

    def save(self) -> int:
        """Write the entries added since the last save; how many."""
        if not self._new:
            return 0
        rows = [(sha, path_hash(path), entry.encode()) for (sha, path), entry in self._new.items()]
        findings_cache.put_blob_findings(
            self.engine, self.installation_id, self.key, rows, now=db.utcnow()
        )
        self._found.update(self._new)
        count = len(self._new)
        self._new = {}
        return count
