"""Byte-level prefilter: which files can hold a finding at all, and where to look in them.

Every way of referring to a deprecated ``pkg.mod.Symbol`` (absolute or relative import,
module alias, attribute chain) spells the last module component ``mod``; every extra
implementation is a ``class`` statement, a signature method ``def name`` or a named base;
every event payload spells its event name as a quoted literal. Searching for those literals
with ``bytes.__contains__`` (memchr-fast) rules out most of a tree without decoding it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from analyzers.patterns import LinearPattern, compiled
from analyzers.policy import Policy

if TYPE_CHECKING:
    # Imported by use_native() only: loading Hyperscan is part of what a small scan saves.
    from analyzers import native_prefilter

HitKind = Literal["stmt", "class"]
# Bytes \w is ASCII only: take the UTF-8 bytes of a non-ASCII class name too, or the name
# `WebSocketÜberManager` would be cut at the `Ü` and miss a pattern that the parser matches.
_CLASS_STMT = re.compile(rb"class[ \t]+([\w\x80-\xff]+)")
_CLASS_STMT_TEXT = re.compile(r"class[ \t]+(\w+)")


@dataclass(frozen=True)
class _Role:
    """What :meth:`TriggerSet.hits` asks of one literal's occurrences."""

    kind: Literal["event", "relevant", "plain", "base", "method"]
    next_names: frozenset[str] | None = None  # "relevant": the names that may follow it
    symbol: bool = False  # "relevant": a symbol name (else a module component)


@dataclass(frozen=True)
class _HitPlan:
    """Each literal of :meth:`TriggerSet.hits` as text, with its roles (a base's name is
    often a symbol of the policy too), keyed by its bytes as the native matcher reports it."""

    roles: dict[bytes, tuple[str, tuple[_Role, ...]]]
    literals: tuple[tuple[str, bytes], ...]
    methods: tuple[tuple[tuple[bytes, ...], int], ...]


