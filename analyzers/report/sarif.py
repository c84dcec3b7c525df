"""SARIF 2.1.0, as GitHub code scanning accepts it.

- One run; the driver ``ssot-guard`` lists every rule with its summary, the *What it does*
  section of its docstring as ``fullDescription`` and the whole docstring as ``help``.
- Results are the findings present in the tree (new and unchanged; fixed ones are gone, so
  they are not results). ``level``: ``block`` -> ``error``, ``warn`` -> ``warning``.
- ``baselineState`` (``new`` / ``unchanged``) is set in check mode only.
- ``partialFingerprints`` carries the finding's fingerprint twice: as ``ssot/v1`` and as
  ``primaryLocationLineHash`` with an occurrence counter (``<fingerprint>:2`` for the second
  identical finding in a file), which GitHub uses to follow an alert when lines move.
- A suppressed finding stays a result with ``suppressions: [{kind: inSource, justification}]``.
- Regions are 1-based; ``endColumn`` is the column after the last character. Columns come
  from Python's ``ast`` and count UTF-8 bytes, which equals characters on ASCII lines.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from analyzers.findings import Finding
from analyzers.report.model import Report, sort_key
from analyzers.report.rule_docs import doc_section
from analyzers.rules import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "ssot-guard"
LEVELS = {"block": "error", "warn": "warning", "off": "none"}


def rule_descriptor(code: str) -> dict[str, Any]:
    """A ``reportingDescriptor`` for one rule, from its registered metadata."""
    rule = RULES.get(code)
    if rule is None:
        return {"id": code, "shortDescription": {"text": code}}
    doc = rule.doc.strip()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": doc_section(doc, "What it does") or rule.summary},
        "help": {"text": doc, "markdown": doc},
        # Every rule blocks unless the policy says otherwise; results carry their own level.
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["ssot", "maintainability"]},
    }


def region(finding: Finding) -> dict[str, int]:
    """The finding's span as a SARIF region (1-based, never inverted)."""
    end_line = max(finding.end_line, finding.line)
    start_column = finding.col + 1
    end_column = finding.end_col + 1
    if end_line == finding.line:
        end_column = max(end_column, start_column)
    return {
        "startLine": finding.line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    }


def result(
    finding: Finding, rule_index: int, occurrence: int, status: str | None
) -> dict[str, Any]:
    """A SARIF ``result`` for one finding."""
    out: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS.get(finding.severity, "warning"),
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.path, "uriBaseId": "%SRCROOT%"},
                    "region": region(finding),
                }
            }
        ],
        "partialFingerprints": {
            "ssot/v1": finding.fingerprint,
            "primaryLocationLineHash": f"{finding.fingerprint}:{occurrence}",
        },
        "properties": {"concept": finding.concept, "scope": finding.scope},
    }
    if status is not None:
        out["baselineState"] = status
    if finding.suppressed is not None:
        out["suppressions"] = [{"kind": "inSource", "justification": finding.suppressed}]
    return out


def occurrence_numbers(findings: list[Finding]) -> dict[int, int]:
    """``id(finding) -> n`` for the n-th finding with its fingerprint in its file (by position).

    Numbered in file order, not by status, so an alert keeps its number from run to run.
    """
    seen: Counter[tuple[str, str]] = Counter()
    out: dict[int, int] = {}
    for finding in sorted(findings, key=sort_key):
        seen[(finding.path, finding.fingerprint)] += 1
        out[id(finding)] = seen[(finding.path, finding.fingerprint)]
    return out


def to_data(report: Report) -> dict[str, Any]:
    """The SARIF log as JSON-ready data."""
    codes = list(RULES)
    codes.extend(sorted({f.rule for f in report.current} - set(codes)))
    index = {code: i for i, code in enumerate(codes)}
    occurrences = occurrence_numbers(report.current)
    results = [
        result(finding, index[finding.rule], occurrences[id(finding)], status)
        for status, finding in report.entries()
        if status != "fixed"
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {"name": TOOL_NAME, "rules": [rule_descriptor(c) for c in codes]}
                },
                "results": results,
                "properties": {
                    "mode": report.mode,
                    "base": report.base,
                    "filesAnalysed": report.files_analysed,
                    "fixed": len(report.fixed),
                },
            }
        ],
    }


def render(report: Report) -> str:
    """The SARIF log as indented JSON text, ending with a newline."""
    return json.dumps(to_data(report), indent=2, ensure_ascii=False) + "\n"
