"""A warm whole-tree scan replays its stored report only while nothing it came from changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from git_repos import CANONICAL, DEPRECATED, HAS_GIT, make_repo, run_console, write
from hypothesis import given
from hypothesis import strategies as st

from analyzers import report_replay
from analyzers.cli import build_parser, main
from analyzers.commands import request_of
from analyzers.report_replay import CACHE_DIR, parse_scan

pytestmark = pytest.mark.skipif(not HAS_GIT, reason="git is needed to build test repositories")

# Printed at exit by the console script's process: whether the command line proper ran.
RAN_IN_FULL = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('\\nfull scan' if 'analyzers.cli' in sys.modules else "
    "'\\nreplayed'))"
)


def scan(repo: Path, *argv: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """``ssot scan ARGV`` in ``repo``: the run, and whether it replayed or ran in full."""
    done = run_console(repo, "scan", *argv, prelude=RAN_IN_FULL)
    report, _, how = done.stdout.rstrip("\n").rpartition("\n")
    report = report.rstrip("\n")
    return subprocess.CompletedProcess(done.args, done.returncode, report, done.stderr), how


def truth(repo: Path, *argv: str) -> str:
    """The report of a scan that reads every file (no cache, no replay)."""
    done = run_console(repo, "scan", "--no-cache", *argv)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout.rstrip("\n")


def test_an_unchanged_tree_is_answered_by_the_stored_report_without_the_engine(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED, "app/b.py": CANONICAL})
    first, how = scan(repo)
    assert how == "full scan"
    second, how = scan(repo)
    assert how == "replayed"
    assert second.stdout == first.stdout == truth(repo)
    assert "1 finding" in second.stdout


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"app/b.py": DEPRECATED}, id="a file edited"),
        pytest.param({"app/c.py": DEPRECATED}, id="a file added"),
        pytest.param({"app/a.py": None}, id="a file deleted"),
    ],
)
def test_a_changed_tree_is_scanned_again(tmp_path: Path, change: dict[str, str | None]) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED, "app/b.py": CANONICAL})
    scan(repo)
    before = scan(repo)[0].stdout
    write(repo, change)
    after, how = scan(repo)
    assert how == "full scan"
    assert after.stdout == truth(repo) != before
    again, how = scan(repo)  # and the new report is stored
    assert (again.stdout, how) == (after.stdout, "replayed")


def test_an_edit_of_the_same_size_is_seen(tmp_path: Path) -> None:
    # The findings cache's test: mtime and size. Same size, another mtime: scanned again.
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    scan(repo)
    path = repo / "app/a.py"
    path.write_text("#" * (len(DEPRECATED) - 1) + "\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    after, how = scan(repo)
    assert how == "full scan"
    assert after.stdout == truth(repo)
    assert "Found 0 findings" in after.stdout


def test_a_changed_policy_is_read_again(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    scan(repo)
    policy = repo / ".github" / "ssot.toml"
    policy.write_text(policy.read_text().replace('severity = "block"', 'severity = "warn"'))
    after, how = scan(repo)
    assert how == "full scan"
    assert after.stdout == truth(repo)


def test_a_policy_that_extends_another_is_never_replayed(tmp_path: Path) -> None:
    # Its parent may change where the replay does not look.
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    policy = repo / ".github" / "ssot.toml"
    (repo / "base.toml").write_text(policy.read_text())
    policy.write_text('extends = "base.toml"\n')
    first, _ = scan(repo)
    assert first.returncode == 0, first.stderr
    assert scan(repo)[1] == "full scan"
    assert not list((repo / CACHE_DIR).glob("report-*"))


def test_each_format_and_flag_has_its_own_report_and_strict_keeps_its_exit_code(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    for argv in (["--format", "json"], ["--list"], ["--strict"], []):
        first, _ = scan(repo, *argv)
        second, how = scan(repo, *argv)
        assert how == "replayed", argv
        assert second.stdout == first.stdout == truth(repo, *argv)
        assert second.returncode == first.returncode == (1 if argv == ["--strict"] else 0)
    assert json.loads(scan(repo, "--format", "json")[0].stdout)["findings"][0]["fix"]


def test_a_replayed_report_goes_to_the_output_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    scan(repo, "-o", str(tmp_path / "first.txt"))
    _, how = scan(repo, "--output", str(tmp_path / "second.txt"))
    assert how == "replayed"
    assert (tmp_path / "second.txt").read_text() == (tmp_path / "first.txt").read_text()


def test_an_output_file_that_cannot_be_written_is_an_error_naming_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    for _ in range(2):  # the full scan, then with a stored report to replay
        done = run_console(repo, "scan", "-o", str(tmp_path / "missing" / "report.txt"))
        assert done.returncode == 2
        assert "--output" in done.stderr and "missing/report.txt" in done.stderr
        assert "Traceback" not in done.stderr
        scan(repo)


def test_a_planted_or_forged_report_is_not_trusted(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    scan(repo)
    stored = repo / CACHE_DIR / "report-text.bin"
    data = stored.read_bytes()
    assert b"1 finding" in data[32:]
    # The same report with another exit code and text: its tag no longer matches.
    stored.write_bytes(data[:32] + data[32:].replace(b"1 finding", b"0 finding"))
    forged, how = scan(repo)
    assert how == "full scan"
    assert forged.stdout == truth(repo)
    # A report written under another user's key (another XDG_CACHE_HOME) is not replayed.
    other = {"XDG_CACHE_HOME": str(tmp_path / "other-user")}
    done = run_console(repo, "scan", prelude=RAN_IN_FULL, env=other)
    assert done.stdout.rstrip().endswith("full scan")


def test_a_scan_with_paths_or_without_the_cache_stores_no_report(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    scan(repo, "app/a.py")
    scan(repo, "--no-cache")
    assert not (repo / CACHE_DIR / "report-text.bin").exists()


# Printed at exit: whether the scan started a subprocess itself (the replay's git is spawned).
IMPORTED_SUBPROCESS = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('\\nsubprocess' if 'subprocess' in sys.modules else "
    "'\\nspawned'))"
)


@pytest.mark.parametrize("argv", [["--no-cache"], []], ids=["no cache", "nothing stored yet"])
def test_a_scan_with_nothing_to_replay_reads_the_listing_git_started_first(
    tmp_path: Path, argv: list[str]
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED, "app/b.py": CANONICAL})
    expected = truth(repo)
    done = run_console(repo, "scan", *argv, prelude=IMPORTED_SUBPROCESS)
    report, _, how = done.stdout.rstrip("\n").rpartition("\n")
    assert how == "spawned", done.stderr  # git was started before the command line proper
    assert report.rstrip("\n") == expected and "1 finding" in report


def test_a_refused_policy_is_a_clear_error_when_git_was_started_first(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    (repo / ".github" / "ssot.toml").write_text("version = 1\n[[concpet]]\n", encoding="utf-8")
    done = run_console(repo, "scan", "--no-cache")
    assert done.returncode == 2 and "concpet" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_refused_policy_stops_and_reaps_the_git_the_replay_started(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    (repo / ".github" / "ssot.toml").write_text("version = 1\n[[concpet]]\n", encoding="utf-8")
    argv = ["scan", "--no-cache", "--root", str(repo)]
    listed = report_replay.replay(argv)
    assert isinstance(listed, report_replay.Listed) and listed.git is not None
    pid, _ = listed.git
    assert main(argv, listed=listed) == 2
    assert "concpet" in capsys.readouterr().err
    with pytest.raises(ChildProcessError):  # already waited for: no process left behind
        os.waitpid(pid, os.WNOHANG)


def test_outside_a_git_checkout_nothing_is_replayed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"app/a.py": DEPRECATED})
    scan(repo)
    git_dir = repo / ".git"
    git_dir.rename(tmp_path / "hidden.git")  # the scan now walks the folder
    after, how = scan(repo)
    assert how == "full scan"
    assert after.stdout == truth(repo)


def test_an_untracked_file_counts_and_an_ignored_one_does_not(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"app/a.py": CANONICAL, ".gitignore": "build/\n"})
    scan(repo)
    write(repo, {"build/gen.py": DEPRECATED})
    assert scan(repo)[1] == "replayed"
    write(repo, {"app/new.py": DEPRECATED})
    after, how = scan(repo)
    assert how == "full scan"
    assert "1 finding" in after.stdout


# Command lines the replay must read exactly as argparse does, or leave to it (None).
ACCEPTED = [
    ["scan"],
    ["scan", "--root", "x", "--format", "json", "--list", "--strict"],
    ["scan", "--root=x", "--policy=p.toml", "--format=sarif", "-o", "out.txt"],
    ["scan", "--output", "o", "--jobs", "3", "-j", "2", "--root", "a", "--root", "b"],
    ["scan", "--jobs=0", "--format", "markdown", "--format", "github"],
    ["scan", "--no-cache", "--root", "x", "--no-cache"],
]
REFUSED = [
    [],
    ["check"],
    ["--version"],
    ["scan", "app/a.py"],
    ["scan", "--no-cache", "app/a.py"],
    ["scan", "--no-c"],  # an abbreviation
    ["scan", "-h"],
    ["scan", "--form", "json"],  # argparse takes the abbreviation; the replay does not
    ["scan", "--format", "xml"],
    ["scan", "--jobs", "two"],
    ["scan", "--root"],
    ["scan", "--root", "--list"],
    ["scan", "-o=out.txt"],
    ["scan", "--", "x"],
    ["scan", "-ojson"],
]


@pytest.mark.parametrize("argv", ACCEPTED, ids=" ".join)
def test_a_command_line_the_replay_reads_means_the_same_to_argparse(argv: list[str]) -> None:
    # The request the full scan records (commands.request_of) is the one the replay reads.
    assert parse_scan(argv) == request_of(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", REFUSED, ids=lambda a: " ".join(a) or "(none)")
def test_a_command_line_the_replay_does_not_read_exactly_goes_to_argparse(argv: list[str]) -> None:
    assert parse_scan(argv) is None


def test_the_replay_path_imports_neither_typing_nor_hashlib() -> None:
    # What it is for: each costs more to import than the replay takes to check a small tree.
    code = (
        "import sys\nimport analyzers.entry, analyzers.report_replay\n"
        "print(sorted(m for m in ('typing', 'hashlib', 'argparse', 'pathlib', 'subprocess') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],  # -S: no site (its .pth hooks import more)
        capture_output=True,
        text=True,
        cwd=Path(report_replay.__file__).parent.parent,
        check=True,
    )
    assert done.stdout.strip() == "[]"


@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "é", "\udcff", "/", ".py", "Z"]), max_size=6).map(
            "".join
        ),
        max_size=40,
    )
)
def test_listed_paths_are_gits_paths_sorted_and_distinct(paths: list[str]) -> None:
    # Whatever the order git gives, and a conflicted file once per stage (the same path twice).
    out = "".join(p + "\0" for p in paths + paths[:3]).encode("utf-8", "surrogateescape")
    assert report_replay.listed_paths(out) == sorted(set(paths) - {""})


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads a process's state in /proc (Linux)"
)
def test_git_lists_a_tree_of_more_than_a_pipe_holds_before_anyone_reads(tmp_path: Path) -> None:
    # A cold scan reads the listing only after its imports and its policy: git must be done by
    # then, not waiting for room in a 64 KiB pipe (a real tree's paths were 301 KB).
    names: dict[str, str | None] = {
        f"pkg/{'deep_module_name_' * 6}{i:05}.py": "" for i in range(1_000)
    }
    repo = make_repo(tmp_path, names)
    started = report_replay._start_listing(str(repo))
    assert started is not None
    pid, read_end = started
    state = ""
    for _ in range(200):  # up to 10 s on a slow machine
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            state = fh.read().rpartition(")")[2].split()[0]
        if state == "Z":  # exited, and not yet waited for
            break
        time.sleep(0.05)
    listed = report_replay.finish_listing(pid, read_end)
    assert state == "Z"
    assert listed is not None and set(names) <= set(listed)
    assert sum(len(p) + 1 for p in listed) > 64 * 1024
