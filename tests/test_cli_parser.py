"""The command line builds only the parser of the command it runs, and parses the same."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analyzers import cli
from analyzers.cli import BUILTIN_COMMANDS, _columns, build_parser
from tests.git_repos import make_repo, run_console

# Every built-in command with options of each kind: flags, values, choices, positionals,
# repeated and mutually exclusive ones.
SPELLINGS = [
    ["scan"],
    ["scan", "--no-cache", "--jobs", "2", "--format", "json", "-o", "out.json", "a.py", "b.py"],
    ["scan", "--root", "src", "--policy", "p.toml", "--strict", "--list"],
    ["check", "--base", "origin/main", "--policy-from", "worktree", "--format", "sarif"],
    ["fix", "--diff", "--rule", "SSOT001", "--rule", "SSOT002", "-j", "1", "pkg/x.py"],
    ["consolidate", "--plan", "--format", "json", "services"],
    ["consolidate", "--apply", "b1"],
    ["history", "--since", "2026-01-01", "--every", "3", "--format", "csv", "-o", "h.csv"],
    ["explain", "SSOT003"],
    ["rules"],
]


def test_every_built_in_command_is_spelled_here() -> None:
    assert {argv[0] for argv in SPELLINGS} == set(BUILTIN_COMMANDS)


@pytest.mark.parametrize("argv", SPELLINGS, ids=" ".join)
def test_a_command_s_own_parser_reads_what_the_full_one_reads(argv: list[str]) -> None:
    assert build_parser(only=argv[0]).parse_args(argv) == build_parser().parse_args(argv)


def test_a_command_builds_its_own_parser_only_and_help_builds_them_all(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    built: list[str] = []
    for name, add in list(cli._BUILDERS.items()):
        monkeypatch.setitem(
            cli._BUILDERS, name, lambda sub, n=name, a=add: (built.append(n), a(sub))
        )
    assert cli.main(["rules"]) == 0
    assert built == ["rules"]
    built.clear()
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert built == list(BUILTIN_COMMANDS)
    assert "consolidate" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "--format", "xml"],
        ["scan", "--bogus"],
        ["check", "--policy-from", "head"],
        ["consolidate"],
        ["history", "--every", "often"],
    ],
    ids=" ".join,
)
def test_a_command_s_own_parser_refuses_with_the_full_one_s_words(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    errors = []
    for parser in (build_parser(only=argv[0]), build_parser()):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(argv)
        assert exited.value.code == 2
        errors.append(capsys.readouterr().err)
    assert errors[0] == errors[1] and "error:" in errors[0]


@pytest.mark.parametrize("columns", [None, "120", "0", "wide"])
def test_help_is_as_wide_as_shutil_says_the_terminal_is(
    monkeypatch: pytest.MonkeyPatch, columns: str | None
) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _columns() == shutil.get_terminal_size().columns


# Printed at exit: the modules a cold scan does not need. argparse's formatter imported shutil,
# and with it bz2, lzma and zlib, to learn the terminal's width; hashlib loads OpenSSL for
# digests the interpreter's own modules give (analyzers.digests).
UNIMPORTED = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('\\n' + (' '.join(m for m in "
    "('shutil', 'bz2', 'lzma', 'hashlib', '_hashlib', 'hmac') if m in sys.modules) or 'none')))"
)


def test_a_cold_scan_imports_neither_shutil_nor_hashlib(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "import os\n"})
    done = run_console(repo, "scan", "--no-cache", prelude=UNIMPORTED)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().rpartition("\n")[2] == "none"
