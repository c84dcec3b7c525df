"""The ``ssot`` command: ``scan``, ``check``, ``fix``, ``consolidate``, ``history``, ``explain``,
``rules``.

Commands of the GitHub App (``serve``, ``worker``, ``demo``, ``replay``, ``migrate``) are
plugged in by the ``bot`` package through the ``ssot.commands`` entry-point group, so this
module (and so ``ssot --help``) never imports FastAPI, githubkit or libcst: ``--help`` reads
their one-line descriptions from :data:`APP_COMMANDS`, and an App command whose dependencies
are not installed says which extra to install.

Exit codes: 0 clean, 1 a new finding in a blocking rule (``check``) or any blocking finding
(``scan --strict``), 2 usage, policy or git errors.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzers.exit_codes import EXIT_ERROR, EXIT_OK, UsageError
from analyzers.report_replay import FORMATS, Listed

if TYPE_CHECKING:
    from typing import TypeAlias

    from analyzers.gitio import PythonFileListing

    _Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

PLUGIN_GROUP = "ssot.commands"
DISTRIBUTION = "ssot-guard"
APP_EXTRA = f"pip install '{DISTRIBUTION}[app]'"
OWN_PACKAGES = frozenset({"analyzers", "bot", "fake_github"})
_APP_MARKER = re.compile(r"""extra\s*==\s*['"]app['"]""")

# One line per App command for `ssot --help`, kept here so that listing them imports nothing
# of the App (tests/test_cli_commands.py checks it names exactly the commands' entry points).
APP_COMMANDS = {
    "serve": "run the GitHub App: webhooks, setup page and job workers",
    "worker": "run only the App's job workers (scale-out, with Redis)",
    "replay": "sign a saved webhook payload and post it to a running App",
    "demo": "one pull-request check by the App on a simulated GitHub",
    "migrate": "bring the App's database up to this version's schema",
}


def _plugins() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}


def version_text() -> str:
    """``ssot 0.1.0 (engine 1)``: the installed distribution's version and the engine's."""
    from importlib.metadata import PackageNotFoundError, version

    from analyzers.findings import ENGINE_VERSION

    try:
        installed = version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        installed = "(not installed)"
    return f"ssot {installed} (engine {ENGINE_VERSION})"


class _VersionAction(argparse.Action):
    # argparse's own "version" action wants the text when the parser is built; this one reads
    # the installed metadata only when --version is asked for.
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help=kwargs.get("help"))

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> None:
        print(version_text())
        parser.exit()


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, with room for the longest command name beside its description.

    argparse measures command names one indent level short of where it prints them, so the
    longest ("consolidate") had its description pushed to the next line.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        # argparse finds the width with shutil, which imports bz2, lzma and zlib: 3 ms of
        # every command's start (a formatter is made for each argument added), for a number.
        width = _columns() - 2 if width is None else width  # argparse's own margin
        super().__init__(prog, indent_increment, max_help_position, width)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            longest = max((len(name) for name in action.choices), default=0)
            needed = self._current_indent + 4 + longest
            self._action_max_length = max(self._action_max_length, needed)


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size().columns`` reads it: ``COLUMNS``,
    else the terminal of standard output, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def _command(sub: _Subparsers, name: str, summary: str) -> argparse.ArgumentParser:
    """A command's parser, formatted as the top level's (the width found without shutil)."""
    return sub.add_parser(name, help=summary, formatter_class=_HelpFormatter)


def _common(p: argparse.ArgumentParser, formats: bool = True) -> None:
    p.add_argument("--root", type=Path, default=Path("."), help="checkout to analyse (default: .)")
    p.add_argument(
        "--policy",
        type=Path,
        help="policy file (default: .github/ssot.toml or [tool.ssot] in pyproject.toml)",
    )
    p.add_argument("--no-cache", action="store_true", help="ignore and do not write .ssot_cache/")
    if formats:
        p.add_argument(
            "--format", choices=FORMATS, default="text", help="output format (default: text)"
        )
        p.add_argument(
            "--output", "-o", type=Path, help="write the report to this file instead of stdout"
        )


