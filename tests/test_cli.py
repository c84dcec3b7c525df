"""The `ssot` command end to end on real git repositories made in tmp_path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from git_repos import CANONICAL, DEPRECATED, HAS_GIT, git, make_repo, run_console, write

from analyzers.cli import main

pytestmark = pytest.mark.skipif(not HAS_GIT, reason="git is needed to build test repositories")


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def statuses(report: dict) -> dict[str, list[tuple[str, int, str]]]:  # type: ignore[type-arg]
    out: dict[str, list[tuple[str, int, str]]] = {"new": [], "fixed": [], "unchanged": []}
    for item in report["findings"]:
        out[item["status"]].append((item["path"], item["line"], item["rule"]))
    return out


def test_check_reports_a_new_deprecated_import_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": CANONICAL})
    write(repo, {"app/b.py": DEPRECATED})
    code, report = run_json(capsys, "check", "--base", "HEAD", "--root", str(repo))
    assert code == 1
    assert statuses(report)["new"] == [("app/b.py", 1, "SSOT001")]


def test_old_debt_in_a_touched_file_is_not_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED + "x = 1\n"})
    write(repo, {"app/a.py": "# a comment added above\n\n" + DEPRECATED + "x = 2\n"})
    code, report = run_json(capsys, "check", "--base", "HEAD", "--root", str(repo))
    found = statuses(report)
    assert code == 0
    assert found["new"] == []
    assert found["unchanged"] == [("app/a.py", 3, "SSOT001")]


def test_fixing_an_import_is_reported_as_fixed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    write(repo, {"app/a.py": CANONICAL})
    code, report = run_json(capsys, "check", "--base", "HEAD", "--root", str(repo))
    assert code == 0
    assert statuses(report)["fixed"] == [("app/a.py", 1, "SSOT001")]


def test_a_renamed_file_keeps_its_debt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = DEPRECATED + "".join(f"def f{i}():\n    return {i}\n" for i in range(30))
    repo = make_repo(tmp_path, {"app/old_name.py": body})
    git(repo, "mv", "app/old_name.py", "app/new_name.py")
    code, report = run_json(capsys, "check", "--base", "HEAD", "--root", str(repo))
    found = statuses(report)
    assert code == 0
    assert found["new"] == [] and found["fixed"] == []
    assert found["unchanged"] == [("app/new_name.py", 1, "SSOT001")]


def test_legacy_code_moved_to_another_file_is_not_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = 'def start(ws):\n    ws.send_json({"type": "agent_started", "time": "t"})\n'
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n" + legacy, "app/b.py": "y = 2\n"})
    write(repo, {"app/a.py": "x = 1\n", "app/b.py": "y = 2\n\n\n" + legacy})
    code, report = run_json(capsys, "check", "--base", "HEAD", "--root", str(repo))
    found = statuses(report)
    assert code == 0
    assert found["new"] == []
    assert found["unchanged"] == [("app/b.py", 5, "SSOT003")]


def test_check_reads_the_policy_at_the_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    # The change tries to switch its own gate off; the base's policy still applies.
    policy = (repo / ".github" / "ssot.toml").read_text()
    write(
        repo,
        {
            ".github/ssot.toml": policy.replace(
                '[rules.SSOT001]\nseverity = "block"', '[rules.SSOT001]\nseverity = "off"'
            ),
            "app/b.py": DEPRECATED,
        },
    )
    code, _ = run_json(capsys, "check", "--base", "HEAD", "--root", str(repo))
    assert code == 1
    code, _ = run_json(
        capsys, "check", "--base", "HEAD", "--root", str(repo), "--policy-from", "worktree"
    )
    assert code == 0


def test_scan_counts_totals_and_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        tmp_path,
        {
            "app/a.py": DEPRECATED,
            "app/m.py": "class OtherWebSocketManager:\n    pass\n",
        },
    )
    code = main(["scan", "--root", str(repo)])
    out = capsys.readouterr().out
    assert code == 0
    assert "websocket-manager  SSOT001  1 -> 0" in out
    assert "websocket-manager  SSOT002  2 -> 1" in out


def test_scan_warm_cache_gives_the_same_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED, "app/b.py": "x = 1\n"})
    _, cold = run_json(capsys, "scan", "--root", str(repo))
    assert (repo / ".ssot_cache").is_dir()
    _, warm = run_json(capsys, "scan", "--root", str(repo))
    assert warm["findings"] == cold["findings"] and len(cold["findings"]) == 1
    # A change to a cached file is seen (mtime and size both move).
    write(repo, {"app/b.py": DEPRECATED + "y = 22\n"})
    _, changed = run_json(capsys, "scan", "--root", str(repo))
    assert len(changed["findings"]) == 2


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_scan_skips_a_tracked_file_deleted_from_the_working_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cache: bool
) -> None:
    # git still lists a file removed without `git rm`; the scan must neither report it nor
    # count it, and a warm run must not answer for it from the cache.
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED, "app/b.py": DEPRECATED, "c.py": "x = 1\n"})
    flags = [] if cache else ["--no-cache"]
    _, before = run_json(capsys, "scan", "--root", str(repo), *flags)
    assert before["summary"]["files_analysed"] == 3
    (repo / "app" / "b.py").unlink()
    for _ in range(2):  # cold, then warm
        code, after = run_json(capsys, "scan", "--root", str(repo), *flags)
        assert code == 0
        assert after["summary"]["files_analysed"] == 2
        assert [f["path"] for f in after["findings"]] == ["app/a.py"]


def test_policy_error_exits_2_naming_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    (repo / ".github" / "ssot.toml").write_text(
        '[[concept]]\nname = "c"\ncanonical = "a.B"\ntarget = "one"\n'
    )
    code = main(["scan", "--root", str(repo)])
    err = capsys.readouterr().err
    assert code == 2
    assert '.github/ssot.toml:4: [[concept]] 1: target must be an integer, not "one"' in err


def test_missing_policy_exits_2_with_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scan", "--root", str(tmp_path)])
    assert code == 2
    assert "no policy" in capsys.readouterr().err


def test_unknown_base_revision_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"app/a.py": "x = 1\n"})
    assert main(["check", "--base", "no-such-branch", "--root", str(repo)]) == 2
    assert "no-such-branch" in capsys.readouterr().err


def test_explain_prints_the_rule_doc(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "ssot001"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# SSOT001: non-canonical-import")
    assert "## Why is this bad?" in out


def test_explain_unknown_code_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "SSOT999"]) == 2
    assert "SSOT001" in capsys.readouterr().err


def test_help_imports_no_web_or_cst_library() -> None:
    probe = (
        "import sys\nfrom analyzers.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('fastapi', 'githubkit', 'libcst', 'pydantic', 'uvicorn') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "usage: ssot" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "HEAVY="


def test_an_import_moved_to_another_file_is_new_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Adding a deprecated import in one file is not excused by removing it from another.
    repo = make_repo(
        tmp_path, {"app/a.py": DEPRECATED, "app/b.py": "x = 1\n", "app/c.py": "y = 1\n"}
    )
    write(repo, {"app/a.py": CANONICAL, "app/b.py": DEPRECATED, "app/c.py": DEPRECATED})
    code, report = run_json(capsys, "check", "--base", "HEAD", "--root", str(repo))
    found = statuses(report)
    assert code == 1
    assert found["new"] == [("app/b.py", 1, "SSOT001"), ("app/c.py", 1, "SSOT001")]
    assert found["fixed"] == [("app/a.py", 1, "SSOT001")]


def test_a_cache_file_not_written_by_this_user_is_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A cache planted in the checkout (say, committed by a pull request) must not mark a file clean.
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    _, first = run_json(capsys, "scan", "--root", str(repo))
    assert len(first["findings"]) == 1
    cache_file = next((repo / ".ssot_cache").glob("findings-*.marshal"))
    import marshal

    forged = {"format": 1, "files": {}, "blobs": {}}
    stat = (repo / "app/a.py").stat()
    forged["files"] = {"app/a.py": (stat.st_mtime_ns, stat.st_size, ())}
    cache_file.write_bytes(marshal.dumps(forged) + b"\0" * 32)
    _, second = run_json(capsys, "scan", "--root", str(repo))
    assert len(second["findings"]) == 1


def test_the_console_script_flushes_its_output_runs_exit_handlers_and_keeps_the_exit_code(
    tmp_path: Path,
) -> None:
    # It skips the interpreter's teardown (os._exit); what a user sees must not change.
    repo = make_repo(tmp_path, {f"app/m{i}.py": DEPRECATED for i in range(40)})
    prelude = "import atexit\natexit.register(lambda: print('exit handler ran'))"
    done = run_console(repo, "scan", "--strict", "--format", "json", prelude=prelude)
    assert done.returncode == 1, done.stderr  # --strict with blocking findings
    report, _, tail = done.stdout.rpartition("}")
    assert len(json.loads(report + "}")["findings"]) == 40  # block-buffered (a pipe): flushed
    assert tail.strip() == "exit handler ran"


def test_the_console_script_runs_no_cyclic_collection_through_a_cold_scan(tmp_path: Path) -> None:
    # Its start-up makes objects that live until it exits: the collector's passes over them
    # (every 700 allocations by default) were pure cost. Fails if the threshold is not set.
    from analyzers.collector import COMMAND_THRESHOLD

    repo = make_repo(tmp_path, {f"app/m{i}.py": DEPRECATED for i in range(40)})
    prelude = (
        "import atexit, gc\n"
        "import analyzers.entry\n"  # compiled here if its bytecode is stale: not the scan's
        "gc.collect()\n"  # nor what the interpreter's own start made
        "passes = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and passes.append(info))\n"
        "atexit.register(lambda: print('passes', len(passes), gc.get_threshold()[0]))"
    )
    done = run_console(repo, "scan", "--no-cache", "--jobs", "1", prelude=prelude)
    assert done.returncode == 0, done.stderr
    assert "40 findings" in done.stdout, done.stdout
    assert done.stdout.splitlines()[-1] == f"passes 0 {COMMAND_THRESHOLD}"


def test_the_console_script_exits_as_usual_while_another_thread_runs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"app/a.py": CANONICAL})
    marker = tmp_path / "thread-finished"
    prelude = (
        "import threading, time, pathlib\n"
        f"def late():\n    time.sleep(0.5)\n    pathlib.Path({str(marker)!r}).write_text('done')\n"
        "threading.Thread(target=late).start()"
    )
    done = run_console(repo, "scan", prelude=prelude)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "done"  # an os._exit would have killed the thread first
