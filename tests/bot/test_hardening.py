"""Attacks on the App by what repositories and pull requests hold, against the fake GitHub.

- a pull request made to be slow to analyse: its analysis runs in a child process killed at
  ``SSOT_ANALYSIS_SECONDS``; the check concludes neutral, and another installation's check
  made meanwhile completes first;
- a policy asking for huge files: ``max_file_size`` is capped by ``SSOT_MAX_FILE_SIZE``;
- ``extends`` naming another repository: only the organisation's ``.github`` or an allowed
  one, and a parent's errors are not quoted in another repository's check.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from test_pipeline import BAD, BASE_FILES, POLICY, World, make_world, org_world

from analyzers.engine import analyze
from analyzers.policy_loader import load_policy
from bot.checks.engine_process import AnalysisLimit, EngineProcess
from bot.checks.render import fingerprints_in, marker
from bot.web import webhooks
from fake_github.state import ReviewComment
from tests.test_escape import LIVE_TEXT
from tests.test_escape import render as render_markdown

# Twenty thousand classes that each match the implementation pattern and methods: 1.7 MB,
# under the App's file size cap. The engine took 26 s for one (quadratic in its slices'
# line numbers, until 90ded19); now it needs about 3.6 s, so the pull request holds eight.
SLOW = "".join(
    f"class WebSocketManager{i}:\n    def add_connection(self): pass\n    def broadcast(self): pass\n"
    for i in range(20_000)
)
SLOW_FILES = {f"app/generated_{i}.py": SLOW for i in range(8)}
# Far below what SLOW_FILES need, far above what a small check needs even on a loaded machine.
BOUND_SECONDS = 10.0


def second_installation(world: World, owner: str = "other-org") -> World:
    """Another account with the App installed and its own repository, on the same App."""
    installation = world.state.create_installation(owner, account_type="Organization")
    repo = world.state.create_repo(
        owner, "service", files=BASE_FILES, default_branch="master", owner_type="Organization"
    )
    return World(
        world.keys, world.state, world.server, installation, repo, world.settings, world.client
    )


def slow_world(make_settings: Any) -> Iterator[World]:
    return make_world(make_settings, analysis_seconds=BOUND_SECONDS)


def test_a_slow_pull_request_ends_neutral_and_never_delays_another_installation(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Immediate mode runs the job inside the webhook request, under the route's deadline for
    # storing a delivery: lift it, the job here takes BOUND_SECONDS by design.
    monkeypatch.setattr(webhooks, "STORE_DEADLINE_SECONDS", 10 * BOUND_SECONDS)
    for world in slow_world(make_settings):
        other = second_installation(world)
        slow_pr = world.open_pr(SLOW_FILES)
        normal_pr = other.open_pr({"app/feature.py": BAD})
        slow = threading.Thread(target=world.send_pr, args=("opened", slow_pr))
        started = time.monotonic()
        slow.start()
        while not world.runs(slow_pr.head_sha):  # the slow analysis has begun
            assert time.monotonic() - started < 60
            time.sleep(0.05)
        other.send_pr("opened", normal_pr)
        slow.join(timeout=120)
        assert not slow.is_alive()

        slow_run, normal_run = world.run(slow_pr.head_sha), other.run(normal_pr.head_sha)
        assert slow_run.conclusion == "neutral"
        assert slow_run.output.title == "Not checked: analysis over its time bound"
        assert f"time: {BOUND_SECONDS:g} s" in (slow_run.output.summary or "")
        assert normal_run.conclusion == "failure"  # checked as usual, with its finding
        assert normal_run.completed_at is not None and slow_run.completed_at is not None
        assert normal_run.completed_at <= slow_run.completed_at


def test_the_engine_process_stops_at_its_memory_bound() -> None:
    # A policy allowing 100 MB files (the App caps it; this test wants the child's own cap).
    policy = dataclasses.replace(load_policy(POLICY).policy, max_file_size=100 * 2**20)
    big = b"x = 1\n" * (10 * 2**20)  # 60 MB: received and decoded, it needs twice that
    with (
        EngineProcess(policy, seconds=60, memory_bytes=96 * 2**20) as engine,
        pytest.raises(AnalysisLimit) as limit,
    ):
        engine.analyze("app/big.py", big)
    assert (limit.value.what, limit.value.bound) == ("memory", "96 MB")
    with EngineProcess(policy, seconds=60, memory_bytes=1024 * 2**20) as engine:
        assert engine.analyze("app/big.py", big).findings == []


def test_max_file_size_of_a_policy_is_capped_by_the_apps_setting(make_settings: Any) -> None:
    files = {**BASE_FILES, ".github/ssot.toml": "max_file_size = 50000000\n" + POLICY}
    for world in make_world(make_settings, files=files, max_file_size=1000):
        pr = world.open_pr({"app/big.py": BAD + "#" * 2000 + "\n"})
        world.send_pr("opened", pr)
        run = world.run(pr.head_sha)
        messages = [a["message"] for a in run.annotations]
        assert any("over the size limit (2," in m and "> 1,000 bytes)" in m for m in messages)


def test_extends_may_not_name_a_repository_outside_the_allow_list(make_settings: Any) -> None:
    files = {**BASE_FILES, ".github/ssot.toml": 'extends = "acme/secret-policies"\n'}
    for world in org_world(make_settings, POLICY, files):
        world.state.create_repo(
            "acme", "secret-policies", files={".github/ssot.toml": POLICY}, private=True
        )
        pr = world.open_pr({"app/feature.py": BAD})
        world.send_pr("opened", pr)
        run = world.run(pr.head_sha)
        assert run.conclusion != "success"
        assert "is not a policy this App may read" in (run.output.summary or "")


def test_an_allowed_parent_is_read_and_its_errors_are_not_quoted(make_settings: Any) -> None:
    secret = 'version = 1\n[[concept]]\nname = "secret-concept"\ncanonical = "not a dotted path"\n'
    files = {**BASE_FILES, ".github/ssot.toml": 'extends = "acme/policies"\n'}
    for world in org_world(make_settings, POLICY, files):
        world.settings.policy_extends_allow.append("acme/policies")
        world.state.create_repo(
            "acme", "policies", files={".github/ssot.toml": secret}, private=True
        )
        pr = world.open_pr({"app/feature.py": BAD})
        world.send_pr("opened", pr)
        summary = world.run(pr.head_sha).output.summary or ""
        assert "acme/policies" in summary and "cannot be used" in summary
        assert "secret-concept" not in summary and "not a dotted path" not in summary


def test_a_marker_in_another_bots_comment_does_not_silence_the_review(
    make_settings: Any,
) -> None:
    for world in make_world(make_settings):
        pr = world.open_pr({"app/feature.py": BAD})
        policy = load_policy(POLICY).policy
        [finding] = analyze("app/feature.py", BAD.encode(), policy).active
        # Another App (a CI bot echoing PR text) writes the App's marker on the same file.
        forger = world.state.user("echo-ci[bot]", "Bot")
        world.state.review_comments[999_999] = ReviewComment(
            id=999_999,
            repo_id=world.repo.id,
            pr_number=pr.number,
            review_id=999_999,
            path="app/feature.py",
            line=1,
            side="RIGHT",
            body=f"CI says hi\n{marker(finding.fingerprint)}",
            commit_id=pr.head_sha,
            user=forger,
            diff_hunk="@@ -0,0 +1,5 @@",
            position=1,
        )
        world.send_pr("opened", pr)
        ours = [
            c
            for c in world.state.review_comments_for(world.repo, pr.number)
            if c.user.login == world.state.bot.login
        ]
        assert len(ours) == 1 and finding.fingerprint in ours[0].body


def test_pull_request_text_in_a_review_comment_is_inert(make_settings: Any) -> None:
    # A dict key with backticks ends a naive code span: what follows would be live.
    hostile = (
        'x = {"type": "agent_started", "a` @org/everyone <img src=x> [a](http://e.x) `b": 1}\n'
    )
    for world in make_world(make_settings):
        pr = world.open_pr({"app/feature.py": hostile})
        world.send_pr("opened", pr)
        [comment] = world.state.review_comments_for(world.repo, pr.number)
        # Our own marker lines are the only HTML comments allowed.
        lines = comment.body.splitlines()
        page = render_markdown("\n".join(line for line in lines if not fingerprints_in(line)))
        assert set(page.tags) <= {"p", "strong", "code", "sub", "pre"}
        assert not LIVE_TEXT.search("".join(page.text))
        assert fingerprints_in(comment.body)  # the App's own marker is still found
