"""``/ssot`` commands and the check run's buttons, end to end against the fake GitHub.

Each test posts a real webhook payload (``issue_comment/created``, ``check_run/...``, edited
only where the scenario needs: body, sha, repository, user) to the App's webhook route; the
job runs in the request (Huey's immediate mode) and talks to the fake GitHub over loopback
through githubkit. The assertions read the fake's state: reactions, replies, commits, check
runs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from bot_testing import payload, post_webhook, runtime
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bot.commands.replies import REPLY_MARKER, can_write, is_own_reply
from bot.demo.scenario import opened_payload, repository_fields, sample_files
from bot.events.issue_comments import parse_command
from bot.github.api import forget_tokens
from bot.ops.settings import Settings
from bot.store import acceptances, tables
from bot.web.app import create_app
from fake_github import (
    AppKeyPair,
    FakeGitHubServer,
    FakeGitHubState,
    Installation,
    IssueComment,
    PullRequest,
    Repository,
    make_app_keypair,
)

SettingsFactory = Callable[..., Settings]

OWNER, NAME = "acme", "sample-repo"
NOTIFIER = "netra_backend/app/agents/notifier.py"
NOTIFIER_TEXT = """\
import time

from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager


async def notify(manager: UnifiedWebSocketManager, user_id: str, thread_id: str) -> None:
    await manager.send_to_user(
        user_id,
        {"type": "agent_thinking", "time": time.time(), "user": user_id, "thread_id": thread_id, "data": {}},
    )
"""
NOTIFIER_FIXED = """\
import time

from netra_backend.app.websocket_core.websocket_manager import WebSocketManager as UnifiedWebSocketManager


async def notify(manager: UnifiedWebSocketManager, user_id: str, thread_id: str) -> None:
    await manager.send_to_user(
        user_id,
        {"event_type": "agent_thinking", "timestamp": time.time(), "user_id": user_id, "thread_id": thread_id, "data": {}},
    )
"""
IMPORT_OLD = (
    "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n"
)
SESSION_MANAGER = """\
class SessionWebSocketManager:
    def add_connection(self, session_id: str, connection: object) -> None:
        pass

    def broadcast(self, message: dict[str, object]) -> None:
        pass
