"""The ``ssot`` command: ``scan``, ``check``, ``fix``, ``explain``, ``rules``.

Commands of the GitHub App (``serve``, ``worker``, ``demo``, ``replay``) are plugged in by
the ``bot`` package through the ``ssot.commands`` entry-point group, so this module (and so
``ssot --help``) never imports FastAPI, githubkit or libcst.

Exit codes: 0 clean, 1 a new finding in a blocking rule (``check``) or any blocking finding
(``scan --strict``), 2 usage, policy or git errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from analyzers.exit_codes import EXIT_ERROR, EXIT_OK, UsageError

FORMATS = ("text", "json", "sarif", "github", "markdown")
PLUGIN_GROUP = "ssot.commands"


def _plugins() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}


def build_parser(plugins: dict[str, Any] | None = None) -> argparse.ArgumentParser:
    """The argument parser; plugin commands are listed by name without importing them."""
    parser = argparse.ArgumentParser(
        prog="ssot",
        description="Keep a Python monorepo on its single source of truth.",
        epilog="Exit codes: 0 clean, 1 new blocking findings, 2 usage or policy error.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(p: argparse.ArgumentParser, formats: bool = True) -> None:
        p.add_argument(
            "--root", type=Path, default=Path("."), help="checkout to analyse (default: .)"
        )
        p.add_argument(
            "--policy",
            type=Path,
            help="policy file (default: .github/ssot.toml or [tool.ssot] in pyproject.toml)",
        )
        p.add_argument(
            "--no-cache", action="store_true", help="ignore and do not write .ssot_cache/"
        )
        if formats:
            p.add_argument(
                "--format", choices=FORMATS, default="text", help="output format (default: text)"
            )
            p.add_argument(
                "--output", "-o", type=Path, help="write the report to this file instead of stdout"
            )

    p = sub.add_parser("scan", help="totals per concept and rule for the whole checkout")
    common(p)
    p.add_argument("paths", nargs="*", help="only these files (relative to --root)")
    p.add_argument("--jobs", "-j", type=int, help="worker processes (default: one per core)")
    p.add_argument("--strict", action="store_true", help="exit 1 when any blocking finding exists")
    p.add_argument(
        "--list", action="store_true", help="list every finding, not only the totals (text format)"
    )

    p = sub.add_parser("check", help="gate a change: findings new against the merge base")
    common(p)
    p.add_argument(
        "--base",
        help="revision to compare with (its merge base with HEAD); default: the first of "
        "origin/HEAD, origin/main, origin/master, main, master that exists",
    )
    p.add_argument(
        "--policy-from",
        choices=("base", "worktree"),
        default="base",
        help="read the policy at the base (default: a change cannot loosen its own gate) or from the working tree",
    )

    p = sub.add_parser("fix", help="apply the automatic fixes")
    common(p, formats=False)
    p.add_argument("paths", nargs="*", help="only these files (relative to --root)")
    p.add_argument("--rule", action="append", help="only this rule (repeatable)")
    p.add_argument(
        "--diff",
        action="store_true",
        help="print the fixes as a unified diff instead of writing them",
    )

    p = sub.add_parser("explain", help="print a rule's documentation")
    p.add_argument("code", help="rule code, e.g. SSOT001")

    sub.add_parser("rules", help="list the rules")

    for name in sorted(plugins or {}):
        if name not in sub.choices:
            sub.add_parser(name, help=f"(from the App) see `ssot {name} --help`", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ssot`` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    builtin = {"scan", "check", "fix", "explain", "rules"}
    first = next((a for a in args_list if not a.startswith("-")), None)
    if first is not None and first not in builtin:
        plugin = _plugins().get(first)
        if plugin is not None:
            run: Callable[[list[str]], int] = plugin.load()
            rest = list(args_list)
            rest.remove(first)
            return run(rest)
    plugins = (
        _plugins()
        if (not args_list or "-h" in args_list or "--help" in args_list or first not in builtin)
        else {}
    )
    parser = build_parser(plugins)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    from analyzers import commands

    try:
        return int(commands.run(args))
    except UsageError as exc:
        print(f"ssot: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
