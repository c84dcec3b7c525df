"""``analyze(path, data, policy) -> FileResult``: the pure core of SSOT guard.

Fast path first: size and binary checks, then the policy's trigger literals on the raw
bytes. Only files that can hold a finding are decoded, and in them only the statements
around each trigger are parsed (see :mod:`analyzers.source`). Nothing here does I/O.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from analyzers import suppression
from analyzers.context import ModuleContext, module_name, unsubscripted
from analyzers.findings import ENGINE_VERSION, Finding
from analyzers.patterns import MAX_PATH_CHARS
from analyzers.policy import Policy
from analyzers.rules import RULES
from analyzers.rules.ssot001_noncanonical_import import deprecated_match
from analyzers.source import ParsedSource, Slicer, UnparsableSource, parse_whole
from analyzers.triggers import HitKind, TriggerSet, triggers_for

__all__ = ["ENGINE_VERSION", "FileResult", "analyze", "unanalysable"]

_DOTTED_ROOT = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\.")


@dataclass
class FileResult:
    """What the engine found in one file (suppressed findings included, marked)."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    candidate: bool = False

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed is None]


def unanalysable(path: str, reason: str, policy: Policy, line: int = 1, col: int = 0) -> Finding:
    """An SSOT900 finding for a file the engine cannot read as Python."""
    scope = policy.path_scope(path)
    return Finding(
        rule="SSOT900",
        concept="",
        path=path,
        line=line,
        col=col,
        end_line=line,
        end_col=col,
        message=f"file cannot be analysed: {reason}",
        matched=reason.split(":")[0],
        scope=scope,
        severity=policy.severity("SSOT900", scope),
    )


def analyze(
    path: str, data: bytes | str, policy: Policy, *, full_parse: bool = False
) -> FileResult:
    """Findings of every enabled rule in one file.

    ``data`` is the file's content; bytes are preferred (the prefilter never decodes a file
    that cannot match). ``full_parse`` parses the whole file instead of slices (used by tests
    to prove the slicing finds the same things).
    """
    if len(path) > MAX_PATH_CHARS:
        # Globs never see such a path (GlobSet.match), so it is reported, not matched.
        return _only(path, policy, f"path longer than {MAX_PATH_CHARS:,} characters")
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    if len(raw) > policy.max_file_size:
        return _only(
            path, policy, f"over the size limit ({len(raw):,} > {policy.max_file_size:,} bytes)"
        )
    if b"\0" in raw:
        return _only(path, policy, "binary content (NUL byte)")
    text: str | None
    if isinstance(data, str):
        text = data
    elif raw.isascii():
        text = None  # valid as it is: decoded only if the prefilter wants it (most do not)
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _only(path, policy, f"not UTF-8 (byte {exc.start})")
    triggers = triggers_for(policy)
    if not full_parse and not triggers.is_candidate(raw):
        return FileResult(path)
    if text is None:
        text = raw.decode("ascii")
    text = text.removeprefix("\ufeff")
    hits = [] if full_parse else triggers.hits(text)
    if not full_parse and not hits:
        return FileResult(path)  # the literals stand only where no rule can look
    try:
        parsed = (
            parse_whole(text) if full_parse else _parse_slices(path, text, policy, triggers, hits)
        )
    except UnparsableSource as exc:
        return _only(path, policy, f"syntax error: {exc} (line {exc.line})", exc.line, exc.col)
    except (RecursionError, MemoryError) as exc:
        return _only(path, policy, f"too deeply nested to analyse ({type(exc).__name__})")
    try:
        findings = run_rules(path, parsed, policy)
    except (RecursionError, MemoryError) as exc:
        # A tree that parses can still be too deep for a rule's recursive walk (a chain of
        # a thousand attributes): report the file, never crash the scan or the worker.
        return _only(path, policy, f"too deeply nested to analyse ({type(exc).__name__})")
    return FileResult(path, suppression.apply(findings, text), candidate=True)


