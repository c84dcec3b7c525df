"""What rules see of one file: its parsed statements, module name, imports and scopes."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar, overload

from analyzers.findings import Finding, Scope
from analyzers.lines import source_lines, split_lines
from analyzers.patterns import LinearPattern, compiled
from analyzers.policy import Policy
from analyzers.source import ParsedSource, Slice

T = TypeVar("T", bound=ast.AST)
U = TypeVar("U", bound=ast.AST)


def module_name(path: str, roots: tuple[str, ...] = ()) -> tuple[str, bool]:
    """Dotted module name of a repository path and whether it is a package ``__init__``."""
    for root in sorted(roots, key=len, reverse=True):
        prefix = root.strip("/") + "/"
        if root and path.startswith(prefix):
            path = path[len(prefix) :]
            break
    parts = path.removesuffix(".py").removesuffix(".pyi").split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(p for p in parts if p), is_package


def resolve_relative(module: str | None, level: int, current: str, is_package: bool) -> str:
    """Absolute module of ``from <level dots><module> import ...`` in module ``current``."""
    if level == 0:
        return module or ""
    parts = current.split(".") if current else []
    # In a package's __init__, one dot is the package itself.
    drop = level - 1 if is_package else level
    base = parts[: len(parts) - drop] if drop <= len(parts) else []
    return ".".join([*base, module] if module else base)


_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})
# Fields that never hold a node a rule looks at: expression contexts and operators are a third
# of all nodes of a tree (every Name has its Load).
_SKIPPED_FIELDS = frozenset({"ctx", "op", "ops", "type_ignores"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}

NodeIndex = dict[type, list[tuple[ast.AST, tuple[str, ...]]]]


def unsubscripted(base: ast.expr) -> ast.expr:
    """The class a base names, without its type arguments: a generic base is still the base
    (``class C(DataUpdateCoordinator[Data])`` derives from ``DataUpdateCoordinator``)."""
    while isinstance(base, ast.Subscript):
        base = base.value
    return base


def _walk(sl: Slice) -> NodeIndex:
    """Every node of a slice with its enclosing def/class names, by node type, in source order.

    Depth first in source order, as ast.walk is not. The children are read from each type's
    fields directly (ast.iter_child_nodes' generators make a walk about three times slower),
    and rules take the node types they ask about instead of testing every node.

    A class skeleton is asked only about its classes (names, bases, methods) and what a hit
    in a class header asks; a hit anywhere else in it is sliced on its own. So only its
    classes and their headers are indexed: the statements of its kept method bodies are
    searched for classes, their expressions (most of its nodes) are not walked.
    """
    index: NodeIndex = {}
    roots: list[tuple[ast.AST, tuple[str, ...]]] = [(s, sl.scope) for s in reversed(sl.statements)]
    if sl.skeleton:
        _index_classes(index, roots)
    else:
        _index_all(index, roots)
    return index


def _index_all(index: NodeIndex, stack: list[tuple[ast.AST, tuple[str, ...]]]) -> None:
    pop, push = stack.pop, stack.append
    while stack:
        entry = pop()
        node, scope = entry
        cls = type(node)
        bucket = index.get(cls)
        if bucket is None:
            index[cls] = [entry]
        else:
            bucket.append(entry)
        fields = _CHILD_FIELDS.get(cls)
        if fields is None:
            fields = _CHILD_FIELDS[cls] = tuple(f for f in cls._fields if f not in _SKIPPED_FIELDS)
        inner = (*scope, node.name) if cls in _SCOPES else scope  # type: ignore[attr-defined]
        children: list[ast.AST] = []
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                children.extend(item for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                children.append(value)
        for child in reversed(children):
            push((child, inner))


# Where statements hold statements: blocks, and the clauses of try and match.
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _index_classes(index: NodeIndex, stack: list[tuple[ast.AST, tuple[str, ...]]]) -> None:
    while stack:
        node, scope = stack.pop()
        cls = type(node)
        inner = (*scope, node.name) if cls in _SCOPES else scope  # type: ignore[attr-defined]
        if cls is ast.ClassDef:
            index.setdefault(ast.ClassDef, []).append((node, scope))
            header = [*node.bases, *node.keywords, *node.decorator_list]  # type: ignore[attr-defined]
            _index_all(index, [(part, inner) for part in reversed(header)])
        blocks = [s for name in _BLOCK_FIELDS for s in getattr(node, name, ())]
        stack.extend((s, inner) for s in reversed(blocks))


def _position(entry: tuple[ast.AST, tuple[str, ...]]) -> tuple[int, int]:
    node = entry[0]
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


@dataclass
class ModuleContext:
    """One file's parsed statements plus the facts every rule needs about them."""

    path: str
    policy: Policy
    parsed: ParsedSource
    module: str = ""
    is_package: bool = False
    path_scope: Scope = "source"

    @classmethod
    def build(cls, path: str, policy: Policy, parsed: ParsedSource) -> ModuleContext:
        """Context for ``path`` with its module name derived from the policy's source roots."""
        module, is_package = module_name(path, policy.source_roots)
        return cls(
            path=path,
            policy=policy,
            parsed=parsed,
            module=module,
            is_package=is_package,
            path_scope=policy.path_scope(path),
        )

    @overload
    def of(self, kind: type[T]) -> list[tuple[T, tuple[str, ...]]]: ...

    @overload
    def of(self, kind: type[T], other: type[U]) -> list[tuple[T | U, tuple[str, ...]]]: ...

    def of(self, kind: type[ast.AST], other: type[ast.AST] | None = None) -> list[Any]:
        """The parsed nodes of one or two types with their enclosing def/class names.

        In source order (two statement types together are merged by position), slice by
        slice; each slice is walked once and its index shared by every rule.
        """
        out: list[tuple[ast.AST, tuple[str, ...]]] = []
        for sl in self.parsed.slices:
            index = sl.nodes
            if index is None:
                index = sl.nodes = _walk(sl)
            first = index.get(kind, [])
            second = index.get(other, []) if other is not None else []
            if first and second:
                out.extend(sorted([*first, *second], key=_position))
            else:
                out.extend(first or second)
        return out

    @cached_property
    def imported(self) -> dict[str, str]:
        """Local name -> qualified name, for names bound by any import in the parsed code."""
        names: dict[str, str] = {}
        for node, _ in self.of(ast.Import, ast.ImportFrom):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        names[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        names[top] = top
            elif isinstance(node, ast.ImportFrom):
                base = self.absolute(node)
                for alias in node.names:
                    if alias.name != "*":
                        names[alias.asname or alias.name] = (
                            f"{base}.{alias.name}" if base else alias.name
                        )
        return names

    def absolute(self, node: ast.ImportFrom) -> str:
        """The absolute module an ``ImportFrom`` reads from."""
        return resolve_relative(node.module, node.level, self.module, self.is_package)

    def qualified(self, node: ast.expr) -> str | None:
        """``a.b.C`` for a Name/Attribute chain whose root name was imported, else None."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        root = self.imported.get(node.id)
        if root is None:
            return None
        return ".".join([root, *reversed(parts)])

    def policy_pattern(self, pattern: str) -> LinearPattern:
        """A policy regular expression compiled by RE2 (validated when the policy was loaded)."""
        return compiled(pattern)

    @cached_property
    def lines(self) -> list[str]:
        """The file's lines without their ends (split on first use: most files never need it)."""
        return source_lines(self.parsed.text)

    @cached_property
    def is_ascii(self) -> bool:
        return self.parsed.text.isascii()

    @cached_property
    def lines_with_ends(self) -> list[str]:
        """The file's lines with their ends, numbered like ``ast`` line numbers."""
        return split_lines(self.parsed.text)

    def source_of(self, node: ast.AST) -> str:
        """The source text of a node (for fingerprints and messages).

        Same result as :func:`ast.get_source_segment`, which splits the whole file on every
        call; here the lines are split once per file.
        """
        lineno, end_lineno = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        col, end_col = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        lines = self.lines_with_ends
        if (
            lineno is None
            or end_lineno is None
            or col is None
            or end_col is None
            or end_lineno > len(lines)
        ):
            return ast.unparse(node)
        first, last = lineno - 1, end_lineno - 1
        if first == last:
            return lines[first].encode()[col:end_col].decode() or ast.unparse(node)
        head = lines[first].encode()[col:].decode()
        tail = lines[last].encode()[:end_col].decode()
        return "".join([head, *lines[first + 1 : last], tail]) or ast.unparse(node)

    def finding(
        self,
        rule: str,
        concept: str,
        node: ast.AST,
        message: str,
        matched: str,
        scope: tuple[str, ...],
        scope_kind: Scope | None = None,
    ) -> Finding:
        """A finding at ``node``, with severity from the policy for its scope."""
        kind = scope_kind or self.path_scope
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        return Finding(
            rule=rule,
            concept=concept,
            path=self.path,
            line=line,
            col=self.char_col(line, getattr(node, "col_offset", 0)),
            end_line=end_line,
            end_col=self.char_col(end_line, getattr(node, "end_col_offset", None) or 0),
            message=message,
            matched=matched,
            scope_name=".".join(scope),
            scope=kind,
            severity=self.policy.severity(rule, kind),
        )

    def char_col(self, line: int, byte_col: int) -> int:
        """A character column from ``ast``'s UTF-8 byte offset (they differ on non-ASCII lines)."""
        if not self.is_ascii and 0 < line <= len(self.lines):
            text = self.lines[line - 1]
            if not text.isascii():
                return len(text.encode("utf-8")[:byte_col].decode("utf-8", "ignore"))
        return byte_col

    def is_test_scope(self, scope: tuple[str, ...], class_name: str | None = None) -> bool:
        """Test code: a test path, or inside (or being) a test class or test double."""
        if self.path_scope == "test":
            return True
        pattern = self.policy.test_class_re
        names = [*scope, class_name] if class_name else list(scope)
        return any(pattern.search(n) for n in names if n and n[:1].isupper())
