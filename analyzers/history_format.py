"""``ssot history``'s output: text (a table and the trend), JSON and CSV.

- JSON: a list, oldest first, of ``{"sha", "date", "series", "totals": [{"concept", "rule",
  "count", "target"}]}`` (``date``: the committer date, ISO 8601 in UTC).
- CSV: one line per commit, concept and rule: ``sha,date,concept,rule,count,target``.
- Text: one line per commit with a column per ``(concept, rule)``, a line where a new series
  starts (a concept renamed or added by the policy), then each concept's trend: the change of
  the last 7 and 30 days and when the target is reached at that pace.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from analyzers import trend
from analyzers.history import History, HistoryRow
from analyzers.report.text import plural

FORMATS = ("text", "json", "csv")


def _date(row: HistoryRow) -> str:
    return row.committed_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_json(history: History) -> str:
    items: list[dict[str, Any]] = [
        {
            "sha": row.commit_sha,
            "date": _date(row),
            "series": row.series,
            "totals": [
                {"concept": c, "rule": r, "count": n, "target": t} for c, r, n, t in row.totals
            ],
        }
        for row in history.rows
    ]
    return json.dumps(items, indent=2) + "\n"


def render_csv(history: History) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sha", "date", "concept", "rule", "count", "target"])
    for row in history.rows:
        for concept, rule, count, target in row.totals:
            writer.writerow(
                [row.commit_sha, _date(row), concept, rule, count, "" if target is None else target]
            )
    return out.getvalue()


def render_text(history: History, *, now: dt.datetime | None = None) -> str:
    if not history.rows:
        return ""
    columns: list[tuple[str, str]] = []
    targets: dict[tuple[str, str], int | None] = {}
    for row in history.rows:
        for concept, rule, _, target in row.totals:
            if (concept, rule) not in targets:
                columns.append((concept, rule))
            targets[(concept, rule)] = target
    lines = ["Columns:"]
    for number, (concept, rule) in enumerate(columns, 1):
        goal = targets[(concept, rule)]
        suffix = "" if goal is None else f" (target {goal:,})"
        lines.append(f"  [{number}] {concept or '(no concept)'} {rule}{suffix}")
    lines.append("")
    cells = [[f"{row.committed_at:%Y-%m-%d}", row.commit_sha[:12]] for row in history.rows]
    for row, cell in zip(history.rows, cells, strict=True):
        counts = {(c, r): n for c, r, n, _ in row.totals}
        cell.extend(f"{counts[key]:,}" if key in counts else "-" for key in columns)
    header = ["date", "commit", *(f"[{n}]" for n in range(1, len(columns) + 1))]
    widths = [max(len(x[i]) for x in [header, *cells]) for i in range(len(header))]

    def line(values: list[str]) -> str:
        left = [f"{values[0]:<{widths[0]}}", f"{values[1]:<{widths[1]}}"]
        right = [f"{v:>{w}}" for v, w in zip(values[2:], widths[2:], strict=True)]
        return "  ".join(left + right).rstrip()

    lines.append(line(header))
    previous: HistoryRow | None = None
    for row, cell in zip(history.rows, cells, strict=True):
        if previous is not None and previous.series != row.series:
            lines.append(f"-- a new series from here: {_series_change(previous, row)}")
        lines.append(line(cell))
        previous = row
    lines += ["", *trend_lines(history, now=now)]
    return "\n".join(lines) + "\n"


def _series_change(before: HistoryRow, after: HistoryRow) -> str:
    old = {(c, r) for c, r, *_ in before.totals}
    new = {(c, r) for c, r, *_ in after.totals}
    parts: list[str] = []
    for concept, rule in sorted(new - old):
        series = trend.concept_series([before, after], concept, rule)
        if series.renamed_from is not None:
            parts.append(f"{concept} {rule} (renamed from {series.renamed_from})")
        else:
            parts.append(f"{concept} {rule} (new)")
    parts += [f"{concept} {rule} (dropped)" for concept, rule in sorted(old - new)]
    return ", ".join(parts) or "the policy's concepts changed"


def trend_lines(history: History, *, now: dt.datetime | None = None) -> list[str]:
    """Each concept's count, target and trend at the newest commit."""
    when = now or dt.datetime.now(dt.UTC)
    lines: list[str] = []
    for item in trend.trends(history.rows, now=when):
        goal = "" if item.target is None else f" -> {item.target:,}"
        parts = [f"{item.concept or '(no concept)'} {item.rule}: {item.count:,}{goal}"]
        for days, change in ((7, item.change_7), (30, item.change_30)):
            if change is not None:
                span = f"since {change.since.at:%Y-%m-%d}" if change.partial else f"in {days} days"
                parts.append(f"{trend.signed(change.delta)} {span}")
        parts.append(item.eta_text)
        if item.series.note:
            parts.append(item.series.note)
        lines.append("; ".join(parts))
    return lines


def summary(history: History, every: int) -> str:
    """One line for stderr: how many commits were counted, skipped and analysed."""
    counted = plural(len(history.rows), "commit")
    text = f"ssot history: {counted} counted of {plural(history.commits, 'commit')}"
    if every > 1:
        text += f" (every {every})"
    text += f", {plural(history.analysed, 'file')} analysed"
    if history.skipped:
        reasons = sorted({s.reason for s in history.skipped})
        text += f"; {plural(len(history.skipped), 'commit')} skipped ({'; '.join(reasons)})"
        if "no policy" in reasons:
            text += ": pass --policy FILE to count them with one policy"
    return text + "."


def render(history: History, fmt: str, *, now: dt.datetime | None = None) -> str:
    """``history`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return render_json(history)
    if fmt == "csv":
        return render_csv(history)
    return render_text(history, now=now)
