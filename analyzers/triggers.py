"""Byte-level prefilter: which files can hold a finding at all, and where to look in them.

Every way of referring to a deprecated ``pkg.mod.Symbol`` (absolute or relative import,
module alias, attribute chain) spells the last module component ``mod``; every extra
implementation is a ``class`` statement, a signature method ``def name`` or a named base;
every event payload spells its event name as a quoted literal. Searching for those literals
with ``bytes.__contains__`` (memchr-fast) rules out most of a tree without decoding it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from analyzers.policy import Policy

HitKind = Literal["stmt", "class"]
# Bytes \w is ASCII only: take the UTF-8 bytes of a non-ASCII class name too, or the name
# `WebSocketÜberManager` would be cut at the `Ü` and miss a pattern that the parser matches.
_CLASS_STMT = re.compile(rb"class[ \t]+([\w\x80-\xff]+)")
_CLASS_STMT_TEXT = re.compile(r"class[ \t]+(\w+)")


@dataclass(frozen=True)
class TriggerSet:
    """The literals and patterns of one policy that decide what to parse."""

    stmt_literals: tuple[bytes, ...]
    class_literals: tuple[bytes, ...]
    method_groups: tuple[tuple[tuple[bytes, ...], int], ...]
    class_name_patterns: tuple[re.Pattern[str], ...]
    event_literals: tuple[bytes, ...]

    def is_candidate(self, data: bytes) -> bool:
        """False only when no rule of the policy can find anything in ``data``."""
        for literal in self.stmt_literals:
            if literal in data:
                return True
        for literal in self.event_literals:
            if literal in data:
                return True
        for literal in self.class_literals:
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

    def hits(self, text: str) -> list[tuple[int, HitKind]]:
        """Positions in ``text`` that a rule may care about, with what to parse around them."""
        found: list[tuple[int, HitKind]] = []
        groups: tuple[tuple[tuple[bytes, ...], HitKind], ...] = (
            (self.stmt_literals, "stmt"),
            (self.event_literals, "stmt"),
            (self.class_literals, "class"),
        )
        for literals, kind in groups:
            for literal in literals:
                _find_all(text, literal.decode(), kind, found)
        for methods, _ in self.method_groups:
            for method in methods:
                _find_all(text, method.decode(), "class", found)
        if self.class_name_patterns:
            for match in _CLASS_STMT_TEXT.finditer(text):
                if any(p.search(match.group(1)) for p in self.class_name_patterns):
                    found.append((match.start(), "class"))
        found.sort()
        return found


def _find_all(text: str, needle: str, kind: HitKind, out: list[tuple[int, HitKind]]) -> None:
    start = text.find(needle)
    while start != -1:
        out.append((start, kind))
        start = text.find(needle, start + len(needle))


_CACHE: dict[str, TriggerSet] = {}


def triggers_for(policy: Policy) -> TriggerSet:
    """The :class:`TriggerSet` of a policy (cached by the policy's digest)."""
    cached = _CACHE.get(policy.digest)
    if cached is None:
        cached = _CACHE[policy.digest] = _build(policy)
    return cached


def _build(policy: Policy) -> TriggerSet:
    stmt: set[str] = set()
    class_literals: set[str] = set()
    groups: list[tuple[tuple[bytes, ...], int]] = []
    patterns: list[re.Pattern[str]] = []
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
            patterns.append(re.compile(impl.name))
    events: set[bytes] = set()
    for schema in policy.event_schemas:
        for event in schema.events:
            events.add(f'"{event}"'.encode())
            events.add(f"'{event}'".encode())
    return TriggerSet(
        stmt_literals=tuple(sorted(s.encode() for s in stmt if s)),
        class_literals=tuple(sorted(c.encode() for c in class_literals if c)),
        method_groups=tuple(groups),
        class_name_patterns=tuple(patterns),
        event_literals=tuple(sorted(events)),
    )