"""


@dataclass
class World:
    """The fake GitHub with the App installed on "acme", the sample repository, and the App."""

    state: FakeGitHubState
    server: FakeGitHubServer
    installation: Installation
    repo: Repository
    client: TestClient

    @property
    def engine(self) -> Engine:
        return runtime(self.client).engine

    def open_pull(self, files: dict[str, str | None], branch: str = "feature") -> PullRequest:
        self.state.commit(self.repo, branch, files, "Change", author="alice")
        return self.state.open_pull_request(self.repo, branch, title="Change", user="alice")

    def check_pull(self, pr: PullRequest) -> None:
        """What GitHub sends when the PR is opened: the App checks its head."""
        body = opened_payload(self.state, pr, self.installation.id)
        assert post_webhook(self.client, "pull_request", body).status_code == 202

    def comment(
        self,
        pr: PullRequest,
        body: str,
        *,
        user: str = "bob",
        user_type: str = "User",
        written: dt.datetime | None = None,
    ) -> IssueComment:
        """Write ``body`` on the PR as ``user`` and deliver ``issue_comment.created``.

        ``written``: when GitHub says the comment was created; by default a second after
        now (GitHub's times are to the second, and a person reads the check run first).
        """
        comment = self.state.add_issue_comment(self.repo, pr.number, body, user=user)
        comment.created_at = written or comment.created_at + dt.timedelta(seconds=1)
        data = comment_payload(self, "issue_comment/created.with-installation", comment)
        data["sender"].update(type=user_type)
        data["comment"]["user"].update(type=user_type)
        response = post_webhook(self.client, "issue_comment", json.dumps(data).encode())
        assert response.status_code == 202
        return comment

    def replies(self, pr: PullRequest) -> list[str]:
        """Bodies of the App's comments on the PR, oldest first."""
        return [
            c.body
            for c in sorted(self.state.issue_comments_for(self.repo, pr.number), key=lambda c: c.id)
            if c.user.login == self.state.bot.login
        ]

    def reactions(self, comment: IssueComment) -> list[str]:
        return [r.content for r in self.state.issue_comments[comment.id].reactions]

    def check_runs(self, pr: PullRequest) -> list[Any]:
        return self.state.check_runs_for(self.repo, pr.head_sha)


def comment_payload(world: World, fixture: str, comment: IssueComment) -> dict[str, Any]:
    """A real ``issue_comment`` payload, edited to be ``comment`` on the fake's pull request."""
    data = payload(fixture)
    repo = world.repo
    data["repository"] = repository_fields(data["repository"], repo)
    data["installation"] = dict(data.get("installation") or {}, id=world.installation.id)
    data["issue"]["number"] = comment.issue_number
    data["issue"]["pull_request"] = {
        "url": f"https://api.github.com/repos/{repo.full_name}/pulls/{comment.issue_number}",
        "html_url": f"https://github.com/{repo.full_name}/pull/{comment.issue_number}",
    }
    author = world.state.pull(repo, comment.issue_number).user
    data["issue"]["user"].update(login=author.login, id=author.id)
    data["comment"].update(id=comment.id, node_id=comment.node_id, body=comment.body)
    data["comment"]["created_at"] = comment.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    data["comment"]["user"].update(login=comment.user.login, id=comment.user.id)
    data["sender"].update(login=comment.user.login, id=comment.user.id)
    return data


def check_run_payload(
    world: World, fixture: str, pr: PullRequest, *, action: str | None = None
) -> bytes:
    """A real ``check_run`` payload, edited to name the App's check run of ``pr``'s head."""
    data = payload(fixture)
    [run] = world.check_runs(pr)
    data["repository"] = repository_fields(data["repository"], world.repo)
    data["installation"]["id"] = world.installation.id
    data["sender"].update(login="bob")
    check_run = data["check_run"]
    check_run.update(id=run.id, name=run.name, head_sha=run.head_sha, external_id=run.external_id)
    check_run["app"] = dict(check_run.get("app") or {}, id=world.state.app_id)
    check_run["pull_requests"] = [
        {
            "url": f"https://api.github.com/repos/{world.repo.full_name}/pulls/{pr.number}",
            "id": pr.id,
            "number": pr.number,
            "head": {"ref": pr.head_ref, "sha": pr.head_sha, "repo": {"id": world.repo.id}},
            "base": {"ref": pr.base_ref, "sha": pr.base_sha, "repo": {"id": world.repo.id}},
        }
    ]
    if action is not None:
        data["requested_action"] = {"identifier": action}
    return json.dumps(data).encode()


def body_head(body: bytes) -> str:
    return str(json.loads(body)["check_run"]["head_sha"])


@pytest.fixture(scope="module")
def keys() -> AppKeyPair:
    return make_app_keypair()


@pytest.fixture
def world(keys: AppKeyPair, make_settings: SettingsFactory) -> Iterator[World]:
    # Each test's fake issues its own tokens: forget those the last test's fake issued.
    forget_tokens()
    state = FakeGitHubState.for_app(keys)
    installation = state.create_installation(OWNER)
    repo = state.create_repo(OWNER, NAME, files=sample_files(), author="alice")
    state.set_permission(repo, "bob", "write")
    with FakeGitHubServer(state) as server:
        settings = make_settings(
            app_id=keys.app_id,
            private_key=keys.private_key_pem,
            github_url=server.url,
            job_max_attempts=1,  # a failure is final at once (and answered as such)
        )
        with TestClient(create_app(settings, immediate_jobs=True)) as client:
            yield World(state, server, installation, repo, client)


@pytest.fixture
def pr(world: World) -> PullRequest:
    """A PR that adds a deprecated import and a legacy payload (both fixable), checked once."""
    pull = world.open_pull({NOTIFIER: NOTIFIER_TEXT})
    world.check_pull(pull)
    return pull


# --- reactions, help, explain -----------------------------------------------------------------


def test_help_is_answered_with_the_commands_eyes_then_plus_one(
    world: World, pr: PullRequest
) -> None:
    command = world.comment(pr, "/ssot help")
    assert world.reactions(command) == ["eyes", "+1"]
    [reply] = world.replies(pr)
    for name in ("rescan", "explain", "fix", "accept", "help"):
        assert f"`/ssot {name}" in reply
    assert REPLY_MARKER in reply


def test_an_unknown_command_is_answered_with_help_and_confused(
    world: World, pr: PullRequest
) -> None:
    command = world.comment(pr, "/ssot frobnicate now")
    assert world.reactions(command) == ["eyes", "confused"]
    [reply] = world.replies(pr)
    assert "I do not know the command `frobnicate`" in reply
    assert "`/ssot rescan`" in reply


def test_explain_answers_with_the_rules_documentation(world: World, pr: PullRequest) -> None:
    command = world.comment(pr, "Why?\n/ssot explain ssot003, please")
    assert world.reactions(command) == ["eyes", "+1"]
    [reply] = world.replies(pr)
    assert reply.startswith("# SSOT003: legacy-event-payload")
    assert "## Why is this bad?" in reply and "## Use instead" in reply


def test_explain_of_an_unknown_code_lists_the_known_codes(world: World, pr: PullRequest) -> None:
    command = world.comment(pr, "/ssot explain SSOT999")
    assert world.reactions(command) == ["eyes", "confused"]
    [reply] = world.replies(pr)
    assert "`SSOT999` is not a rule code" in reply
    assert all(code in reply for code in ("SSOT001", "SSOT002", "SSOT003", "SSOT900"))


# --- rescan and Re-run -------------------------------------------------------------------------


def test_rescan_completes_the_one_check_run_of_the_head_again(
    world: World, pr: PullRequest
) -> None:
    [before] = world.check_runs(pr)
    updates = before.updates
    command = world.comment(pr, "/ssot rescan")
    assert world.reactions(command) == ["eyes", "+1"]
    [after] = world.check_runs(pr)
    assert after.id == before.id
    assert after.updates > updates
    assert (after.status, after.conclusion) == ("completed", "failure")


def test_rerun_of_the_check_run_rechecks_the_head_like_rescan(
    world: World, pr: PullRequest
) -> None:
    [before] = world.check_runs(pr)
    updates = before.updates
    body = check_run_payload(world, "check_run/rerequested", pr)
    assert post_webhook(world.client, "check_run", body).status_code == 202
    [after] = world.check_runs(pr)
    assert after.id == before.id
    assert after.updates > updates
    assert (after.status, after.conclusion) == ("completed", "failure")
    assert world.replies(pr) == []


# --- fix ---------------------------------------------------------------------------------------


def test_fix_commits_the_fixed_file_to_the_pull_requests_branch(
    world: World, pr: PullRequest
) -> None:
    old_head = pr.head_sha
    command = world.comment(pr, "/ssot fix")
    assert world.reactions(command) == ["eyes", "+1"]
    new_head = world.state.repo(world.repo).branches["feature"]
    assert new_head != old_head
    commit = world.state.get_commit(new_head)
    assert commit.parents == (old_head,)
    assert commit.message.startswith("ssot: apply 2 automatic fixes (SSOT001 x1, SSOT003 x1)")
    assert world.state.file_at(world.repo, "feature", NOTIFIER) == NOTIFIER_FIXED.encode()
    changed = {c.filename for c in world.state.diff(old_head, new_head)}
    assert changed == {NOTIFIER}
    [reply] = world.replies(pr)
    assert reply.startswith(f"Pushed {new_head[:7]} to `feature`: 2 fixes in 1 file.")


def test_fix_with_nothing_to_fix_commits_nothing(world: World) -> None:
    pull = world.open_pull({"netra_backend/app/agents/session.py": SESSION_MANAGER})
    world.check_pull(pull)
    head = pull.head_sha
    commits = len(world.state.commits)
    command = world.comment(pull, "/ssot fix")
    assert world.reactions(command) == ["eyes", "+1"]
    assert world.state.repo(world.repo).branches["feature"] == head
    assert len(world.state.commits) == commits
    assert world.state.calls_matching(method="POST", path="/git/") == []
    [reply] = world.replies(pull)
    assert "Nothing to commit" in reply and "1 finding" in reply


def test_fix_on_a_fork_pull_request_replies_instead_of_committing(world: World) -> None:
    fork = world.state.fork_repo(world.repo, "mallory")
    world.state.commit(fork, "patch-1", {NOTIFIER: NOTIFIER_TEXT}, "Fork change", author="mallory")
    pull = world.state.open_pull_request(
        world.repo, "patch-1", head_repo=fork, user="mallory", title="From a fork"
    )
    head = pull.head_sha
    command = world.comment(pull, "/ssot fix")
    assert world.reactions(command) == ["eyes", "confused"]
    assert fork.branches["patch-1"] == head
    assert world.state.calls_matching(method="PATCH", path="/git/refs/") == []
    [reply] = world.replies(pull)
    assert "fork `mallory/sample-repo`" in reply


@pytest.mark.parametrize("status", [403, 422])
def test_fix_when_github_refuses_the_push_replies_why(
    world: World, pr: PullRequest, status: int
) -> None:
    world.state.deny_push(world.repo, "feature", status)
    head = pr.head_sha
    command = world.comment(pr, "/ssot fix")
    assert world.reactions(command) == ["eyes", "confused"]
    assert world.state.repo(world.repo).branches["feature"] == head
    [reply] = world.replies(pr)
    assert f"GitHub refused the push of the fixes to `feature` ({status}" in reply


def test_fix_by_the_pull_requests_author_without_write_permission_is_refused(
    world: World, pr: PullRequest
) -> None:
    # The App may push where the author may not (a protected path, a workflow file the
    # fix touches): the author gets no more than their own permission.
    assert world.state.permission_of(world.repo, "alice") == "read"
    head = pr.head_sha
    command = world.comment(pr, "/ssot fix", user="alice")
    assert world.reactions(command) == ["eyes", "confused"]
    assert world.state.repo(world.repo).branches["feature"] == head
    [reply] = world.replies(pr)
    assert "only people with write, maintain or admin permission" in reply


def test_fix_button_clicked_by_a_reader_is_refused(world: World, pr: PullRequest) -> None:
    world.state.set_permission(world.repo, "carol", "read")
    data = json.loads(check_run_payload(world, "check_run/requested_action", pr, action="ssot-fix"))
    data["sender"].update(login="carol")
    head = pr.head_sha
    assert post_webhook(world.client, "check_run", json.dumps(data).encode()).status_code == 202
    assert world.state.repo(world.repo).branches["feature"] == head
    assert world.state.calls_matching(method="PATCH", path="/git/refs/") == []
    [reply] = world.replies(pr)
    assert "@carol, `/ssot fix` pushes" in reply


def test_fix_never_pushes_to_a_protected_branch(world: World, pr: PullRequest) -> None:
    world.state.repo(world.repo).protected_branches.add("feature")  # the App may bypass it
    head = pr.head_sha
    command = world.comment(pr, "/ssot fix")
    assert world.reactions(command) == ["eyes", "confused"]
    assert world.state.repo(world.repo).branches["feature"] == head
    assert world.state.calls_matching(method="PATCH", path="/git/refs/") == []
    [reply] = world.replies(pr)
    assert "`feature` is a protected branch: SSOT guard does not push there" in reply


def test_fix_never_pushes_to_the_default_branch(world: World) -> None:
    # A pull request from main into a release branch: its head branch is the default one.
    world.state.commit(world.repo, "release", {"README.md": "release\n"}, "Release")
    world.state.commit(world.repo, "main", {NOTIFIER: NOTIFIER_TEXT}, "On main", author="alice")
    pull = world.state.open_pull_request(world.repo, "main", "release", user="alice")
    world.check_pull(pull)
    main = world.state.repo(world.repo).branches["main"]
    command = world.comment(pull, "/ssot fix")
    assert world.reactions(command) == ["eyes", "confused"]
    assert world.state.repo(world.repo).branches["main"] == main
    [reply] = world.replies(pull)
    assert "`main` is the repository's default branch" in reply


def test_fix_by_a_reader_who_is_not_the_author_is_refused(world: World, pr: PullRequest) -> None:
    world.state.set_permission(world.repo, "carol", "read")
    head = pr.head_sha
    command = world.comment(pr, "/ssot fix", user="carol")
    assert world.reactions(command) == ["eyes", "confused"]
    assert world.state.repo(world.repo).branches["feature"] == head
    [reply] = world.replies(pr)
    assert "only people with write, maintain or admin permission" in reply


def test_fix_button_of_the_check_run_commits_like_the_command(
    world: World, pr: PullRequest
) -> None:
    old_head = pr.head_sha
    body = check_run_payload(world, "check_run/requested_action", pr, action="ssot-fix")
    assert post_webhook(world.client, "check_run", body).status_code == 202
    assert world.state.file_at(world.repo, "feature", NOTIFIER) == NOTIFIER_FIXED.encode()
    assert world.state.get_commit(pr.head_sha).parents == (old_head,)
    [reply] = world.replies(pr)
    assert reply.startswith("Pushed ")


def test_fix_button_of_an_older_head_changes_nothing(world: World, pr: PullRequest) -> None:
    body = check_run_payload(world, "check_run/requested_action", pr, action="ssot-fix")
    moved = world.state.commit(world.repo, "feature", {"README.md": "moved on\n"}, "More")
    assert post_webhook(world.client, "check_run", body).status_code == 202
    assert world.state.repo(world.repo).branches["feature"] == moved
    [reply] = world.replies(pr)
    assert f"moved on from {body_head(body)[:7]} to {moved[:7]}" in reply


# --- accept ------------------------------------------------------------------------------------


def accepted(world: World, pr: PullRequest) -> set[str]:
    return acceptances.accepted_fingerprints(
        world.engine, installation_id=world.installation.id, repo=world.repo.full_name, pr=pr.number
    )


def test_accept_by_a_write_collaborator_is_recorded_and_the_check_passes(
    world: World, pr: PullRequest
) -> None:
    [run] = world.check_runs(pr)
    assert run.conclusion == "failure"
    command = world.comment(pr, "/ssot accept the old client is removed in #42", user="bob")
    assert world.reactions(command) == ["eyes", "+1"]
    assert len(accepted(world, pr)) == 2
    with world.engine.begin() as conn:
        rows = conn.execute(tables.accepted_findings.select()).all()
    assert {(row.user, row.reason) for row in rows} == {("bob", "the old client is removed in #42")}
    [run] = world.check_runs(pr)
    assert (run.status, run.conclusion) == ("completed", "success")
    [reply] = world.replies(pr)
    assert reply.startswith("@bob accepted 2 findings")
    # The reason is the commenter's text: quoted, escaped (no live reference to #42).
    assert "> the old client is removed in \\#\u200b42" in reply


def test_an_acceptance_does_not_cover_a_copy_pushed_later(world: World, pr: PullRequest) -> None:
    # bob accepted the one deprecated import he saw. The same import at the top of another
    # module has the same fingerprint (it leaves out the path); pushed afterwards, it is new
    # debt he never saw, and the gate fails on it.
    world.comment(pr, "/ssot accept the old client is removed in #42", user="bob")
    assert [run.conclusion for run in world.check_runs(pr)] == ["success"]
    world.state.commit(world.repo, "feature", {"netra_backend/app/x.py": IMPORT_OLD}, "More")
    pushed = world.state.pull(world.repo, pr.number)
    world.check_pull(pushed)
    [run] = world.check_runs(pushed)
    assert run.conclusion == "failure"
    assert "netra_backend/app/x.py" in (run.output.summary or "")
    assert (run.output.title or "").startswith("1 new blocking finding")


def test_accept_by_a_read_collaborator_is_refused(world: World, pr: PullRequest) -> None:
    world.state.set_permission(world.repo, "carol", "read")
    command = world.comment(pr, "/ssot accept looks fine to me", user="carol")
    assert world.reactions(command) == ["eyes", "confused"]
    assert accepted(world, pr) == set()
    [run] = world.check_runs(pr)
    assert run.conclusion == "failure"
    [reply] = world.replies(pr)
    assert "only people with write, maintain or admin permission" in reply
    assert "you have `read` permission" in reply


def test_accept_without_a_reason_is_refused(world: World, pr: PullRequest) -> None:
    command = world.comment(pr, "/ssot accept", user="bob")
    assert world.reactions(command) == ["eyes", "confused"]
    assert accepted(world, pr) == set()
    [reply] = world.replies(pr)
    assert "needs a reason" in reply


def test_can_write_follows_the_collaborator_permission_api() -> None:
    assert can_write("admin", "admin")
    assert can_write("write", "maintain")
    assert can_write("write", "write")
    assert can_write("write", None)
    assert not can_write("read", "triage")
    assert not can_write("read", "read")
    assert not can_write("none", None)


def test_a_command_that_fails_for_good_gets_confused_and_a_reply(
    world: World, pr: PullRequest
) -> None:
    world.server.faults.server_error(count=10, status=502, path="/collaborators/")
    command = world.comment(pr, "/ssot accept the old client is removed in #42", user="bob")
    assert world.reactions(command) == ["eyes", "confused"]
    assert accepted(world, pr) == set()
    [reply] = world.replies(pr)
    assert "`/ssot accept` failed on the App's side" in reply


# --- what is not a command ----------------------------------------------------------------------


def test_a_comment_by_a_bot_is_ignored(world: World, pr: PullRequest) -> None:
    command = world.comment(pr, "/ssot help", user="dependabot[bot]", user_type="Bot")
    assert world.reactions(command) == []
    assert world.replies(pr) == []


def test_an_edited_comment_is_ignored(world: World, pr: PullRequest) -> None:
    comment = world.state.add_issue_comment(world.repo, pr.number, "/ssot help", user="bob")
    data = comment_payload(world, "issue_comment/edited", comment)
    response = post_webhook(world.client, "issue_comment", json.dumps(data).encode())
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert world.reactions(comment) == []
    assert world.replies(pr) == []


def test_a_comment_on_a_plain_issue_is_ignored(world: World, pr: PullRequest) -> None:
    comment = world.state.add_issue_comment(world.repo, pr.number, "/ssot help", user="bob")
    data = comment_payload(world, "issue_comment/created.with-installation", comment)
    del data["issue"]["pull_request"]
    assert post_webhook(world.client, "issue_comment", json.dumps(data).encode()).status_code == 202
    assert world.reactions(comment) == []
    assert world.replies(pr) == []


def test_a_comment_without_a_command_gets_no_reaction(world: World, pr: PullRequest) -> None:
    command = world.comment(pr, "Looks good; what does /ssot say?")
    assert world.reactions(command) == []
    assert world.replies(pr) == []


def test_the_bots_replies_are_marked_and_never_read_as_commands(
    world: World, pr: PullRequest
) -> None:
    world.comment(pr, "/ssot help")
    world.comment(pr, "/ssot explain SSOT001")
    world.comment(pr, "/ssot accept", user="bob")
    replies = world.replies(pr)
    assert len(replies) == 3
    for reply in replies:
        assert is_own_reply(reply)
        assert parse_command(reply) is None


def test_a_quoted_or_fenced_accept_accepts_nothing(world: World, pr: PullRequest) -> None:
    # Quoting a maintainer's earlier `/ssot accept` (or pasting it in code) is not asking again.
    for body in (
        "> /ssot accept the old client is removed in #42\n\nagreed",
        "```\n/ssot accept the old client is removed in #42\n```",
        "<!--\n/ssot accept the old client is removed in #42\n-->",
    ):
        command = world.comment(pr, body, user="bob")
        assert world.reactions(command) == []
    assert accepted(world, pr) == set()
    assert world.replies(pr) == []


def test_accept_never_accepts_a_push_made_after_the_comment(world: World, pr: PullRequest) -> None:
    # bob wrote his comment while the first head was checked; alice pushed another
    # deprecated import afterwards, and its check ran before bob's command did.
    written = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    world.state.commit(world.repo, "feature", {"netra_backend/app/x.py": IMPORT_OLD}, "More")
    pushed = world.state.pull(world.repo, pr.number)
    world.check_pull(pushed)
    command = world.comment(pr, "/ssot accept legacy client", user="bob", written=written)
    assert world.reactions(command) == ["eyes", "confused"]
    assert accepted(world, pr) == set()
    [reply] = world.replies(pr)
    assert f"head ({pushed.head_sha[:7]}) is newer than the check run you saw" in reply


# --- who gets a reply ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["/ssot help", "/ssot explain SSOT001", "/ssot frobnicate"])
def test_a_non_collaborator_gets_a_reaction_not_a_reply(
    world: World, pr: PullRequest, body: str
) -> None:
    command = world.comment(pr, body, user="mallory")
    assert len(world.reactions(command)) == 1
    assert world.replies(pr) == []


def test_one_persons_command_answers_are_capped_per_hour(world: World, pr: PullRequest) -> None:
    cap = runtime(world.client).settings.command_answers_per_hour
    comments = [world.comment(pr, "/ssot help", user="bob") for _ in range(cap + 3)]
    assert [world.reactions(c) for c in comments] == [["eyes", "+1"]] * cap + [[]] * 3
    assert len(world.replies(pr)) == cap
    # Someone else in the same repository is answered as usual.
    world.state.set_permission(world.repo, "carol", "write")
    other = world.comment(pr, "/ssot help", user="carol")
    assert world.reactions(other) == ["eyes", "+1"]