def run_rules(path: str, parsed: ParsedSource, policy: Policy) -> list[Finding]:
    """Every enabled rule over an already parsed file, sorted by position."""
    ctx = ModuleContext.build(path, policy, parsed)
    findings: list[Finding] = []
    for code, rule in RULES.items():
        if rule.check is None:
            continue
        findings.extend(f for f in rule.check(ctx) if policy.severity(code, f.scope) != "off")
    findings.sort(key=lambda f: (f.line, f.col, f.rule))
    return _dedupe(findings)


def _parse_slices(
    path: str, text: str, policy: Policy, triggers: TriggerSet, hits: list[tuple[int, HitKind]]
) -> ParsedSource:
    """The statements around trigger hits, plus what the rules need to resolve their names.

    Rules resolve names through imports anywhere in the file: ``os.path.join`` needs the
    ``import os`` that binds ``os``, and ``class Proxy(B)`` needs ``from m import Base as B``
    (while the class statement itself holds no trigger literal). So parsing repeats until
    closed: the imports of every name that a rule resolves in the parsed code, and the uses
    of every name that an import binds to something the policy names. Each round only adds
    names, so it ends.
    """
    slicer = Slicer(text)
    parsed = slicer.parse(hits)
    module, is_package = module_name(path, policy.source_roots)
    literals = {s.decode() for s in triggers.stmt_literals}
    imports_done: set[str] = set()
    uses_done: set[str] = set(literals)
    walked: set[int] = set()
    while not parsed.whole_file:
        new = [sl for sl in parsed.slices if id(sl) not in walked]
        if not new:
            break
        walked.update(id(sl) for sl in new)
        ctx = ModuleContext(path, policy, ParsedSource(text, new), module, is_package)
        roots = _resolved_roots(ctx, literals) - imports_done
        bound = {
            n
            for n, q in ctx.imported.items()
            if n not in uses_done and _names_policy_path(q, policy)
        }
        imports_done |= roots
        uses_done |= bound
        hits = slicer.import_hits(roots) + slicer.use_hits(bound)
        if not hits:
            break
        parsed = slicer.parse(sorted(hits))
    return parsed


def _resolved_roots(ctx: ModuleContext, literals: set[str]) -> set[str]:
    """Names whose import decides a rule's verdict: roots of attribute chains that spell a
    trigger, of class bases, and of module-level assigned names (re-exports)."""
    roots: set[str] = set()
    exprs: list[ast.expr] = []
    for attr, _ in ctx.of(ast.Attribute):
        chain: ast.expr = attr
        spells_trigger = False
        while isinstance(chain, ast.Attribute):
            spells_trigger = spells_trigger or chain.attr in literals
            chain = chain.value
        if spells_trigger:
            exprs.append(chain)
    for cls, _ in ctx.of(ast.ClassDef):
        exprs.extend(unsubscripted(base) for base in cls.bases)
    for assign, scope in ctx.of(ast.Assign, ast.AnnAssign):
        if not scope and assign.value is not None:
            exprs.append(assign.value)
    for const, _ in ctx.of(ast.Constant):
        # A string annotation ("pkg.old.Symbol") is resolved like code.
        value = const.value
        if isinstance(value, str) and any(literal in value for literal in literals):
            roots.update(_DOTTED_ROOT.findall(value))
    for expr in exprs:
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        if isinstance(expr, ast.Name):
            roots.add(expr.id)
    return roots


def _names_policy_path(qualified: str, policy: Policy) -> bool:
    """True when a name bound to ``qualified`` can, used bare, make a rule report it."""
    for concept in policy.concepts:
        if qualified == concept.canonical or deprecated_match(qualified, concept) is not None:
            return True
        impl = concept.implementation
        short = {b.rpartition(".")[2] for b in impl.bases} if impl is not None else set()
        if qualified.rpartition(".")[2] in short:
            return True
    return False


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, int, str]] = set()
    out = []
    for f in findings:
        key = (f.rule, f.line, f.col, f.fingerprint)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _only(path: str, policy: Policy, reason: str, line: int = 1, col: int = 0) -> FileResult:
    finding = unanalysable(path, reason, policy, line, col)
    if policy.severity("SSOT900", finding.scope) == "off":
        return FileResult(path, candidate=True)
    return FileResult(path, [finding], candidate=True)
