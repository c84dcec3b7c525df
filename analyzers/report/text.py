"""Plain text: one ``path:line:col: CODE [block] message`` line per finding, then a summary.

Columns are 1-based, as compilers and editors print them (``Finding.col`` is 0-based). The
word in brackets is the finding's severity in the policy's own words: ``block`` (a new one
fails ``ssot check``) or ``warn`` (reported, never fails the gate).
"""

from __future__ import annotations

from analyzers.findings import Finding
from analyzers.report.model import Report


def finding_line(finding: Finding) -> str:
    """``path:line:col: CODE [block] message`` on one line (a multi-line message is joined)."""
    message = " ".join(finding.message.split("\n"))
    where = f"{finding.path}:{finding.line}:{finding.col + 1}"
    return f"{where}: {finding.rule} [{finding.severity}] {message}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 finding``, ``1,058 findings``; ``many`` where adding an s is wrong (``fixes``)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def summary_line(report: Report) -> str:
    """One sentence with the counts that decide the run, suppressions included."""
    blocking = len(report.blocking)
    files = plural(report.files_analysed, "file")
    if report.mode == "check":
        head = (
            f"{plural(report.count('new'), 'new finding')} ({blocking:,} blocking), "
            f"{report.count('fixed'):,} fixed, {report.count('unchanged'):,} unchanged in {files}"
        )
    else:
        head = f"Found {plural(report.count('unchanged'), 'finding')} ({blocking:,} blocking) in {files}"
    parts = [head, f"{report.suppressed:,} suppressed"]
    fixable = sum(1 for f in report.listed(verbose=True) if f.fix is not None)
    if fixable:
        parts.append(f"{fixable:,} fixable with `ssot fix`")
    return "; ".join(parts) + "."


def totals_lines(report: Report) -> list[str]:
    """The repository totals and progress toward each target, aligned in columns."""
    if not report.totals:
        return []
    rows = [(t.concept or "(no concept)", t.rule, t.progress) for t in report.totals]
    width_concept = max(len(r[0]) for r in rows)
    width_rule = max(len(r[1]) for r in rows)
    return [f"{c:<{width_concept}}  {r:<{width_rule}}  {p}" for c, r, p in rows]


def render(report: Report, *, verbose: bool = False) -> str:
    """The text report: listed findings, the totals (if known) and the summary line."""
    lines = [finding_line(f) for f in report.listed(verbose)]
    totals = totals_lines(report)
    if totals:
        if lines:
            lines.append("")
        lines.extend(totals)
    if lines:
        lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
