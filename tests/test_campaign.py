"""Consolidation batches (analyzers/campaign.py) and ``ssot consolidate``, end to end on a
generated git repository: plan, apply one batch, and a scan counts exactly its fixes fewer."""

from __future__ import annotations

import ast
import datetime as dt
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from analyzers import campaign, schedule
from analyzers.campaign import KnownBatch, batch_id, slug
from analyzers.cli import main
from analyzers.codeowners import Owners, reviewers
from analyzers.engine import analyze
from analyzers.exit_codes import EXIT_ERROR
from analyzers.findings import Finding, Fix
from analyzers.fix import attach_fixes
from analyzers.policy_loader import PolicyError, load_policy

EXAMPLE_POLICY = Path(__file__).resolve().parent.parent / "examples" / "websocket-ssot.toml"
UNIFIED = "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n"
PACKAGE = "from netra_backend.app.websocket_core import WebSocketManager\n"
STAR = "from netra_backend.app.websocket_core.websocket_manager_factory import *\n"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git builds the repositories")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def policy_text(extra: str = "") -> str:
    return EXAMPLE_POLICY.read_text(encoding="utf-8") + "\n[campaign]\nenabled = true\n" + extra


def generated_files(folders: int = 3, per_folder: int = 7) -> dict[str, str]:
    """A tree with deprecated imports in several folders, some files in several forms."""
    files: dict[str, str] = {}
    for f in range(folders):
        for n in range(per_folder):
            body = UNIFIED if n % 2 else PACKAGE
            if n % 3 == 0:
                body += "from netra_backend.app.websocket_core.unified_manager import (\n"
                body += "    UnifiedWebSocketManager as Legacy,  # keep\n)\n"
            body += f"\n\ndef handler_{n}(manager: object) -> object:\n    return manager\n"
            files[f"services/team{f}/handlers/h{n}.py"] = body
    # Left out: a syntax error, and a star import (no fix knows the name it wants).
    files["services/team0/broken.py"] = UNIFIED + "def broken(:\n    pass\n"
    files["services/team1/star.py"] = STAR
    # CRLF line endings survive the rewrite.
    files["services/team2/crlf.py"] = (UNIFIED + "\nx = 1\n").replace("\n", "\r\n")
    return files


