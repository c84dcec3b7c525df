"""``/ssot <command> [argument]`` in a comment: what was asked, as pure data, no I/O.

A command counts only on a line the commenter saw as plain text: not inside a fenced or
indented code block, a code span, an HTML comment or block, or a quote (quoting someone's
``/ssot accept`` must not accept anything again). The comment is rendered by cmark-gfm,
GitHub's own Markdown parser, with raw HTML left out as GitHub's sanitiser would, and only
the text of paragraphs and list items outside quotes is read, line by line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import cmarkgfm

PREFIX = "/ssot"
# GitHub refuses longer comments; the rest of an oversized body is not read.
MAX_BODY_CHARS = 65_536
# cmark's HTML: every `<` starts a tag or a comment (text has `&lt;`), attribute values
# have no `>`; so one linear pass splits it.
_TOKEN = re.compile(r"<!--.*?-->|<(/?)([a-z][a-z0-9]*)[^>]*>|[^<]+|<", re.S)
# Inline tags keep the line going; any other tag starts or ends a block, or breaks the line.
_INLINE = frozenset({"code", "em", "strong", "del", "a", "span"})
_READ_IN = frozenset({"p", "li"})
_NEVER_READ = frozenset({"blockquote", "pre", "table", "h1", "h2", "h3", "h4", "h5", "h6"})
_VOID = frozenset({"br", "hr", "img", "input"})
_CODE_MARK = "\0"  # before a code span's text: a line starting with one is no command


@dataclass(frozen=True)
class Command:
    """A command as asked: its name and the rest of its line."""

    name: str  # "rescan", "explain", "fix", "accept", "help"; "help" when absent
    argument: str  # the rest of the line


def visible_lines(body: str) -> list[str]:
    """The lines of plain text a reader sees in paragraphs and list items outside quotes."""
    # A JSON body may hold a lone surrogate (`"\ud800"`), which UTF-8 cannot encode.
    text = body[:MAX_BODY_CHARS].encode("utf-8", "replace").decode("utf-8")
    rendered = cmarkgfm.github_flavored_markdown_to_html(text)
    lines = [""]
    read, never, code = 0, 0, 0
    for token in _TOKEN.finditer(rendered):
        closing, tag = token.group(1), token.group(2)
        if tag is None:
            text = token.group()
            if read and not never and not text.startswith("<!--"):
                first, *rest = html.unescape(text).split("\n")
                lines[-1] += (_CODE_MARK if code else "") + first
                lines.extend(rest)
            continue
        step = -1 if closing else 1
        if tag in _VOID:
            step = 0
        read += step if tag in _READ_IN else 0
        never += step if tag in _NEVER_READ else 0
        code += step if tag == "code" else 0
        if tag not in _INLINE:
            lines.append("")
    return lines


def parse_command(body: str | None) -> Command | None:
    """The first ``/ssot <name> [argument]`` line of a comment, or None.

    >>> parse_command("LGTM\\n/ssot accept legacy client, removed in #12")
    Command(name='accept', argument='legacy client, removed in #12')
    """
    for line in visible_lines(body or ""):
        words = line.strip().split(maxsplit=2)
        if not words or words[0].lower() != PREFIX:
            continue
        name = words[1].lower() if len(words) > 1 else "help"
        argument = words[2].replace(_CODE_MARK, "").strip() if len(words) > 2 else ""
        return Command(name=name, argument=argument)
    return None