def _jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--jobs",
        "-j",
        type=_job_count,
        help="processes analysing files, this one included (default, or 0: one per core)",
    )


def _job_count(text: str) -> int:
    """``--jobs``: 0 or more (a negative count used to mean one process, silently)."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if count < 0:
        raise argparse.ArgumentTypeError(f"{count}: give 1 or more processes (0: one per core)")
    return count


_PATHS_HELP = "only these files, and the Python files under these folders (relative to --root)"


def _add_scan(sub: _Subparsers) -> None:
    p = _command(sub, "scan", "totals per concept and rule for the whole checkout")
    _common(p)
    p.add_argument("paths", nargs="*", help=_PATHS_HELP)
    _jobs(p)
    p.add_argument("--strict", action="store_true", help="exit 1 when any blocking finding exists")
    p.add_argument(
        "--list", action="store_true", help="list every finding, not only the totals (text format)"
    )


def _add_check(sub: _Subparsers) -> None:
    p = _command(sub, "check", "gate a change: findings new against the merge base")
    _common(p)
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


def _add_fix(sub: _Subparsers) -> None:
    p = _command(sub, "fix", "apply the automatic fixes (--diff: only show them)")
    _common(p, formats=False)
    p.add_argument("paths", nargs="*", help=_PATHS_HELP)
    p.add_argument("--rule", action="append", help="only this rule (repeatable)")
    _jobs(p)
    p.add_argument(
        "--diff",
        action="store_true",
        help="print the fixes as a unified diff instead of writing them",
    )


def _add_consolidate(sub: _Subparsers) -> None:
    p = _command(sub, "consolidate", "plan or apply batches of the [campaign]'s safe fixes")
    _common(p, formats=False)
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--plan", action="store_true", help="print the batches")
    action.add_argument("--apply", metavar="ID", help="apply the batch ID to the working tree")
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="plan format (default: text)"
    )
    p.add_argument("paths", nargs="*", help="only files under these folders (relative to --root)")


def _add_history(sub: _Subparsers) -> None:
    p = _command(sub, "history", "the totals at each first-parent commit of HEAD")
    _common(p, formats=False)
    p.add_argument(
        "--since",
        metavar="REV|DATE",
        help="start at this revision (included) or date (YYYY-MM-DD); default: the first commit",
    )
    p.add_argument(
        "--every", type=int, default=1, metavar="N", help="count every N-th commit (and the last)"
    )
    p.add_argument(
        "--format", choices=("text", "json", "csv"), default="text", help="output format"
    )
    p.add_argument(
        "--output", "-o", type=Path, help="write the history to this file instead of stdout"
    )
    p.add_argument("--jobs", "-j", type=int, help="worker processes (default: one per core)")


def _add_explain(sub: _Subparsers) -> None:
    p = _command(sub, "explain", "print a rule's documentation")
    p.add_argument("code", help="rule code, e.g. SSOT001")


def _add_rules(sub: _Subparsers) -> None:
    _command(sub, "rules", "list the rules: code, name and what each reports")


# In the order of `ssot --help`.
_BUILDERS: dict[str, Callable[[_Subparsers], None]] = {
    "scan": _add_scan,
    "check": _add_check,
    "fix": _add_fix,
    "consolidate": _add_consolidate,
    "history": _add_history,
    "explain": _add_explain,
    "rules": _add_rules,
}
BUILTIN_COMMANDS = tuple(_BUILDERS)


def build_parser(
    plugins: dict[str, Any] | None = None, only: str | None = None
) -> argparse.ArgumentParser:
    """The argument parser; plugin commands are listed by name without importing them.

    ``only``: build just this built-in command (what it parses is the same): the full parser
    costs every command's start about 5 ms, and only ``ssot --help`` and a mistyped command
    need the others.
    """
    parser = argparse.ArgumentParser(
        prog="ssot",
        description="Keep a Python monorepo on its single source of truth.",
        epilog="Exit codes: 0 clean, 1 new blocking findings, 2 usage or policy error.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in _BUILDERS.items():
        if only is None or name == only:
            add(sub)
    for name in sorted(plugins or {}):
        if name not in sub.choices:
            _command(sub, name, APP_COMMANDS.get(name, "a command of the GitHub App"))
    return parser


def missing_app_dependencies() -> list[str]:
    """Distributions of the ``app`` extra that are not installed (read from our metadata).

    The extra's list in pyproject.toml stays the one place that names them.
    """
    from importlib.metadata import PackageNotFoundError, requires, version

    try:
        wanted = requires(DISTRIBUTION) or []
    except PackageNotFoundError:
        return []  # a source tree that was never installed: nothing to compare with
    missing = []
    for requirement in wanted:
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if name is None or not _APP_MARKER.search(requirement):
            continue
        try:
            version(name.group(0))
        except PackageNotFoundError:
            missing.append(name.group(0))
    return missing


def _no_app(name: str, missing: str) -> int:
    print(
        f"ssot {name}: this is a command of the GitHub App, whose dependencies are not "
        f"installed ({missing}); install them with: {APP_EXTRA}",
        file=sys.stderr,
    )
    return EXIT_ERROR


def run_app_command(name: str, plugin: Any, argv: list[str]) -> int:
    """Load and run an App command; without the App's libraries, say which extra to install."""
    missing = missing_app_dependencies()
    if missing:
        return _no_app(name, ", ".join(missing) + " missing")
    try:
        run: Callable[[list[str]], int] = plugin.load()
    except ModuleNotFoundError as exc:
        module = exc.name or "a library"
        if module.partition(".")[0] in OWN_PACKAGES:
            raise  # a broken install of this project, not a missing extra
        return _no_app(name, f"{module} is missing")
    from analyzers import collector

    collector.as_python_sets_it()  # the App runs for days: not the command line's pace
    return run(argv)