@dataclass(frozen=True)
class TriggerSet:
    """The literals and patterns of one policy that decide what to parse."""

    stmt_literals: tuple[bytes, ...]
    class_literals: tuple[bytes, ...]
    method_groups: tuple[tuple[tuple[bytes, ...], int], ...]
    class_name_patterns: tuple[LinearPattern, ...]
    event_literals: tuple[bytes, ...]
    # The fewest literals that every statement, class or event hit contains (one memchr pass
    # each over files that match nothing, which is most of a tree).
    prefilter_literals: tuple[bytes, ...] = ()
    # Module component -> the names that may follow it (".Name") on a path to something
    # deprecated; None when anything may (a whole deprecated module). A hit of
    # "websocket_core" followed by ".websocket_manager" or ".auth" leads nowhere deprecated.
    component_paths: tuple[tuple[str, frozenset[str] | None], ...] = ()
    # Symbol names: a hit matters only where a name can be imported, assigned or dotted.
    symbols: frozenset[str] = frozenset()
    # "pkg.canonical_module import": a line holding it imports from the canonical home.
    canonical_imports: tuple[str, ...] = ()
    # The keys under which a payload names its event (every schema's event key and its
    # legacy aliases): an event name is a payload's value only after one of them.
    event_keys: frozenset[str] = frozenset()
    # The same question in one native pass, where Hyperscan is installed.
    native: native_prefilter.NativePrefilter | None = field(default=None, compare=False, repr=False)
    # Where the literals of hits() occur, in one native pass (ASCII text only: Hyperscan
    # gives byte offsets, hits() character offsets).
    native_literals: native_prefilter.NativeLiterals | None = field(
        default=None, compare=False, repr=False
    )

    def is_candidate(self, data: bytes) -> bool:
        """False only when no rule of the policy can find anything in ``data``."""
        if self.native is not None:
            return self.native.is_candidate(data)
        return self.is_candidate_python(data)

    def is_candidate_python(self, data: bytes) -> bool:
        """:meth:`is_candidate` in pure Python (the reference of the native pass)."""
        for literal in self.prefilter_literals:
            if literal in data:
                return True
        for methods, minimum in self.method_groups:
            if sum(1 for m in methods if m in data) >= minimum:
                return True
        if self.class_name_patterns and b"class" in data:
            for match in _CLASS_STMT.finditer(data):
                name = match.group(1).decode("utf-8", "replace")
                if any(p.search(name) for p in self.class_name_patterns):
                    return True
        return False

    def hits(self, text: str, *, native: bool = True) -> list[tuple[int, HitKind]]:
        """Positions in ``text`` that a rule may care about, with what to parse around them.

        ``native=False`` finds the literals with ``str.find`` even where Hyperscan could (the
        reference the native path is tested against).
        """
        found: list[tuple[int, HitKind]] = []
        occurrences = (
            self.native_literals.occurrences(text.encode("ascii"))
            if native and self.native_literals is not None and text.isascii()
            else None
        )

        plan = self._plan
        if occurrences is None:
            occurrences = {}
            for needle, key in plan.literals:
                starts = _positions(text, needle)
                if starts:
                    occurrences[key] = starts
        # Only the literals that occur are looked at: most files hold one or two of them.
        methods_found: dict[bytes, list[int]] = {}
        headers = ClassHeaders(text)  # read once for every base's hit
        for key, raw_starts in occurrences.items():
            needle, roles = plan.roles[key]
            starts = _whole_words(text, needle, raw_starts)
            if not starts:
                continue
            for role in roles:
                if role.kind == "event":
                    _find_values(text, starts, self.event_keys, found)
                elif role.kind == "relevant":
                    _find_relevant(
                        text,
                        needle,
                        starts,
                        role.next_names,
                        role.symbol,
                        self.canonical_imports,
                        found,
                    )
                elif role.kind == "plain":
                    found.extend((start, "stmt") for start in starts)
                elif role.kind == "base":
                    # A base class counts where a class statement names it, or an import
                    # binds it under another name (`import Base as B`, then `class X(B)`):
                    # other mentions (annotations, calls) answer no implementation question.
                    end = len(needle)
                    found.extend(
                        (start, "class")
                        for start in starts
                        if _ALIAS.match(text, start + end) or headers.contains(start, base=True)
                    )
                else:
                    methods_found[key] = starts
        for methods, minimum in plan.methods:
            # A class matches by its methods only in a file that defines enough of them.
            where = [methods_found[m] for m in methods if m in methods_found]
            if len(where) >= minimum:
                for starts in where:
                    found.extend((start, "class") for start in starts)
        if self.class_name_patterns:
            for match in _CLASS_STMT_TEXT.finditer(text):
                if any(p.search(match.group(1)) for p in self.class_name_patterns):
                    found.append((match.start(), "class"))
        found.sort()
        return found

    @cached_property
    def _plan(self) -> _HitPlan:
        """The literals of :meth:`hits`, decoded once, each with what is asked of it."""
        paths = dict(self.component_paths)
        roles: dict[bytes, tuple[str, list[_Role]]] = {}

        def add(literal: bytes, role: _Role) -> None:
            roles.setdefault(literal, (literal.decode(), []))[1].append(role)

        for literal in self.event_literals:
            add(literal, _Role("event"))
        for literal in self.stmt_literals:
            needle = literal.decode()
            if needle in paths or needle in self.symbols:
                add(literal, _Role("relevant", paths.get(needle), needle in self.symbols))
            else:
                add(literal, _Role("plain"))
        for literal in self.class_literals:
            add(literal, _Role("base"))
        for methods, _ in self.method_groups:
            for method in methods:
                add(method, _Role("method"))
        return _HitPlan(
            roles={key: (needle, tuple(found)) for key, (needle, found) in roles.items()},
            literals=tuple((needle, key) for key, (needle, _) in roles.items()),
            methods=self.method_groups,
        )

    def hit_literals(self) -> tuple[bytes, ...]:
        """Every literal whose occurrences :meth:`hits` looks at."""
        methods = tuple(m for group, _ in self.method_groups for m in group)
        return (*self.event_literals, *self.stmt_literals, *self.class_literals, *methods)


def _positions(text: str, needle: str) -> list[int]:
    """Where ``needle`` occurs in ``text``, left to right, not overlapping."""
    out = []
    start = text.find(needle)
    while start != -1:
        out.append(start)
        start = text.find(needle, start + len(needle))
    return out


def whole_word_positions(text: str, name: str) -> list[int]:
    """Where ``name`` stands in ``text`` as a whole word, left to right."""
    return _whole_words(text, name, _positions(text, name))


