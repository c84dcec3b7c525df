"""The pull-request pipeline against the fake GitHub over loopback.

GitHub's real ``pull_request`` payloads (edited only where a test needs another sha, number,
repository or installation) are signed and posted to the App's webhook route; Huey runs the
job at once inside the request, and the assertions read the fake's state: check runs,
annotations, reviews, comments, minimised comments and the log of API calls.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bot_testing import payload, post_webhook, runtime
from fastapi.testclient import TestClient

from analyzers.report import escape
from bot.checks import pipeline
from bot.checks.render import CHECK_NAME, fingerprints_in
from bot.demo.scenario import SAMPLE_REPO
from bot.github.api import forget_tokens
from bot.ops.settings import Settings
from bot.store import acceptances, db, deliveries, locks, tables
from bot.store import totals as totals_store
from bot.web.app import create_app
from fake_github import (
    AppKeyPair,
    CheckRun,
    FakeGitHubServer,
    FakeGitHubState,
    Installation,
    PullRequest,
    Repository,
    make_app_keypair,
    render,
)
from fake_github.gitdiff import commentable_lines

ROOT = Path(__file__).resolve().parents[2]
POLICY = (ROOT / "examples" / "websocket-ssot.toml").read_text(encoding="utf-8")
OWNER, NAME = "Codertocat", "Hello-World"  # the repository of the real payloads
LEGACY = "netra_backend.app.websocket_core.unified_manager"
CANONICAL_PATH = "netra_backend/app/websocket_core/websocket_manager.py"
CANONICAL = (SAMPLE_REPO / CANONICAL_PATH).read_text(encoding="utf-8")


def legacy_imports(count: int, prefix: str = "M") -> str:
    """``count`` deprecated imports, each a finding of its own (different local names)."""
    return "".join(
        f"from {LEGACY} import UnifiedWebSocketManager as {prefix}{i}\n" for i in range(count)
    )


CLEAN = "def handler(user):\n    return user\n"
BAD = f"from {LEGACY} import UnifiedWebSocketManager\n\n\ndef connect():\n    return UnifiedWebSocketManager()\n"
BASE_FILES: dict[str, str | bytes | None] = {
    ".github/ssot.toml": POLICY,
    CANONICAL_PATH: CANONICAL,
    "app/legacy.py": BAD,  # debt already on the base branch
    "app/views.py": CLEAN,
    "README.md": "# Hello\n",
}


@dataclass
class World:
    """The fake GitHub with the App installed on Codertocat, and the App under test."""

    keys: AppKeyPair
    state: FakeGitHubState
    server: FakeGitHubServer
    installation: Installation
    repo: Repository
    settings: Settings
    client: TestClient

    @property
    def engine(self) -> Any:
        return runtime(self.client).engine

    def open_pr(
        self, files: dict[str, str | bytes | None], *, branch: str = "feature"
    ) -> PullRequest:
        self.state.commit(self.repo, branch, files, "Change")
        return self.state.open_pull_request(self.repo, branch, "master")

    def push(self, pr: PullRequest, files: dict[str, str | bytes | None]) -> str:
        head_repo = self.state.repos[pr.head_repo_id]
        return self.state.commit(head_repo, pr.head_ref, files, "More")

    def pr_payload(
        self, action: str, pr: PullRequest, *, head_sha: str | None = None
    ) -> dict[str, Any]:
        """The real payload of ``pull_request.<action>``, pointed at ``pr`` in the fake."""
        data = payload(f"pull_request/{action}")
        base_repo = self.state.repos[pr.repo_id]
        head_repo = self.state.repos[pr.head_repo_id]
        data["installation"]["id"] = self.installation.id
        data["number"] = pr.number
        point_repository(data["repository"], base_repo)
        pull = data["pull_request"]
        pull["number"] = pr.number
        pull["head"]["sha"] = head_sha or pr.head_sha
        pull["head"]["ref"] = pr.head_ref
        point_repository(pull["head"]["repo"], head_repo)
        pull["base"]["ref"] = pr.base_ref
        pull["base"]["sha"] = pr.base_sha
        point_repository(pull["base"]["repo"], base_repo)
        return data

    def send(
        self, event: str, data: dict[str, Any], *, delivery: str | None = None
    ) -> deliveries.Delivery:
        """Post a webhook; the job runs inside the request. Returns the stored delivery."""
        delivery = delivery or str(uuid.uuid4())
        response = post_webhook(self.client, event, json.dumps(data).encode(), delivery=delivery)
        assert response.status_code in (200, 202), response.text
        stored = deliveries.get_delivery(self.engine, delivery)
        assert stored is not None
        return stored

    def send_pr(self, action: str, pr: PullRequest, **changes: Any) -> deliveries.Delivery:
        stored = self.send("pull_request", self.pr_payload(action, pr, **changes))
        assert stored.state == tables.DONE, stored.error
        return stored

    def runs(self, sha: str) -> list[CheckRun]:
        return self.state.check_runs_for(self.repo, head_sha=sha, name=CHECK_NAME)

    def run(self, sha: str) -> CheckRun:
        runs = self.runs(sha)
        assert len(runs) == 1, runs
        return runs[0]


def point_repository(data: dict[str, Any], repo: Repository) -> None:
    data["full_name"] = repo.full_name
    data["name"] = repo.name
    data["owner"]["login"] = repo.owner.login
    data["default_branch"] = repo.default_branch


def make_world(
    make_settings: Any, *, owner: str = OWNER, name: str = NAME, files: Any = None, **options: Any
) -> Iterator[World]:
    keys = make_app_keypair()
    state = FakeGitHubState.for_app(keys, **options.pop("state_options", {}))
    installation = state.create_installation(
        owner, account_type=options.pop("account_type", "User")
    )
    repo = state.create_repo(
        owner,
        name,
        files=BASE_FILES if files is None else files,
        default_branch="master",
        owner_type=state.user(owner).type,
    )
    forget_tokens()
    with FakeGitHubServer(state) as server:
        settings = make_settings(
            app_id=keys.app_id,
            private_key=keys.private_key_pem,
            github_url=server.url,
            **options,
        )
        with TestClient(create_app(settings, immediate_jobs=True)) as client:
            yield World(keys, state, server, installation, repo, settings, client)


@pytest.fixture
def world(make_settings: Any) -> Iterator[World]:
    yield from make_world(make_settings)


def review_comments(world: World, pr: PullRequest) -> list[Any]:
    return sorted(world.state.review_comments_for(world.repo, pr.number), key=lambda c: c.id)


# --- the gate -------------------------------------------------------------------------------


def test_a_pr_adding_a_deprecated_import_fails_with_annotations_and_a_suggestion(
    world: World,
) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)

    run = world.run(pr.head_sha)
    assert run.status == "completed" and run.conclusion == "failure"
    assert run.external_id == f"ssot:{world.installation.id}:{OWNER}/{NAME}:{pr.head_sha}"
    assert [a["path"] for a in run.annotations] == ["app/feature.py"]
    assert run.annotations[0]["annotation_level"] == "failure"
    assert run.output.title == "1 new blocking finding"
    assert "| websocket-manager |" in (run.output.summary or "")
    assert [a["identifier"] for a in run.actions] == ["ssot-fix"]
    (comment,) = review_comments(world, pr)
    assert comment.path == "app/feature.py" and comment.line == 1
    assert (
        "```suggestion\nfrom netra_backend.app.websocket_core.websocket_manager import"
        in comment.body
    )
    assert len(fingerprints_in(comment.body)) == 1
    (review,) = world.state.reviews_for(world.repo, pr.number)
    assert review.state == "COMMENTED" and review.commit_id == pr.head_sha


@pytest.mark.parametrize(
    "action", ["reopened", "ready_for_review.with-installation", "synchronize"]
)
def test_every_head_changing_action_checks_the_head(world: World, action: str) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr(action, pr)
    assert world.run(pr.head_sha).conclusion == "failure"


def test_a_new_base_branch_checks_the_pr_again(world: World) -> None:
    world.state.commit(world.repo, "release", {"app/views.py": CLEAN}, "Release branch")
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)
    data = world.pr_payload("opened", pr)
    data["action"] = "edited"
    data["changes"] = {"base": {"ref": {"from": "master"}, "sha": {"from": pr.base_sha}}}
    data["pull_request"]["base"]["ref"] = "release"
    pr.base_ref = "release"
    assert world.send("pull_request", data).state == tables.DONE
    run = world.run(pr.head_sha)
    assert run.conclusion == "failure" and run.updates >= 2  # checked again, same run


def test_a_clean_pr_succeeds_and_gets_no_review(world: World) -> None:
    pr = world.open_pr({"app/feature.py": CLEAN})
    world.send_pr("opened", pr)

    run = world.run(pr.head_sha)
    assert run.conclusion == "success"
    assert run.annotations == [] and run.actions == []
    assert world.state.reviews_for(world.repo, pr.number) == []


def test_old_debt_in_a_touched_file_is_not_new(world: World) -> None:
    pr = world.open_pr({"app/legacy.py": BAD + "\n\ndef more():\n    return 1\n"})
    world.send_pr("opened", pr)

    run = world.run(pr.head_sha)
    assert run.conclusion == "success"
    assert "1 unchanged" in (run.output.summary or "")


def test_a_renamed_file_keeps_its_old_debt(world: World) -> None:
    pr = world.open_pr({"app/legacy.py": None, "app/moved.py": BAD + "# moved\n"})
    world.send_pr("opened", pr)

    run = world.run(pr.head_sha)
    assert run.conclusion == "success", run.output.summary
    assert run.annotations == []
    files = world.state.pull_files(world.state.pull(world.repo, pr.number))
    assert [(f.status, f.previous_filename) for f in files] == [("renamed", "app/legacy.py")]


def test_a_pr_cannot_loosen_its_own_gate(world: World) -> None:
    loosened = POLICY.replace('severity = "block"', 'severity = "off"')
    pr = world.open_pr({".github/ssot.toml": loosened, "app/feature.py": BAD})
    world.send_pr("opened", pr)

    assert world.run(pr.head_sha).conclusion == "failure"


def test_non_python_files_are_ignored(world: World) -> None:
    pr = world.open_pr({"docs/notes.md": BAD, "app/data.json": "{}"})
    world.send_pr("opened", pr)

    run = world.run(pr.head_sha)
    assert run.conclusion == "success"
    assert "in 0 files" in (run.output.summary or "")


def test_accepted_findings_do_not_fail_and_say_who_and_why(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)
    fingerprint = fingerprints_in(review_comments(world, pr)[0].body)[0]
    acceptances.accept_finding(
        world.engine,
        installation_id=world.installation.id,
        repo=f"{OWNER}/{NAME}",
        pr=pr.number,
        fingerprint=fingerprint,
        user="maintainer",
        reason="removed in the next release",
        now=db.utcnow(),
    )
    world.send_pr("synchronize", pr)

    run = world.run(pr.head_sha)
    assert run.conclusion == "success"
    assert "accepted by @maintainer" in (run.output.summary or "")
    assert "removed in the next release" in (run.output.summary or "")
    assert len(review_comments(world, pr)) == 1


# --- one check run per head, comments never twice ---------------------------------------------


def test_duplicate_deliveries_and_reruns_keep_one_check_run_and_one_comment(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    data = world.pr_payload("opened", pr)
    world.send("pull_request", data, delivery="same-id")
    world.send("pull_request", data, delivery="same-id")  # a redelivery: one effect
    world.send_pr("synchronize", pr)  # another event for the same head
    rerun = payload("check_run/rerequested")
    rerun["installation"]["id"] = world.installation.id
    point_repository(rerun["repository"], world.repo)
    rerun["check_run"]["head_sha"] = pr.head_sha
    rerun["check_run"]["pull_requests"] = [{"number": pr.number}]
    assert world.send("check_run", rerun).state == tables.DONE

    run = world.run(pr.head_sha)
    assert run.conclusion == "failure"
    assert len(run.annotations) == 1  # a re-run does not add the same annotations again
    assert len(review_comments(world, pr)) == 1
    assert len(world.state.reviews_for(world.repo, pr.number)) == 1


def test_a_finding_still_there_after_a_push_is_not_commented_again_and_fixed_ones_are_minimised(
    world: World,
) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)
    first = review_comments(world, pr)
    assert len(first) == 1

    second_head = world.push(pr, {"app/other.py": legacy_imports(1, "Other")})
    world.send_pr("synchronize", pr)
    comments = review_comments(world, pr)
    assert [c.path for c in comments] == ["app/feature.py", "app/other.py"]
    assert world.run(second_head).conclusion == "failure"

    reviews = len(world.state.reviews_for(world.repo, pr.number))
    third_head = world.push(pr, {"app/feature.py": CLEAN})
    world.send_pr("synchronize", pr)
    comments = review_comments(world, pr)
    assert len(comments) == 2  # nothing new to say about other.py
    assert len(world.state.reviews_for(world.repo, pr.number)) == reviews  # so no review
    assert comments[0].minimized and comments[0].minimized_reason == "OUTDATED"
    assert not comments[1].minimized
    assert world.run(third_head).conclusion == "failure"

    world.push(pr, {"app/other.py": CLEAN})
    world.send_pr("synchronize", pr)
    assert all(c.minimized for c in review_comments(world, pr))
    assert len(world.state.calls_matching(path="/graphql", method="POST")) > 0
    assert world.run(pr.head_sha).conclusion == "success"


def test_many_findings_give_annotation_batches_of_50_and_at_most_30_comments(world: World) -> None:
    pr = world.open_pr({"app/many.py": legacy_imports(120)})
    world.state.clear_calls()
    world.send_pr("opened", pr)

    run = world.run(pr.head_sha)
    assert len(run.annotations) == 120
    patches = world.state.calls_matching(method="PATCH", path=f"/check-runs/{run.id}")
    assert len(patches) == 3
    comments = review_comments(world, pr)
    assert len(comments) == 30
    assert all(c.line <= 120 for c in comments)
    (review,) = world.state.reviews_for(world.repo, pr.number)
    assert "90 other findings" in review.body


def test_comments_go_only_on_lines_of_the_diff(world: World) -> None:
    manager = "class Hub:\n    def add_connection(self, user):\n        return user\n" + "".join(
        f"\n    def helper_{i}(self):\n        return {i}\n" for i in range(8)
    )
    world.state.commit(world.repo, "master", {"app/foo.py": manager}, "Foo")
    pr = world.open_pr(
        {
            "app/foo.py": manager
            + "\n    def send_to_user(self, user, event):\n        return event\n",
            "app/feature.py": BAD,
        }
    )
    world.send_pr("opened", pr)

    run = world.run(pr.head_sha)
    paths = sorted((a["path"], a["start_line"]) for a in run.annotations)
    assert paths == [("app/feature.py", 1), ("app/foo.py", 1)]
    comments = review_comments(world, pr)
    assert [c.path for c in comments] == ["app/feature.py"]  # foo.py line 1 is not in the diff
    for comment in comments:
        change = next(
            f
            for f in world.state.pull_files(world.state.pull(world.repo, pr.number))
            if f.filename == comment.path
        )
        assert change.patch is not None
        assert comment.line in commentable_lines(change.patch)[0]


def test_a_huge_pr_summary_stays_under_githubs_limit(world: World) -> None:
    pr = world.open_pr({"app/huge.py": legacy_imports(1500, "Huge")})
    world.send_pr("opened", pr)

    run = world.run(pr.head_sha)
    summary = run.output.summary or ""
    assert 60_000 < len(summary) <= 65_535
    assert "more findings not shown" in summary
    assert len(run.annotations) == 1500
    assert len(review_comments(world, pr)) == 30


# --- policy -----------------------------------------------------------------------------------


def test_an_invalid_policy_fails_naming_file_line_and_key(make_settings: Any) -> None:
    policy = POLICY.replace("target = 1", "target = -1")
    files = {**BASE_FILES, ".github/ssot.toml": policy}
    for world in make_world(make_settings, files=files):
        pr = world.open_pr({"app/feature.py": CLEAN})
        world.send_pr("opened", pr)

        run = world.run(pr.head_sha)
        line = policy.splitlines().index("target = -1") + 1
        assert run.conclusion == "failure"
        message = "[[concept]] 1: target must be 0 or more"
        assert run.output.title == f"Invalid policy: .github/ssot.toml:{line}: {message}"
        summary = run.output.summary or ""
        assert f"`.github/ssot.toml`, line {line}: {escape.text(message)}" in summary


def test_without_any_policy_nothing_is_posted(make_settings: Any) -> None:
    files = {k: v for k, v in BASE_FILES.items() if k != ".github/ssot.toml"}
    for world in make_world(make_settings, files=files):
        pr = world.open_pr({"app/feature.py": BAD})
        world.send_pr("opened", pr)

        assert world.runs(pr.head_sha) == []
        assert world.state.reviews_for(world.repo, pr.number) == []
        assert world.state.calls_matching(method="POST", path="/check-runs") == []


def test_without_policy_a_neutral_check_explains_when_asked_to(make_settings: Any) -> None:
    files = {k: v for k, v in BASE_FILES.items() if k != ".github/ssot.toml"}
    for world in make_world(make_settings, files=files, neutral_without_policy=True):
        pr = world.open_pr({"app/feature.py": BAD})
        world.send_pr("opened", pr)

        run = world.run(pr.head_sha)
        assert run.conclusion == "neutral" and run.output.title == "No SSOT policy"
        assert ".github/ssot.toml" in (run.output.summary or "")


def test_pyproject_tool_ssot_table_is_a_policy(make_settings: Any) -> None:
    files = {k: v for k, v in BASE_FILES.items() if k != ".github/ssot.toml"}
    files["pyproject.toml"] = "[project]\nname = 'x'\n\n[tool.ssot]\n" + "\n".join(
        line.replace("[[concept]]", "[[tool.ssot.concept]]")
        .replace("[concept.implementation]", "[tool.ssot.concept.implementation]")
        .replace("[[event_schema]]", "[[tool.ssot.event_schema]]")
        .replace("[rules.", "[tool.ssot.rules.")
        for line in POLICY.splitlines()
    )
    for world in make_world(make_settings, files=files):
        pr = world.open_pr({"app/feature.py": BAD})
        world.send_pr("opened", pr)
        assert world.run(pr.head_sha).conclusion == "failure"


def org_world(make_settings: Any, org_policy: str, repo_files: dict[str, Any]) -> Iterator[World]:
    for world in make_world(
        make_settings, owner="acme", name="app", files=repo_files, account_type="Organization"
    ):
        world.state.create_repo("acme", ".github", files={".github/ssot.toml": org_policy})
        yield world


def test_the_organisations_github_repository_is_the_fallback_policy(make_settings: Any) -> None:
    files = {k: v for k, v in BASE_FILES.items() if k != ".github/ssot.toml"}
    for world in org_world(make_settings, POLICY, files):
        pr = world.open_pr({"app/feature.py": BAD})
        world.send_pr("opened", pr)

        run = world.run(pr.head_sha)
        assert run.conclusion == "failure"
        assert run.external_id is not None and "acme/app" in run.external_id


def test_extends_org_merges_the_organisation_policy(make_settings: Any) -> None:
    files = {
        **BASE_FILES,
        ".github/ssot.toml": 'extends = "org"\n\n[rules.SSOT001]\nseverity = "warn"\n',
    }
    for world in org_world(make_settings, POLICY, files):
        pr = world.open_pr({"app/feature.py": BAD})
        world.send_pr("opened", pr)

        run = world.run(pr.head_sha)
        assert run.conclusion == "success"  # SSOT001 is a warning in this repository
        assert [a["annotation_level"] for a in run.annotations] == ["warning"]


# --- forks, heads that move, locks ----------------------------------------------------------


def test_a_fork_pr_is_compared_with_the_base_repositorys_merge_base(world: World) -> None:
    fork = world.state.fork_repo(world.repo, "forker")
    # The fork's own default branch carries debt the base repository never had.
    world.state.commit(fork, "master", {"app/forked.py": BAD}, "Fork-only debt")
    world.state.commit(fork, "feature", {"app/views.py": CLEAN + "# touched\n"}, "Touch")
    pr = world.state.open_pull_request(world.repo, "feature", "master", head_repo=fork)
    world.state.clear_calls()
    world.send_pr("opened", pr)

    run = world.run(pr.head_sha)
    assert run.conclusion == "failure"  # forked.py is new against the BASE repository
    assert [a["path"] for a in run.annotations] == ["app/forked.py"]
    compares = world.state.calls_matching(path="/compare/")
    assert [c.path.split("/compare/")[0] for c in compares] == [f"/repos/{OWNER}/{NAME}"]
    assert all("forker" not in c.path.split("/compare/")[0] for c in world.state.calls)


def test_a_head_that_moves_during_the_check_is_reported_superseded_not_failing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    old_head = pr.head_sha
    analyse = pipeline.analyse_pull
    newer: list[str] = []

    def analyse_then_push(pull: Any, context: Any) -> Any:
        result = analyse(pull, context)
        newer.append(world.push(pr, {"app/feature.py": CLEAN}))
        return result

    monkeypatch.setattr(pipeline, "analyse_pull", analyse_then_push)
    world.send_pr("opened", pr, head_sha=old_head)

    run = world.run(old_head)
    assert run.conclusion == "neutral"
    assert run.output.title == f"Superseded by {newer[0][:12]}"
    assert world.state.reviews_for(world.repo, pr.number) == []


def test_a_late_event_for_an_old_head_posts_no_failure(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    old_head = pr.head_sha
    world.push(pr, {"app/feature.py": CLEAN})
    check = world.send("pull_request", world.pr_payload("synchronize", pr, head_sha=old_head))
    assert check.state == tables.DONE
    # The payload claims the old head; the PR's current head decides.
    assert all(r.conclusion != "failure" for r in world.runs(old_head))
    world.send_pr("synchronize", pr)
    assert world.run(pr.head_sha).conclusion == "success"


def test_jobs_for_one_pr_never_run_at_once_a_locked_one_is_postponed(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    repo = f"{OWNER}/{NAME}".lower()
    now = db.utcnow()
    assert locks.acquire_pull_lock(
        world.engine,
        installation_id=world.installation.id,
        repo=repo,
        pr=pr.number,
        holder="another worker",
        now=now,
        until=now + __import__("datetime").timedelta(minutes=5),
    )
    delivery = world.send("pull_request", world.pr_payload("opened", pr))
    # Postponed by a few seconds, not a failed attempt: a busy PR never exhausts the attempts.
    assert delivery.state == tables.QUEUED and delivery.attempts == 0
    assert delivery.error is not None and "postponed: PullRequestBusy" in delivery.error
    assert delivery.lease_until is not None
    assert delivery.lease_until - db.utcnow() < __import__("datetime").timedelta(seconds=10)
    assert world.runs(pr.head_sha) == []

    locks.release_pull_lock(
        world.engine,
        installation_id=world.installation.id,
        repo=repo,
        pr=pr.number,
        holder="another worker",
    )
    assert runtime(world.client).jobs.process_delivery(delivery.id) == tables.DONE
    assert world.run(pr.head_sha).conclusion == "failure"


# --- GitHub: tokens, calls, errors ------------------------------------------------------------


def test_one_token_exchange_serves_every_call_of_several_jobs(world: World) -> None:
    first = world.open_pr({"app/feature.py": BAD})
    second = world.open_pr({"app/other.py": CLEAN}, branch="other")
    world.send_pr("opened", first)
    world.send_pr("opened", second)

    exchanges = world.state.calls_matching(method="POST", path="/access_tokens")
    assert len(exchanges) == 1
    assert len(world.state.calls) > 15


def test_a_refused_token_is_forgotten_and_the_retry_exchanges_a_new_one(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)
    world.state.expire_tokens()  # GitHub revoked it: the next call answers 401
    world.push(pr, {"app/other.py": CLEAN})
    delivery = world.send("pull_request", world.pr_payload("synchronize", pr))
    assert delivery.state == tables.QUEUED and "401" in (delivery.error or "")

    assert runtime(world.client).jobs.process_delivery(delivery.id) == tables.DONE
    assert len(world.state.calls_matching(method="POST", path="/access_tokens")) == 2
    assert world.run(pr.head_sha).conclusion == "failure"


def test_cached_blobs_are_not_read_again(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD, "app/views.py": CLEAN + "# x\n"})
    world.send_pr("opened", pr)
    world.state.clear_calls()
    world.send_pr("synchronize", pr)  # the same head again: every blob is cached

    graphql = world.state.calls_matching(path="/graphql")
    assert len(graphql) == 1  # the policy and the base blob ids; no blob text
    assert world.state.calls_matching(path="/git/blobs") == []


def test_a_truncated_graphql_text_is_read_from_the_blobs_api(make_settings: Any) -> None:
    for world in make_world(make_settings, state_options={"graphql_blob_text_limit": 100}):
        big = BAD + "".join(f"def f{i}():\n    return {i}\n" for i in range(20))
        pr = world.open_pr({"app/feature.py": big})
        world.send_pr("opened", pr)

        assert world.run(pr.head_sha).conclusion == "failure"
        assert world.state.calls_matching(method="GET", path="/git/blobs/")


def test_server_errors_make_the_job_retry(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    world.server.faults.server_error(3, path=r"/pulls/\d+/files")
    delivery = world.send("pull_request", world.pr_payload("opened", pr))
    assert delivery.state == tables.QUEUED and "500" in (delivery.error or "")

    assert runtime(world.client).jobs.process_delivery(delivery.id) == tables.DONE
    assert world.run(pr.head_sha).conclusion == "failure"


def test_a_closed_or_missing_pr_gets_nothing(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    data = world.pr_payload("opened", pr)
    world.state.close_pull_request(world.repo, pr.number)
    data["pull_request"]["state"] = "closed"
    assert world.send("pull_request", data).state == tables.DONE
    missing = world.pr_payload("opened", pr)
    missing["number"] = missing["pull_request"]["number"] = 999
    assert world.send("pull_request", missing).state == tables.DONE
    rerun = payload("check_run/rerequested")
    rerun["installation"]["id"] = world.installation.id
    point_repository(rerun["repository"], world.repo)
    rerun["check_run"]["head_sha"] = pr.head_sha
    rerun["check_run"]["pull_requests"] = []  # a fork's run names no PR: found by its head
    assert world.send("check_run", rerun).state == tables.DONE
    assert world.runs(pr.head_sha) == []


def test_a_short_rate_limit_is_waited_out_a_long_one_postpones_the_job(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    world.server.faults.rate_limit(1, retry_after=1, path="/compare/")
    world.send_pr("opened", pr)
    assert world.run(pr.head_sha).conclusion == "failure"
    [limited] = [c for c in world.state.calls if c.fault == "429"]
    after = [c for c in world.state.calls if c.started_at > limited.started_at]
    assert after and min(c.started_at for c in after) >= limited.started_at + 1.0

    world.push(pr, {"app/other.py": BAD})
    world.server.faults.secondary_rate_limit(1, retry_after=600, path="/check-runs$")
    delivery = world.send("pull_request", world.pr_payload("synchronize", pr))
    # Postponed to the time GitHub gave, without counting as a failed attempt.
    assert delivery.state == tables.QUEUED and delivery.attempts == 0
    assert "SecondaryRateLimitExceeded" in (delivery.error or "")
    assert delivery.lease_until is not None
    wait = (delivery.lease_until - db.utcnow()).total_seconds()
    assert 590 < wait < 700
    # Every job of the installation honours the wait, without calling GitHub.
    calls = len(world.state.calls)
    assert runtime(world.client).jobs.process_delivery(delivery.id) == tables.QUEUED
    assert len(world.state.calls) == calls
    again = deliveries.get_delivery(world.engine, delivery.id)
    assert again is not None and "RateLimited" in (again.error or "")

    # Ten minutes later (the stored wait moved to the past), the job runs.
    with world.engine.begin() as conn:
        conn.execute(tables.rate_limits.update().values(blocked_until=db.utcnow()))
    assert runtime(world.client).jobs.process_delivery(delivery.id) == tables.DONE
    assert world.run(pr.head_sha).conclusion == "failure"


# --- repository totals ------------------------------------------------------------------------


def push_payload(world: World, sha: str) -> dict[str, Any]:
    data = payload("push/with-installation")
    data["installation"]["id"] = world.installation.id
    point_repository(data["repository"], world.repo)
    data["ref"] = "refs/heads/master"
    data["after"] = sha
    data["deleted"] = False
    return data


def summary_cell(summary: str, rule: str, column: str) -> str:
    """The cell of ``column`` in the totals table row of ``rule``."""
    lines = summary.splitlines()
    header = next(line for line in lines if line.startswith("| Concept |"))
    names = [c.strip() for c in header.strip("|").split("|")]
    row = next(line for line in lines if line.startswith("|") and f"| {rule} " in line)
    return [c.strip() for c in row.strip("|").split("|")][names.index(column)]


def test_without_stored_totals_the_summary_says_so(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)
    assert "Repository total not computed yet" in (world.run(pr.head_sha).output.summary or "")


def test_a_push_to_the_default_branch_counts_the_repository_and_prs_add_to_it(
    world: World,
) -> None:
    sha = world.state.commit(world.repo, "master", {"app/more.py": legacy_imports(2, "X")}, "Debt")
    assert world.send("push", push_payload(world, sha)).state == tables.DONE
    totals = totals_store.get_repo_totals(
        world.engine, installation_id=world.installation.id, repo=f"{OWNER}/{NAME}"
    )
    assert totals is not None and totals.commit_sha == sha and not totals.truncated
    counts = {(c, r): n for c, r, n, _ in totals.totals}
    assert counts[("websocket-manager", "SSOT001")] == 3

    pr = world.open_pr({"app/feature.py": BAD, "app/legacy.py": CLEAN})
    world.send_pr("opened", pr)
    summary = world.run(pr.head_sha).output.summary or ""
    assert "not computed yet" not in summary
    assert summary_cell(summary, "SSOT001", "Total -> target") == "3 -> 0"  # 3 + 1 new - 1 fixed

    world.state.clear_calls()
    # The same push delivered again (another body: an identical one is a replay, ignored).
    again = push_payload(world, sha)
    again["compare"] = str(again.get("compare") or "") + "#again"
    assert world.send("push", again, delivery=str(uuid.uuid4())).state == tables.DONE
    graphql = world.state.calls_matching(path="/graphql")
    assert len(graphql) == 1  # a repeat scan reads the policy only: every blob is cached


def test_pushes_to_other_branches_and_tags_are_ignored(world: World) -> None:
    data = push_payload(world, world.repo.branches["master"])
    data["ref"] = "refs/tags/v1"
    assert world.send("push", data).state == tables.DONE
    assert (
        totals_store.get_repo_totals(
            world.engine, installation_id=world.installation.id, repo=f"{OWNER}/{NAME}"
        )
        is None
    )


def test_a_truncated_tree_listing_is_said_in_the_summary(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = render.git_tree

    def truncated(*args: Any, **options: Any) -> dict[str, Any]:
        return {**original(*args, **options), "truncated": True}

    monkeypatch.setattr(render, "git_tree", truncated)
    assert (
        world.send("push", push_payload(world, world.repo.branches["master"])).state == tables.DONE
    )
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)
    assert "GitHub truncated that tree listing" in (world.run(pr.head_sha).output.summary or "")
