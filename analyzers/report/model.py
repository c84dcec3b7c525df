"""What a report is made of: the one input of every output format.

A :class:`Report` holds findings in three lists, split by what the analysed change did to
them, exactly as :func:`analyzers.baseline.compare` returns them:

- ``new``: in the change's head and not in its base. These are the ones the gate judges.
- ``unchanged``: in both (debt the change did not add, even if it moved).
- ``fixed``: in the base and gone from the head (they carry their base path and line).

A ``scan`` has no baseline: every finding is debt already in the tree, so it goes in
``unchanged`` and ``new`` and ``fixed`` stay empty (:func:`build_scan_report` does this; the
formats print no new/fixed/unchanged status in scan mode). Suppressed findings stay in their
list, marked by ``Finding.suppressed``: every format counts them (JSON and SARIF also list
them, Markdown lists those a change adds).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from analyzers.baseline import Comparison
from analyzers.findings import Finding
from analyzers.progress import ConceptTotal

Mode = Literal["scan", "check"]
Status = Literal["new", "unchanged", "fixed"]
STATUSES: tuple[Status, ...] = ("new", "unchanged", "fixed")

__all__ = [
    "STATUSES",
    "ConceptTotal",
    "Mode",
    "Report",
    "Status",
    "build_check_report",
    "build_scan_report",
    "sort_key",
]


def sort_key(finding: Finding) -> tuple[str, int, int, str, str]:
    """The order findings are listed in: by file, position, rule, then fingerprint."""
    return (finding.path, finding.line, finding.col, finding.rule, finding.fingerprint)


@dataclass(frozen=True)
class TotalTrend:
    """What a pull request's summary shows beside one total: the pull request's own change,
    the default branch's change over the last 30 days, and when the target is reached at
    that pace (each already text)."""

    change: str
    last_30_days: str
    at_this_pace: str


@dataclass(frozen=True)
class Report:
    """Findings of one run, split by status, with repository totals for the progress table.

    ``totals`` are the repository-wide counts per concept and rule (from
    :func:`analyzers.progress.totals`); they may be empty when the caller does not know them
    (a ``check`` of changed files only). ``base`` names the compared revision, if any.
    """

    mode: Mode
    new: list[Finding] = field(default_factory=list)
    unchanged: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    totals: list[ConceptTotal] = field(default_factory=list)
    files_analysed: int = 0
    base: str | None = None
    trends: dict[tuple[str, str], TotalTrend] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in ("scan", "check"):
            raise ValueError(f"mode must be 'scan' or 'check', not {self.mode!r}")
        if self.mode == "scan" and (self.new or self.fixed):
            raise ValueError("a scan has no baseline: put its findings in `unchanged`")

    @property
    def current(self) -> list[Finding]:
        """Findings present in the analysed tree (new and unchanged), suppressed included."""
        return [*self.new, *self.unchanged]

    def count(self, status: Status) -> int:
        """How many findings have ``status``; suppressed ones are counted apart (not fixed)."""
        items: list[Finding] = getattr(self, status)
        return len(items) if status == "fixed" else sum(1 for f in items if f.suppressed is None)

    @property
    def suppressed(self) -> int:
        """How many present findings carry an inline ``# ssot: ignore[...]``."""
        return sum(1 for f in self.current if f.suppressed is not None)

    @property
    def suppressed_new(self) -> list[Finding]:
        """Suppressed findings that the change adds (shown, so a reviewer sees them)."""
        return sorted((f for f in self.new if f.suppressed is not None), key=sort_key)

    @property
    def blocking(self) -> list[Finding]:
        """Findings that fail the gate: new blocking ones (check), or all blocking ones (scan)."""
        pool = self.unchanged if self.mode == "scan" else self.new
        return [f for f in pool if f.blocking]

    def entries(self) -> Iterator[tuple[Status | None, Finding]]:
        """Every finding with its status (``None`` in scan mode), in a stable order."""
        for status in STATUSES:
            for finding in sorted(getattr(self, status), key=sort_key):
                yield (None if self.mode == "scan" else status), finding

    def listed(self, verbose: bool = False) -> list[Finding]:
        """The unsuppressed findings a human-facing format lists one by one.

        Check mode lists the new ones (and the unchanged ones too when ``verbose``); scan
        mode lists every finding only when ``verbose`` (otherwise it shows totals).
        """
        if self.mode == "check":
            pool = self.current if verbose else self.new
        else:
            pool = self.unchanged if verbose else []
        return sorted((f for f in pool if f.suppressed is None), key=sort_key)


def build_scan_report(
    findings: Iterable[Finding],
    totals: Sequence[ConceptTotal] = (),
    *,
    files: int = 0,
) -> Report:
    """The report of ``ssot scan``: every finding of the tree, as debt already there."""
    return Report(mode="scan", unchanged=list(findings), totals=list(totals), files_analysed=files)


def build_check_report(
    comparison: Comparison,
    totals: Sequence[ConceptTotal] = (),
    *,
    files: int = 0,
    base: str | None = None,
    trends: Mapping[tuple[str, str], TotalTrend] | None = None,
) -> Report:
    """The report of ``ssot check`` (and of the bot): a change compared with its base;
    ``trends`` (the bot's) put the trend beside each total."""
    return Report(
        mode="check",
        new=list(comparison.new),
        unchanged=list(comparison.unchanged),
        fixed=list(comparison.fixed),
        totals=list(totals),
        files_analysed=files,
        base=base,
        trends=dict(trends or {}),
    )
