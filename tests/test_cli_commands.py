"""`ssot fix`, `rules`, `scan --strict / --list / -j`, warnings, `--help` and `--version`."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

import pytest
from git_repos import CANONICAL, DEPRECATED, HAS_GIT, git, make_repo, write

from analyzers import cli, gitio, runner
from analyzers.cli import APP_COMMANDS, BUILTIN_COMMANDS, PLUGIN_GROUP, main
from analyzers.exit_codes import EXIT_ERROR
from analyzers.policy_loader import load_policy
from analyzers.rules import RULES

# What `ssot fix` makes of DEPRECATED: the canonical import, under the name the code uses.
FIXED = CANONICAL.replace("WebSocketManager\n", "WebSocketManager as UnifiedWebSocketManager\n")

pytestmark = pytest.mark.skipif(not HAS_GIT, reason="git is needed to build test repositories")

Capsys = pytest.CaptureFixture[str]


def warn_only(repo: Path, rule: str = "SSOT001") -> None:
    """Turn ``rule`` to ``warn`` in the repository's policy (and commit nothing)."""
    policy = repo / ".github" / "ssot.toml"
    text = policy.read_text()
    blocking = f'[rules.{rule}]\nseverity = "block"'
    assert blocking in text
    policy.write_text(text.replace(blocking, f'[rules.{rule}]\nseverity = "warn"'))


# -- warnings --------------------------------------------------------------------------------


def test_a_new_finding_that_only_warns_exits_0_and_is_marked_warn(
    tmp_path: Path, capsys: Capsys
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    warn_only(repo)
    git(repo, "commit", "-qam", "SSOT001 warns")
    write(repo, {"app/b.py": DEPRECATED})
    code = main(["check", "--base", "HEAD", "--root", str(repo)])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"^app/b\.py:1:\d+: SSOT001 \[warn\] ", out, re.M), out
    assert "1 new finding (0 blocking)" in out


def test_a_new_blocking_finding_is_marked_block_in_text(tmp_path: Path, capsys: Capsys) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    write(repo, {"app/b.py": DEPRECATED})
    assert main(["check", "--base", "HEAD", "--root", str(repo)]) == 1
    column = DEPRECATED.index("UnifiedWebSocketManager") + 1
    assert f"app/b.py:1:{column}: SSOT001 [block] " in capsys.readouterr().out


# -- fix -------------------------------------------------------------------------------------


def test_fix_diff_prints_the_rewrite_and_leaves_the_file_alone(
    tmp_path: Path, capsys: Capsys
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED + "x = 1\n"})
    assert main(["fix", "--diff", "--root", str(repo)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("--- a/app/a.py\n+++ b/app/a.py\n")
    assert f"-{DEPRECATED}" in out
    assert f"+{FIXED}" in out
    assert (repo / "app/a.py").read_text() == DEPRECATED + "x = 1\n"


def test_fix_rewrites_the_file_then_finds_nothing_more_to_fix(
    tmp_path: Path, capsys: Capsys
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED + "x = 1\n", "app/b.py": "y = 2\n"})
    assert main(["fix", "--root", str(repo)]) == 0
    assert "fixed app/a.py (1 fix)" in capsys.readouterr().err
    assert (repo / "app/a.py").read_text() == FIXED + "x = 1\n"
    assert (repo / "app/b.py").read_text() == "y = 2\n"
    assert main(["fix", "--root", str(repo)]) == 0
    assert "nothing to fix" in capsys.readouterr().err
    assert main(["scan", "--strict", "--root", str(repo)]) == 0


def test_fix_only_the_rule_asked_for(tmp_path: Path, capsys: Capsys) -> None:
    payload = (
        'p = {"type": "agent_started", "time": now.isoformat(), "user": uid, "thread": tid, '
        '"data": {}}\n'
    )
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED + payload})
    assert main(["fix", "--rule", "ssot003", "--root", str(repo)]) == 0
    fixed = (repo / "app/a.py").read_text()
    assert fixed.startswith(DEPRECATED)  # SSOT001 left alone
    assert '{"event_type": "agent_started", "timestamp": now.timestamp(), "user_id": uid' in fixed


# -- rules -----------------------------------------------------------------------------------


def test_rules_lists_every_rule_with_its_name_and_summary(capsys: Capsys) -> None:
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(RULES)
    for line, rule in zip(lines, RULES.values(), strict=True):
        assert rule.name in line and line.endswith(rule.summary)


# -- scan --strict, --list, -j ---------------------------------------------------------------