def _whole_words(text: str, needle: str, starts: list[int]) -> list[int]:
    """The ``starts`` where ``needle`` stands as whole words: ``FooDataUpdateCoordinator``
    is another name than ``DataUpdateCoordinator`` (in a real tree, most mentions of a base
    class are inside the longer names of its subclasses), and no rule can report it."""
    if not starts:
        return starts  # most literals of most candidate files
    check_before = is_word_char(needle[0])
    check_after = is_word_char(needle[-1])
    if not (check_before or check_after):
        return starts
    size = len(text)
    width = len(needle)
    return [
        start
        for start in starts
        if not (check_before and start and is_word_char(text[start - 1]))
        and not (check_after and start + width < size and is_word_char(text[start + width]))
    ]


def _find_values(
    text: str, starts: list[int], keys: frozenset[str], out: list[tuple[int, HitKind]]
) -> None:
    """Hits of a quoted event name where it can be a payload's event: the value of a dict
    item whose key is a string in ``keys``, or of a ``dict(key=...)`` keyword, maybe in
    parentheses. An event name in a list, a comparison (``==``), a call's arguments
    (``emit("agent_started")``), an assignment (``errors["base"] = "unknown"``) or under
    another key (``{"reason": "unknown"}``) makes no payload, and its file need not be
    parsed for it."""
    for start in starts:
        if _is_value(text, start, keys):
            out.append((start, "stmt"))


def _is_value(text: str, start: int, keys: frozenset[str]) -> bool:
    before = start - 1
    while before >= 0 and text[before] in "\"'":  # the rest of a triple quote
        before -= 1
    stop = max(before - 2, -1)
    while before > stop and text[before] in "rRuUbBfF":  # a string prefix
        before -= 1
    while before >= 0 and text[before] in " \t\r\n\\(":
        before -= 1
    if before < 0:
        return False
    if text[before] == ":":
        return _is_key_string(text, before - 1, keys)
    # `k=v`, not `==`, `!=`, `<=` or `>=`.
    if text[before] == "=" and (before == 0 or text[before - 1] not in "=!<>"):
        return _is_keyword(text, before - 1, keys)
    return False


def _is_key_string(text: str, end: int, keys: frozenset[str]) -> bool:
    """Whether the expression ending at ``end`` (before a dict item's ``:``) can be a string
    equal to one of ``keys``. Conservative: a parenthesised key, an escape, a triple quote or
    implicit concatenation (``"ba" "se"``) is kept rather than read."""
    while end >= 0 and text[end] in " \t\r\n\\":
        end -= 1
    if end < 0:
        return False
    quote = text[end]
    if quote == ")":
        return True
    if quote not in "\"'":
        return False  # a name, a number, a call: never a string constant
    opening = text.rfind(quote, 0, end)
    if opening < 0:
        return True
    content = text[opening + 1 : end]
    if not content or content in keys or "\\" in content:
        return True
    before = opening - 1
    while before >= 0 and text[before] in "rRuUbBfF \t\r\n\\(":
        before -= 1
    return before >= 0 and text[before] in "\"'"


def _is_keyword(text: str, end: int, keys: frozenset[str]) -> bool:
    """Whether the name ending at ``end`` (before a ``=``) is one of ``keys``."""
    while end >= 0 and text[end] in " \t\r\n\\":
        end -= 1
    stop = end + 1
    while end >= 0 and is_word_char(text[end]):
        end -= 1
    return text[end + 1 : stop] in keys


def use_matters(text: str, start: int, end: int, headers: ClassHeaders | None = None) -> bool:
    """Whether the name at ``[start, end)`` can be reported where it stands: it starts an
    attribute chain, is named in a class header, or is the value of an assignment.

    ``headers``: the text's class headers, when many names of one text are asked about.
    """
    after = end
    while after < len(text) and text[after] in " \t\r\n\\":
        after += 1
    if after < len(text) and text[after] == ".":
        return True
    before = start - 1
    while before >= 0 and text[before] in " \t\r\n\\(":
        before -= 1
    if before >= 0 and text[before] == "=" and (before == 0 or text[before - 1] not in "=!<>"):
        return True
    return (headers or ClassHeaders(text)).contains(start)


def is_word_char(char: str) -> bool:
    """A character of an identifier (any letter or digit, or ``_``)."""
    return char.isalnum() or char == "_"


