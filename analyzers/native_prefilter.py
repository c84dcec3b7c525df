"""One pass of Hyperscan over a file's bytes instead of one ``bytes.__contains__`` per literal.

The prefilter asks every file of a tree for a dozen literals and for class statements whose
name matches a policy pattern; in Python that is a dozen memchr passes plus a regular
expression per class statement, about two thirds of a cold scan's work on files that match
nothing. Hyperscan (Intel's multi-pattern matcher, a wheel on PyPI) answers all of it in one
pass. It is optional: where it is not installed, or cannot compile a pattern, the caller keeps
its pure-Python prefilter, which gives the same findings.

The native answer keeps every file in which the slicer finds a hit, and may keep more (a
class-name pattern is widened to what Hyperscan can match on bytes); the statement-level hits
decide what is parsed either way. It asks more than the pure-Python prefilter, as the hits
do: an event name only as a value, a base class only as a whole word.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from typing import Any

_hs: Any
try:  # an optional accelerator: every answer has a pure-Python twin
    import hyperscan as _hs
except ImportError:  # pragma: no cover - exercised where the wheel is missing
    _hs = None

AVAILABLE = _hs is not None
# What a pattern Hyperscan rejects raises (hyperscan.error; a stand-in where it is missing).
CompileError: type[Exception] = _hs.error if _hs is not None else RuntimeError


def disabled() -> bool:
    """``SSOT_NO_NATIVE=1`` keeps the pure-Python prefilter (to compare the two)."""
    return os.environ.get("SSOT_NO_NATIVE", "") not in ("", "0")


# Constructs whose meaning on a class name cannot be widened safely to bytes: the pattern
# keeps the Python check of every class statement.
_UNSAFE = re.compile(r"\\[bBAZ0-9dsDSW]|\(\?[^:i]|\(\?i[^:)]|\[[^\]]*\\|[^\x00-\x7f]")


class NativePrefilter:
    """Does a file hold any literal, ``min`` of a group of literals, or a matching class?"""

    def __init__(
        self,
        literals: Sequence[bytes],
        groups: Sequence[tuple[Sequence[bytes], int]],
        class_patterns: Sequence[str],
        values: Sequence[bytes] = (),
        words: Sequence[bytes] = (),
    ) -> None:
        """``values``: quoted literals that count only as the value of a dict item or keyword
        (``"type": "agent_started"``), the construct an event payload needs. ``words``:
        literals that count only as whole words (see :func:`whole_word`)."""
        if _hs is None:
            raise RuntimeError("hyperscan is not installed")
        expressions: list[bytes] = []
        flags: list[int] = []
        self._decisive: set[int] = set()  # ids whose match alone makes a candidate
        self._group_of: dict[int, int] = {}
        self._minimum: list[int] = []
        for literal in literals:
            self._decisive.add(len(expressions))
            expressions.append(re.escape(literal))
            flags.append(0)
        for word in words:
            self._decisive.add(len(expressions))
            expressions.append(whole_word(word))
            flags.append(0)
        for g, (members, minimum) in enumerate(groups):
            self._minimum.append(minimum)
            for literal in members:
                self._group_of[len(expressions)] = g
                expressions.append(re.escape(literal))
                flags.append(0)
        if values:
            self._decisive.add(len(expressions))
            # What triggers._is_value accepts before the quoted name, read forwards. One
            # expression for every name: the shared prefix compiled once per name cost 20 ms
            # of every cold scan's serial start (ten names), one alternation costs 3 ms.
            names = b"|".join(re.escape(value) for value in values)
            expressions.append(b"[:=][ \\t\\r\\n\\\\(]*[rRuUbBfF]{0,2}[\"']*(?:" + names + b")")
            flags.append(0)
        for pattern in class_patterns:
            widened = widen_class_pattern(pattern)
            if widened is None:
                raise ValueError(f"class pattern {pattern!r} cannot be matched natively")
            expression, caseless = widened
            self._decisive.add(len(expressions))
            expressions.append(expression)
            flags.append(_hs.HS_FLAG_CASELESS if caseless else 0)
        # No HS_FLAG_SINGLEMATCH: with it the compile took about twice as long for a real
        # tree's policy (serial time before the fork; benchmarks/README.md), and a decisive
        # match stops the scan anyway; a group counts its distinct members itself.
        self._db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
        self._db.compile(
            expressions=expressions,
            ids=list(range(len(expressions))),
            elements=len(expressions),
            flags=flags,
        )
        # Hyperscan's scratch space may serve one scan at a time: one per thread.
        self._local = threading.local()

    def is_candidate(self, data: bytes) -> bool:
        """True when any decisive expression matches, or a group reaches its minimum."""
        # Once per thread, not per file: the state, its callback and the scratch space (a
        # closure and a dict made for each of a tree's files cost a third of this call).
        matching: _Matching | None = getattr(self._local, "matching", None)
        if matching is None:
            matching = self._local.matching = _Matching(
                _hs.Scratch(self._db), self._decisive, self._group_of, self._minimum
            )
        matching.start()
        try:  # noqa: SIM105 - not contextlib.suppress: an object per file for nothing
            self._db.scan(data, match_event_handler=matching.on_match, scratch=matching.scratch)
        except _hs.ScanTerminated:  # raised when on_match stops early
            pass
        return matching.found


class _Matching:
    """One thread's scan of one file at a time: its scratch space and what it found."""

    __slots__ = (
        "counts",
        "decisive",
        "found",
        "group_of",
        "minimum",
        "on_match",
        "scratch",
        "seen",
    )

    def __init__(
        self,
        scratch: Any,
        decisive: set[int],
        group_of: dict[int, int],
        minimum: list[int],
    ) -> None:
        self.scratch, self.decisive, self.group_of, self.minimum = (
            scratch,
            decisive,
            group_of,
            minimum,
        )
        self.found = False
        self.counts = [0] * len(minimum)
        self.seen: set[int] = set()
        self.on_match = self._on_match  # bound once

    def start(self) -> None:
        self.found = False
        if self.minimum:
            self.counts = [0] * len(self.minimum)
            self.seen.clear()

    def _on_match(self, ident: int, start: int, end: int, flags: int, context: object) -> bool:
        if ident in self.decisive:
            self.found = True
            return True  # stop the scan
        if ident in self.seen:
            return False  # a group counts distinct members
        self.seen.add(ident)
        g = self.group_of[ident]
        self.counts[g] += 1
        if self.counts[g] >= self.minimum[g]:
            self.found = True
            return True
        return False


