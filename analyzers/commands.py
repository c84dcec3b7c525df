"""What each built-in ``ssot`` command does (the parser lives in :mod:`analyzers.cli`)."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from analyzers import gitio
from analyzers.cache import seal, unseal
from analyzers.exit_codes import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, UsageError
from analyzers.findings import ENGINE_VERSION
from analyzers.policy import Policy
from analyzers.policy_loader import (
    POLICY_PATHS,
    PolicyError,
    discover_policy,
    load_policy,
    local_parent_fetcher,
    policy_table,
    read_policy_text,
)
from analyzers.report_replay import CACHE_DIR, Recording, ScanRequest

if TYPE_CHECKING:
    from analyzers.findings import Finding
    from analyzers.progress import ConceptTotal
    from analyzers.report import Report


def run(args: argparse.Namespace, listing: gitio.PythonFileListing | None = None) -> int:
    """Run the parsed command; raise :class:`UsageError` for what the user must fix.

    ``listing``: the files of ``scan``'s root as already started by the caller.
    """
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "scan": functools.partial(cmd_scan, listing=listing),
        "check": cmd_check,
        "fix": cmd_fix,
        "consolidate": cmd_consolidate,
        "history": cmd_history,
        "explain": cmd_explain,
        "rules": cmd_rules,
    }
    handler = handlers[args.command]
    try:
        return handler(args)
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    except gitio.GitError as exc:
        raise UsageError(str(exc)) from None


def root_of(args: argparse.Namespace) -> Path:
    root = Path(args.root).resolve()
    if not root.is_dir():
        raise UsageError(f"--root {args.root}: not a directory")
    return root


def policy_of(args: argparse.Namespace, root: Path) -> Policy:
    """The policy named by ``--policy``, or the one found in the checkout."""
    if args.policy is not None:
        path = Path(args.policy)
        if not path.is_file():
            raise UsageError(f"--policy {args.policy}: no such file")
        source = str(args.policy)
        return load_policy(
            read_policy_text(path, source), source, local_parent_fetcher(root)
        ).policy
    found = discover_policy(root)
    if found is None:
        raise UsageError(
            f"no policy in {root}: add .github/ssot.toml (or [tool.ssot] in pyproject.toml), "
            "or pass --policy FILE; see docs/policy.md"
        )
    source, text = found
    if getattr(args, "no_cache", False):
        return load_policy(text, source, local_parent_fetcher(root)).policy
    return cached_policy(root, source, text)


def cached_policy(root: Path, source: str, text: str) -> Policy:
    """The validated policy, from ``.ssot_cache/`` when this exact text was seen before.

    Validation imports pydantic-core and checks every pattern and glob, which a warm scan
    need not do again; a policy that extends another is always validated (its parent may
    have changed).
    """
    import hashlib
    import pickle

    key = hashlib.sha256(f"{ENGINE_VERSION}\0{source}\0{text}".encode()).hexdigest()[:24]
    path = root / CACHE_DIR / f"policy-{key}.pickle"
    cacheable = "extends" not in text
    if cacheable:
        try:
            # Unpickled only when sealed with this user's key: a planted file is never loaded.
            payload = unseal(path.read_bytes())
            policy = None if payload is None else pickle.loads(payload)
            if isinstance(policy, Policy):
                return policy
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
            pass
    policy = load_policy(text, source, local_parent_fetcher(root)).policy
    if cacheable:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(seal(pickle.dumps(policy)))
        except OSError:
            pass  # a read-only checkout just validates every time
    return policy


def policy_at(root: Path, rev: str) -> tuple[Policy, str] | None:
    """The policy as it is at ``rev`` (what a change is gated by), if it has one."""
    for rel, _sha, data in gitio.read_blobs(root, rev, list(POLICY_PATHS)):
        if data is None:
            continue
        text = data.decode("utf-8", "replace")
        if rel.endswith("pyproject.toml") and policy_table(text, rel) is None:
            continue

        def fetch(name: str) -> tuple[str, str] | None:
            blobs = list(gitio.read_blobs(root, rev, [name]))
            return (
                None
                if not blobs or blobs[0][2] is None
                else (name, blobs[0][2].decode("utf-8", "replace"))
            )

        return load_policy(text, f"{rel}@{rev[:12]}", fetch).policy, rel
    return None


def _write(args: argparse.Namespace, text: str) -> None:
    if getattr(args, "output", None):
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output {args.output}: cannot write: {exc.strerror}") from None
    else:
        sys.stdout.write(text)


def named_paths(root: Path, paths: Sequence[str]) -> list[str] | None:
    """PATH arguments relative to ``root``, with ``/`` separators; None when one of them is
    ``root`` itself (the whole tree).

    Raises :class:`UsageError` naming a path that does not exist or lies outside ``root``:
    a mistyped path must not pass for a clean one.
    """
    named: list[str] = []
    whole = False
    for given in paths:
        full = os.path.normpath(os.path.join(root, given))  # an absolute `given` stays itself
        rel = _inside(root, full)
        if rel is None:  # a path to the checkout through a symlink (/tmp -> /private/tmp)
            rel = _inside(root, os.path.realpath(full))
        if rel is None:
            raise UsageError(f"{given}: outside the checkout {root} (see --root)")
        if not os.path.lexists(full):
            raise UsageError(f"{given}: no such file or folder in {root} (see --root)")
        # The others are still checked after the root: a mistyped one is still an error.
        whole = whole or rel == ""
        named.append(rel)
    return None if whole else list(dict.fromkeys(named))


def named_files(root: Path, paths: Sequence[str]) -> list[str] | None:
    """The files that a command's PATH arguments name (see :func:`named_paths`): a file as it
    is, a folder as the Python files under it that a whole scan lists (git's, or the folder's
    own outside a checkout). A folder with no Python file is said so."""
    named = named_paths(root, paths)
    if named is None:
        return None
    folders = [rel for rel in named if (root / rel).is_dir()]
    files = [rel for rel in named if rel not in folders]
    if folders:
        listed = gitio.PythonFileListing(root).result()
        for folder in folders:
            under = [p for p in listed if p.startswith(f"{folder}/")]
            if not under:
                note(f"{folder}: no Python file to analyse in this folder")
            files.extend(under)
    return list(dict.fromkeys(files))


def _inside(root: Path, path: str) -> str | None:
    """``path`` relative to ``root`` with ``/`` separators ("" for the root), or None when
    it lies outside."""
    rel = os.path.relpath(path, root)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return "" if rel == os.curdir else Path(rel).as_posix()


def cmd_scan(args: argparse.Namespace, listing: gitio.PythonFileListing | None = None) -> int:
    root = root_of(args)
    paths = named_files(root, args.paths) if args.paths else None
    # git lists the tree while this process imports what it needs and reads (cold: validates)
    # the policy: its first step, or a warm scan waits for git at the end of its start.
    if listing is None and paths is None:
        listing = gitio.PythonFileListing(root)
    # Before the policy is read: a policy edited meanwhile must not be stored as seen.
    whole = paths is None and not args.no_cache
    recording = Recording(str(root), request_of(args)) if whole else None
    try:
        from analyzers import runner
        from analyzers.progress import totals
        from analyzers.report import build_scan_report, render

        policy = policy_of(args, root)
    except BaseException:
        if listing is not None:
            listing.cancel()
        raise
    result = runner.scan(
        root,
        policy,
        paths,
        use_cache=not args.no_cache,
        jobs=args.jobs,
        fixes=args.format == "json",  # only JSON shows each finding's fix
        listing=listing,
    )
    findings = result.all_findings
    report = build_scan_report(findings, totals(findings, policy), files=result.files)
    text = render(report, args.format, verbose=args.list)
    _write(args, text)
    blocking = any(f.blocking for f in findings)
    code = EXIT_FINDINGS if args.strict and blocking else EXIT_OK
    if recording is not None and result.tree is not None:
        recording.save(result.tree, text, code)
    return code


def request_of(args: argparse.Namespace) -> ScanRequest:
    """What of the parsed ``scan`` command line its report depends on."""
    return ScanRequest(
        root=str(args.root),
        policy=None if args.policy is None else str(args.policy),
        format=args.format,
        list=args.list,
        strict=args.strict,
        output=None if args.output is None else str(args.output),
        no_cache=args.no_cache,
    )


def cmd_check(args: argparse.Namespace) -> int:
    from analyzers import runner
    from analyzers.report import build_check_report, render

    root = root_of(args)
    if gitio.toplevel(root) is None:
        raise UsageError(f"{root} is not a git checkout: `ssot check` compares with a git revision")
    base = base_of(args, root)
    policy: Policy | None = None
    if args.policy is None and args.policy_from == "base":
        found = policy_at(root, base)
        if found is None:
            local = discover_policy(root)
            if local is not None:
                note(f"the base {base[:12]} has no policy; using the working tree's {local[0]}")
        else:
            policy = found[0]
    if policy is None:
        policy = policy_of(args, root)
    result = runner.check(root, policy, base, use_cache=not args.no_cache)
    totals: list[ConceptTotal] = []
    if args.format == "markdown":
        totals = repository_totals(args, root, policy)
    report = build_check_report(result.comparison, totals, files=result.files, base=result.base)
    if args.format == "json":
        report = with_fixes(root, report, policy)
    _write(args, render(report, args.format))
    return EXIT_FINDINGS if result.comparison.blocking else EXIT_OK


def note(message: str) -> None:
    """A line for the person at the terminal, on stderr (stdout carries the report)."""
    print(f"ssot: {message}", file=sys.stderr)


def base_of(args: argparse.Namespace, root: Path) -> str:
    """The merge base to compare with: of ``--base``, else of the default branch found."""
    if gitio.commit_of(root, "HEAD") is None:
        raise UsageError("HEAD has no commit yet: commit once, then run `ssot check`")
    chosen: str | None = None
    rev = args.base
    if rev is None:
        found = gitio.default_base(root)
        if found is None:
            raise UsageError(
                "no branch to compare with: none of "
                f"{', '.join(gitio.DEFAULT_BASES)} exists here; pass --base REV, the branch "
                "this change will merge into (e.g. --base origin/develop)"
            )
        chosen, rev = found[0], found[0].partition(" ")[0]
    elif gitio.commit_of(root, rev) is None:
        raise UsageError(f"--base {rev}: no such commit, branch or tag in {root} (fetched?)")
    try:
        base = gitio.merge_base(root, rev)
    except gitio.NoMergeBase:
        advice = (
            "this is a shallow clone: fetch the history (`git fetch --unshallow`), or"
            if gitio.is_shallow(root)
            else "pass"
        )
        raise UsageError(
            f"no merge base: {rev} and HEAD share no history, so nothing tells what this "
            f"change added; {advice} --base with the branch HEAD was made from"
        ) from None
    if chosen is not None:
        note(f"comparing with {chosen}: merge base {base[:12]} (--base REV to choose another)")
    return base


def repository_totals(args: argparse.Namespace, root: Path, policy: Policy) -> list[ConceptTotal]:
    """Totals of the whole working tree, for the Markdown table's "Total -> target" column."""
    from analyzers import runner
    from analyzers.progress import totals

    scanned = runner.scan(root, policy, use_cache=not args.no_cache)
    return totals(scanned.all_findings, policy)