class ClassHeaders:
    """Where the class statements of one text have their headers: between ``class`` and its
    colon, where bases are named, over as many lines as its brackets take.

    Each header is read once, however many hits are asked about: asked of each hit, a header
    left open (a syntax error) was read to the end of the file once per hit, quadratic in a
    hostile file (a 210 KB one took 66 s). Conservative: a string or a comment in a header
    keeps every hit after it rather than be read.
    """

    __slots__ = ("_headers", "_keywords", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._keywords: list[int] | None = None
        # keyword -> (where the header stops, whether a hit past it is kept, and the
        # innermost open bracket from each change on)
        self._headers: dict[int, tuple[int, bool, list[int], list[str]]] = {}

    def contains(self, pos: int, *, base: bool = False) -> bool:
        """Whether ``pos`` can lie in a class header.

        ``base``: where a base can be named, too: not inside square brackets, where a base's
        type arguments stand (``CoordinatorEntity[DataUpdateCoordinator[Data]]`` derives
        from ``CoordinatorEntity`` alone).
        """
        if self._keywords is None:
            self._keywords = _class_keywords(self._text)
        # The last class keyword that ends before pos.
        i = bisect.bisect_right(self._keywords, pos - 5) - 1
        if i < 0:
            return False
        keyword = self._keywords[i]
        header = self._headers.get(keyword)
        if header is None:
            header = self._headers[keyword] = self._read(keyword)
        stop, kept, changes, innermost = header
        if pos > stop:
            return kept
        if not base:
            return True
        return innermost[bisect.bisect_right(changes, pos) - 1] != "["

    def _read(self, keyword: int) -> tuple[int, bool, list[int], list[str]]:
        text = self._text
        depth = 0
        opened: list[str] = []
        changes, innermost = [keyword + 5], [""]
        for match in _HEADER_CHARS.finditer(text, keyword + 5):
            char, i = match.group(), match.start()
            if char in "\"'#":
                return i, True, changes, innermost
            if char in "([{":
                depth += 1
                opened.append(char)
            elif char in ")]}":
                depth -= 1
                if opened:
                    opened.pop()
            elif depth <= 0 and (char == ":" or not _continued(text, i)):
                return i, False, changes, innermost
            else:
                continue
            changes.append(i + 1)
            innermost.append(opened[-1] if opened else "")
        return len(text), True, changes, innermost


def _class_keywords(text: str) -> list[int]:
    """Where each class statement's ``class`` stands: first on its line, then a space, a tab
    or a backslash. One ``find`` per occurrence (most files hold a few), and the blanks
    before each are walked once: linear even on a line of a thousand ``class`` words."""
    keywords = []
    i = text.find("class")
    while i != -1:
        if text[i + 5 : i + 6] in (" ", "\t", "\\"):
            j = i - 1
            while j >= 0 and text[j] in " \t\f":
                j -= 1
            if j < 0 or text[j] == "\n":
                keywords.append(i)
        i = text.find("class", i + 5)
    return keywords


# What a class header's reading looks at.
_HEADER_CHARS = re.compile(r"[\"'#()\[\]{}:\n]")


def _continued(text: str, newline: int) -> bool:
    """True when the line ending at ``newline`` ends with a backslash."""
    end = newline - 1 if newline and text[newline - 1] == "\r" else newline
    return end > 0 and text[end - 1] == "\\"


def _find_relevant(
    text: str,
    needle: str,
    starts: list[int],
    next_names: frozenset[str] | None,
    symbol: bool,
    canonical_imports: tuple[str, ...],
    out: list[tuple[int, HitKind]],
) -> None:
    """Hits of a module component or symbol name, minus those that cannot hold a finding.

    Conservative by construction: a module component is dropped only when a dotted name that
    leads nowhere deprecated follows it; a symbol only when it is a bare use that is neither
    dotted, nor on a line that imports or assigns at module level, nor continuing an import.
    """
    size = len(needle)
    # _may_bind depends only on the hit's line: decide once per line, or thousands of hits on
    # one long line (generated code, a hostile file) cost a scan of the line each.
    line_start, line_end, line_binds = -1, -1, False
    for start in starts:
        end = start + size
        keep = next_names is None or _leads_to(text, end, next_names)
        if keep and symbol and not (start and text[start - 1] == "."):
            if not line_start <= start < line_end:
                line_start = text.rfind("\n", 0, start) + 1
                newline = text.find("\n", start)
                line_end = len(text) if newline == -1 else newline
                line_binds = _may_bind(text, start, canonical_imports)
            # An alias binds the name under another one, whose uses then matter (a base
            # class imported from the canonical home as `B`): kept whatever the line is.
            keep = line_binds or _ALIAS.match(text, end) is not None
        if keep:
            out.append((start, "stmt"))


_DOTTED_NEXT = re.compile(r"\.(\w+)")


def _leads_to(text: str, end: int, next_names: frozenset[str]) -> bool:
    match = _DOTTED_NEXT.match(text, end)
    if match is not None:
        return match.group(1) in next_names
    names = _FROM_IMPORT_NAMES.match(text, end)
    if names is None:
        return True
    # `from pkg.component import A, B as C` on one line: it imports A and B, and nothing
    # else of the component's (`from homeassistant.data_entry_flow import FlowResultType`
    # leads nowhere near `data_entry_flow.FlowResult`).
    imported = [part.split(maxsplit=1)[0] for part in names.group(1).split(",") if part.strip()]
    return not imported or any(name in next_names for name in imported)


# The names a one-line `from ... import` takes from the module just before it; a parenthesis,
# a backslash, a star or a second statement on the line stop it (and the hit is kept).
# Atomic groups, not possessive repeats: see source._STRING_OR_COMMENT.
_NAME = r"[^\W\d](?>\w*)(?:[ \t]+as[ \t]+[^\W\d](?>\w*))?"
_FROM_IMPORT_NAMES = re.compile(
    rf"[ \t]+import[ \t]+({_NAME}(?>(?:(?>[ \t]*),(?>[ \t]*){_NAME})*))(?>[ \t]*)"
    r"(?:#(?>[^\n]*))?\r?(?:\n|\Z)"
)


_ALIAS = re.compile(r"[ \t\\\r\n]*as\b")


def _may_bind(text: str, pos: int, canonical_imports: tuple[str, ...]) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : len(text) if line_end == -1 else line_end]
    if "import" in line:
        # One import statement from the canonical home binds nothing deprecated.
        return ";" in line or not any(c in line for c in canonical_imports)
    if line[:1].isidentifier() and "=" in line:
        return True
    # A name on the continuation line of a parenthesised or backslashed import.
    if _code_end_before(text, line_start) not in ("(", ",", "\\"):
        return False
    opener = _open_bracket(text, line_start)
    if opener > 0 and _DEF_OR_CLASS.fullmatch(text, text.rfind("\n", 0, opener) + 1, opener):
        # A def's parameters (`coordinator: DataUpdateCoordinator,`) or a class's bases:
        # the commonest such lines, where nothing is imported or assigned.
        return False
    return not _in_canonical_import(text, line_start, canonical_imports)


