"""Policy errors in the policy's own words, not the validator's.

The loader validates with pydantic, whose messages speak of its models ("Unexpected keyword
argument", "Input should be a valid tuple", ``concept.0.target``). A person editing
``.github/ssot.toml`` thinks in tables and keys: this module turns a validation location into
``[[concept]] 2`` or ``[rules.SSOT001]`` (arrays of tables are counted from 1, as a person
counts them in the file) and a pydantic error into a sentence such as
``unknown key 'deprecatd' in [[concept]] 1 (did you mean 'deprecated'?)`` or
``[[event_schema]] 1: events must be an array of strings, not "agent_started"``.

It only reads the policy model's type hints; it changes nothing in the model.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import types
import typing
from collections.abc import Sequence
from functools import cache
from typing import Any, Literal, Union

from analyzers.policy import Policy

Loc = Sequence[str | int]


@dataclasses.dataclass(frozen=True)
class Place:
    """Where a location points in the TOML file: its table, and the key inside it."""

    table: str  # "[[concept]] 2", "[rules.SSOT001]", "" for the top level
    key: str | None  # the key in that table, None when the location is the table itself
    type_: Any  # the key's declared type (or the table's class), None when unknown
    item: str | None = None  # "item 2" or "'user'": the element of an array or table
    owner: Any = Policy  # the class of the table (its keys are the known ones)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unwrap(type_: Any) -> Any:
    """``X | None`` -> ``X``."""
    if typing.get_origin(type_) in (Union, types.UnionType):
        args = [a for a in typing.get_args(type_) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return type_


def _element(type_: Any) -> Any:
    """The element type of ``tuple[X, ...]`` or the value type of ``dict[str, X]``."""
    args = typing.get_args(type_)
    return args[-1] if typing.get_origin(type_) is dict else args[0]


def _is_table(type_: Any) -> bool:
    return dataclasses.is_dataclass(type_)


def place(loc: Loc, prefix: str = "") -> Place:
    """The table and key that a validation location such as ``("concept", 0, "target")`` names.

    ``prefix`` is where the policy sits in its file: ``tool.ssot`` in a pyproject.toml.
    """
    table, dotted = (f"[{prefix}]", prefix) if prefix else ("", "")
    cls: Any = Policy
    key: str | None = None
    type_: Any = Policy
    item: str | None = None
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        if not (_is_table(cls) and isinstance(part, str)):
            break
        hints = _hints(cls)
        if part not in hints:
            return Place(table, part, None, owner=cls)
        key, type_ = part, _unwrap(hints[part])
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        origin = typing.get_origin(type_)
        inner = _element(type_) if origin in (tuple, dict) else None
        if nxt is not None and origin in (tuple, dict) and _is_table(inner):
            # An array of tables ([[concept]] n) or a table of tables ([rules.CODE]).
            dotted = f"{dotted}.{part}" if dotted else part
            if isinstance(nxt, int):
                table = f"[[{dotted}]] {nxt + 1}"
            else:
                dotted = f"{dotted}.{nxt}"
                table = f"[{dotted}]"
            cls, key, type_ = inner, None, inner
            i += 2
            continue
        if nxt is not None and _is_table(type_):
            dotted = f"{dotted}.{part}" if dotted else part
            table = f"[{dotted}] of {table}" if table.startswith("[[") else f"[{dotted}]"
            cls, key = type_, None
            i += 1
            continue
        if nxt is not None and origin in (tuple, dict):
            item = f"item {nxt + 1}" if isinstance(nxt, int) else repr(nxt)
        break
    return Place(table, key, type_, item, owner=cls)


def describe(type_: Any) -> str:
    """What a value of ``type_`` is, in TOML words: ``an array of strings``."""
    type_ = _unwrap(type_)
    origin = typing.get_origin(type_)
    if origin is Literal:
        return "one of " + ", ".join(f'"{v}"' for v in typing.get_args(type_))
    if origin is tuple:
        inner = _unwrap(_element(type_))
        if _is_table(inner):
            return "an array of tables"
        return "an array of " + _plural(describe(inner))
    if origin is dict:
        inner = _unwrap(_element(type_))
        if _is_table(inner):
            return "a table of tables"
        return "a table of " + _plural(describe(inner))
    if _is_table(type_):
        return "a table"
    return {str: "a string", int: "an integer", bool: "true or false", float: "a number"}.get(
        type_, "a value of another type"
    )


def _plural(phrase: str) -> str:
    """``a string`` -> ``strings``; ``one of "a", "b"`` stays as it is."""
    for article in ("an ", "a "):
        if phrase.startswith(article):
            return phrase[len(article) :] + "s"
    return phrase


def toml_value(value: Any, limit: int = 60) -> str:
    """A short TOML-looking rendering of the value that was given."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def sentence(where: Place, problem: str) -> str:
    """``[[concept]] 2: target must be 0 or more``: the place, then what is wrong with it.

    ``problem`` is a predicate (``must be ...``, ``needs ...``) or a statement of its own
    (``duplicate concept name 'x'``); a predicate is joined to the key it is about.
    """
    predicate = problem.startswith(("must ", "needs "))
    subject = where.key or ""
    if where.key and where.item and not predicate:
        subject = f"{where.key} {where.item}"
    text = f"{subject} {problem}" if predicate and subject else problem
    if subject and not predicate:
        text = f"{subject}: {problem}"
    if where.table:
        if predicate and not subject:
            return f"{where.table} {problem}"
        return f"{where.table}: {text}"
    return text


def from_validation(error: Any, loc: Loc, prefix: str = "") -> str:
    """A pydantic error (one item of ``ValidationError.errors()``) as a sentence.

    ``loc`` is the error's location with only keys and indexes (no model names).
    """
    kind: str = error["type"]
    given = error.get("input")
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        return unknown_key(loc, prefix)
    where = place(loc, prefix)
    if kind in ("missing", "missing_argument", "missing_keyword_only_argument"):
        wanted = f" ({describe(where.type_)})" if where.type_ is not None else ""
        key = where.key or str(loc[-1])
        inside = f" in {where.table}" if where.table else ""
        return f"missing key {key!r}{inside}{wanted}"
    if where.type_ is None:
        return sentence(where, f"must be valid: {error['msg']}")
    expected = describe(where.type_)
    if where.item is not None and where.key is not None:
        # An element of an array (or table) is wrong: say what the whole key must be.
        problem = f"must be {expected}; {where.item} is {toml_value(given)}"
    elif where.key is None and where.table:
        problem = f"must be a table, not {toml_value(given)}"
    else:
        problem = f"must be {expected}, not {toml_value(given)}"
        if expected == "an array of tables" and isinstance(given, dict):
            problem += f" (write [[{where.key}]], with two brackets)"
    return sentence(where, problem)


def unknown_key(loc: Loc, prefix: str = "") -> str:
    """``unknown key 'deprecatd' in [[concept]] 1 (did you mean 'deprecated'?)``."""
    where = place(loc, prefix)
    name = str(loc[-1])
    known = sorted(_hints(where.owner)) if _is_table(where.owner) else []
    text = f"unknown key {name!r} in {where.table or 'the top level of the policy'}"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"{text} (did you mean {close[0]!r}?)"
    if known:
        return f"{text}; known keys: {', '.join(known)}"
    return text