def main(argv: Sequence[str] | None = None, listed: Listed | None = None) -> int:
    """Run the ``ssot`` command line (``argv``: default the process's arguments).

    ``listed``: the tree's git listing, already made by a replay that found its stored report
    stale (:mod:`analyzers.report_replay`).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in args_list if not a.startswith("-")), None)
    if first is not None and first not in BUILTIN_COMMANDS:
        plugin = _plugins().get(first)
        if plugin is not None:
            rest = list(args_list)
            rest.remove(first)
            return run_app_command(first, plugin, rest)
    plugins = (
        _plugins()
        if (
            not args_list
            or "-h" in args_list
            or "--help" in args_list
            or first not in BUILTIN_COMMANDS
        )
        else {}
    )
    # A built-in command's own parser: `--help` and a mistyped command get them all.
    asks_help = "-h" in args_list or "--help" in args_list
    only = first if first in BUILTIN_COMMANDS and not asks_help else None
    parser = build_parser(plugins, only=only)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    listing = _early_listing(args, listed)
    from analyzers import commands

    try:
        return int(commands.run(args, listing))
    except UsageError as exc:
        print(f"ssot: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK


def _early_listing(
    args: argparse.Namespace, listed: Listed | None = None
) -> PythonFileListing | None:
    """git's listing of the tree of a whole-tree scan, started before the commands are
    imported: on ten thousand files it takes as long as that import, which it now overlaps
    (started later, a warm scan waited for it). ``listed``: one git already gave."""
    if args.command != "scan" or args.paths:
        return None
    from analyzers.gitio import PythonFileListing

    root = Path(args.root).resolve()
    if listed is not None and listed.root == str(root):
        return PythonFileListing(root, listed)
    if listed is not None and listed.git is not None:
        from analyzers.report_replay import stop_listing

        stop_listing(*listed.git)  # (the replay read the same root: not expected to happen)
    return PythonFileListing(root) if root.is_dir() else None


if __name__ == "__main__":  # pragma: no cover - the console script is analyzers.entry
    sys.exit(main())