# Comment-only lines looked through for the code a line continues (more are kept unread).
_LOOKBACK_LINES = 20


def _code_end_before(text: str, line_start: int) -> str:
    """The last character of code before the line at ``line_start``: blank and comment-only
    lines are skipped and a trailing comment is dropped (a comment on the line of an import's
    parenthesis, or inside them, hid the name that followed); "(" (kept) where a quote makes
    a comment's start uncertain, "" at the top of the file."""
    end = line_start - 1  # the newline that ends the line before
    for _ in range(_LOOKBACK_LINES):
        if end <= 0:
            return ""
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if "#" in line:
            if '"' in line or "'" in line:
                return "("
            line = line[: line.index("#")]
        line = line.rstrip()
        if line:
            return line[-1]
        end = start - 1
    return "("


# What stands before the bracket of a def's parameters or of a class's bases, on its line.
_DEF_OR_CLASS = re.compile(r"[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+\w+[ \t]*")
_BRACKETS = "()[]{}"
# How far back the bracket that a line is inside is looked for (a long call or literal
# is kept unread rather than scanned).
_OPENER_REACH = 2000


def _open_bracket(text: str, end: int) -> int:
    """Where the innermost bracket still open at ``end`` opens; -1 when none is found
    within reach, or when a string or comment lies between (its brackets are not read)."""
    lo = max(0, end - _OPENER_REACH)
    depth = 0
    pos = end
    while True:
        pos = max(text.rfind(b, lo, pos) for b in _BRACKETS)
        if pos < 0:
            return -1
        if text[pos] in ")]}":
            depth += 1
        elif depth:
            depth -= 1
        else:
            break
    between = text[pos:end]
    if "#" in between or '"' in between or "'" in between:
        return -1
    return pos


