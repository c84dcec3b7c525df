"""## What it does
Reports a class outside the concept's ``allowed_in`` paths that is another implementation of
the concept: its name matches ``implementation.name``, it derives from one of
``implementation.bases``, or it defines at least ``implementation.min_methods`` of the
signature ``implementation.methods`` (the same methods copied across managers). It also
reports module-level aliases that re-export the concept under another name or from another
module (``WebSocketManager = UnifiedWebSocketManager``).

Test classes and test doubles (in the policy's ``test_paths``, or named by ``test_classes``:
``TestX``, ``MockX``, ``FakeX``...) are reported with scope ``test``, so a team can gate
them separately (``[rules.SSOT002] tests = "warn"``).

## Why is this bad?
Each extra implementation is a place where behaviour drifts: a fix lands in one manager and
not in the others, two managers race on the same connection, tests pass against a double
that no longer behaves like the real thing.

## Example
```python
class UnifiedWebSocketManager:
    def add_connection(self, conn): ...
    def send_to_user(self, user_id, msg): ...
```

## Use instead
```python
from netra_backend.app.websocket_core.websocket_manager import WebSocketManager
```
Use (or extend in its canonical home) the one implementation. There is no automatic fix:
merging two classes needs a person.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from analyzers.context import ModuleContext, unsubscripted
from analyzers.findings import Finding, Scope
from analyzers.globs import globset
from analyzers.policy import Concept
from analyzers.rules.base import Rule
from analyzers.rules.ssot001_noncanonical_import import deprecated_match

CODE = "SSOT002"


def _is_canonical_home(
    ctx: ModuleContext, concept: Concept, name: str, scope: tuple[str, ...]
) -> bool:
    return not scope and ctx.module == concept.canonical_module and name == concept.canonical_name


def _base_names(ctx: ModuleContext, node: ast.ClassDef) -> list[str]:
    names = []
    for base in map(unsubscripted, node.bases):
        qualified = ctx.qualified(base)
        if qualified is not None:
            names.append(qualified)
        elif isinstance(base, ast.Name | ast.Attribute):
            names.append(ast.unparse(base))
    return names


def match_reasons(ctx: ModuleContext, node: ast.ClassDef, concept: Concept) -> list[str]:
    """Why ``node`` counts as an implementation of ``concept`` (empty: it does not)."""
    impl = concept.implementation
    if impl is None:
        return []
    reasons: list[str] = []
    if impl.name and ctx.policy_pattern(impl.name).search(node.name):
        reasons.append(f"name matches `{impl.name}`")
    if impl.bases:
        wanted = set(impl.bases) | {b.rpartition(".")[2] for b in impl.bases}
        hit = [b for b in _base_names(ctx, node) if b in wanted or b.rpartition(".")[2] in wanted]
        if hit:
            reasons.append(f"derives from `{hit[0]}`")
    if impl.methods:
        defined = {
            s.name for s in node.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        shared = [m for m in impl.methods if m in defined]
        if len(shared) >= impl.min_methods:
            reasons.append("defines " + ", ".join(f"`{m}`" for m in shared))
    return reasons


def check(ctx: ModuleContext) -> Iterator[Finding]:
    """Findings for extra implementations and re-exporting aliases of each concept."""
    for concept in ctx.policy.concepts:
        if concept.allowed_in and globset(concept.allowed_in).match(ctx.path):
            continue
        if concept.implementation is not None:
            for node, scope in ctx.of(ast.ClassDef):
                if _is_canonical_home(ctx, concept, node.name, scope):
                    continue
                reasons = match_reasons(ctx, node, concept)
                if not reasons:
                    continue
                kind: Scope = "test" if ctx.is_test_scope(scope, node.name) else "source"
                yield ctx.finding(
                    CODE,
                    concept.name,
                    node,
                    f"class `{node.name}` is another implementation of {concept.name} "
                    f"({'; '.join(reasons)}); use `{concept.canonical}`",
                    matched=f"class {node.name}",
                    scope=scope,
                    scope_kind=kind,
                )
        for assign, scope in ctx.of(ast.Assign, ast.AnnAssign):
            if scope:
                continue
            alias = _alias_target(ctx, assign, concept)
            if alias is not None:
                target, value = alias
                yield ctx.finding(
                    CODE,
                    concept.name,
                    assign,
                    f"`{target}` re-exports {concept.name} (`{value}`) outside its canonical home; "
                    f"import `{concept.canonical}` where it is used",
                    matched=f"{target} = {value}",
                    scope=scope,
                )


def _alias_target(
    ctx: ModuleContext, node: ast.Assign | ast.AnnAssign, concept: Concept
) -> tuple[str, str] | None:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if len(targets) != 1 or not isinstance(targets[0], ast.Name) or node.value is None:
        return None
    if not isinstance(node.value, ast.Name | ast.Attribute):
        return None
    target = targets[0].id
    value = ctx.qualified(node.value) or ast.unparse(node.value)
    names_concept = value == concept.canonical or deprecated_match(value, concept) is not None
    # A second binding of the canonical name outside its home is a copy, whatever it points at.
    shadows = target == concept.canonical_name and ctx.module != concept.canonical_module
    if names_concept and (
        target != concept.canonical_name or ctx.module != concept.canonical_module
    ):
        return target, value
    if shadows:
        return target, value
    return None


RULE = Rule(
    code=CODE,
    name="extra-implementation",
    summary="another implementation (or re-exporting alias) of a concept",
    doc=__doc__ or "",
    check=check,
)