class NativeLiterals:
    """Every occurrence of each of a set of literals in one pass (instead of a ``str.find``
    loop per literal over the same text)."""

    def __init__(self, literals: Sequence[bytes]) -> None:
        if _hs is None:
            raise RuntimeError("hyperscan is not installed")
        self._literals = list(dict.fromkeys(literals))
        self._db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
        self._db.compile(
            expressions=[re.escape(literal) for literal in self._literals],
            ids=list(range(len(self._literals))),
            elements=len(self._literals),
            flags=[0] * len(self._literals),
        )
        self._local = threading.local()

    def occurrences(self, data: bytes) -> dict[bytes, list[int]]:
        """Start offsets of each literal found in ``data``, left to right and not overlapping
        one another (as successive ``find`` calls from the end of the last one give them)."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = _hs.Scratch(self._db)
        ends: list[tuple[int, int]] = []
        push = ends.append

        def on_match(ident: int, start: int, end: int, flags: int, context: object) -> None:
            push((ident, end))

        self._db.scan(data, match_event_handler=on_match, scratch=scratch)
        out: dict[bytes, list[int]] = {}
        last: dict[int, int] = {}
        for ident, end in ends:  # reported in order of their end
            literal = self._literals[ident]
            start = end - len(literal)
            if start < last.get(ident, 0):
                continue  # overlaps the previous occurrence of the same literal
            last[ident] = end
            out.setdefault(literal, []).append(start)
        return out


_ASCII_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def whole_word(literal: bytes) -> bytes:
    """A Hyperscan expression for ``literal`` standing as a whole word, as the slicer's hits
    count it (``triggers.is_word_char``): not inside ``FooDataUpdateCoordinator``.

    Hyperscan's ``\\b`` knows only ASCII word characters: a byte of a UTF-8 letter next to
    the literal counts as a boundary, so the expression matches where the slicer (for which
    that letter is part of the word) would not, never the reverse. For the same reason a side
    whose end of the literal is not an ASCII word character gets no ``\\b``.
    """
    before = b"\\b" if literal[:1] and literal[0] in _ASCII_WORD else b""
    after = b"\\b" if literal[-1:] and literal[-1] in _ASCII_WORD else b""
    return before + re.escape(literal) + after


def widen_class_pattern(pattern: str) -> tuple[bytes, bool] | None:
    """A Hyperscan expression for ``class NAME`` statements whose NAME ``pattern`` searches.

    Widened on purpose: anchors are dropped and ``\\w`` also takes any non-ASCII byte (a
    UTF-8 letter of a name), so every class the Python pattern matches is matched too. None
    when the pattern uses what cannot be widened that way (word boundaries, look-arounds,
    back-references, Unicode classes inside brackets, non-ASCII text).
    """
    caseless = False
    if pattern.startswith("(?i)"):
        caseless, pattern = True, pattern[4:]
    if pattern.startswith("^"):
        pattern = pattern[1:]
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1]
    if not pattern or _UNSAFE.search(pattern) or "^" in pattern or "$" in pattern:
        return None
    body = pattern.replace("\\w", "[\\w\\x80-\\xff]")
    return f"class[ \\t]+[\\w\\x80-\\xff]*?(?:{body})".encode(), caseless
