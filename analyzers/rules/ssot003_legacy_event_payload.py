"""## What it does
Reports a payload of a configured event (a dict display, or a ``dict(...)`` call, wherever it
stands: assigned, returned, or passed to ``json.dumps``, ``send_json``, ``emit`` and the like)
that does not have the canonical shape of its ``event_schema``: it uses a legacy key (``type``
for ``event_type``), lacks a required key, carries a string timestamp (a literal, an f-string,
``.isoformat()`` or ``.strftime()``) where the schema wants a number, or keeps
non-canonical keys at the top level instead of under ``data``.

A payload is recognised by its event key (or a legacy alias of it) holding one of the
schema's event names as a string literal.

## Why is this bad?
Consumers parse one shape. A legacy payload on a golden-path event is exactly the kind of
inconsistency that breaks a frontend in production while every unit test passes.

## Example
```python
await ws.send_json({"type": "agent_started", "time": now.isoformat(), "user": uid, "agent_name": name})
```

## Use instead
```python
await ws.send_json({
    "event_type": "agent_started", "timestamp": now.timestamp(), "user_id": uid,
    "thread_id": thread_id, "data": {"agent_name": name},
})
```
The fix renames legacy keys, turns ``x.isoformat()`` into ``x.timestamp()`` and nests the
non-canonical keys under ``data``. It is offered only when the result is canonical: a missing
required key (``thread_id`` above) needs a value only the author knows.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from analyzers.context import ModuleContext
from analyzers.findings import Finding, Scope
from analyzers.policy import EventSchema
from analyzers.rules.base import Rule

CODE = "SSOT003"
STRING_TIME_METHODS = frozenset({"isoformat", "strftime", "ctime", "asctime"})


@dataclass(frozen=True)
class Payload:
    """The keys of one payload literal and what is wrong with them."""

    event: str
    keys: dict[str, ast.expr]
    has_spread: bool
    legacy: tuple[str, ...]
    missing: tuple[str, ...]
    string_timestamp: str | None
    stray: tuple[str, ...]

    @property
    def problems(self) -> list[str]:
        out = []
        if self.legacy:
            out.append("legacy keys " + ", ".join(f"`{k}`" for k in self.legacy))
        if self.missing:
            out.append("missing " + ", ".join(f"`{k}`" for k in self.missing))
        if self.string_timestamp:
            out.append(f"string timestamp in `{self.string_timestamp}`")
        if self.stray:
            out.append("keys outside `data`: " + ", ".join(f"`{k}`" for k in self.stray))
        return out


def payload_keys(node: ast.AST) -> tuple[dict[str, ast.expr], bool] | None:
    """String keys and values of a dict display or ``dict(k=v)`` call; None for other nodes."""
    if isinstance(node, ast.Dict):
        keys: dict[str, ast.expr] = {}
        spread = False
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                spread = True
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys.setdefault(key.value, value)
            else:
                spread = True  # computed key: we cannot say which keys are present
        return keys, spread
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "dict"
        and not node.args
    ):
        kw = {k.arg: k.value for k in node.keywords if k.arg is not None}
        return kw, any(k.arg is None for k in node.keywords)
    return None


def is_string_time(value: ast.expr) -> bool:
    """A literal string, an f-string, or a call that formats a time as text."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, str)
    if isinstance(value, ast.JoinedStr):
        return True
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in STRING_TIME_METHODS
    )


def inspect(node: ast.AST, schema: EventSchema) -> Payload | None:
    """A :class:`Payload` when ``node`` is an event payload of ``schema``, else None."""
    found = payload_keys(node)
    if found is None:
        return None
    keys, spread = found
    event = None
    for key in schema.event_keys:
        value = keys.get(key)
        if isinstance(value, ast.Constant) and value.value in schema.events:
            event = str(value.value)
            break
    if event is None:
        return None
    legacy = tuple(k for k in keys if k in schema.legacy_keys)
    present = {schema.legacy_keys.get(k, k) for k in keys}
    missing = () if spread else tuple(k for k in schema.required if k not in present)
    string_ts = None
    if schema.timestamp == "number":
        for key, value in keys.items():
            if schema.legacy_keys.get(key, key) == schema.timestamp_key and is_string_time(value):
                string_ts = key
    canonical = schema.canonical_keys
    stray = tuple(k for k in keys if k not in schema.legacy_keys and k not in canonical)
    return Payload(event, keys, spread, legacy, missing, string_ts, stray)


def check(ctx: ModuleContext) -> Iterator[Finding]:
    """Findings for payload literals of configured events that are not canonical."""
    schemas = ctx.policy.event_schemas
    if not schemas:
        return
    for node, scope in [*ctx.of(ast.Dict), *ctx.of(ast.Call)]:
        for schema in schemas:
            payload = inspect(node, schema)
            if payload is None or not payload.problems:
                continue
            kind: Scope = "test" if ctx.is_test_scope(scope) else "source"
            yield ctx.finding(
                CODE,
                schema.name,
                node,
                f"`{payload.event}` payload is not canonical: {'; '.join(payload.problems)}",
                matched=f"{payload.event}:{','.join(sorted(payload.keys))}",
                scope=scope,
                scope_kind=kind,
            )
            break


RULE = Rule(
    code=CODE,
    name="legacy-event-payload",
    summary="event payload not in its canonical shape",
    doc=__doc__ or "",
    check=check,
)
