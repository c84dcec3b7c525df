"""Parse only the statements of a file that can hold a finding.

A full ``ast.parse`` of every candidate file is several times slower than the linters a team
already runs, so the engine parses the smallest enclosing statement of each trigger hit (or
the outermost class, for implementation rules). Statements are found by indentation: within
a block, a statement starts on a line at the block's indentation that is not inside a string
literal, inside brackets or after a backslash continuation (strings and comments are blanked
once per file, so brackets and backslashes are counted in code only). Any slice that does
not parse is widened to its parent block, and at the top to the whole file, so a wrong guess
costs time, never a finding; tests compare this path with a whole-file parse on real trees.
"""

from __future__ import annotations

import ast
import bisect
import re
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, chain

from analyzers.triggers import (
    ClassHeaders,
    HitKind,
    is_word_char,
    use_matters,
    whole_word_positions,
)

_COMPOUND = frozenset(
    {"def", "async", "class", "if", "for", "while", "with", "try", "match", "case"}
)
# Compound statements whose header parses alone (with `pass`): `async` is also `async with`
# and `async for`, whose headers do so the same way.
_DEF_WORDS = frozenset({"def", "async"})
_CONTINUATION = re.compile(r"(?:else|elif|except|finally)\b")
_CLOSERS = frozenset(")]}")
_WORD = re.compile(r"\w+")
# What follows `import` up to the closing parenthesis of `from m import (...)`, and up to the
# end of its logical line: an import can bind only the words there.
_IMPORT_PARENTHESES = re.compile(r"import\b\s*\(([^)]*)")
_IMPORT_LINE = re.compile(r"import\b((?:[^\r\n\\]|\\\r?\n)*)")
_NAME = re.compile(r"(?:async\s+)?(?:def|class)\s+(\w+)")
MAX_DEPTH = 40


@lru_cache(maxsize=64)
def _lines_upto(indent: int) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Lines whose indentation is at most ``indent`` and which hold code (not a comment),
    group 1 their indentation: after a newline, and at the start of the text.

    A form feed at the start of a line is white space to the tokenizer. The newline is
    matched as a character, not as ``^`` in multi-line mode: a search for a literal first
    character skips to each newline in C, where ``^`` is tried at every character.
    """
    line = rf"(\f?[ \t]{{0,{indent}}})(?=[^ \t\f\r\n#])"
    return re.compile("\n" + line), re.compile(line)


class Coverage:
    """A union of ``[start, end)`` ranges kept sorted and disjoint: ``covers`` is a bisect,
    so a file with thousands of hits is not quadratic."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def covers(self, pos: int) -> bool:
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.ends[i]

    def add(self, start: int, end: int) -> None:
        lo = bisect.bisect_left(self.ends, start)  # first range that ends at or after start
        hi = bisect.bisect_right(self.starts, end)  # ranges that start at or before end
        if lo < hi:
            start = min(start, self.starts[lo])
            end = max(end, self.ends[hi - 1])
        self.starts[lo:hi] = [start]
        self.ends[lo:hi] = [end]


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
    # A class parsed as its skeleton (header, the names of its direct methods, its last
    # statement): other slices inside its range are not redundant with it.
    skeleton: bool = False
    # Its nodes by type with their enclosing def/class names, filled once by ModuleContext.of.
    nodes: dict[type, list[tuple[ast.AST, tuple[str, ...]]]] | None = field(
        default=None, repr=False, compare=False
    )


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


# One parse at a time per process: CPython 3.11's AST conversion keeps its recursion depth in
# interpreter-wide state, and two threads parsing at once can fail with "AST constructor
# recursion depth mismatch" (python/cpython#106905); catch_warnings is process-global too.
# ast.parse holds the GIL while it works, so the lock costs no parallelism.
_PARSE_LOCK = threading.Lock()


def parse_quietly(source: str) -> ast.Module:
    """``ast.parse`` without the warnings it emits about the analysed code, thread-safely.

    Invalid escape sequences and the like are the analysed file's business, not the user's
    terminal's: 3.12 turns them into SyntaxWarnings that are shown by default, one per file.
    """
    with _PARSE_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def parse_expression(source: str) -> ast.expr:
    """The expression in ``source`` (as :func:`parse_quietly`, in ``eval`` mode)."""
    with _PARSE_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source, mode="eval").body


