"""The engine's output: findings, their fixes and their fingerprints.

A finding's fingerprint deliberately leaves out the path and the line number: it is built
from the rule, the concept, the normalised text that matched and the enclosing scope, so the
same piece of debt keeps its identity when lines move, the file is reformatted or renamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from analyzers.digests import blake2b

# Bumped when the same input can give other findings: every findings cache keys on it.
ENGINE_VERSION = "2"

Severity = Literal["block", "warn", "off"]
Scope = Literal["source", "test"]


@dataclass(frozen=True, slots=True)
class Fix:
    """Replace whole lines ``start_line..end_line`` (1-based, inclusive) with ``replacement``.

    Whole-line edits map one to one onto GitHub suggestion blocks and apply without any
    column arithmetic; ``replacement`` ends with a newline unless it is empty (deletion).

    ``safe``: the rewrite keeps what the code does apart from the consolidation itself, so
    it may be applied without a person choosing it line by line (consolidation pull
    requests apply only safe fixes; see :mod:`analyzers.fix`).
    """

    title: str
    start_line: int
    end_line: int
    replacement: str
    safe: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation of the policy at one place in one file."""

    rule: str
    concept: str
    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    message: str
    matched: str
    scope_name: str = ""
    scope: Scope = "source"
    severity: Severity = "block"
    fix: Fix | None = None
    suppressed: str | None = None
    fingerprint: str = field(default="")

    def __post_init__(self) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint(self))

    @property
    def blocking(self) -> bool:
        """True when this finding, if new, fails the gate."""
        return self.severity == "block" and self.suppressed is None

    def with_path(self, path: str) -> Finding:
        """The same finding reported under another path (the fingerprint does not change)."""
        return replace(self, path=path)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping; the inverse of :meth:`from_dict`."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "fix"}
        data["fix"] = (
            None
            if self.fix is None
            else {
                "title": self.fix.title,
                "start_line": self.fix.start_line,
                "end_line": self.fix.end_line,
                "replacement": self.fix.replacement,
                "safe": self.fix.safe,
            }
        )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a finding from :meth:`to_dict` output."""
        values = dict(data)
        fix = values.pop("fix", None)
        return cls(**values, fix=None if fix is None else Fix(**fix))


def normalise(text: str) -> str:
    """Collapse all white space so that reformatting does not change a fingerprint."""
    return "".join(text.split())


def fingerprint(finding: Finding) -> str:
    """rule + concept + normalised matched text + enclosing scope; no path, no line."""
    key = "\x1f".join(
        (finding.rule, finding.concept, normalise(finding.matched), finding.scope_name)
    )
    return blake2b(key.encode("utf-8"), digest_size=8).hexdigest()
