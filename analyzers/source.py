"""Parse only the statements of a file that can hold a finding.

A full ``ast.parse`` of every candidate file is several times slower than the linters a team
already runs, so the engine parses the smallest enclosing statement of each trigger hit (or
the outermost class, for implementation rules). Statements are found by indentation: within
a block, a statement starts on a line at the block's indentation that is not inside a
triple-quoted string. Any slice that does not parse is widened to its parent block, and at
the top to the whole file, so a wrong guess costs time, never a finding; tests compare this
path with a whole-file parse on real trees.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from analyzers.triggers import HitKind

_COMPOUND = frozenset({"def", "async", "class", "if", "for", "while", "with", "try"})
_CONTINUATION = frozenset({"else", "elif", "except", "finally"})
_CLOSERS = frozenset(")]}")
_SIMPLE_STRING = re.compile(r"\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'")
_NAME = re.compile(r"(?:async\s+)?(?:def|class)\s+(\w+)")
MAX_DEPTH = 40


@lru_cache(maxsize=64)
def _lines_upto(indent: int) -> re.Pattern[str]:
    # A line whose indentation is at most `indent` and which holds code (not a comment).
    return re.compile(r"^[ \t]{0,%d}(?=[^ \t\r\n#])" % indent, re.M)


class UnparsableSource(Exception):
    """The file (not just a slice of it) is not valid Python."""

    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.line, self.col = line, col


@dataclass
class Slice:
    """Statements parsed from one region, with their real line numbers and enclosing scope."""

    statements: list[ast.stmt]
    start: int
    end: int
    scope: tuple[str, ...]


@dataclass
class ParsedSource:
    """The parsed parts of one file that rules look at."""

    text: str
    slices: list[Slice] = field(default_factory=list)
    whole_file: bool = False

    @property
    def module(self) -> ast.Module:
        """All parsed statements as one module (top-level order; line numbers are real)."""
        return ast.Module(body=[s for sl in self.slices for s in sl.statements], type_ignores=[])


def parse_whole(text: str) -> ParsedSource:
    """Parse the whole file; raise :class:`UnparsableSource` on a syntax error."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise UnparsableSource(exc.msg, exc.lineno or 1, (exc.offset or 1) - 1) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise UnparsableSource(f"{type(exc).__name__}: {exc}"[:200], 1, 0) from None
    return ParsedSource(text, [Slice(tree.body, 0, len(text), ())], whole_file=True)


