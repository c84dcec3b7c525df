"""Automatic fixes: libcst codemods for what SSOT001 and SSOT003 report.

Detection uses ``ast``; libcst (several times slower to parse, but lossless) is imported only
here and only when a fix is asked for, and it parses only the lines a fix replaces: the
import statement (or its enclosing statement when the import shares a line with a block
header), or the payload expression. A fix replaces whole lines, so it maps one to one onto a
GitHub suggestion block.

A fix is offered only after it is proven on the file itself: applied alone, the result must
parse, the engine must no longer report the finding the fix is attached to, and it must
report nothing new for that rule. A rewrite that cannot be proven is not offered.

Safe fixes (``Fix.safe``, the rules in :data:`analyzers.policy.SAFE_FIX_RULES`) are those a
consolidation pull request may apply unattended: an import rewrite binds the same local
name, now to the canonical class, which is the consolidation itself. A payload rewrite is
proven too but not safe: it renames keys, moves fields under ``data`` and turns text
timestamps into numbers, which every consumer of the event must agree with; a person applies
it (a suggestion, ``/ssot fix``, ``ssot fix``).
"""

from __future__ import annotations

import ast
import keyword
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from analyzers.context import module_name, resolve_relative
from analyzers.engine import analyze
from analyzers.findings import Finding, Fix
from analyzers.lines import split_lines
from analyzers.policy import SAFE_FIX_RULES, Concept, EventSchema, Policy
from analyzers.rules.ssot001_noncanonical_import import CODE as IMPORT_RULE
from analyzers.rules.ssot001_noncanonical_import import deprecated_match
from analyzers.rules.ssot003_legacy_event_payload import CODE as PAYLOAD_RULE
from analyzers.rules.ssot003_legacy_event_payload import inspect, is_string_time
from analyzers.source import Slicer, UnparsableSource, parse_expression, parse_quietly
from analyzers.triggers import HitKind

if TYPE_CHECKING:
    import libcst as cst

    _Item = TypeVar("_Item", cst.ImportAlias, cst.Arg, cst.BaseDictElement)
else:
    _Item = TypeVar("_Item")

_BOM = "\ufeff"
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")
# `datetime.utcnow()` is naive: its .timestamp() reads it as local time, off by the UTC offset.
_NAIVE_UTC = frozenset({"utcnow", "utcfromtimestamp"})

# A proposed fix and the findings (by their index in the caller's list) it claims to remove.
_Proposal = tuple[Fix, list[tuple[int, Finding]]]


def apply_fixes(text: str, fixes: Iterable[Fix]) -> str:
    """``text`` with ``fixes`` applied bottom-up; a fix overlapping an applied one is skipped.

    Identical fixes (several findings of one statement share one rewrite) apply once; fixes
    outside the file are ignored. A leading byte-order mark is kept.
    """
    bom = _BOM if text.startswith(_BOM) else ""
    lines = split_lines(text[len(bom) :])
    ordered = sorted(
        dict.fromkeys(fixes),
        key=lambda f: (f.start_line, f.end_line, f.title, f.replacement),
        reverse=True,
    )
    applied: list[tuple[int, int]] = []
    for fix in ordered:
        start, end = fix.start_line, fix.end_line
        if start < 1 or end < start or end > len(lines):
            continue
        if any(start <= done_end and done_start <= end for done_start, done_end in applied):
            continue
        lines[start - 1 : end] = [fix.replacement]
        applied.append((start, end))
    return bom + "".join(lines)


