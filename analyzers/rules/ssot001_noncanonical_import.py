"""## What it does
Reports every import of a concept from a deprecated path: ``from m import X``, ``import m``,
``import m as a`` followed by ``a.X``, relative imports (resolved from the file's own module
path), imports inside functions, in ``if TYPE_CHECKING:`` blocks and in ``try``/``except
ImportError`` fallbacks, uses through a parent package (``import pkg`` then
``pkg.old.Symbol``) and string annotations (``m: "um.UnifiedWebSocketManager"``).

Every import that ruff's banned-api rule (TID251) reports for the same deprecated list is
reported here at the same line (a test runs both). Beyond it: ``from m import *`` when ``m``
holds a deprecated name, relative imports in folders without ``__init__.py`` (the module is
derived from the file's path), and each name of a multi-line ``from m import (A, B)`` on its
own line, so a name added to an old import is reported on the line the change added.

## Why is this bad?
Every deprecated path keeps an old copy alive: it blocks deleting the old module, invites
circular imports, and tells the next reader that the old way is still fine. A consolidation
only ends when nothing imports the old paths any more.

## Example
```python
from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager
```

## Use instead
```python
from netra_backend.app.websocket_core.websocket_manager import WebSocketManager as UnifiedWebSocketManager
```
The fix keeps the local name (as an alias) so the rest of the file is unchanged, and splits
``from m import A, B`` when only some names are deprecated. Attribute uses such as ``a.X``
are reported without a fix: rewrite the import and the uses by hand.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from analyzers.context import ModuleContext
from analyzers.findings import Finding
from analyzers.globs import globset
from analyzers.policy import Concept
from analyzers.rules.base import Rule
from analyzers.source import parse_expression

CODE = "SSOT001"


def deprecated_match(qualified: str, concept: Concept) -> str | None:
    """The deprecated entry of ``concept`` that ``qualified`` falls under, if any."""
    for item in concept.deprecated:
        if item.endswith(".*"):
            module = item[:-2]
            if qualified == module or qualified.startswith(module + "."):
                return item
        elif qualified == item or qualified.startswith(item + "."):
            return item
    return None


def _in_allowed(ctx: ModuleContext, concept: Concept) -> bool:
    # The canonical home itself (and files allowed to implement) may use the old names.
    return globset(concept.allowed_in).match(ctx.path) if concept.allowed_in else False


def check(ctx: ModuleContext) -> Iterator[Finding]:
    """Findings for imports and attribute uses of deprecated paths."""
    concepts = [c for c in ctx.policy.concepts if c.deprecated and not _in_allowed(ctx, c)]
    if not concepts:
        return
    for node, scope in ctx.of(ast.ImportFrom):
        yield from _import_from(ctx, node, scope, concepts)
    for imp, scope in ctx.of(ast.Import):
        for alias in imp.names:
            for concept in concepts:
                item = deprecated_match(alias.name, concept)
                if item is not None:
                    # At the name, like the names of `from m import ...`: `import os, \`
                    # continued on the next line is reported where the deprecated path is.
                    yield ctx.finding(
                        CODE,
                        concept.name,
                        alias,
                        f"`import {alias.name}` uses deprecated path `{item}`; import `{concept.canonical}` instead",
                        matched=f"import {alias.name}",
                        scope=scope,
                    )
    for attr, scope in ctx.of(ast.Attribute):
        item, used = _attribute_match(ctx, attr, concepts)
        if item is not None and used is not None:
            yield ctx.finding(
                CODE,
                used.name,
                attr,
                f"`{ctx.source_of(attr)}` refers to deprecated `{item}`; use `{used.canonical}`",
                matched=item,
                scope=scope,
            )
    if not _strings_spell_a_path(ctx, concepts):
        return  # no forward reference can name a deprecated path: skip walking annotations
    for arg, scope in ctx.of(ast.arg):
        if arg.annotation is not None:
            yield from _string_annotation(ctx, arg.annotation, scope, concepts)
    for ann, scope in ctx.of(ast.AnnAssign):
        yield from _string_annotation(ctx, ann.annotation, scope, concepts)
    for func, scope in ctx.of(ast.FunctionDef, ast.AsyncFunctionDef):
        if func.returns is not None:
            yield from _string_annotation(ctx, func.returns, scope, concepts)


def _strings_spell_a_path(ctx: ModuleContext, concepts: list[Concept]) -> bool:
    """True when some string of the parsed code holds the symbol or the last module name of
    a deprecated path. A forward reference can name that path only so: as an attribute chain
    (``"um.OldManager"``, ``"pkg.old_module"``) whose root an import binds above the path's
    last part, since a root bound to the path itself is reported at its import."""
    words = set()
    for concept in concepts:
        for item in concept.deprecated:
            module, _, symbol = item.rpartition(".")
            words.add(module.rpartition(".")[2] if symbol == "*" else symbol)
    for const, _ in ctx.of(ast.Constant):
        value = const.value
        if isinstance(value, str) and any(word in value for word in words):
            return True
    return False


def _string_annotation(
    ctx: ModuleContext, annotation: ast.expr, scope: tuple[str, ...], concepts: list[Concept]
) -> Iterator[Finding]:
    """Deprecated symbols named in forward references: ``def f(m: "um.OldManager")``."""
    for node in ast.walk(annotation):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        try:
            parsed = parse_expression(node.value.strip())
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for inner in ast.walk(parsed):
            if not isinstance(inner, ast.Attribute):
                continue
            item, concept = _attribute_match(ctx, inner, concepts)
            if item is not None and concept is not None:
                yield ctx.finding(
                    CODE,
                    concept.name,
                    node,
                    f"annotation `{node.value}` refers to deprecated `{item}`; use `{concept.canonical}`",
                    matched=item,
                    scope=scope,
                )


def _attribute_match(
    ctx: ModuleContext, node: ast.Attribute, concepts: list[Concept]
) -> tuple[str | None, Concept | None]:
    """Deprecated symbol named by ``a.X`` (reported once: at the innermost matching node)."""
    qualified = ctx.qualified(node)
    if qualified is None:
        return None, None
    # ``X.attr`` after ``from m import X``: the import already names the deprecated symbol.
    inner = ctx.qualified(node.value)
    for concept in concepts:
        item = deprecated_match(qualified, concept)
        if item is None:
            continue
        if item.endswith(".*"):
            # Whole-module deprecations are reported at the import, not at every use; but
            # spelled from a parent package (`import pkg` then `pkg.old_module.f()`), the
            # use is the only place that names the module: report the chain that ends there.
            if qualified != item[:-2]:
                continue
        elif inner is not None and deprecated_match(inner, concept) == item:
            continue
        return item, concept
    return None, None


def _import_from(
    ctx: ModuleContext,
    node: ast.ImportFrom,
    scope: tuple[str, ...],
    concepts: list[Concept],
) -> Iterator[Finding]:
    base = ctx.absolute(node)
    for alias in node.names:
        qualified = base if alias.name == "*" else f"{base}.{alias.name}"
        for concept in concepts:
            item = deprecated_match(qualified, concept)
            if item is None and alias.name == "*":
                item = next((d for d in concept.deprecated if d.rpartition(".")[0] == base), None)
            if item is None:
                continue
            shown = alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"
            yield ctx.finding(
                CODE,
                concept.name,
                alias,
                f"`{shown}` imported from deprecated `{item}`; import `{concept.canonical}` instead",
                matched=f"from {base} import {shown}",
                scope=scope,
            )
            break


RULE = Rule(
    code=CODE,
    name="non-canonical-import",
    summary="import of a concept from a deprecated path",
    doc=__doc__ or "",
    check=check,
)