class Slicer:
    """Finds and parses the enclosing statement of trigger hits in one file's text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._strings = _string_spans(text)
        self._starts = [s[0] for s in self._strings]
        self._slices: list[Slice] = []
        self._covered: dict[HitKind, list[tuple[int, int]]] = {"stmt": [], "class": []}
        self._imports: list[tuple[int, frozenset[str]]] | None = None

    def in_string(self, pos: int) -> bool:
        """True when ``pos`` lies inside a string literal that spans lines."""
        i = bisect.bisect_right(self._starts, pos) - 1
        return i >= 0 and self._strings[i][0] < pos < self._strings[i][2]

    def in_text(self, pos: int) -> bool:
        """True when ``pos`` lies in the text of a multi-line string (not in an f-string's code).

        A trigger there cannot be code, with one exception: a literal such as ``"data"`` that
        shares its quotes with ``\"""data\"""`` starts before the content and is kept.
        """
        i = bisect.bisect_right(self._starts, pos) - 1
        if i < 0:
            return False
        _, content, end, is_f = self._strings[i]
        return not is_f and content <= pos < end

    def parse(self, hits: list[tuple[int, HitKind]]) -> ParsedSource:
        """Parse the regions around ``hits``; fall back to the whole file when a slice fails.

        May be called again with more hits: the result holds every region parsed so far.
        """
        covered = self._covered
        for pos, kind in hits:
            if self.in_text(pos):
                continue
            # A class region answers every question; a statement region only statement ones.
            around = covered["class"] if kind == "class" else covered["class"] + covered["stmt"]
            if any(start <= pos < end for start, end in around):
                continue
            found = self._locate(pos, kind)
            if found is None:
                return parse_whole(self.text)
            if isinstance(found, Slice):
                self._slices.append(found)
                covered[kind].append((found.start, found.end))
        return ParsedSource(self.text, _drop_nested(self._slices))

    def import_hits(self, names: set[str]) -> list[tuple[int, HitKind]]:
        """Positions of the import statements that mention any of ``names`` (may bind them).

        A rule resolves a name through the imports that bind it; those imports need not hold a
        trigger literal themselves (``import os`` before ``os.path.join``), so they are found
        by the names that the parsed statements use.
        """
        if self._imports is None:
            self._imports = _import_statements(self.text, self.in_string)
        return [(pos, "stmt") for pos, words in self._imports if not words.isdisjoint(names)]

    def word_hits(self, names: set[str]) -> list[tuple[int, HitKind]]:
        """Positions of every use of ``names`` as a whole word (outside triple-quoted strings)."""
        if not names:
            return []
        pattern = re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, sorted(names))))
        return [(m.start(), "stmt") for m in pattern.finditer(self.text)]

    def _locate(self, pos: int, kind: HitKind) -> Slice | bool | None:
        """The innermost parsable region around ``pos``.

        ``False`` when ``pos`` is outside every statement (a comment), ``None`` when no
        region parses and the whole file must be parsed instead.
        """
        text = self.text
        region = (0, len(text))
        indent = 0
        scope: list[str] = []
        candidates: list[tuple[int, int, int, tuple[str, ...]]] = []
        for _ in range(MAX_DEPTH):
            chunk = self._chunk_at(region, indent, pos)
            if chunk is None:
                break
            start, end = chunk
            head_start, word = self._head(start, end)
            candidates.append((start, end, indent, tuple(scope)))
            if (kind == "class" and word == "class") or word not in _COMPOUND:
                break
            body = self._body(head_start, end)
            if body is None or pos < body[0]:
                break
            name = _NAME.match(text, head_start)
            if name is not None:
                scope.append(name.group(1))
            region, indent = (body[0], end), body[1]
        else:
            return None
        if not candidates:
            return False
        for start, end, block_indent, block_scope in reversed(candidates):
            statements = self._parse_region(start, end, block_indent)
            if statements is not None:
                return Slice(statements, start, end, block_scope)
        return None

    def _chunk_at(self, region: tuple[int, int], indent: int, pos: int) -> tuple[int, int] | None:
        """The statement at ``indent`` inside ``region`` that contains ``pos``."""
        text = self.text
        lo, hi = region
        start: int | None = None
        glue = False  # a decorator glues the next statement to itself
        for match in _lines_upto(indent).finditer(text, lo, hi):
            line_start = match.start()
            if self.in_string(line_start):
                continue
            first = text[match.end()]
            if first in _CLOSERS:
                continue
            width = match.end() - line_start
            if width < indent:
                # A dedent (an except clause of the enclosing try, say) ends the statement.
                if start is not None and start <= pos < line_start:
                    return start, line_start
                start, glue = None, False
                continue
            if _first_word(text, match.end()) in _CONTINUATION:
                continue
            if glue:
                glue = first == "@"
                continue
            if start is not None and start <= pos < line_start:
                return start, line_start
            start = line_start
            glue = first == "@"
        if start is not None and start <= pos < hi:
            return start, hi
        return None

    def _head(self, start: int, end: int) -> tuple[int, str]:
        """Skip decorators; return where the statement proper starts and its first word."""
        text = self.text
        pos = start
        while True:
            while pos < end and text[pos] in " \t":
                pos += 1
            if pos < end and text[pos] == "@":
                nl = text.find("\n", pos, end)
                if nl == -1:
                    return pos, "@"
                pos = nl + 1
                continue
            return pos, _first_word(text, pos)

    def _body(self, head: int, end: int) -> tuple[int, int] | None:
        """Start and indentation of a compound statement's body, after its (multi-line) header."""
        text = self.text
        pos = head
        while pos < end:
            nl = text.find("\n", pos, end)
            if nl == -1:
                return None
            line = text[pos:nl]
            if not self.in_string(pos) and _code_part(line).rstrip().endswith(":"):
                break
            pos = nl + 1
        else:
            return None
        pos = nl + 1
        while pos < end:
            nl = text.find("\n", pos, end)
            line = text[pos : nl if nl != -1 else end]
            stripped = line.lstrip(" \t")
            if stripped and not stripped.startswith("#"):
                return pos, len(line) - len(stripped)
            if nl == -1:
                return None
            pos = nl + 1
        return None

    def _parse_region(self, start: int, end: int, indent: int) -> list[ast.stmt] | None:
        source = self.text[start:end]
        line_offset = self.text.count("\n", 0, start)
        if indent:
            # Keep the original columns: wrap the indented slice in a block of its own.
            source = "if 1:\n" + source
            line_offset -= 1
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        if line_offset:
            ast.increment_lineno(tree, line_offset)
        body = tree.body
        if indent and body and isinstance(body[0], ast.If):
            return body[0].body
        return body


