"""GitHub Actions workflow commands: one ``::error`` / ``::warning`` line per finding.

``ssot check --format github`` in a workflow step turns each listed finding into an
annotation on the pull request's diff::

    ::error file=pkg/a.py,line=3,col=1,endLine=3,endColumn=20,title=SSOT001::message

Escaping follows the runner's rules: in the message, ``%``, ``\\r`` and ``\\n`` become
``%25``, ``%0D`` and ``%0A``; in property values ``:`` and ``,`` also become ``%3A`` and
``%2C`` (they would otherwise end the value). Columns are sent only for a single-line span,
as GitHub ignores them otherwise. The runner shows at most 10 errors and 10 warnings per
step, so the last line is a ``::notice`` with the summary that is always visible.
"""

from __future__ import annotations

from analyzers.findings import Finding
from analyzers.report.model import Report
from analyzers.report.text import summary_line

COMMANDS = {"block": "error", "warn": "warning", "off": "notice"}


def escape_data(value: str) -> str:
    """Escape a workflow command's message."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command's property value (``file``, ``title``)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    """The workflow command for one finding."""
    props = [f"file={escape_property(finding.path)}", f"line={finding.line}"]
    if finding.end_line <= finding.line:
        props.append(f"col={finding.col + 1}")
        props.append(f"endLine={finding.line}")
        props.append(f"endColumn={max(finding.end_col, finding.col) + 1}")
    else:
        props.append(f"endLine={finding.end_line}")
    props.append(f"title={escape_property(finding.rule)}")
    command = COMMANDS.get(finding.severity, "warning")
    return f"::{command} {','.join(props)}::{escape_data(finding.message)}"


def render(report: Report, *, verbose: bool = False) -> str:
    """One annotation per listed finding, then a summary notice.

    In scan mode every finding is annotated (an annotation format that showed none would be
    useless); in check mode the new ones, and the unchanged ones too when ``verbose``.
    """
    findings = report.listed(verbose=verbose or report.mode == "scan")
    lines = [annotation(f) for f in findings]
    lines.append(f"::notice title=SSOT guard::{escape_data(summary_line(report))}")
    return "\n".join(lines) + "\n"