def test_scan_strict_exits_1_on_a_blocking_finding_and_0_without_strict(
    tmp_path: Path, capsys: Capsys
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    assert main(["scan", "--root", str(repo)]) == 0
    assert main(["scan", "--strict", "--root", str(repo)]) == 1


def test_scan_strict_exits_0_when_the_findings_only_warn(tmp_path: Path, capsys: Capsys) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    warn_only(repo)
    assert main(["scan", "--strict", "--root", str(repo)]) == 0


def test_scan_list_prints_each_finding_and_without_it_only_totals(
    tmp_path: Path, capsys: Capsys
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n" + DEPRECATED})
    line = "app/a.py:2:62: SSOT001 [block] "
    assert main(["scan", "--root", str(repo)]) == 0
    quiet = capsys.readouterr().out
    assert line not in quiet and "websocket-manager  SSOT001  1 -> 0" in quiet
    assert main(["scan", "--list", "--root", str(repo)]) == 0
    assert line in capsys.readouterr().out


def test_scan_jobs_runs_the_analysis_in_that_many_worker_processes(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Enough files to pass the threshold under which no worker is started at all.
    files = {f"app/m{i:03}.py": f"x = {i}\n" for i in range(runner.PARALLEL_THRESHOLD + 10)}
    files.update({f"app/old{i}.py": DEPRECATED for i in range(3)})
    repo = make_repo(tmp_path, files)
    pids = tmp_path / "pids"
    original = runner._analyze_one

    def recording(root: str, rel: str, **how: Any) -> Any:
        with pids.open("a") as fh:  # forked workers inherit this patch and append their pid
            fh.write(f"{os.getpid()}\n")
        # Slow enough that the child, which takes chunks of files as this process does, is
        # started before this one has taken them all.
        time.sleep(0.002)
        return original(root, rel, **how)

    monkeypatch.setattr(runner, "_analyze_one", recording)

    def scan(jobs: str) -> tuple[set[int], list[Any]]:
        pids.write_text("")
        assert (
            main(["scan", "-j", jobs, "--no-cache", "--root", str(repo), "--format", "json"]) == 0
        )
        findings = json.loads(capsys.readouterr().out)["findings"]
        return {int(p) for p in pids.read_text().split()}, findings

    one, serial = scan("1")
    two, parallel = scan("2")
    assert one == {os.getpid()}
    # Two processes: this one, which takes batches too, and one forked child.
    assert os.getpid() in two and len(two) == 2
    assert parallel == serial
    assert sorted(f["path"] for f in parallel) == ["app/old0.py", "app/old1.py", "app/old2.py"]


def test_scan_jobs_refuses_a_negative_count_and_takes_0_as_one_per_core(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    with pytest.raises(SystemExit) as exited:
        main(["scan", "-j", "-2", "--root", str(repo)])
    assert exited.value.code == 2
    assert "argument --jobs/-j: -2: give 1 or more processes" in capsys.readouterr().err
    asked: list[int | None] = []
    scan = runner.scan

    def recording(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["jobs"])
        return scan(*args, **kwargs)

    monkeypatch.setattr(runner, "scan", recording)
    assert main(["scan", "-j", "0", "--no-cache", "--root", str(repo)]) == 0
    assert asked == [0]  # which _analyze_files reads as one process per core
    assert "1 finding" in capsys.readouterr().out


def test_what_the_workers_of_a_cold_scan_read_is_what_a_warm_scan_answers_from(
    tmp_path: Path,
) -> None:
    # Workers send back each file's findings and the stamp (mtime, size) of what they read;
    # the cache must hold every file under that stamp, so that nothing is analysed again.
    files = {f"app/m{i:03}.py": f"x = {i}\n" for i in range(runner.PARALLEL_THRESHOLD + 10)}
    files["app/old.py"] = DEPRECATED
    repo = make_repo(tmp_path, files)
    policy = load_policy((repo / ".github" / "ssot.toml").read_text()).policy
    cold = runner.scan(repo, policy, jobs=2)
    assert cold.from_cache == 0 and list(cold.findings) == ["app/old.py"]
    warm = runner.scan(repo, policy, jobs=2)
    assert warm.from_cache == warm.files == len(files)
    assert warm.findings == cold.findings
    write(repo, {"app/m000.py": DEPRECATED})  # a new size: read again, the others not
    changed = runner.scan(repo, policy, jobs=2)
    assert changed.from_cache == len(files) - 1
    assert sorted(changed.findings) == ["app/m000.py", "app/old.py"]


def test_scan_lists_tracked_untracked_and_outside_git_files_alike(
    tmp_path: Path, capsys: Capsys
) -> None:
    # The listing runs beside the policy's validation; what it lists is what git shows
    # (tracked, untracked not ignored), or every Python file outside a checkout.
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED, ".gitignore": "build/\n"})
    write(repo, {"app/new.py": DEPRECATED, "build/gen.py": DEPRECATED, "docs/x.txt": "x"})
    assert gitio.PythonFileListing(repo).result() == ["app/a.py", "app/new.py"]
    plain = tmp_path / "plain"
    write(plain, {"pkg/m.py": DEPRECATED, ".venv/lib/site.py": DEPRECATED})
    assert gitio.PythonFileListing(plain).result() == ["pkg/m.py"]
    assert main(["scan", "--list", "--no-cache", "--root", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "app/new.py:" in out and "build/gen.py" not in out


def test_a_refused_policy_stops_the_listing_it_started(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    (repo / ".github" / "ssot.toml").write_text("version = 1\n[[concept]]\nname = 3\n")
    started: list[gitio.PythonFileListing] = []
    original = gitio.PythonFileListing.__init__

    def recording(self: gitio.PythonFileListing, root: Path) -> None:
        original(self, root)
        started.append(self)

    monkeypatch.setattr(gitio.PythonFileListing, "__init__", recording)
    assert main(["scan", "--no-cache", "--root", str(repo)]) == EXIT_ERROR
    assert "ssot.toml" in capsys.readouterr().err
    [listing] = started
    assert listing._process is not None and listing._process.returncode is not None


# -- --help and --version ----------------------------------------------------------------------


def test_version_prints_the_installed_version_and_the_engine(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    from analyzers.engine import ENGINE_VERSION

    assert capsys.readouterr().out == f"ssot {version('ssot-guard')} (engine {ENGINE_VERSION})\n"


def test_help_describes_every_command_in_one_line(
    capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps to the terminal's width
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    commands = [*BUILTIN_COMMANDS, *APP_COMMANDS]
    for name in commands:
        match = re.search(rf"^    {name} +(\S.*)$", out, re.M)
        assert match, f"`ssot --help` has no line for {name}:\n{out}"
        described = match.group(1)
        assert described and "see `ssot" not in described
        nxt = out[match.end() + 1 :].splitlines()[0]
        assert not nxt.startswith("     "), f"the description of {name} wraps"


def test_every_app_command_has_a_description_and_every_description_a_command() -> None:
    # The static table of cli.py must follow the entry points that pyproject.toml declares.
    assert set(APP_COMMANDS) == {ep.name for ep in entry_points(group=PLUGIN_GROUP)}


class _Missing:
    """An entry point whose module imports a library that is not installed."""

    def load(self) -> Any:
        raise ModuleNotFoundError("No module named 'fastapi'", name="fastapi")


def test_an_app_command_without_the_app_installed_says_which_extra_to_install(
    capsys: Capsys,
) -> None:
    assert cli.run_app_command("serve", _Missing(), []) == 2
    err = capsys.readouterr().err
    assert "ssot serve:" in err and "fastapi" in err
    assert "pip install 'ssot-guard[app]'" in err


def test_app_dependencies_missing_from_the_install_are_named(
    monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    # The extra's requirements as the installed metadata lists them; one is not installed.
    import importlib.metadata as metadata

    requirements = [
        "pydantic>=2.7",
        'fastapi>=0.115; extra == "app"',
        'no-such-lib; extra == "app"',
    ]
    monkeypatch.setattr(metadata, "requires", lambda name: requirements)
    assert cli.missing_app_dependencies() == ["no-such-lib"]
    assert cli.run_app_command("demo", _Missing(), []) == 2
    assert "no-such-lib missing" in capsys.readouterr().err


def test_an_app_command_runs_at_pythons_own_collector_pace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The console script collects rarely (a command's start-up objects live until it exits);
    # `ssot serve` and `ssot worker` run for days and keep Python's own pace.
    import gc

    from analyzers import collector

    pythons = gc.get_threshold()
    seen: list[tuple[int, ...]] = []

    class _Recording:
        def load(self) -> Any:
            return lambda argv: seen.append(gc.get_threshold()) or 0

    monkeypatch.setattr(cli, "missing_app_dependencies", lambda: [])
    try:
        collector.for_a_command()
        assert gc.get_threshold()[0] == collector.COMMAND_THRESHOLD
        assert cli.run_app_command("worker", _Recording(), []) == 0
    finally:
        gc.set_threshold(*pythons)
    assert seen == [pythons]


def test_fix_keeps_a_crlf_file_crlf(tmp_path: Path, capsys: Capsys) -> None:
    # Reading the file as text would turn every \r\n into \n: a one-line fix that rewrote
    # the whole file's line endings.
    crlf = ("import os\n" + DEPRECATED + "x = 1\n").replace("\n", "\r\n")
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    (repo / "app/a.py").write_bytes(crlf.encode())
    main(["check", "--base", "HEAD", "--root", str(repo), "--format", "json"])
    [item] = json.loads(capsys.readouterr().out)["findings"]
    assert item["fix"]["replacement"] == FIXED.replace("\n", "\r\n")
    assert main(["fix", "--root", str(repo)]) == 0
    assert "fixed app/a.py (1 fix)" in capsys.readouterr().err
    expected = ("import os\n" + FIXED + "x = 1\n").replace("\n", "\r\n")
    assert (repo / "app/a.py").read_bytes() == expected.encode()


# -- output: fixes in JSON, totals in Markdown ---------------------------------------------------


def test_json_findings_carry_their_fix_in_check_and_scan(tmp_path: Path, capsys: Capsys) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    write(repo, {"app/b.py": "y = 2\n" + DEPRECATED, "app/c.py": "import os\n"})
    for argv in (["check", "--base", "HEAD"], ["scan"]):
        main([*argv, "--root", str(repo), "--format", "json"])
        [item] = json.loads(capsys.readouterr().out)["findings"]
        assert item["path"] == "app/b.py"
        assert item["fix"] == {
            "title": item["fix"]["title"],
            "start_line": 2,
            "end_line": 2,
            "replacement": FIXED,
            "safe": True,  # an import rewrite: a consolidation batch may apply it
        }
        assert item["fix"]["title"]


def test_a_warm_json_scan_takes_fixes_from_the_cache_and_text_never_shows_them(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n", "app/b.py": DEPRECATED})
    argv = ["scan", "--root", str(repo), "--list", "-j", "1"]
    main(argv)  # a text scan caches findings without seeking their fixes...
    text = capsys.readouterr().out
    main([*argv, "--format", "json"])  # ...so JSON analyses the file again, with fixes
    first = json.loads(capsys.readouterr().out)
    assert first["findings"][0]["fix"]["replacement"] == FIXED

    def no_proving(*args: object, **kwargs: object) -> None:
        raise AssertionError("a warm scan proved a fix again")

    # Proving a fix re-analyses the file per rewrite: a warm JSON scan must not repeat it.
    monkeypatch.setattr("analyzers.fix.attach_fixes", no_proving)
    main([*argv, "--format", "json"])
    assert json.loads(capsys.readouterr().out) == first
    main(argv)  # the cached fixes do not leak into text ("N fixable") once JSON ran
    assert capsys.readouterr().out == text


def test_json_finding_without_a_fix_has_null(tmp_path: Path, capsys: Capsys) -> None:
    # An attribute use has no automatic fix (the import stays for other names).
    text = (
        "import netra_backend.app.websocket_core.unified_manager as um\n"
        "m = um.UnifiedWebSocketManager()\n"
    )
    repo = make_repo(tmp_path, {"app/a.py": text})
    main(["scan", "--root", str(repo), "--format", "json"])
    [item] = json.loads(capsys.readouterr().out)["findings"]
    assert (item["rule"], item["fix"]) == ("SSOT001", None)


def test_check_markdown_fills_the_total_to_target_column(tmp_path: Path, capsys: Capsys) -> None:
    repo = make_repo(
        tmp_path,
        {"app/a.py": DEPRECATED, "app/m.py": "class OtherWebSocketManager:\n    pass\n"},
    )
    write(repo, {"app/b.py": DEPRECATED})
    assert main(["check", "--base", "HEAD", "--root", str(repo), "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    rows = {
        tuple(cell.strip() for cell in line.strip("|").split("|")[:2]): line
        for line in out.splitlines()
        if line.startswith("| websocket-manager")
    }
    # The whole working tree: two deprecated imports (one new), two implementations.
    assert rows[("websocket-manager", "SSOT001 non-canonical-import")].endswith("| 2 -> 0 |")
    assert rows[("websocket-manager", "SSOT002 extra-implementation")].endswith("| 2 -> 1 |")


# What a warm scan does without: the engine, the process pool (nothing to analyse), the TOML
# parser and pydantic (the validated policy is cached), the writer of a cache file (nothing
# changed) and the helpers of errors and diffs.
WARM_PATH_SKIPS = (
    "analyzers.engine",
    "analyzers.rules",
    "analyzers.policy_errors",
    "concurrent.futures.process",
    "multiprocessing",
    "tomllib",
    "pydantic",
    "tempfile",
    "difflib",
)


def test_a_warm_scan_answers_from_its_cache_without_importing_the_engine(tmp_path: Path) -> None:
    # A pre-commit hook or an editor runs the warm path often: importing the engine (the
    # parser, the rules, the slicer) is a cost that path does not need to pay.
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n", "app/b.py": DEPRECATED})
    script = (
        "import sys\n"
        "from analyzers.cli import main\n"
        f"main(['scan', '--root', {str(repo)!r}, '-o', {os.devnull!r}])\n"
        f"print(sorted(m for m in {WARM_PATH_SKIPS!r} if m in sys.modules))\n"
    )
    cold = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    warm = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert {"analyzers.engine", "analyzers.rules"} <= set(ast.literal_eval(cold.stdout))
    assert warm.stdout.strip() == "[]"
