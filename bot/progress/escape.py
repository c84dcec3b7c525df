"""Repository content made inert in the dashboard issue's Markdown and Mermaid.

Concept names (from the policy), paths, owners, logins and ``/ssot accept`` reasons come from
people with write access to the repository, or from a pull request's author. In the issue
they must not mention anyone (``@org/everyone``), reference issues, link, open HTML (an
``<!--`` would swallow the rest, or forge the App's marker) or break a table or a chart.

Everything goes through :func:`text`, :func:`code` or :func:`chart_label`. When the shared
Markdown escaping of ``analyzers.report`` is on main, :func:`text` and :func:`code` become
thin calls to it (one place to swap).
"""

from __future__ import annotations

import re

ZERO_WIDTH_SPACE = "\u200b"
_ESCAPED = {char: "\\" + char for char in "\\`*_[]<>&!|~$"}
_ESCAPED.update({"@": "\\@" + ZERO_WIDTH_SPACE, "#": "\\#" + ZERO_WIDTH_SPACE})
_INVISIBLE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_AUTOLINK = re.compile(r"(?i)(?<=www)\.|:(?=/)")
_BACKTICKS = re.compile("`+")
_CHART_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,:()/+-]")


def _visible(value: str) -> str:
    """One line; invisible and direction-changing characters spelt out as ``\\uXXXX``."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", value.replace("\t", " "))


def text(value: str) -> str:
    """``value`` as plain text on one line: no markup, link, mention, reference or HTML
    (safe in a table cell too)."""
    value = _visible(value)
    out = [_ESCAPED.get(char, char) for char in value]
    for match in _AUTOLINK.finditer(value):
        out[match.start()] = "\\" + value[match.start()]
    return "".join(out)


def code(value: str) -> str:
    """``value`` as an inline code span nothing inside can close (``|`` escaped for tables)."""
    body = _visible(value).replace("|", "\\|")
    if not body:
        return "` `"
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(body)), default=0) + 1)
    if body[0] == "`" or body[-1] == "`" or (body[0] == " " and body[-1] == " "):
        body = f" {body} "
    return f"{fence}{body}{fence}"


def chart_label(value: str, limit: int = 80) -> str:
    """Text a Mermaid chart may show inside double quotes: only plain characters survive."""
    cleaned = _CHART_UNSAFE.sub("_", _visible(value))
    return cleaned[:limit]