def parse_whole(text: str) -> ParsedSource:
    """Parse the whole file; raise :class:`UnparsableSource` on a syntax error."""
    try:
        tree = parse_quietly(text)
    except SyntaxError as exc:
        raise UnparsableSource(exc.msg, exc.lineno or 1, (exc.offset or 1) - 1) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise UnparsableSource(f"{type(exc).__name__}: {exc}"[:200], 1, 0) from None
    return ParsedSource(text, [Slice(tree.body, 0, len(text), ())], whole_file=True)


class Slicer:
    """Finds and parses the enclosing statement of trigger hits in one file's text."""

    def __init__(self, text: str) -> None:
        self.text = text
        # Strings and comments are scanned lazily, from the start up to what a question needs
        # (hits often all sit in the imports at the top of a long file): ``_code`` and
        # ``_brackets`` cover ``text[:_scanned]``, which always ends at a line start.
        self._scanned = 0
        self._code = ""
        self._brackets = ""
        self._strings: list[tuple[int, int, int, bool]] = []
        self._starts: list[int] = []
        self._slices: list[Slice] = []
        self._covered: dict[HitKind, Coverage] = {"stmt": Coverage(), "class": Coverage()}
        # What class skeletons answer: class questions outside their methods' bodies.
        self._skeleton_cover = Coverage()
        self._skeletons: set[int] = set()
        self._bounds: dict[tuple[int, int, int], _Bounds] = {}
        self._imports: list[tuple[int, frozenset[str]]] | None = None
        # Offsets whose line numbers are known (sorted), and those numbers: each slice's is
        # counted from the nearest one before it, not from the top of the file.
        self._line_marks: list[int] = [0]
        self._line_numbers: list[int] = [0]

    def _ensure(self, pos: int) -> None:
        """Scan strings and comments at least up to ``pos`` (in chunks that double)."""
        text = self.text
        size = len(text)
        start = self._scanned
        if pos <= start or start >= size:
            return
        stop = max(pos, start + max(_FIRST_CHUNK, start))
        while True:
            if stop < size:
                newline = text.find("\n", stop)
                stop = size if newline == -1 else newline + 1
            else:
                stop = size
            spans, code, cut = _scan(text, start, stop)
            if not cut or stop == size:
                break
            stop += max(_FIRST_CHUNK, stop - start)  # a string runs past the chunk: widen
        self._code += code
        self._brackets += code.translate(_ONE_BRACKET)
        self._strings.extend(spans)
        self._starts.extend(span[0] for span in spans)
        self._scanned = stop

    def in_string(self, pos: int) -> bool:
        """True when ``pos`` lies inside a string literal that spans lines."""
        self._ensure(pos + 1)
        i = bisect.bisect_right(self._starts, pos) - 1
        return i >= 0 and self._strings[i][0] < pos < self._strings[i][2]

    def in_text(self, pos: int) -> bool:
        """True when ``pos`` lies in the text of a multi-line string (not in an f-string's code).

        A trigger there cannot be code, with one exception: a literal such as ``'data'`` that
        shares its quotes with ``'''data'''`` starts before the content and is kept.
        """
        self._ensure(pos + 1)
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
            if covered["class"].covers(pos) or (kind == "stmt" and covered["stmt"].covers(pos)):
                continue
            if kind == "class" and self._skeleton_cover.covers(pos):
                continue
            found = self._locate(pos, kind)
            while isinstance(found, Slice) and found.skeleton and not self._answers(found, pos):
                # The hit lies in a method of the class just sketched: look inside it.
                self._slices.append(found)
                found = self._locate(pos, kind)
            if found is None:
                return parse_whole(self.text)
            if isinstance(found, Slice):
                self._slices.append(found)
                if not found.skeleton:
                    covered[kind].add(found.start, found.end)
        return ParsedSource(self.text, _drop_nested(self._slices))

    def _answers(self, skeleton: Slice, pos: int) -> bool:
        # A statement hit located a skeleton only from a class header, which it keeps whole.
        return pos < skeleton.start or self._skeleton_cover.covers(pos)

    def import_hits(self, names: set[str]) -> list[tuple[int, HitKind]]:
        """Positions of the import statements that mention any of ``names`` (may bind them).

        A rule resolves a name through the imports that bind it; those imports need not hold a
        trigger literal themselves (``import os`` before ``os.path.join``), so they are found
        by the names that the parsed statements use.
        """
        if not names:
            return []
        # In the blanked code, so that neither a comment nor a string ends the search early
        # (a `)` in a comment inside `from m import (...)`) or makes a false import. Tried at
        # each `import` keyword only (found once per file): a search of the whole file per
        # round, with a leading `\b` that defeats the regex engine's literal scan, cost more.
        # Each import's words are read once per file; a regular expression built from the
        # names of each round cost a compilation per file.
        return [(pos, "stmt") for pos, words in self._import_words() if not words.isdisjoint(names)]

    def _import_words(self) -> list[tuple[int, frozenset[str]]]:
        """Each ``import`` keyword of the code, with the words that its statement can bind:
        those inside ``import (...)`` and those on the rest of its (continued) line."""
        if self._imports is None:
            self._ensure(len(self.text))
            code = self._code
            found = []
            pos = code.find("import")
            while pos != -1:
                if pos == 0 or not is_word_char(code[pos - 1]):
                    words: set[str] = set()
                    for pattern in (_IMPORT_PARENTHESES, _IMPORT_LINE):
                        match = pattern.match(code, pos)
                        if match is not None:
                            words.update(_WORD.findall(match.group(1)))
                    found.append((pos, frozenset(words)))
                pos = code.find("import", pos + 6)
            self._imports = found
        return self._imports

    def use_hits(self, names: set[str]) -> list[tuple[int, HitKind]]:
        """Positions of the uses of ``names`` (whole words) where a rule can report them.

        A name bound to something the policy names matters where it starts an attribute
        chain (``zeroconf.ZeroconfServiceInfo``, also in a string annotation), in a class
        header (a base) or as an assigned value (a re-export); elsewhere (an annotation, a
        call's argument) no rule reports it and its statement need not be parsed.
        """
        if not names:
            return []
        # One find per name (memchr-fast) instead of a regex whose leading \b defeats the
        # regex engine's literal scan; a word boundary on each side, as \b would ask.
        text = self.text
        headers = ClassHeaders(text)  # each class header read once for all the uses
        out: list[tuple[int, HitKind]] = [
            (pos, "stmt")
            for name in names
            for pos in whole_word_positions(text, name)
            if use_matters(text, pos, pos + len(name), headers)
        ]
        out.sort()
        return out

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
            if word not in _COMPOUND:
                break
            body = self._body(head_start, end)
            if word == "class" and body is not None:
                sketch = (kind == "stmt" and pos < body[0]) or (
                    kind == "class" and start not in self._skeletons
                )
                if sketch:
                    # The class itself is the question: its skeleton answers it (its methods'
                    # bodies are left out, and sliced on their own when they hold a hit).
                    skeleton = self._skeleton(start, end, indent, head_start, body, tuple(scope))
                    if skeleton is not None:
                        return skeleton
                    break
            elif kind == "class" and word == "class":
                break
            elif kind == "stmt" and word in _DEF_WORDS and body is not None and pos < body[0]:
                # A hit in a def's header (an annotation, a decorator) asks nothing of its
                # body, often most of a long method: parse the header alone.
                header = self._def_header(start, indent, body, tuple(scope))
                if header is not None:
                    return header
                break
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

    def _def_header(
        self,
        start: int,
        indent: int,
        body: tuple[int, int],
        scope: tuple[str, ...],
    ) -> Slice | None:
        """The def at ``start`` (decorators included; or an ``async with`` or ``async for``)
        with ``pass`` for its body.

        The slice ends where the body starts: hits in the body are sliced on their own, as
        the statements around them. The def's own end is the stub's (no rule reports a def).
        """
        text = self.text
        body_start, body_indent = body
        margin = text[body_start : body_start + body_indent]  # tabs stay tabs
        statements = self._parse_source(text[start:body_start] + margin + "pass\n", start, indent)
        if statements is None:
            return None
        return Slice(statements, start, body_start, scope)

    def _skeleton(
        self,
        start: int,
        end: int,
        indent: int,
        head_start: int,
        body: tuple[int, int],
        scope: tuple[str, ...],
    ) -> Slice | None:
        """The class statement at ``[start, end)`` parsed as what a class question asks.

        Rules ask a class for its name, bases, keywords, decorators, the names of its direct
        methods and its position; the rest of it (most of a long test class) only matters
        where a hit lies, and those hits are sliced on their own. So its header is kept
        verbatim (its nodes are the whole-file parse's nodes), each method but the last is
        ``def name(): pass``, other statements are blank lines, nested classes are sketched
        the same way, and its last statement (of a def, the def's last one) is kept whole so
        that the class ends where it really ends. Every line stays where it was.
        """
        parts: list[str] = []
        holes: list[tuple[int, int]] = []
        if not self._class_skeleton(start, end, head_start, body, parts, holes):
            return None
        statements = self._parse_source("".join(parts), start, indent)
        if statements is None:
            return None
        self._skeletons.add(start)
        # Class hits inside a stubbed method body (a class defined in a method) are not
        # answered by this skeleton.
        cursor = start
        for hole_start, hole_end in holes:
            if cursor < hole_start:
                self._skeleton_cover.add(cursor, hole_start)
            cursor = hole_end
        if cursor < end:
            self._skeleton_cover.add(cursor, end)
        return Slice(statements, start, end, scope, skeleton=True)

    def _class_skeleton(
        self,
        start: int,
        end: int,
        head_start: int,
        body: tuple[int, int],
        parts: list[str],
        holes: list[tuple[int, int]],
    ) -> bool:
        text = self.text
        body_start, body_indent = body
        positions, starts = self._boundaries(body_start, end, body_indent)
        if not positions or not all(starts) or positions[0] != body_start:
            return False  # not a plain block (a dedent inside it): parse the class whole
        parts.append(text[start:body_start])
        for i, stmt_start in enumerate(positions):
            stmt_end = positions[i + 1] if i + 1 < len(positions) else end
            is_last = i + 1 == len(positions)
            stmt_head, word = self._head(stmt_start, stmt_end)
            inner = self._body(stmt_head, stmt_end) if word in ("def", "async", "class") else None
            if word == "class" and inner is not None:
                # A nested class is reported on its own: its end must be right too.
                if not self._class_skeleton(stmt_start, stmt_end, stmt_head, inner, parts, holes):
                    parts.append(text[stmt_start:stmt_end])
            elif is_last:
                # The class ends where its last statement ends: kept (a def, to its last one).
                if inner is None:
                    parts.append(text[stmt_start:stmt_end])
                else:
                    self._last_function(stmt_start, stmt_end, inner, parts, holes)
            else:
                self._sketch_statement(stmt_start, stmt_end, stmt_head, word, body_indent, parts)
                if inner is not None:
                    holes.append((inner[0], stmt_end))
                elif word not in ("def", "async", "class"):
                    holes.append((stmt_start, stmt_end))
        return True

    def _sketch_statement(
        self, start: int, end: int, head: int, word: str, indent: int, parts: list[str]
    ) -> None:
        """What a class question asks of a statement of a class body that is not its last: a
        method's name (``def name(): pass``; not its decorators, arguments or body) and of
        any other statement nothing (blank lines). Lines are kept where they are."""
        text = self.text
        lines = text.count("\n", start, end)
        name = _NAME.match(text, head) if word in ("def", "async") else None
        if name is not None:
            keyword = "async def" if word == "async" else "def"
            margin = text[start : start + indent]  # tabs stay tabs
            parts.append(f"{margin}{keyword} {name.group(1)}(): pass\n" + "\n" * max(lines - 1, 0))
        elif word == "class":
            parts.append(text[start:end])  # a class on one line: kept as it is
        else:
            parts.append("\n" * lines)

    def _last_function(
        self,
        start: int,
        end: int,
        body: tuple[int, int],
        parts: list[str],
        holes: list[tuple[int, int]],
    ) -> None:
        """The last def of a class with only the last statement of its body, where the class
        ends; line numbers are kept with empty lines."""
        text = self.text
        body_start, body_indent = body
        parts.append(text[start:body_start])
        positions, starts = self._boundaries(body_start, end, body_indent)
        kept = positions[-1] if positions and starts[-1] else body_start
        if kept > body_start:
            parts.append("\n" * text.count("\n", body_start, kept))
            holes.append((body_start, kept))
        parts.append(text[kept:end])

    def _chunk_at(self, region: tuple[int, int], indent: int, pos: int) -> tuple[int, int] | None:
        """The statement at ``indent`` inside ``region`` that contains ``pos``."""
        positions, starts = self._boundaries(region[0], region[1], indent, upto=pos)
        i = bisect.bisect_right(positions, pos) - 1
        if i < 0 or not starts[i]:
            return None
        return positions[i], positions[i + 1] if i + 1 < len(positions) else region[1]

    def _boundaries(
        self, lo: int, hi: int, indent: int, upto: int | None = None
    ) -> tuple[list[int], list[bool]]:
        """Where statements at ``indent`` start (True) or a dedent ends one (False) in a region.

        A line is a boundary only outside brackets and not after a backslash: a dict whose
        items sit at the statement's own indentation is still one statement. Kept per region
        and extended on demand: with ``upto``, only until a boundary lies beyond it (the
        statement holding ``upto`` is then known), so a hit near the top of a long module
        costs the lines up to it, not the whole file.
        """
        key = (lo, hi, indent)
        state = self._bounds.get(key)
        if state is None:
            state = self._bounds[key] = _Bounds(lo)
        positions, starts = state.positions, state.starts
        while not state.done and (upto is None or not positions or positions[-1] <= upto):
            self._ensure(min(hi, max(state.resume, upto if upto is not None else hi) + 1))
            limit = min(hi, self._scanned)
            self._boundary_lines(state, indent, limit)
            state.resume = limit
            state.done = limit >= hi
        return positions, starts

    def _boundary_lines(self, state: _Bounds, indent: int, limit: int) -> None:
        # The per-line tests are inlined: this loop runs for every line of every region.
        text, code, brackets = self.text, self._code, self._brackets
        strings = self._strings
        positions, starts = state.positions, state.starts
        glue, depth, prev = state.glue, state.depth, state.prev
        j = bisect.bisect_right(self._starts, state.resume) - 1  # the string before resume
        j = max(j, 0)
        # Lines of the blanked code: comment lines and the inside of multi-line strings (most
        # of a docstring) are blank there and never reach this loop.
        after_newline, first_line = _lines_upto(indent)
        resume = state.resume  # a line start
        lines: Iterable[re.Match[str]] = after_newline.finditer(code, max(resume - 1, 0), limit)
        if resume == 0:
            top = first_line.match(code, 0, limit)
            lines = lines if top is None else chain((top,), lines)
        count = brackets.count
        n_strings = len(strings)  # not extended while this loop runs
        for match in lines:
            line_start = match.start(1)
            while j < n_strings and strings[j][2] <= line_start:
                j += 1
            if j < n_strings and strings[j][0] < line_start:
                continue  # the end of a multi-line string, with code after it
            depth += count("(", prev, line_start) - count(")", prev, line_start)
            if depth < 0:
                depth = 0
            prev = line_start
            if depth:
                continue
            if line_start >= 2:  # a backslash continues the line (before its \n or \r\n)
                last = code[line_start - 2]
                if last == "\\" or (
                    last == "\r" and line_start >= 3 and code[line_start - 3] == "\\"
                ):
                    continue
            first_pos = match.end(1)
            first = code[first_pos]
            if first in _CLOSERS:
                continue
            width = first_pos - line_start
            if width and text[line_start] == "\f":
                width = _width(text, line_start, first_pos)
            if width < indent:
                # A dedent (an except clause of the enclosing try, say) ends the statement.
                positions.append(line_start)
                starts.append(False)
                glue = False
                continue
            if first in "ef" and _CONTINUATION.match(code, first_pos):
                continue
            if glue:
                glue = first == "@"
                continue
            positions.append(line_start)
            starts.append(True)
            glue = first == "@"
        state.glue, state.depth, state.prev = glue, depth, prev

    def _continued(self, line_start: int) -> bool:
        """True when the physical line before ``line_start`` ends with a backslash."""
        j = line_start - 1
        if j > 0 and self._code[j - 1] == "\r":
            j -= 1
        return j > 0 and self._code[j - 1] == "\\"

    def _logical_end(self, pos: int, end: int) -> int:
        """Where the logical line starting at ``pos`` ends (after its newline), at most ``end``."""
        depth = 0
        while True:
            # The blanked code has the text's newlines, where they are.
            nl = self.text.find("\n", pos, end)
            if nl == -1:
                self._ensure(end)
                return end
            self._ensure(nl + 2)
            depth += _bracket_delta(self._brackets, pos, nl)
            if depth <= 0 and not self._continued(nl + 1) and not self.in_string(nl):
                return nl + 1
            pos = nl + 1

    def _head(self, start: int, end: int) -> tuple[int, str]:
        """Skip decorators (and comments between them); return where the statement proper
        starts and its first word."""
        text = self.text
        pos = start
        while pos < end:
            pos = _skip_blank(text, pos, end)
            if pos < end and text[pos] == "@":
                pos = self._logical_end(pos, end)
                continue
            if pos < end and text[pos] in "#\r\n":
                nl = text.find("\n", pos, end)
                if nl == -1:
                    break
                pos = nl + 1
                continue
            word = _WORD.match(text, pos, end)
            return pos, word.group() if word else ""
        return pos, "@"

    def _body(self, head: int, end: int) -> tuple[int, int] | None:
        """Start and indentation of a compound statement's body, after its (multi-line) header."""
        text = self.text
        header_end = self._logical_end(head, end)
        if not self._code[head:header_end].rstrip().endswith(":"):
            return None  # a one-line compound statement: no indented body
        pos = header_end
        while pos < end:
            nl = text.find("\n", pos, end)
            stop = end if nl == -1 else nl
            first = _skip_blank(text, pos, stop)
            if first < stop and text[first] not in "#\r":
                return pos, _width(text, pos, first)
            if nl == -1:
                return None
            pos = nl + 1
        return None

    def _lines_before(self, pos: int) -> int:
        """How many lines of the text end before ``pos``."""
        marks = self._line_marks
        i = bisect.bisect_right(marks, pos) - 1
        if marks[i] == pos:
            return self._line_numbers[i]
        lines = self._line_numbers[i] + self.text.count("\n", marks[i], pos)
        marks.insert(i + 1, pos)  # slices come mostly in order: at the end
        self._line_numbers.insert(i + 1, lines)
        return lines

    def _parse_region(self, start: int, end: int, indent: int) -> list[ast.stmt] | None:
        return self._parse_source(self.text[start:end], start, indent)

    def _parse_source(self, code: str, start: int, indent: int) -> list[ast.stmt] | None:
        """Parse ``code`` as if it stood at ``start`` of the file, indented by ``indent``."""
        # Keep the original columns: wrap an indented slice in a block of its own. Keep the
        # original line numbers: pad with empty lines, which the tokenizer skips far faster
        # than ast.increment_lineno walks a large tree; but a small slice far down a file
        # (a hostile one: thousands of hits, one per line) is cheaper to renumber.
        head = "if 1:\n" if indent else ""
        pad = self._lines_before(start) - (1 if indent else 0)
        padding = pad if 0 <= pad <= _PAD_PER_CHAR * len(code) else 0
        source = "\n" * padding + head + code
        try:
            tree = parse_quietly(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        if pad != padding:
            ast.increment_lineno(tree, pad - padding)
        body = tree.body
        if indent and body and isinstance(body[0], ast.If):
            return body[0].body
        return body


_ONE_BRACKET = str.maketrans("[{]}", "(())")
# Padding a slice costs the tokenizer a line's skip per line above it; ast.increment_lineno
# costs a walk of the slice's tree, about eight times a skipped line per character of code
# (timed by hand on Python 3.11, the AMD EPYC VM of benchmarks/README.md: some 14 ns a padded
# line, 110 ns a character renumbered): the cheaper of the two keeps the line numbers.
_PAD_PER_CHAR = 8
_FIRST_CHUNK = 8192


@dataclass
class _Bounds:
    """The boundaries of one region found so far, and where the search goes on."""

    resume: int
    positions: list[int] = field(default_factory=list)
    starts: list[bool] = field(default_factory=list)
    depth: int = 0
    prev: int = 0
    glue: bool = False  # a decorator glues the next statement to itself
    done: bool = False

    def __post_init__(self) -> None:
        self.prev = self.resume


def _bracket_delta(brackets: str, start: int, end: int) -> int:
    """Opened minus closed brackets in ``[start, end)`` of the code with every bracket
    folded to ``(`` or ``)`` (two counts instead of six: this runs once per line scanned)."""
    return brackets.count("(", start, end) - brackets.count(")", start, end)


def _skip_blank(text: str, pos: int, end: int) -> int:
    while pos < end and text[pos] in " \t\f":
        pos += 1
    return pos


def _width(text: str, line_start: int, first: int) -> int:
    # Indentation width in characters; a form feed resets the column, as in the tokenizer.
    feed = text.rfind("\f", line_start, first)
    return first - (line_start if feed == -1 else feed + 1)


def _drop_nested(slices: list[Slice]) -> list[Slice]:
    """Slices inside a slice parsed whole add nothing (a skeleton leaves parts out, so what
    lies inside it stays; a finding parsed twice is dropped once the rules have run)."""
    kept: list[Slice] = []
    container: Slice | None = None
    for sl in sorted(slices, key=lambda s: (s.start, -s.end)):
        if container is not None and container.start <= sl.start and sl.end <= container.end:
            continue
        kept.append(sl)
        if not sl.skeleton and (container is None or sl.end > container.end):
            container = sl
    return kept


# Comments and string literals, matched whole. ``\\(?:\r\n|.)`` lets a backslash escape a newline,
# so a one-quote string continued with ``\`` at the end of a line is one match too. The
# atomic groups, which never give back what they matched, make this scan (of every candidate
# file) about three times faster. They are written out, not as possessive repeats (``x*+``):
# Python 3.11.0-3.11.4 matched those wrongly inside repeated groups (python/cpython#106052,
# #100061). Debian 12's python3 is 3.11.2, where a docstring came out as an empty string ``""``
# and findings were missed.
_STRING_OR_COMMENT = re.compile(
    r"""\#[^\r\n]*"""
    r'''|"""(?>(?:(?>[^"\\]+)|\\(?:\r\n|.)|"(?!""))*)(?:"""|\Z)'''
    r"""|'''(?>(?:(?>[^'\\]+)|\\(?:\r\n|.)|'(?!''))*)(?:'''|\Z)"""
    r"""|"(?>(?:(?>[^"\\\r\n]+)|\\(?:\r\n|.))*)"?"""
    r"""|'(?>(?:(?>[^'\\\r\n]+)|\\(?:\r\n|.))*)'?""",
    re.S,
)
_TOKEN = re.compile(f"({_STRING_OR_COMMENT.pattern})", re.S)
_PREFIX = re.compile(r"(?<![\w])[A-Za-z]{1,2}$")
_NOT_NEWLINE = re.compile(r"[^\n]+")


def _scan(text: str, lo: int, hi: int) -> tuple[list[tuple[int, int, int, bool]], str, bool]:
    """The multi-line string literals of ``text[lo:hi]`` and that part with strings and
    comments blanked, and whether its last string or comment runs up to ``hi`` (it may go on
    past it: the caller scans a wider part instead).

    Each span is ``(start, content start, end, is f-string)``: only such strings can make a
    line start look like a statement, and only their inside is skipped when looking for
    triggers (an f-string's replacement fields are code, though). The blanked copy has the
    same length and newlines, so brackets and backslashes in it are code; a string there keeps
    only its first quote, so the lines inside a multi-line string are blank.
    """
    # split() cuts the text at every token in C: no Python call per string or comment (a
    # callback per token was half the cost of slicing a large file).
    parts = _TOKEN.split(text[lo:hi])
    tokens = parts[1::2]
    # A string keeps its opening quote (a line that starts with a string still starts with
    # code); a comment is blanked whole.
    blanks = [
        " " * len(token) if token[0] == "#" else token[0] + " " * (len(token) - 1)
        for token in tokens
    ]
    spans: list[tuple[int, int, int, bool]] = []
    multi = [i for i, token in enumerate(tokens) if "\n" in token]
    if multi:
        ends = list(accumulate(map(len, parts)))
        for i in multi:
            token = tokens[i]
            start = lo + ends[2 * i]  # the end of the code before it
            prefix = _PREFIX.search(text, max(0, start - 2), start)
            is_f = prefix is not None and "f" in prefix.group().lower()
            content = start + (3 if token.startswith(('"""', "'''")) else 1)
            spans.append((start, content, start + len(token), is_f))
            blanks[i] = token[0] + _NOT_NEWLINE.sub(_spaces, token[1:])
    cut = bool(tokens) and parts[-1] == ""
    parts[1::2] = blanks
    return spans, "".join(parts), cut


def _spaces(match: re.Match[str]) -> str:
    return " " * len(match.group())
