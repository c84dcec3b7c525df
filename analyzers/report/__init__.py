"""Output formats of SSOT guard: pure functions from a :class:`Report` to text.

``render(report, fmt)`` with ``fmt`` one of :data:`FORMATS`:

- ``text``: ``path:line:col: CODE message`` lines, totals, a summary line;
- ``json``: the whole report, stable, with a ``schema_version`` (:mod:`.json_format`);
- ``sarif``: SARIF 2.1.0 for GitHub code scanning (:mod:`.sarif`);
- ``github``: GitHub Actions workflow commands, one annotation per finding;
- ``markdown``: the check-run summary, cut to ``max_chars`` (:mod:`.markdown`).

``verbose`` lists more findings in the human-facing formats (see :meth:`Report.listed`);
JSON and SARIF always hold every finding. Nothing here does I/O.
"""

# No `from __future__ import annotations` here: it would shadow the `annotations` submodule.
# SARIF and Markdown describe every rule, so they load the rule registry: imported when asked
# for, not by every `ssot scan`.
from analyzers.report import annotations, json_format, text
from analyzers.report.model import (
    ConceptTotal,
    Mode,
    Report,
    Status,
    build_check_report,
    build_scan_report,
)

FORMATS = ("text", "json", "sarif", "github", "markdown")

__all__ = [
    "FORMATS",
    "ConceptTotal",
    "Mode",
    "Report",
    "Status",
    "build_check_report",
    "build_scan_report",
    "render",
]


def render(report: Report, fmt: str, *, verbose: bool = False, max_chars: int | None = None) -> str:
    """``report`` in format ``fmt``; ``ValueError`` naming the known formats otherwise.

    ``max_chars`` bounds the Markdown output only (default: GitHub's check-run summary
    limit, :data:`analyzers.report.markdown.MAX_CHARS`).
    """
    if fmt == "text":
        return text.render(report, verbose=verbose)
    if fmt == "json":
        return json_format.render(report)
    if fmt == "sarif":
        from analyzers.report import sarif

        return sarif.render(report)
    if fmt == "github":
        return annotations.render(report, verbose=verbose)
    if fmt == "markdown":
        from analyzers.report import markdown

        limit = markdown.MAX_CHARS if max_chars is None else max_chars
        return markdown.render(report, verbose=verbose, max_chars=limit)
    raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