_IMPORT_KEYWORD = re.compile(r"\bimport\b")
_WORD = re.compile(r"\w+")


def _import_statements(text: str, in_string: Callable[[int], bool]) -> list[tuple[int, frozenset[str]]]:
    """Each ``import`` keyword with the words of its logical line (parentheses followed)."""
    out: list[tuple[int, frozenset[str]]] = []
    for match in _IMPORT_KEYWORD.finditer(text):
        pos = match.start()
        if in_string(pos):
            continue
        line_start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        end = len(text) if end == -1 else end
        head = _code_part(text[line_start:end])
        if head.count("(") > head.count(")"):
            close = text.find(")", end)
            end = len(text) if close == -1 else close
        else:
            while text[line_start:end].rstrip().endswith("\\") and end < len(text):
                nxt = text.find("\n", end + 1)
                end = len(text) if nxt == -1 else nxt
        out.append((pos, frozenset(_WORD.findall(text, line_start, end))))
    return out


def _drop_nested(slices: list[Slice]) -> list[Slice]:
    kept: list[Slice] = []
    for sl in sorted(slices, key=lambda s: (s.start, -s.end)):
        if kept and kept[-1].start <= sl.start and sl.end <= kept[-1].end:
            continue
        kept.append(sl)
    return kept


def _first_word(text: str, pos: int) -> str:
    end = pos
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[pos:end]


def _code_part(line: str) -> str:
    # The line without its trailing comment (strings are blanked first so '#' in them stays).
    blanked = _SIMPLE_STRING.sub(lambda m: '""', line)
    cut = blanked.find("#")
    return blanked if cut == -1 else blanked[:cut]


# Comments and string literals, matched whole. ``\\(?:\r\n|.)`` lets a backslash escape a newline,
# so a one-quote string continued with ``\`` at the end of a line is one match too.
_STRING_OR_COMMENT = re.compile(
    r"""\#[^\r\n]*"""
    r"""|(?P<q3>\"\"\"|\'\'\')(?:[^"'\\]|\\(?:\r\n|.)|(?!(?P=q3))["'])*(?:(?P=q3)|\Z)"""
    r"""|"(?:[^"\\\r\n]|\\(?:\r\n|.))*"?"""
    r"""|'(?:[^'\\\r\n]|\\(?:\r\n|.))*'?""",
    re.S,
)
_PREFIX = re.compile(r"[A-Za-z]{1,2}$")


def _string_spans(text: str) -> list[tuple[int, int, int, bool]]:
    """``(start, content start, end, is f-string)`` of every string literal spanning lines.

    Only such strings can make a line start look like a statement, and only their inside is
    skipped when looking for triggers (an f-string's replacement fields are code, though).
    """
    spans: list[tuple[int, int, int, bool]] = []
    for match in _STRING_OR_COMMENT.finditer(text):
        start, end = match.span()
        if text[start] == "#" or ("\n" not in text[start:end] and "\r" not in text[start:end]):
            continue
        prefix = _PREFIX.search(text, max(0, start - 2), start)
        is_f = prefix is not None and "f" in prefix.group().lower()
        if is_f and prefix is not None and prefix.start() > 0 and (text[prefix.start() - 1].isalnum() or text[prefix.start() - 1] == "_"):
            is_f = False
        quote = 3 if match.group("q3") else 1
        spans.append((start, start + quote, end, is_f))
    return spans
