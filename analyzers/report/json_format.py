"""JSON: the whole report, machine-readable and stable.

Layout (``schema_version`` 2; a change that removes, renames or redefines a key bumps it)::

    {
      "schema_version": 2,
      "tool": {"name": "ssot-guard", "engine_version": "1"},
      "mode": "check",                 # or "scan"
      "base": "3f2a...",               # compared revision, or null
      "summary": {"files_analysed": 4, "new": 2, "fixed": 1, "unchanged": 3,
                  "blocking": 1, "suppressed": 1},
      "totals": [{"concept": "...", "rule": "SSOT002", "count": 1058, "target": 1}],
      "findings": [{"status": "new", "rule": "SSOT001", ..., "fingerprint": "..."}]
    }

The summary counts leave suppressed findings out of ``new`` and ``unchanged`` and count them
in ``suppressed``; ``findings`` lists every finding, suppressed ones included (with their
reason in ``suppressed``). Each finding is :meth:`analyzers.findings.Finding.to_dict` plus
its ``status``: ``new``, ``unchanged`` or ``fixed`` in check mode, ``null`` in scan mode.

Lines and columns are 1-based, as in every other format and in SARIF: ``col`` is the first
character, ``end_col`` the column after the last one (schema 1 had 0-based columns). ``fix``
is the automatic fix when the caller attached one (``ssot scan`` and ``ssot check`` do):
``{"title", "start_line", "end_line", "replacement", "safe"}``, whole lines
``start_line..end_line`` replaced by ``replacement``, ``safe`` when a consolidation batch may
apply it unattended; ``null`` when the finding has none.

Findings are ordered by status, then path, line, column and rule, so the same run always
gives the same bytes. :func:`parse` reads the document back into a :class:`Report`.
"""

from __future__ import annotations

import json
from typing import Any

from analyzers.findings import ENGINE_VERSION, Finding
from analyzers.report.model import STATUSES, ConceptTotal, Report

SCHEMA_VERSION = 2
TOOL_NAME = "ssot-guard"


def finding_data(finding: Finding, status: str | None) -> dict[str, Any]:
    """One finding as JSON-ready data, with 1-based columns (the model's are 0-based)."""
    data = finding.to_dict()
    data["col"] += 1
    data["end_col"] += 1
    return {"status": status, **data}


def finding_of(data: dict[str, Any]) -> Finding:
    """Inverse of :func:`finding_data` (without the status)."""
    values = {k: v for k, v in data.items() if k != "status"}
    values["col"] -= 1
    values["end_col"] -= 1
    return Finding.from_dict(values)


def to_data(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (see the module docstring for the layout)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "engine_version": ENGINE_VERSION},
        "mode": report.mode,
        "base": report.base,
        "summary": {
            "files_analysed": report.files_analysed,
            "new": report.count("new"),
            "fixed": report.count("fixed"),
            "unchanged": report.count("unchanged"),
            "blocking": len(report.blocking),
            "suppressed": report.suppressed,
        },
        "totals": [
            {"concept": t.concept, "rule": t.rule, "count": t.count, "target": t.target}
            for t in report.totals
        ],
        "findings": [finding_data(f, status) for status, f in report.entries()],
    }


def render(report: Report) -> str:
    """The report as JSON text, one finding per line, ending with a newline.

    Not ``indent=``: that switches ``json`` to its pure-Python encoder, which took longer
    than a whole warm scan for a few thousand findings.
    """
    data = to_data(report)
    findings = data.pop("findings")
    head = json.dumps(data, ensure_ascii=False)
    lines = ",\n".join(json.dumps(item, ensure_ascii=False) for item in findings)
    body = f'"findings": [\n{lines}\n]' if findings else '"findings": []'
    return (head[:-1] + ", " if data else "{") + body + "}\n"


def parse(text: str) -> Report:
    """Read :func:`render` output back; ``ValueError`` for another schema version."""
    data = json.loads(text)
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"unsupported report schema_version {version!r}; expected {SCHEMA_VERSION}"
        )
    mode = data["mode"]
    buckets: dict[str, list[Finding]] = {status: [] for status in STATUSES}
    for item in data["findings"]:
        status = item["status"]
        buckets["unchanged" if status is None else status].append(finding_of(item))
    return Report(
        mode=mode,
        new=buckets["new"],
        unchanged=buckets["unchanged"],
        fixed=buckets["fixed"],
        totals=[ConceptTotal(**t) for t in data["totals"]],
        files_analysed=data["summary"]["files_analysed"],
        base=data["base"],
    )
