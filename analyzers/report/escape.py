"""Pull-request content made inert in GitHub Markdown.

Paths, class names, dict keys, suppression reasons and policy keys come from a repository
that anyone with write access (or a fork's author) shapes. Put into a check-run summary, a
review or a reply as they are, they could mention people (``@org/everyone``), link
anywhere, reference issues (a cross-reference lands in the referenced issue's timeline),
open an HTML comment that swallows the rest of the report (``<!--``), forge the App's hidden
markers, or break a table. Everything that reaches Markdown goes through one of:

- :func:`code`: an inline code span sized to its content (a backtick run longer than any
  inside it); a code span renders its content literally, so nothing in it is live;
- :func:`text`: prose with every ASCII punctuation character backslash-escaped and a
  zero-width space after ``@`` and ``#`` (GitHub links mentions and issue references in the
  rendered text, after escapes are gone);
- :func:`message`: a rule message, whose `` `quoted` `` parts become code spans.

All three keep the result on one line (a line break would end a table row, and a blank line
the paragraph), show control and bidirectional-override characters as ``\\uXXXX`` and take
``table=True`` inside a table cell, where even a code span must escape ``|``.
"""

from __future__ import annotations

import re

__all__ = ["code", "message", "text"]

ZERO_WIDTH_SPACE = "\u200b"
# Inline markup (emphasis, code, links, images, HTML, entities, strikethrough, math, tables)
# starts with one of these anywhere; `@` and `#` also get a zero-width space after them.
_ESCAPED = {char: "\\" + char for char in "\\`*_[]<>&!|~$"}
_ESCAPED.update({"@": "\\@" + ZERO_WIDTH_SPACE, "#": "\\#" + ZERO_WIDTH_SPACE})
# GFM autolinks `http://...`, `https://...` and `www.example.com` without any markup: the
# escaped `:` or `.` keeps the parser from seeing them.
_AUTOLINK = re.compile(r"(?i)(?<=www)\.|:(?=/)")
_LINE_START = re.compile(r" {0,3}(?:[-+=]|\d{1,9}[.)])")
# C0 and C1 controls, DEL, line and paragraph separators, and the characters that reorder
# displayed text (the "Trojan Source" bidi overrides and isolates, marks).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_BACKTICKS = re.compile("`+")
# GitHub also links `GH-123` to issue 123 of the repository.
_GH_REFERENCE = re.compile(r"(?i)(gh-)(?=[0-9])")


def _visible(value: str) -> str:
    """One line, tabs as spaces, invisible characters spelt out as ``\\uXXXX``."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", value.replace("\t", " "))


def code(value: str, *, table: bool = False) -> str:
    """``value`` as an inline code span that nothing inside can close early.

    The fence is one backtick longer than the longest run of backticks in ``value``, and a
    space pads both sides where Markdown would otherwise eat one, so the rendered text is
    ``value`` itself.
    """
    body = _visible(value)
    if table:
        body = body.replace("|", "\\|")
    if not body:
        return "` `"
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    fence = "`" * (longest + 1)
    # Markdown strips one space on each side of a span that starts and ends with one (unless
    # it is all spaces); a span that starts or ends with a backtick needs a space there.
    if body.strip(" ") and (
        body[0] == "`" or body[-1] == "`" or (body[0] == " " and body[-1] == " ")
    ):
        body = f" {body} "
    return f"{fence}{body}{fence}"


def text(value: str, *, table: bool = False) -> str:
    """``value`` as plain text: no emphasis, link, autolink, mention, reference or HTML.

    Only what can start markup is escaped, so that names such as ``websocket-manager`` stay
    readable in the Markdown source. ``table`` changes nothing here (``|`` is always escaped)
    and exists so that callers treat cells alike.
    """
    return _text(value, line_start=True)


def _text(value: str, *, line_start: bool) -> str:
    value = _GH_REFERENCE.sub(lambda m: m.group(1) + ZERO_WIDTH_SPACE, _visible(value))
    out = [_ESCAPED.get(char, char) for char in value]
    marks = [m.start() for m in _AUTOLINK.finditer(value)]
    # A list item, heading or thematic break starts a line with `-`, `+`, `=` or `1.`.
    start = _LINE_START.match(value) if line_start else None
    if start is not None:
        marks.append(start.end() - 1)
    for index in marks:
        out[index] = "\\" + value[index]
    if line_start and value.startswith(" "):
        # Four leading spaces would start an indented code block; a space written as a
        # character reference is text, not indentation.
        out[0] = "&#32;"
    return "".join(out)


def message(value: str, *, table: bool = False) -> str:
    """A rule message: its `` `quoted` `` parts as code spans, the rest as :func:`text`.

    Rules quote names with single backticks. When a quoted name itself holds a backtick the
    count is odd and the whole message is shown as text: safe either way, only less pretty.
    """
    parts = value.split("`")
    if len(parts) % 2 == 0:
        return text(value, table=table)
    return "".join(
        code(part, table=table) if i % 2 else _text(part, line_start=i == 0)
        for i, part in enumerate(parts)
    )