def with_fixes(root: Path, report: Report, policy: Policy) -> Report:
    """``report`` with the automatic fix of each listed finding that has one (for JSON).

    For ``check``'s few changed files; ``scan`` has the runner prove fixes in its workers.
    """
    from dataclasses import replace

    from analyzers import runner
    from analyzers.fix import attach_fixes

    def fixed(findings: list[Finding]) -> list[Finding]:
        by_path: dict[str, list[Finding]] = {}
        for finding in findings:
            by_path.setdefault(finding.path, []).append(finding)
        out: list[Finding] = []
        for rel, items in by_path.items():
            try:
                # Bytes: the findings were made from undecoded lines (CRLF stays CRLF).
                text = runner.read_regular(root / rel).decode("utf-8")
            except (OSError, UnicodeDecodeError):
                out.extend(items)
                continue
            out.extend(attach_fixes(rel, text, items, policy))
        return out

    # Fixed findings are gone from the tree: nothing to fix.
    return replace(report, new=fixed(report.new), unchanged=fixed(report.unchanged))


def cmd_fix(args: argparse.Namespace) -> int:
    import difflib

    from analyzers import runner
    from analyzers.fix import apply_fixes

    root = root_of(args)
    paths = named_files(root, args.paths) if args.paths else None
    policy = policy_of(args, root)
    rules = {r.upper() for r in args.rule} if args.rule else None
    result = runner.scan(
        root, policy, paths, use_cache=not args.no_cache, jobs=args.jobs, fixes=True
    )
    changed = 0
    for rel, findings in sorted(result.findings.items()):
        fixes = [
            f.fix
            for f in findings
            if f.fix is not None and f.suppressed is None and (rules is None or f.rule in rules)
        ]
        if not fixes:
            continue
        path = root / rel
        # Bytes, not read_text(): a CRLF file keeps its line endings (the fixes were made
        # from the same undecoded lines).
        text = runner.read_regular(path).decode("utf-8")
        fixed = apply_fixes(text, fixes)
        if fixed == text:
            continue
        changed += 1
        if args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    text.splitlines(True), fixed.splitlines(True), f"a/{rel}", f"b/{rel}"
                )
            )
        else:
            path.write_bytes(fixed.encode("utf-8"))
            print(
                f"fixed {rel} ({len(fixes)} fix{'es' if len(fixes) != 1 else ''})", file=sys.stderr
            )
    if not changed:
        print("nothing to fix", file=sys.stderr)
    return EXIT_OK