def make_repo(tmp_path: Path, files: dict[str, str], policy: str) -> Path:
    repo = tmp_path / "repo"
    (repo / ".github").mkdir(parents=True)
    (repo / ".github" / "ssot.toml").write_text(policy, encoding="utf-8")
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return repo


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main([*argv, "--format", "json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def ssot001_total(capsys: pytest.CaptureFixture[str], repo: Path) -> int:
    report = run_json(capsys, "scan", "--root", str(repo), "--no-cache")
    [total] = [t for t in report["totals"] if t["rule"] == "SSOT001"]
    return int(total["count"])


def test_plan_then_apply_one_batch_and_a_scan_counts_exactly_its_fixes_fewer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, generated_files(), policy_text("max_files = 4\ndepth = 2\n"))
    before = ssot001_total(capsys, repo)
    plan = run_json(capsys, "consolidate", "--plan", "--root", str(repo))
    batches = plan["batches"]
    assert all(1 <= len(b["files"]) <= 4 for b in batches)
    every_file = [path for b in batches for path in b["files"]]
    assert len(every_file) == len(set(every_file)), "a file is in one batch of its concept"
    # 3 folders x 7 handlers (+ crlf.py in team2) in parts of 4: 2 + 2 + 2 parts.
    ids = [b["id"] for b in batches]
    assert ids == [
        "websocket-manager/services-team0-1",
        "websocket-manager/services-team0-2",
        "websocket-manager/services-team1-1",
        "websocket-manager/services-team1-2",
        "websocket-manager/services-team2-1",
        "websocket-manager/services-team2-2",
    ]
    assert all(b["branch"] == "ssot/consolidate/" + b["id"] for b in batches)
    left = {item["path"]: item["reason"] for item in plan["left_out"]}
    assert left["services/team0/broken.py"].startswith("the file does not parse (line 2")
    assert "no safe automatic fix" in left["services/team1/star.py"]
    # Each batch names the files left out of its group (the pull request says so too).
    team0 = next(b for b in batches if b["id"].endswith("team0-1"))
    assert [item["path"] for item in team0["left_out"]] == ["services/team0/broken.py"]
    # The same plan twice: same ids, same files (the ids are stable).
    again = run_json(capsys, "consolidate", "--plan", "--root", str(repo))
    assert [(b["id"], b["files"]) for b in again["batches"]] == [
        (b["id"], b["files"]) for b in batches
    ]

    chosen = next(b for b in batches if b["id"].endswith("team2-1"))
    expected = -sum(t["change"] for t in chosen["totals"] if t["rule"] == "SSOT001")
    assert expected == len(chosen["fixes"]) > len(chosen["files"])
    assert main(["consolidate", "--apply", chosen["id"], "--root", str(repo)]) == 0
    capsys.readouterr()
    changed = git(repo, "diff", "--name-only").split()
    assert sorted(changed) == sorted(chosen["files"])
    for rel in changed:
        ast.parse((repo / rel).read_bytes())
    assert ssot001_total(capsys, repo) == before - expected
    crlf = (repo / "services/team2/crlf.py").read_bytes()
    assert b"\r\n" in crlf and b"\n" not in crlf.replace(b"\r\n", b"")
    # Applied, its files are in no batch of a new plan (a fresh local plan numbers parts
    # from 1 again: the App, which remembers its batches, numbers after them).
    after = run_json(capsys, "consolidate", "--plan", "--root", str(repo))
    assert not set(chosen["files"]) & {p for b in after["batches"] for p in b["files"]}
    assert len(after["batches"]) == len(batches) - 1


def test_apply_of_an_unknown_batch_is_a_usage_error_naming_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, generated_files(1, 2), policy_text())
    assert main(["consolidate", "--apply", "nope/x-1", "--root", str(repo)]) == 2
    err = capsys.readouterr().err
    assert "--apply nope/x-1: no such batch" in err
    assert "websocket-manager/services-team0-1" in err


def test_text_plan_lists_batches_fixes_totals_and_files_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, generated_files(1, 3), policy_text())
    assert main(["consolidate", "--plan", "--root", str(repo)]) == 0
    out = capsys.readouterr().out
    assert (
        "websocket-manager/services-team0-1  (3 files, 4 fixes; websocket-manager SSOT001 -4)"
        in out
    )
    assert "services/team0/handlers/h0.py:1:" in out
    assert "Left out (the fix cannot parse or rewrite them safely):" in out
    assert "services/team0/broken.py (websocket-manager):" in out


def test_paths_restrict_the_plan_to_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, generated_files(), policy_text())
    plan = run_json(capsys, "consolidate", "--plan", "--root", str(repo), "services/team1")
    assert {p for b in plan["batches"] for p in b["files"]} == {
        f"services/team1/handlers/h{n}.py" for n in range(7)
    }


def test_the_root_as_a_path_plans_the_whole_tree_and_a_mistyped_one_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, generated_files(), policy_text())
    whole = run_json(capsys, "consolidate", "--plan", "--root", str(repo))
    assert whole["batches"]
    assert run_json(capsys, "consolidate", "--plan", "--root", str(repo), ".") == whole
    assert main(["consolidate", "--plan", "--root", str(repo), "services/team9"]) == EXIT_ERROR
    assert "services/team9: no such file or folder in " in capsys.readouterr().err


# --- pure planning --------------------------------------------------------------------------


def plan_of(files: dict[str, str], extra: str = "", **kwargs: Any) -> campaign.Plan:
    policy = load_policy(policy_text(extra)).policy
    findings = {p: analyze(p, t, policy).findings for p, t in files.items()}
    return campaign.plan({p: f for p, f in findings.items() if f}, files.get, policy, **kwargs)