# How far back the `import` a line may continue is looked for.
_IMPORT_REACH = 10_000


def _in_canonical_import(text: str, line_start: int, canonical_imports: tuple[str, ...]) -> bool:
    """True when the line at ``line_start`` is inside the parentheses of ``from <canonical
    home> import (`` (no ``)`` since: a bracket in a comment there keeps the line). Looked for
    within :data:`_IMPORT_REACH` characters: a longer import keeps its farther lines (they are
    parsed), where a search from each line to the top of the file was quadratic."""
    keyword = text.rfind("import", max(0, line_start - _IMPORT_REACH), line_start)
    if keyword < 0:
        return False
    head_start = text.rfind("\n", 0, keyword) + 1
    head_end = text.find("\n", keyword, line_start)
    head = text[head_start:head_end] if head_end != -1 else ""
    return (
        head.rstrip().endswith("(")
        and any(c in head for c in canonical_imports)
        and ")" not in text[keyword:line_start]
    )


_CACHE: dict[str, TriggerSet] = {}
# The policies (by digest) whose native matchers use_native() built, or found it could not.
_NATIVE_TRIED: set[str] = set()
# From this many files to analyse, the native matchers are worth building. Importing Hyperscan
# and compiling them is a fixed cost (bench_scan.py's (i), the start of a one-file scan, went
# from 0.155 to 0.142 s without them; benchmarks/README.md), and they save about 40 us a file
# (a hand timing of the real tree with SSOT_NO_NATIVE=1 and without: 1.43 s against 1.17).
NATIVE_THRESHOLD = 500


def triggers_for(policy: Policy) -> TriggerSet:
    """The :class:`TriggerSet` of a policy (cached by the policy's digest): pure Python, or
    with its native matchers once :func:`use_native` built them in this process."""
    cached = _CACHE.get(policy.digest)
    if cached is None:
        cached = _CACHE[policy.digest] = _build(policy)
    return cached


def use_native(policy: Policy) -> TriggerSet:
    """Build, once, the policy's Hyperscan matchers where Hyperscan is installed; from now on
    :func:`triggers_for` gives them, here and in the workers this process forks. Worth it
    for a scan of :data:`NATIVE_THRESHOLD` files or more, not for a few: the answers are the
    same either way (tests/test_native_prefilter.py), only the cost differs."""
    current = triggers_for(policy)
    if policy.digest not in _NATIVE_TRIED:
        _NATIVE_TRIED.add(policy.digest)
        current = _CACHE[policy.digest] = _with_native(current)
    return current


def prepare(policy: Policy, files: int) -> TriggerSet:
    """The trigger set for a run over ``files`` files, built now (before any fork, so the
    workers inherit it): with its native matchers from :data:`NATIVE_THRESHOLD` files."""
    return use_native(policy) if files >= NATIVE_THRESHOLD else triggers_for(policy)