def attach_fixes(path: str, text: str, findings: list[Finding], policy: Policy) -> list[Finding]:
    """``findings`` with ``fix`` set where a proven fix exists (the others are unchanged).

    ``text`` is the content the findings were computed from. Suppressed findings, findings
    that already carry a fix, attribute uses (``um.UnifiedWebSocketManager``), star imports
    and imports whose replacement cannot be known get no fix.
    """
    body = text.removeprefix(_BOM)
    lines = split_lines(body)
    wanted = [(i, f) for i, f in enumerate(findings) if f.fix is None and f.suppressed is None]
    imports = [(i, f) for i, f in wanted if f.rule == IMPORT_RULE and f.matched.startswith("from ")]
    payloads = [(i, f) for i, f in wanted if f.rule == PAYLOAD_RULE]
    proposals: list[_Proposal] = []
    if imports:
        proposals.extend(_import_fixes(path, body, lines, imports, policy))
    if payloads and policy.event_schemas:
        proposals.extend(_payload_fixes(lines, payloads, policy.event_schemas))
    if not proposals:
        return list(findings)
    proven = _proven(path, text, policy, proposals)
    return [replace(f, fix=proven[i]) if i in proven else f for i, f in enumerate(findings)]


def _proven(path: str, text: str, policy: Policy, proposals: list[_Proposal]) -> dict[int, Fix]:
    """The fix of each finding whose proposal round-trips (see the module docstring)."""
    before = analyze(path, text, policy).active
    out: dict[int, Fix] = {}
    for fix, claimed in proposals:
        fixed = apply_fixes(text, [fix])
        try:
            parse_quietly(fixed.removeprefix(_BOM))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        after = analyze(path, fixed, policy).active
        rules = {finding.rule for _, finding in claimed} | {"SSOT900"}
        old = Counter(f.fingerprint for f in before if f.rule in rules)
        new = Counter(f.fingerprint for f in after if f.rule in rules)
        if new - old:
            continue  # the rewrite made something the rule reports
        gone = old - new
        for index, finding in claimed:
            if gone[finding.fingerprint] > 0:
                gone[finding.fingerprint] -= 1
                out[index] = fix
    return out


# --- shared helpers ---------------------------------------------------------------------


def _char_col(line: str, col: int) -> int:
    """``ast`` columns count UTF-8 bytes; libcst and str indexing count characters."""
    return len(line.encode("utf-8", "surrogatepass")[:col].decode("utf-8", "surrogatepass"))


def _newline(line: str) -> str:
    for ending in ("\r\n", "\n", "\r"):
        if line.endswith(ending):
            return ending
    return "\n"


def _ended(text: str, newline: str) -> str:
    return text if text.endswith(("\n", "\r")) else text + newline


def _region(lines: list[str], start: int, end: int) -> tuple[str, str]:
    """Lines ``start..end`` as a parsable module, and the header added to make it one.

    An indented region gets an ``if 1:`` header so that it keeps its own columns.
    """
    text = "".join(lines[start - 1 : end])
    header = "if 1:" + _newline(lines[start - 1]) if text[:1] in (" ", "\t") else ""
    return header + text, header