def test_owner_batches_follow_codeowners_last_match_wins() -> None:
    files = {
        "app/a.py": UNIFIED,
        "app/web/b.py": UNIFIED,
        "app/web/c.py": PACKAGE,
        "lib/d.py": UNIFIED,
    }
    owners = Owners("* @acme/platform\napp/web/ @alice @acme/web\n/lib/ \n")
    plan = plan_of(files, 'batch = "owner"\n', owners=owners)
    by_group = {b.group: (b.id, b.paths, b.owners) for b in plan.batches}
    assert by_group == {
        "@acme/platform": ("websocket-manager/acme-platform-1", ["app/a.py"], ("@acme/platform",)),
        "@alice @acme/web": (
            "websocket-manager/alice-acme-web-1",
            ["app/web/b.py", "app/web/c.py"],
            ("@alice", "@acme/web"),
        ),
        "(no owner)": ("websocket-manager/unowned-1", ["lib/d.py"], ()),
    }
    assert reviewers(("@alice", "@acme/web", "dev@example.com", "@bob"), exclude=["bob"]) == (
        campaign_reviewers("alice", team="web")
    )


def test_a_codeowners_line_built_to_backtrack_answers_in_linear_time() -> None:
    # `*a*a...*ab` against a long path of `a`s takes Python's backtracking `re` minutes
    # (the `codeowners` package compiles for it); whoever can push CODEOWNERS could stall
    # every batch plan. Run in a child so a regression fails on the timeout, not by hanging.
    script = (
        "from analyzers.codeowners import Owners\n"
        "owners = Owners('*a' * 12 + 'b @evil\\nsrc/ @team\\n')\n"
        "print(owners.of('a' * 40), owners.of('src/x.py'), owners.of('lib/' + 'a' * 12 + 'b'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.split("\n")[0] == "() ('@team',) ('@evil',)"


def campaign_reviewers(user: str, team: str) -> Any:
    from analyzers.codeowners import Reviewers

    return Reviewers((user,), (team,))


def test_known_batches_keep_their_files_declined_ones_are_not_proposed_and_parts_go_on() -> None:
    files = {f"pkg/m/f{n}.py": UNIFIED for n in range(6)}
    first = plan_of(files, "max_files = 2\n")
    assert [b.id for b in first.batches] == [
        "websocket-manager/pkg-m-1",
        "websocket-manager/pkg-m-2",
        "websocket-manager/pkg-m-3",
    ]
    b1, b2, _ = first.batches
    known = [
        KnownBatch(b1.id, b1.concept, b1.group, 1, tuple(b1.paths), "pinned"),
        KnownBatch(b2.id, b2.concept, b2.group, 2, tuple(b2.paths), "declined"),
    ]
    # f0 was fixed on the base meanwhile; a new file f9 appeared.
    files["pkg/m/f0.py"] = "x = 1\n"
    files["pkg/m/f9.py"] = UNIFIED
    second = plan_of(files, "max_files = 2\n", known=known)
    assert [(b.id, b.paths) for b in second.batches] == [
        ("websocket-manager/pkg-m-1", ["pkg/m/f1.py"]),
        ("websocket-manager/pkg-m-3", ["pkg/m/f4.py", "pkg/m/f5.py"]),
        ("websocket-manager/pkg-m-4", ["pkg/m/f9.py"]),
    ]
    files["pkg/m/f1.py"] = "y = 2\n"
    third = plan_of(files, "max_files = 2\n", known=known)
    assert third.emptied == ("websocket-manager/pkg-m-1",)


@pytest.mark.parametrize(
    ("replacement", "reason"),
    [
        ("def broken(:\n", "the fixed file would not parse"),
        (UNIFIED + PACKAGE, "the rewrite would add 1 finding(s)"),
        (UNIFIED, "the fixes change nothing"),
    ],
)
def test_a_fix_that_breaks_the_file_or_adds_a_finding_leaves_it_out(
    monkeypatch: pytest.MonkeyPatch, replacement: str, reason: str
) -> None:
    """Each file's fixes are proven together, whatever each one proved alone."""
    policy = load_policy(policy_text()).policy

    def bad_fixes(path: str, text: str, findings: list[Finding], policy: Any) -> list[Finding]:
        return [replace(f, fix=Fix("bad", 1, 1, replacement, safe=True)) for f in findings]

    monkeypatch.setattr(campaign, "attach_fixes", bad_fixes)
    text = UNIFIED
    findings = analyze("a/x.py", text, policy).findings
    assert campaign.fix_file("a/x.py", text, findings, policy, "websocket-manager") == reason
    plan = campaign.plan({"a/x.py": findings}, {"a/x.py": text}.get, policy)
    assert plan.batches == ()
    assert [(item.path, item.reason) for item in plan.left_out] == [("a/x.py", reason)]


def test_a_file_that_is_not_utf8_is_left_out() -> None:
    policy = load_policy(policy_text()).policy
    findings = analyze("a/x.py", UNIFIED, policy).findings
    plan = campaign.plan({"a/x.py": findings}, lambda path: None, policy)
    assert [(item.path, item.reason) for item in plan.left_out] == [("a/x.py", "not UTF-8 text")]


def test_only_safe_fixes_exist_for_import_rewrites_not_for_payloads() -> None:
    policy = load_policy(policy_text()).policy
    payload = (
        'send({"type": "agent_started", "user": u, "timestamp": 1, "thread_id": t, "data": {}})\n'
    )
    text = UNIFIED + payload
    fixed = attach_fixes("a.py", text, analyze("a.py", text, policy).findings, policy)
    safety = {f.rule: f.fix.safe for f in fixed if f.fix is not None}
    assert safety == {"SSOT001": True, "SSOT003": False}


def test_slugs_make_safe_branch_names() -> None:
    assert slug("@acme/Platform Team") == "acme-Platform-Team"
    assert slug("a..b.lock") == "a-b"
    assert len(slug("x" * 200)) <= 60
    assert batch_id("golden path", "(root)", 3) == "golden-path/root-3"


# --- the policy section and the schedule ----------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ('schedule = "every monday"\n', "campaign.schedule", "five fields"),
        ('schedule = "@fortnightly"\n', "campaign.schedule", "unknown shorthand"),
        ('rules = ["SSOT003"]\n', "campaign.rules.0", "no fix safe"),
        ("max_open = 0\n", "campaign.max_open", "1 or more"),
        ('batch = "team"\n', "campaign.batch", 'one of "directory", "owner", not "team"'),
        ('labels = [""]\n', "campaign.labels.0", "1 to 50"),
        ("max_pr = 3\n", "campaign.max_pr", "did you mean 'max_open'?"),
    ],
)
def test_campaign_errors_name_the_key_and_line(extra: str, key: str, words: str) -> None:
    text = policy_text(extra)
    with pytest.raises(PolicyError) as caught:
        load_policy(text)
    assert caught.value.key == key
    assert words in caught.value.message
    assert caught.value.line == text.splitlines().index(extra.strip()) + 1


def test_the_campaign_section_does_not_change_the_policy_digest() -> None:
    plain = load_policy(EXAMPLE_POLICY.read_text(encoding="utf-8")).policy
    with_campaign = load_policy(policy_text("max_open = 9\n")).policy
    assert plain.digest == with_campaign.digest
    assert with_campaign.campaign.max_open == 9


def test_schedule_cron_and_shorthands_in_utc() -> None:
    monday_9 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
    assert schedule.next_run("0 9 * * 1", monday_9) == monday_9 + dt.timedelta(days=7)
    assert schedule.next_run("@daily", monday_9) == dt.datetime(2025, 1, 7, tzinfo=dt.UTC)
    assert schedule.next_run("off", monday_9) is None
    assert schedule.is_due("0 9 * * 1", None, monday_9)
    assert not schedule.is_due("0 9 * * 1", monday_9, monday_9 + dt.timedelta(days=6))
    assert schedule.is_due("0 9 * * 1", monday_9, monday_9 + dt.timedelta(days=7))
    assert not schedule.is_due("off", None, monday_9)
