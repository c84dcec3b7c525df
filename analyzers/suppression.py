"""Inline suppressions: ``# ssot: ignore[SSOT001] reason`` on the finding's line.

A suppressed finding is kept (with its reason) and counted in every report; it never
vanishes silently. Several codes may be listed: ``# ssot: ignore[SSOT001, SSOT003] why``.
"""

from __future__ import annotations

import re
from dataclasses import replace

from analyzers.findings import Finding
from analyzers.lines import source_lines

MARKER = "ssot: ignore"
_PATTERN = re.compile(r"#\s*ssot:\s*ignore\[([A-Za-z0-9_,\s]+)\]\s*(.*)$")
NO_REASON = "(no reason given)"


def suppressions(lines: list[str], line: int, end_line: int) -> dict[str, str]:
    """Codes suppressed on any line of ``line..end_line`` (1-based), with their reasons."""
    found: dict[str, str] = {}
    for number in range(line, min(end_line, len(lines)) + 1):
        text = lines[number - 1]
        if MARKER not in text:
            continue
        match = _PATTERN.search(text)
        if match is None:
            continue
        reason = match.group(2).strip() or NO_REASON
        for code in match.group(1).split(","):
            found[code.strip().upper()] = reason
    return found


def apply(findings: list[Finding], text: str) -> list[Finding]:
    """Mark findings whose lines carry a matching suppression comment."""
    if MARKER not in text or not findings:
        return findings
    lines = source_lines(text)
    out = []
    for finding in findings:
        codes = suppressions(lines, finding.line, finding.end_line)
        reason = codes.get(finding.rule)
        out.append(finding if reason is None else replace(finding, suppressed=reason))
    return out