def _build(policy: Policy) -> TriggerSet:
    stmt: set[str] = set()
    class_literals: set[str] = set()
    groups: list[tuple[tuple[bytes, ...], int]] = []
    patterns: list[LinearPattern] = []
    for concept in policy.concepts:
        for item in concept.deprecated:
            module, _, symbol = item.rpartition(".")
            stmt.add(module.rpartition(".")[2] if module else symbol)
            if symbol != "*":
                stmt.add(symbol)
        # Re-exports under another name mention the canonical (or a deprecated) symbol.
        stmt.add(concept.canonical_name)
        impl = concept.implementation
        if impl is None:
            continue
        class_literals.update(base.rpartition(".")[2] for base in impl.bases)
        if impl.methods:
            groups.append((tuple(f"def {m}".encode() for m in impl.methods), impl.min_methods))
        if impl.name:
            patterns.append(compiled(impl.name))
    events: set[bytes] = set()
    bare_events: set[str] = set()
    for schema in policy.event_schemas:
        for event in schema.events:
            events.add(f'"{event}"'.encode())
            events.add(f"'{event}'".encode())
            bare_events.add(event)
    components, symbols = _components_and_symbols(policy)
    if "" in components:
        components.pop("")
    prefilter = _fewest({*stmt, *class_literals, *bare_events})
    prefilter_literals = tuple(sorted(p.encode() for p in prefilter))
    return TriggerSet(
        stmt_literals=tuple(sorted(s.encode() for s in stmt if s)),
        class_literals=tuple(sorted(c.encode() for c in class_literals if c)),
        method_groups=tuple(groups),
        class_name_patterns=tuple(patterns),
        event_literals=tuple(sorted(events)),
        prefilter_literals=prefilter_literals,
        component_paths=tuple(sorted(components.items(), key=lambda kv: kv[0])),
        symbols=frozenset(symbols - set(components)),
        canonical_imports=tuple(sorted({f"{c.canonical_module} import" for c in policy.concepts})),
        event_keys=frozenset(key for schema in policy.event_schemas for key in schema.event_keys),
    )


def _with_native(trigger_set: TriggerSet) -> TriggerSet:
    """``trigger_set`` with its native matchers, where Hyperscan is installed and takes them."""
    from analyzers import native_prefilter

    words = {x.decode() for x in trigger_set.class_literals}
    literals = _fewest({x.decode() for x in trigger_set.stmt_literals} - words)
    native = _native(
        tuple(sorted(p.encode() for p in literals)),
        list(trigger_set.method_groups),
        [p.pattern for p in trigger_set.class_name_patterns],
        # Natively, an event name counts only as a value (the construct SSOT003 needs), not
        # as a word: most mentions of an event are comparisons, calls and lists.
        trigger_set.event_literals,
        # A base class only as a whole word: most mentions of it in a real tree are inside
        # the names of its subclasses (`AccuWeatherDataUpdateCoordinator`), which no rule
        # reports: 558 of the 873 files of the real tree that the native prefilter passed
        # with no hit (873 then, 315 after: benchmarks/README.md). One that holds a shorter
        # literal is found by it.
        tuple(sorted(w.encode() for w in words if not any(k in w for k in literals))),
    )
    if native is None:
        return trigger_set
    trigger_set = replace(trigger_set, native=native)
    try:
        hit_literals = native_prefilter.NativeLiterals(trigger_set.hit_literals())
    except (RuntimeError, native_prefilter.CompileError):
        return trigger_set
    return replace(trigger_set, native_literals=hit_literals)


def _native(
    literals: tuple[bytes, ...],
    groups: list[tuple[tuple[bytes, ...], int]],
    patterns: list[str],
    values: tuple[bytes, ...],
    words: tuple[bytes, ...],
) -> native_prefilter.NativePrefilter | None:
    """The native prefilter, or None where Hyperscan is missing or cannot take a pattern."""
    from analyzers import native_prefilter

    if not native_prefilter.AVAILABLE or native_prefilter.disabled():
        return None
    try:
        return native_prefilter.NativePrefilter(literals, groups, patterns, values, words)
    except (ValueError, RuntimeError, native_prefilter.CompileError):
        return None


def _fewest(literals: set[str]) -> set[str]:
    """Drop every literal that contains another one: finding the shorter one suffices."""
    kept = {x for x in literals if x}
    return {x for x in kept if not any(y != x and y in x for y in kept)}


def _components_and_symbols(policy: Policy) -> tuple[dict[str, frozenset[str] | None], set[str]]:
    """Module components with the names that may follow them toward a deprecated path,
    and the symbol names of the policy."""
    components: dict[str, frozenset[str] | None] = {}
    symbols: set[str] = set()
    for concept in policy.concepts:
        symbols.add(concept.canonical_name)
        for item in concept.deprecated:
            module, _, symbol = item.rpartition(".")
            if symbol != "*":
                symbols.add(symbol)
            if not module:
                continue
            parts = module.split(".")
            # Every component of the path is how some import form spells it.
            for i, component in enumerate(parts):
                follower = parts[i + 1] if i + 1 < len(parts) else symbol
                if component not in components or components[component] is not None:
                    known = components.get(component) or frozenset()
                    components[component] = None if follower == "*" else known | {follower}
    return components, symbols
