"""## What it does
Reports every import of a concept from a deprecated path: ``from m import X``, ``import m``,
``import m as a`` followed by ``a.X``, relative imports (resolved from the file's own module
path), imports inside functions, in ``if TYPE_CHECKING:`` blocks and in ``try``/``except
ImportError`` fallbacks.

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
from analyzers.policy import Concept
from analyzers.rules.base import Rule

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
    from analyzers.globs import GlobSet

    return GlobSet(concept.allowed_in).match(ctx.path) if concept.allowed_in else False


def check(ctx: ModuleContext) -> Iterator[Finding]:
    """Findings for imports and attribute uses of deprecated paths."""
    concepts = [c for c in ctx.policy.concepts if c.deprecated and not _in_allowed(ctx, c)]
    if not concepts:
        return
    for node, scope in ctx.nodes:
        if isinstance(node, ast.ImportFrom):
            yield from _import_from(ctx, node, scope, concepts)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                for concept in concepts:
                    item = deprecated_match(alias.name, concept)
                    if item is not None:
                        yield ctx.finding(
                            CODE, concept.name, node,
                            f"`import {alias.name}` uses deprecated path `{item}`; import `{concept.canonical}` instead",
                            matched=f"import {alias.name}", scope=scope,
                        )
        elif isinstance(node, ast.Attribute):
            item, concept = _attribute_match(ctx, node, concepts)
            if item is not None and concept is not None:
                yield ctx.finding(
                    CODE, concept.name, node,
                    f"`{ctx.source_of(node)}` refers to deprecated `{item}`; use `{concept.canonical}`",
                    matched=item, scope=scope,
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
        # Whole-module deprecations are reported at the import, not at every use.
        if item is None or item.endswith(".*"):
            continue
        if inner is not None and deprecated_match(inner, concept) == item:
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
                CODE, concept.name, alias,
                f"`{shown}` imported from deprecated `{item}`; import `{concept.canonical}` instead",
                matched=f"from {base} import {shown}", scope=scope,
            )
            break


RULE = Rule(
    code=CODE,
    name="non-canonical-import",
    summary="import of a concept from a deprecated path",
    doc=__doc__ or "",
    check=check,
)
