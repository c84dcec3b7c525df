"""Markdown: the check-run summary (and ``ssot check --format markdown`` for a CI step).

A title with the verdict, the summary sentence, a table per concept and rule (new, fixed,
unchanged, suppressed, repository total -> target), then the listed findings and the
suppressions the change adds. GitHub rejects a check-run summary over 65,535 characters, so
the output never exceeds ``max_chars``: whole lines are dropped from the end and replaced by
one ``_N more findings not shown._`` line. Everything that comes from the repository (paths,
concept names, messages, suppression reasons) is escaped by :mod:`.escape`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from analyzers.findings import Finding
from analyzers.report import escape
from analyzers.report.model import ConceptTotal, Report, sort_key
from analyzers.report.text import plural, summary_line
from analyzers.rules import RULES

MAX_CHARS = 65_535
# Below this the title, summary and the "not shown" line may not fit together.
MIN_CHARS = 1_000
ICONS = {"block": ":x:", "warn": ":warning:", "off": ":information_source:"}

Key = tuple[str, str]


@dataclass
class _Page:
    """Lines under a character budget (each line costs its length plus a newline)."""

    limit: int
    lines: list[str] = field(default_factory=list)
    used: int = 0

    def fits(self, *lines: str, reserve: int = 0) -> bool:
        return self.used + sum(len(line) + 1 for line in lines) + reserve <= self.limit

    def add(self, *lines: str) -> None:
        for line in lines:
            self.lines.append(line)
            self.used += len(line) + 1


def more_line(count: int, what: str = "findings") -> str:
    """``_1,234 more findings not shown._``."""
    return f"_{count:,} more {what} not shown._"


def title(report: Report) -> str:
    """``## SSOT guard: ...`` with the verdict."""
    blocking = len(report.blocking)
    if report.mode == "check":
        if blocking:
            return f"## :x: SSOT guard: {plural(blocking, 'new blocking finding')}"
        return "## :white_check_mark: SSOT guard: no new blocking findings"
    return f"## SSOT guard: {plural(report.count('unchanged'), 'finding')} ({blocking:,} blocking)"


def finding_item(finding: Finding) -> str:
    """A list item: icon, location, rule, message (and the reason when suppressed)."""
    where = escape.code(f"{finding.path}:{finding.line}:{finding.col + 1}")
    text = f"{where} **{finding.rule}** {escape.message(finding.message)}"
    if finding.suppressed is not None:
        return f"- {text} (suppressed: {escape.text(finding.suppressed)})"
    return f"- {ICONS.get(finding.severity, '')} {text}"


def table(report: Report) -> tuple[list[str], list[str]]:
    """Header lines and one row per (concept, rule): totals first, then any other pair seen."""
    totals: dict[Key, ConceptTotal] = {(t.concept, t.rule): t for t in report.totals}
    keys = list(totals)
    for f in sorted([*report.current, *report.fixed], key=lambda f: (f.concept, f.rule)):
        if (f.concept, f.rule) not in totals and (f.concept, f.rule) not in keys:
            keys.append((f.concept, f.rule))

    def counts(findings: list[Finding], suppressed: bool = False) -> Counter[Key]:
        return Counter((f.concept, f.rule) for f in findings if suppressed or f.suppressed is None)

    new, unchanged, fixed = counts(report.new), counts(report.unchanged), counts(report.fixed, True)
    quiet = Counter((f.concept, f.rule) for f in report.current if f.suppressed is not None)
    if report.mode == "check":
        header = ["Concept", "Rule", "New", "Fixed", "Unchanged", "Suppressed", "Total -> target"]
    else:
        header = ["Concept", "Rule", "Findings", "Suppressed", "Total -> target"]
    if report.trends:
        header += ["This PR", "Last 30 days", "At this pace"]
    lines = [
        "| " + " | ".join(header) + " |",
        "| --- | --- |" + " ---: |" * (len(header) - 2),
    ]
    rows = []
    for key in keys:
        concept, rule = key
        name = RULES[rule].name if rule in RULES else ""
        values = [
            escape.text(concept, table=True) if concept else "(none)",
            escape.text(f"{rule} {name}".strip(), table=True),
        ]
        if report.mode == "check":
            values += [f"{new[key]:,}", f"{fixed[key]:,}", f"{unchanged[key]:,}"]
        else:
            values.append(f"{unchanged[key]:,}")
        values.append(f"{quiet[key]:,}")
        values.append(totals[key].progress if key in totals else "")
        if report.trends:
            trend = report.trends.get(key)
            values += (
                [trend.change, trend.last_30_days, trend.at_this_pace] if trend else ["", "", ""]
            )
        rows.append("| " + " | ".join(values) + " |")
    return lines, rows


def suppression_line(report: Report) -> str:
    """How many findings are suppressed inline, and how many of them the change adds."""
    line = f"**Suppressed:** {plural(report.suppressed, 'finding')} with `# ssot: ignore[...]`"
    if report.mode == "check":
        line += f" ({len(report.suppressed_new):,} added by this change)"
    return line + "."


def render(report: Report, *, verbose: bool = False, max_chars: int = MAX_CHARS) -> str:
    """The Markdown summary, at most ``max_chars`` characters long."""
    if max_chars < MIN_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_CHARS}, not {max_chars}")
    sections: list[tuple[str, list[Finding]]] = []
    listed = report.listed(verbose)
    if listed:
        if report.mode == "scan":
            heading = "Findings"
        else:
            heading = "New and unchanged findings" if verbose else "New findings"
        # Blocking findings first: if the list is cut, the ones that fail the gate remain.
        sections.append(
            (f"### {heading}", sorted(listed, key=lambda f: (not f.blocking, *sort_key(f))))
        )
    if report.suppressed_new:
        sections.append(("### Suppressed by this change", report.suppressed_new))
    items_total = sum(len(items) for _, items in sections)
    page = _Page(max_chars)
    # Room kept for the "not shown" lines, sized for the largest count they can print.
    reserve = len(more_line(items_total)) + 2
    page.add(title(report), "")
    base = f"Compared with {escape.code(report.base[:12])}. " if report.base else ""
    page.add(base + summary_line(report), "")

    header, rows = table(report)
    table_reserve = reserve + len(more_line(len(rows), "rows")) + 2
    if rows and page.fits(*header, rows[0], reserve=table_reserve):
        page.add(*header)
        for shown, row in enumerate(rows):
            if not page.fits(row, reserve=table_reserve):
                page.add("", more_line(len(rows) - shown, "rows"))
                break
            page.add(row)
        page.add("")
    elif rows:
        page.add(more_line(len(rows), "rows"), "")
    if page.fits(suppression_line(report), "", reserve=reserve):
        page.add(suppression_line(report), "")

    remaining = items_total
    for heading, items in sections:
        if not page.fits(heading, "", finding_item(items[0]), reserve=reserve):
            break
        page.add(heading, "")
        for item in items:
            line = finding_item(item)
            if not page.fits(line, reserve=reserve):
                break
            page.add(line)
            remaining -= 1
        else:
            page.add("")
            continue
        break
    if remaining:
        if page.lines and page.lines[-1] != "":
            page.add("")
        page.add(more_line(remaining))
    while page.lines and page.lines[-1] == "":
        page.lines.pop()
    return "\n".join(page.lines) + "\n"