def cmd_consolidate(args: argparse.Namespace) -> int:
    """``--plan``: print the campaign's batches; ``--apply ID``: write one batch's files."""
    from analyzers import campaign, runner
    from analyzers.codeowners import CODEOWNERS_PATHS, Owners
    from analyzers.report.campaign_plan import render_plan

    root = root_of(args)
    paths = named_paths(root, args.paths) if args.paths else None
    policy = policy_of(args, root)
    result = runner.scan(root, policy, use_cache=not args.no_cache)
    owners = Owners()
    for rel in CODEOWNERS_PATHS:
        if (root / rel).is_file():
            owners = Owners((root / rel).read_text(encoding="utf-8", errors="replace"))
            break

    def read(rel: str) -> str | None:
        try:  # bytes, not read_text(): line endings are kept as they are
            return runner.read_regular(root / rel).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    plan = campaign.plan(result.findings, read, policy, owners, paths=paths or ())
    if args.plan:
        sys.stdout.write(render_plan(plan, args.format))
        return EXIT_OK
    batch = plan.batch(args.apply)
    if batch is None:
        known = ", ".join(b.id for b in plan.batches[:10]) or "none"
        raise UsageError(
            f"--apply {args.apply}: no such batch in the plan (batches: {known}); "
            "see `ssot consolidate --plan`"
        )
    for rel, text in batch.contents.items():
        (root / rel).write_bytes(text.encode("utf-8"))
    print(
        f"applied {batch.id}: {len(batch.fixes)} fixes in {len(batch.files)} files",
        file=sys.stderr,
    )
    for item in batch.left_out:
        print(f"left out {item.path}: {item.reason}", file=sys.stderr)
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from analyzers.history import compute_history
    from analyzers.history_format import render, summary

    root = root_of(args)
    fixed = policy_of(args, root) if args.policy is not None else None

    def policy_at_commit(sha: str) -> Policy | None:
        if fixed is not None:
            return fixed
        found = policy_at(root, sha)
        return None if found is None else found[0]

    history = compute_history(
        root,
        policy_at=policy_at_commit,
        since=args.since,
        every=args.every,
        use_cache=not args.no_cache,
        jobs=args.jobs,
        fixed_policy=args.policy is not None,
    )
    if not history.rows and not history.commits:
        print(f"ssot history: {root} has no commits yet: nothing to count.", file=sys.stderr)
    elif not history.rows and history.skipped:
        last = history.skipped[-1]
        raise UsageError(
            f"no commit of {root} has a usable policy (the newest, {last.commit_sha[:12]}: "
            f"{last.reason}); add .github/ssot.toml or pass --policy FILE; see docs/policy.md"
        )
    else:
        print(summary(history, args.every), file=sys.stderr)
    _write(args, render(history, args.format))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from analyzers.rules import get_rule

    try:
        rule = get_rule(args.code)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    print(f"# {rule.code}: {rule.name}\n\n{rule.summary}\n\n{rule.doc.strip()}")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from analyzers.rules import RULES

    for rule in RULES.values():
        print(f"{rule.code}  {rule.name:<24} {rule.summary}")
    return EXIT_OK


__all__ = ["EXIT_ERROR", "run"]
