"""Repository content made inert in the dashboard issue's Markdown and Mermaid.

Concept names (from the policy), paths, owners, logins and ``/ssot accept`` reasons come from
people with write access to the repository, or from a pull request's author. In the issue
they must not mention anyone (``@org/everyone``), reference issues, link, open HTML (an
``<!--`` would swallow the rest, or forge the App's marker) or break a table or a chart.

Markdown goes through the shared :mod:`analyzers.report.escape` (:func:`text`, :func:`code`,
always as table cells here); a Mermaid chart's quoted strings through :func:`chart_label`.
"""

from __future__ import annotations

import re

from analyzers.report import escape

_CHART_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,:()/+-]")
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def text(value: str) -> str:
    """``value`` as plain text on one line, safe in a table cell: no markup, link, mention,
    reference or HTML."""
    return escape.text(value, table=True)


def code(value: str) -> str:
    """``value`` as an inline code span nothing inside can close, safe in a table cell."""
    return escape.code(value, table=True)


def chart_label(value: str, limit: int = 80) -> str:
    """Text a Mermaid chart may show inside double quotes: only plain characters survive."""
    return _CHART_UNSAFE.sub("_", _INVISIBLE.sub("", value))[:limit]