def _compiles(source: str) -> bool:
    try:
        parse_quietly(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _code(node: cst.CSTNode) -> str:
    import libcst as cst

    return cst.Module(body=()).code_for_node(node)


def _without(items: Sequence[_Item], drop: set[int]) -> list[_Item]:
    """``items`` without the positions in ``drop``, commas and comments kept in place."""
    kept = [item for i, item in enumerate(items) if i not in drop]
    if kept and len(items) - 1 in drop:
        # The new last item takes the old last item's trailing comma (or its absence).
        kept[-1] = kept[-1].with_changes(comma=_tail_comma(kept[-1].comma, items[-1].comma))
    return kept


def _tail_comma(
    own: cst.Comma | cst.MaybeSentinel, last: cst.Comma | cst.MaybeSentinel
) -> cst.Comma | cst.MaybeSentinel:
    import libcst as cst

    if not isinstance(own, cst.Comma):
        return last
    after = own.whitespace_after
    if not isinstance(after, cst.ParenthesizedWhitespace) or after.first_line.comment is None:
        return last
    # One item per line and this one has a comment: keep its line, close like the old last.
    if isinstance(last, cst.Comma) and isinstance(
        last.whitespace_after, cst.ParenthesizedWhitespace
    ):
        closing = last.whitespace_after
        return own.with_changes(
            whitespace_after=after.with_changes(indent=closing.indent, last_line=closing.last_line)
        )
    return own.with_changes(
        whitespace_after=after.with_changes(indent=False, last_line=cst.SimpleWhitespace(""))
    )


def _appended(items: Sequence[_Item], new: Iterable[_Item]) -> list[_Item]:
    """``items`` followed by ``new``, laid out like the existing separators."""
    import libcst as cst

    out = list(items)
    for item in new:
        if not out:
            out.append(item)
            continue
        last = out[-1]
        between = out[-2].comma if len(out) > 1 else cst.MaybeSentinel.DEFAULT
        if not isinstance(between, cst.Comma):
            between = cst.MaybeSentinel.DEFAULT
        out[-1] = last.with_changes(comma=between)
        out.append(item.with_changes(comma=last.comma))
    return out


def _comments(whitespace: object) -> list[str]:
    import libcst as cst

    if isinstance(whitespace, cst.ParenthesizedWhitespace) and whitespace.first_line.comment:
        return [whitespace.first_line.comment.value]
    return []


# --- SSOT001: imports from deprecated paths ---------------------------------------------


@dataclass
class _ImportRegion:
    """Lines holding one or more import statements to rewrite, and the aliases to rewrite."""

    start: int
    end: int
    targets: dict[tuple[int, int], Concept]
    claimed: list[tuple[int, Finding]]


def _import_fixes(
    path: str,
    body: str,
    lines: list[str],
    findings: list[tuple[int, Finding]],
    policy: Policy,
) -> list[_Proposal]:
    """One rewrite per import statement (all its deprecated names), claimed by its findings."""
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    hits: list[tuple[int, HitKind]] = [
        (starts[f.line - 1] + _char_col(lines[f.line - 1], f.col), "stmt")
        for _, f in findings
        if f.line <= len(lines)
    ]
    try:
        parsed = Slicer(body).parse(sorted(set(hits)))
    except UnparsableSource:
        return []
    located: dict[tuple[int, int], tuple[ast.alias, ast.ImportFrom, tuple[ast.AST, ...]]] = {}
    for stmt, ancestors in _imports_in(s for sl in parsed.slices for s in sl.statements):
        for alias in stmt.names:
            located[(alias.lineno, alias.col_offset)] = (alias, stmt, ancestors)
    current, is_package = module_name(path, policy.source_roots)
    concepts = {c.name: c for c in policy.concepts}
    regions: list[_ImportRegion] = []
    for index, finding in findings:
        found = located.get((finding.line, finding.col))
        concept = concepts.get(finding.concept)
        if found is None or concept is None:
            continue
        alias, stmt, ancestors = found
        base = resolve_relative(stmt.module, stmt.level, current, is_package)
        if not _replaceable(alias, base, concept):
            continue
        span = _statement_span(lines, stmt, ancestors)
        if span is None:
            continue
        key = (alias.lineno, _char_col(lines[alias.lineno - 1], alias.col_offset))
        regions.append(_ImportRegion(span[0], span[1], {key: concept}, [(index, finding)]))
    proposals: list[_Proposal] = []
    for region in _merged(regions):
        replacement = _rewrite_imports(lines, region)
        if replacement is None:
            continue
        canonicals = sorted({c.canonical for c in region.targets.values()})
        title = "Import " + ", ".join(f"`{c}`" for c in canonicals) + " from its canonical path"
        fix = Fix(title, region.start, region.end, replacement, safe=IMPORT_RULE in SAFE_FIX_RULES)
        proposals.append((fix, region.claimed))
    return proposals


def _replaceable(alias: ast.alias, base: str, concept: Concept) -> bool:
    """Whether the canonical replacement of ``from base import alias.name`` is known."""
    if alias.name == "*" or deprecated_match(concept.canonical, concept) is not None:
        return False
    item = deprecated_match(f"{base}.{alias.name}" if base else alias.name, concept)
    if item is None:
        return False
    if item.endswith(".*"):
        # A deprecated module holds many names; only the concept's own name has a known home.
        return alias.name == concept.canonical_name
    return f"{base}.{alias.name}" == item


def _imports_in(
    statements: Iterable[ast.stmt],
) -> Iterator[tuple[ast.ImportFrom, tuple[ast.AST, ...]]]:
    """Every ``ImportFrom`` with its enclosing statements (outermost first)."""
    stack: list[tuple[ast.AST, tuple[ast.AST, ...]]] = [(s, ()) for s in reversed(list(statements))]
    while stack:
        node, ancestors = stack.pop()
        if isinstance(node, ast.ImportFrom):
            yield node, ancestors
            continue
        inner = (*ancestors, node) if isinstance(node, ast.stmt) else ancestors
        for name in _BLOCK_FIELDS:
            children = getattr(node, name, None)
            if isinstance(children, list):
                stack.extend((child, inner) for child in reversed(children))


def _statement_span(
    lines: list[str], stmt: ast.ImportFrom, ancestors: tuple[ast.AST, ...]
) -> tuple[int, int] | None:
    """The smallest whole-line region around ``stmt`` that parses on its own.

    Usually the import's own lines; ``except ImportError: from m import X`` needs the whole
    ``try`` statement.
    """
    for node in (stmt, *reversed(ancestors)):
        start = getattr(node, "lineno", None)
        end = getattr(node, "end_lineno", None)
        if start is None or end is None:
            continue
        if _compiles(_region(lines, start, end)[0]):
            return start, end
    return None


def _merged(regions: list[_ImportRegion]) -> list[_ImportRegion]:
    """Overlapping regions (several names of one statement) as one region."""
    out: list[_ImportRegion] = []
    for region in sorted(regions, key=lambda r: (r.start, r.end)):
        if out and region.start <= out[-1].end:
            last = out[-1]
            last.end = max(last.end, region.end)
            last.targets.update(region.targets)
            last.claimed.extend(region.claimed)
        else:
            out.append(region)
    return out


def _rewrite_imports(lines: list[str], region: _ImportRegion) -> str | None:
    """The region's lines with every targeted alias imported from its canonical path."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    source, header = _region(lines, region.start, region.end)
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except cst.ParserSyntaxError:
        return None
    positions = wrapper.resolve(PositionProvider)
    shift = region.start - 1 - (1 if header else 0)

    def target(alias: cst.ImportAlias) -> Concept | None:
        start = positions[alias].start
        return region.targets.get((start.line + shift, start.column))

    class CanonicalImports(cst.CSTTransformer):
        def leave_SimpleStatementLine(
            self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
        ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
            body, extra = _rewrite_small_statements(original_node.body, target)
            if not extra:
                return updated_node.with_changes(body=body)
            split_off = [
                cst.SimpleStatementLine(
                    body=[statement],
                    trailing_whitespace=cst.TrailingWhitespace(
                        whitespace=cst.SimpleWhitespace("  "),
                        comment=cst.Comment("  ".join(comments)),
                    )
                    if comments
                    else cst.TrailingWhitespace(),
                )
                for statement, comments in extra
            ]
            return cst.FlattenSentinel([updated_node.with_changes(body=body), *split_off])

        def leave_SimpleStatementSuite(
            self, original_node: cst.SimpleStatementSuite, updated_node: cst.SimpleStatementSuite
        ) -> cst.BaseSuite:
            # `if TYPE_CHECKING: from m import A, B`: the split-off import joins the same line.
            body, extra = _rewrite_small_statements(original_node.body, target)
            return updated_node.with_changes(body=[*body, *(statement for statement, _ in extra)])

    code = wrapper.module.visit(CanonicalImports()).code
    if header:
        code = code[len(header) :]
    original = "".join(lines[region.start - 1 : region.end])
    code = _ended(code, _newline(lines[region.end - 1]))
    return None if code == original else code


def _rewrite_small_statements(
    statements: Sequence[cst.BaseSmallStatement],
    target: Callable[[cst.ImportAlias], Concept | None],
) -> tuple[list[cst.BaseSmallStatement], list[tuple[cst.ImportFrom, list[str]]]]:
    """The statements rewritten in place, plus split-off imports (with their comments)."""
    import libcst as cst

    body: list[cst.BaseSmallStatement] = []
    extra: list[tuple[cst.ImportFrom, list[str]]] = []
    for statement in statements:
        if isinstance(statement, cst.ImportFrom) and not isinstance(
            statement.names, cst.ImportStar
        ):
            moves = {i: c for i, a in enumerate(statement.names) if (c := target(a)) is not None}
            if moves and _distinct_locals(statement.names):
                kept, split = _rewrite_from(statement, statement.names, moves)
                body.append(kept)
                extra.extend(split)
                continue
        body.append(statement)
    return body, extra


def _distinct_locals(names: Sequence[cst.ImportAlias]) -> bool:
    # `from m import A as X, B as X`: the last binding wins, and a split would reorder them.
    local = [a.evaluated_alias or a.evaluated_name for a in names]
    return len(local) == len(set(local))


def _rewrite_from(
    statement: cst.ImportFrom,
    names: Sequence[cst.ImportAlias],
    moves: dict[int, Concept],
) -> tuple[cst.ImportFrom, list[tuple[cst.ImportFrom, list[str]]]]:
    """``from m import ...`` with the names in ``moves`` imported from their canonical homes.

    When every name moves, the statement itself is rewritten (keeping its layout and
    comments); otherwise the other names stay and the moved ones get a statement of their own.
    """
    import libcst as cst

    renamed = [_canonical_alias(a, moves[i]) if i in moves else a for i, a in enumerate(names)]
    groups: dict[str, list[int]] = {}
    for i, concept in moves.items():
        groups.setdefault(concept.canonical_module, []).append(i)
    split = list(groups.items())
    if len(moves) < len(names):
        kept = statement.with_changes(names=_without(renamed, set(moves)))
    else:
        module, in_place = split.pop(0)
        whitespace = statement.whitespace_after_from
        kept = statement.with_changes(
            module=_dotted(module),
            relative=(),
            names=_without(renamed, set(moves) - set(in_place)),
            whitespace_after_from=whitespace if whitespace.value else cst.SimpleWhitespace(" "),
            whitespace_before_import=cst.SimpleWhitespace(" "),
        )
    extra = []
    for module, indexes in split:
        aliases = [_fresh_alias(renamed[i]) for i in indexes]
        comments = [
            c for i in indexes for c in _comments(getattr(names[i].comma, "whitespace_after", None))
        ]
        extra.append((cst.ImportFrom(module=_dotted(module), names=aliases), comments))
    return kept, extra


def _fresh_alias(alias: cst.ImportAlias) -> cst.ImportAlias:
    """The alias with default spacing (it moves out of a possibly parenthesised statement)."""
    import libcst as cst

    asname = alias.asname
    return cst.ImportAlias(
        name=alias.name, asname=None if asname is None else cst.AsName(name=asname.name)
    )


def _canonical_alias(alias: cst.ImportAlias, concept: Concept) -> cst.ImportAlias:
    """``X`` or ``X as a`` as the canonical name, bound to the same local name as before."""
    import libcst as cst

    local = alias.evaluated_alias or alias.evaluated_name
    canonical = concept.canonical_name
    if local == canonical:
        # `X as X` marks an explicit re-export (PEP 484); keep the marker, drop other aliases.
        explicit = alias.evaluated_alias == alias.evaluated_name
        return alias.with_changes(
            name=cst.Name(canonical), asname=alias.asname if explicit else None
        )
    asname = alias.asname or cst.AsName(name=cst.Name(local))
    return alias.with_changes(name=cst.Name(canonical), asname=asname)


def _dotted(module: str) -> cst.Attribute | cst.Name:
    import libcst as cst

    first, *rest = module.split(".")
    node: cst.Attribute | cst.Name = cst.Name(first)
    for part in rest:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


# --- SSOT003: legacy event payloads -----------------------------------------------------


def _payload_fixes(
    lines: list[str],
    findings: list[tuple[int, Finding]],
    schemas: Sequence[EventSchema],
) -> list[_Proposal]:
    """One rewrite per group of payloads sharing lines, claimed by their findings."""
    groups: list[list[tuple[int, Finding]]] = []
    for item in sorted(findings, key=lambda p: (p[1].line, p[1].col)):
        if groups and item[1].line <= max(f.end_line for _, f in groups[-1]):
            groups[-1].append(item)
        else:
            groups.append([item])
    proposals = (_payload_group_fix(lines, group, schemas) for group in groups)
    return [p for p in proposals if p is not None]


def _payload_group_fix(
    lines: list[str], group: list[tuple[int, Finding]], schemas: Sequence[EventSchema]
) -> _Proposal | None:
    """The lines of a group of payloads with each payload in them rewritten, if any changes."""
    start = group[0][1].line
    end = max(f.end_line for _, f in group)
    if end > len(lines):
        return None
    offsets = [0]
    for line in lines[start - 1 : end]:
        offsets.append(offsets[-1] + len(line))

    def offset(line: int, col: int) -> int:
        return offsets[line - start] + _char_col(lines[line - 1], col)

    spans = sorted({(offset(f.line, f.col), offset(f.end_line, f.end_col)) for _, f in group})
    outermost: list[tuple[int, int]] = []
    for a, b in spans:
        if outermost and a < outermost[-1][1]:
            continue  # nested in a payload that is rewritten whole (inner payloads included)
        outermost.append((a, b))
    original = "".join(lines[start - 1 : end])
    text = original
    for a, b in reversed(outermost):
        rewritten = _rewrite_payloads(text[a:b], schemas)
        if rewritten is not None:
            text = text[:a] + rewritten + text[b:]
    if text == original:
        return None
    events = sorted({f.matched.split(":")[0] for _, f in group})
    title = "Rewrite the " + ", ".join(f"`{e}`" for e in events) + " payload in its canonical shape"
    safe = PAYLOAD_RULE in SAFE_FIX_RULES
    return Fix(title, start, end, _ended(text, _newline(lines[end - 1])), safe), group


def _rewrite_payloads(code: str, schemas: Sequence[EventSchema]) -> str | None:
    """The expression ``code`` with every payload in it that can be made canonical, made so."""
    import libcst as cst

    try:
        expression = cst.parse_expression(code)
    except cst.ParserSyntaxError:
        return None

    class CanonicalPayloads(cst.CSTTransformer):
        def leave_Dict(self, original_node: cst.Dict, updated_node: cst.Dict) -> cst.BaseExpression:
            return _canonical_payload(updated_node, schemas) or updated_node

        def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
            return _canonical_payload(updated_node, schemas) or updated_node

    rewritten = expression.visit(CanonicalPayloads())
    if not isinstance(rewritten, cst.BaseExpression):
        return None
    new_code = _code(rewritten)
    return None if new_code == code else new_code


def _canonical_payload(
    node: cst.Dict | cst.Call, schemas: Sequence[EventSchema]
) -> cst.Dict | cst.Call | None:
    """The canonical form of a payload of the first schema that reports it, when one exists."""
    import libcst as cst

    if isinstance(node, cst.Call) and not (
        isinstance(node.func, cst.Name) and node.func.value == "dict"
    ):
        return None
    tree = _as_ast(node)
    if tree is None:
        return None
    for schema in schemas:
        payload = inspect(tree, schema)
        if payload is None or not payload.problems:
            continue
        fixed = (
            _canonical_dict(node, schema)
            if isinstance(node, cst.Dict)
            else _canonical_call(node, schema)
        )
        if fixed is None:
            return None
        check = _as_ast(fixed)
        result = None if check is None else inspect(check, schema)
        # Offered only when the result is canonical: nothing for the rule to report.
        return fixed if result is not None and not result.problems else None
    return None


def _as_ast(node: cst.CSTNode) -> ast.expr | None:
    try:
        return parse_expression(_code(node).strip())
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


@dataclass
class _Plan:
    """What making one payload canonical takes, independent of its syntax."""

    renamed: list[str | None]
    strays: list[int]
    data_at: int | None
    add_empty_data: bool


def _plan(keys: list[str | None], schema: EventSchema) -> _Plan | None:
    """Renames, keys to move under ``data``; None when the result could not be canonical."""
    renamed = [None if k is None else schema.legacy_keys.get(k, k) for k in keys]
    names = [k for k in renamed if k is not None]
    if len(names) != len(set(names)):
        return None  # a legacy key and its canonical name both present: a person must choose
    spread = any(k is None for k in keys)
    present = set(names)
    if not spread and any(k not in present and k != schema.data_key for k in schema.required):
        return None  # a missing required key needs a value only the author knows
    canonical = schema.canonical_keys
    strays = [i for i, k in enumerate(renamed) if k is not None and k not in canonical]
    data_at = next((i for i, k in enumerate(renamed) if k == schema.data_key), None)
    add_empty = not strays and data_at is None and not spread and schema.data_key in schema.required
    return _Plan(renamed, strays, data_at, add_empty)


def _numeric_time(value: cst.BaseExpression, schema: EventSchema) -> cst.BaseExpression | None:
    """The timestamp value as the schema wants it: ``x.isoformat()`` becomes ``x.timestamp()``."""
    import libcst as cst

    tree = _as_ast(value)
    if schema.timestamp != "number" or tree is None or not is_string_time(tree):
        return value
    if not (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value == "isoformat"
        and not value.args
    ):
        return None  # a literal, an f-string or strftime(): no number to take it from
    receiver = value.func.value
    if isinstance(receiver, cst.Call):
        called = receiver.func
        name = called.attr.value if isinstance(called, cst.Attribute) else None
        if isinstance(called, cst.Name):
            name = called.value
        if name in _NAIVE_UTC:
            return None
    return value.with_changes(func=value.func.with_changes(attr=cst.Name("timestamp")))


def _canonical_dict(node: cst.Dict, schema: EventSchema) -> cst.Dict | None:
    import libcst as cst

    elements = list(node.elements)
    keys = [_dict_key(e) for e in elements]
    plan = _plan(keys, schema)
    if plan is None:
        return None
    quote = next((_quote_of(e.key) for e in elements if isinstance(e, cst.DictElement)), '"')
    for i, (old, new) in enumerate(zip(keys, plan.renamed, strict=True)):
        element = elements[i]
        if new is None or not isinstance(element, cst.DictElement):
            continue
        if old != new:
            element = element.with_changes(
                key=cst.SimpleString(_quoted(new, _quote_of(element.key)))
            )
        if new == schema.timestamp_key:
            value = _numeric_time(element.value, schema)
            if value is None:
                return None
            element = element.with_changes(value=value)
        elements[i] = element
    moved = [(str(plan.renamed[i]), elements[i].value) for i in plan.strays]
    if plan.strays and plan.data_at is not None:
        merged = _merged_data(elements[plan.data_at].value, moved, quote)
        if merged is None:
            return None
        elements[plan.data_at] = elements[plan.data_at].with_changes(value=merged)
        elements = _without(elements, set(plan.strays))
    elif plan.strays:
        first = elements[plan.strays[0]]
        data = cst.Dict([cst.DictElement(cst.SimpleString(_quoted(k, quote)), v) for k, v in moved])
        elements[plan.strays[0]] = first.with_changes(
            key=cst.SimpleString(_quoted(schema.data_key, quote)), value=data
        )
        elements = _without(elements, set(plan.strays[1:]))
    elif plan.add_empty_data:
        elements = _appended(
            elements,
            [cst.DictElement(cst.SimpleString(_quoted(schema.data_key, quote)), cst.Dict([]))],
        )
    return node.with_changes(elements=elements)


def _canonical_call(node: cst.Call, schema: EventSchema) -> cst.Call | None:
    import libcst as cst

    args = list(node.args)
    if any(a.keyword is None and a.star != "**" for a in args):
        return None
    keys = [None if a.keyword is None else a.keyword.value for a in args]
    plan = _plan(keys, schema)
    if plan is None or not all(k is None or _is_keyword_name(k) for k in plan.renamed):
        return None
    if (plan.strays or plan.add_empty_data) and not _is_keyword_name(schema.data_key):
        return None
    for i, (old, new) in enumerate(zip(keys, plan.renamed, strict=True)):
        if new is None:
            continue
        arg = args[i]
        if old != new:
            arg = arg.with_changes(keyword=cst.Name(new))
        if new == schema.timestamp_key:
            value = _numeric_time(arg.value, schema)
            if value is None:
                return None
            arg = arg.with_changes(value=value)
        args[i] = arg
    moved = [(str(plan.renamed[i]), args[i].value) for i in plan.strays]
    if plan.strays and plan.data_at is not None:
        merged = _merged_data(args[plan.data_at].value, moved, '"')
        if merged is None:
            return None
        args[plan.data_at] = args[plan.data_at].with_changes(value=merged)
        args = _without(args, set(plan.strays))
    elif plan.strays:
        data = cst.Call(func=cst.Name("dict"), args=[_keyword_arg(k, v) for k, v in moved])
        args[plan.strays[0]] = args[plan.strays[0]].with_changes(
            keyword=cst.Name(schema.data_key), value=data
        )
        args = _without(args, set(plan.strays[1:]))
    elif plan.add_empty_data:
        args = _appended(args, [_keyword_arg(schema.data_key, cst.Dict([]))])
    return node.with_changes(args=args)


def _merged_data(
    target: cst.BaseExpression, moved: list[tuple[str, cst.BaseExpression]], quote: str
) -> cst.BaseExpression | None:
    """The existing ``data`` value with ``moved`` added, when it is a literal we can extend."""
    import libcst as cst

    if isinstance(target, cst.Dict):
        existing = {_dict_key(e) for e in target.elements}
        if any(k in existing for k, _ in moved):
            return None
        new = [cst.DictElement(cst.SimpleString(_quoted(k, quote)), v) for k, v in moved]
        return target.with_changes(elements=_appended(target.elements, new))
    if (
        isinstance(target, cst.Call)
        and isinstance(target.func, cst.Name)
        and target.func.value == "dict"
        and all(a.keyword is not None or a.star == "**" for a in target.args)
    ):
        existing_names = {a.keyword.value for a in target.args if a.keyword is not None}
        if any(k in existing_names or not _is_keyword_name(k) for k, _ in moved):
            return None
        return target.with_changes(
            args=_appended(target.args, [_keyword_arg(k, v) for k, v in moved])
        )
    return None  # `data=payload_data`: what it holds is unknown here


def _dict_key(element: cst.BaseDictElement) -> str | None:
    import libcst as cst

    if isinstance(element, cst.DictElement) and isinstance(
        element.key, cst.SimpleString | cst.ConcatenatedString
    ):
        value = element.key.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _quote_of(key: cst.BaseExpression) -> str:
    import libcst as cst

    if isinstance(key, cst.SimpleString) and key.value[:1] == "'":
        return "'"
    return '"'


def _quoted(key: str, quote: str) -> str:
    if key.isprintable() and quote not in key and "\\" not in key:
        return f"{quote}{key}{quote}"
    return repr(key)


def _is_keyword_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _keyword_arg(name: str, value: cst.BaseExpression) -> cst.Arg:
    import libcst as cst

    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )
