"""The fake GitHub's branch, pull-request, review-request, label and issue writes, and the
installation's permissions, driven through githubkit as the App drives GitHub."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.exception import RequestFailed

from fake_github import (
    AppKeyPair,
    FakeGitHubServer,
    FakeGitHubState,
    Installation,
    Repository,
    make_app_keypair,
)
from fake_github.state import manifest_permissions

OWNER, NAME = "acme", "monorepo"


@dataclass
class World:
    keys: AppKeyPair
    state: FakeGitHubState
    server: FakeGitHubServer
    installation: Installation
    repo: Repository

    def gh(self, installation: Installation | None = None) -> GitHub[Any]:
        gh = GitHub(
            AppAuthStrategy(self.keys.app_id, self.keys.private_key_pem),
            base_url=self.server.url,
            auto_retry=False,
            cache_strategy=MemCacheStrategy(),
        )
        return gh.with_auth(gh.auth.as_installation((installation or self.installation).id))

    def commit_on(self, branch: str, files: dict[str, str]) -> str:
        """A commit on top of main made through the git data API; its sha (no ref moved)."""
        gh = self.gh()
        main = self.state.repo(self.repo).branches["main"]
        head = gh.rest.git.get_commit(OWNER, NAME, main).parsed_data
        tree = gh.rest.git.create_tree(
            OWNER,
            NAME,
            base_tree=head.tree.sha,
            tree=[
                {"path": p, "mode": "100644", "type": "blob", "content": t}
                for p, t in files.items()
            ],
        ).parsed_data
        return str(
            gh.rest.git.create_commit(
                OWNER, NAME, message=branch, tree=tree.sha, parents=[main]
            ).parsed_data.sha
        )


@pytest.fixture(scope="module")
def keys() -> AppKeyPair:
    return make_app_keypair()


@pytest.fixture
def world(keys: AppKeyPair) -> Iterator[World]:
    state = FakeGitHubState.for_app(keys)
    installation = state.create_installation(OWNER)
    repo = state.create_repo(OWNER, NAME, files={"app/a.py": "x = 1\n"})
    state.set_permission(repo, "alice", "write")
    state.set_permission(repo, "eve", "read")
    state.add_team(OWNER, "platform", ["alice"])
    with FakeGitHubServer(state) as server:
        yield World(keys, state, server, installation, repo)


def error(exc: RequestFailed) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = exc.response.json()
    return exc.response.status_code, body


def test_new_installations_grant_what_app_yml_asks_for() -> None:
    state = FakeGitHubState.for_app(make_app_keypair())
    assert state.create_installation("acme").permissions == manifest_permissions()
    assert manifest_permissions()["contents"] == "write"


def test_create_a_branch_then_again_is_422_reference_already_exists(world: World) -> None:
    gh = world.gh()
    sha = world.commit_on("b", {"app/a.py": "x = 2\n"})
    ref = gh.rest.git.create_ref(OWNER, NAME, ref="refs/heads/ssot/b", sha=sha).parsed_data
    assert ref.ref == "refs/heads/ssot/b" and ref.object_.sha == sha
    with pytest.raises(RequestFailed) as caught:
        gh.rest.git.create_ref(OWNER, NAME, ref="refs/heads/ssot/b", sha=sha)
    assert error(caught.value) == (422, caught.value.response.json())
    assert error(caught.value)[1]["message"] == "Reference already exists"
    with pytest.raises(RequestFailed) as bad:
        gh.rest.git.create_ref(OWNER, NAME, ref="ssot/c", sha=sha)
    assert error(bad.value)[0] == 422
    gh.rest.git.delete_ref(OWNER, NAME, "heads/ssot/b")
    assert "ssot/b" not in world.state.repo(world.repo).branches
    with pytest.raises(RequestFailed) as gone:
        gh.rest.git.delete_ref(OWNER, NAME, "heads/ssot/b")
    assert error(gone.value)[1]["message"] == "Reference does not exist"


def test_force_update_moves_a_branch_back_a_plain_update_is_422(world: World) -> None:
    gh = world.gh()
    one = world.commit_on("one", {"app/a.py": "x = 2\n"})
    two = world.commit_on("two", {"app/a.py": "x = 3\n"})  # a sibling, not a descendant
    gh.rest.git.create_ref(OWNER, NAME, ref="refs/heads/b", sha=one)
    with pytest.raises(RequestFailed) as caught:
        gh.rest.git.update_ref(OWNER, NAME, "heads/b", sha=two)
    assert error(caught.value)[0] == 422
    assert error(caught.value)[1]["message"] == "Update is not a fast forward"
    gh.rest.git.update_ref(OWNER, NAME, "heads/b", sha=two, force=True)
    assert world.state.repo(world.repo).branches["b"] == two


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (403, "Resource not accessible by integration"),
        (422, "Repository rule violations found"),
    ],
)
def test_a_protected_branch_pattern_refuses_creation(
    world: World, status: int, message: str
) -> None:
    world.state.deny_push(world.repo, "ssot/*", status)
    sha = world.commit_on("b", {"app/a.py": "x = 2\n"})
    gh = world.gh()  # held: githubkit's namespaces need their client alive
    with pytest.raises(RequestFailed) as caught:
        gh.rest.git.create_ref(OWNER, NAME, ref="refs/heads/ssot/x", sha=sha)
    assert error(caught.value)[0] == status
    assert error(caught.value)[1]["message"].startswith(message)


def test_protected_branch_update_is_422_with_githubs_message(world: World) -> None:
    gh = world.gh()
    sha = world.commit_on("b", {"app/a.py": "x = 2\n"})
    gh.rest.git.create_ref(OWNER, NAME, ref="refs/heads/guarded", sha=sha)
    world.state.deny_push(world.repo, "guarded", 422)
    with pytest.raises(RequestFailed) as caught:
        gh.rest.git.update_ref(OWNER, NAME, "heads/guarded", sha=sha, force=True)
    assert (
        error(caught.value)[1]["message"]
        == "Protected branch update failed for refs/heads/guarded."
    )


def test_open_a_pull_request_then_a_duplicate_is_422(world: World) -> None:
    gh = world.gh()
    sha = world.commit_on("b", {"app/a.py": "x = 2\n"})
    gh.rest.git.create_ref(OWNER, NAME, ref="refs/heads/ssot/b", sha=sha)
    pr = gh.rest.pulls.create(
        OWNER, NAME, title="Consolidate", head="ssot/b", base="main", body="why", draft=True
    ).parsed_data
    assert (pr.number, pr.draft, pr.user.login) == (1, True, world.state.bot.login)
    with pytest.raises(RequestFailed) as caught:
        gh.rest.pulls.create(OWNER, NAME, title="Again", head=f"{OWNER}:ssot/b", base="main")
    status, body = error(caught.value)
    assert (status, body["message"]) == (422, "Validation Failed")
    assert body["errors"][0]["message"] == f"A pull request already exists for {OWNER}:ssot/b."
    gh.rest.git.create_ref(
        OWNER, NAME, ref="refs/heads/same", sha=world.state.repo(world.repo).branches["main"]
    )
    with pytest.raises(RequestFailed) as empty:
        gh.rest.pulls.create(OWNER, NAME, title="Nothing", head="same", base="main")
    assert error(empty.value)[1]["errors"][0]["message"] == "No commits between main and same"


def test_reviewers_teams_labels_and_closing_a_pull_request(world: World) -> None:
    gh = world.gh()
    sha = world.commit_on("b", {"app/a.py": "x = 2\n"})
    gh.rest.git.create_ref(OWNER, NAME, ref="refs/heads/b", sha=sha)
    number = gh.rest.pulls.create(OWNER, NAME, title="T", head="b", base="main").parsed_data.number
    gh.rest.pulls.request_reviewers(
        OWNER, NAME, number, reviewers=["alice"], team_reviewers=["platform"]
    )
    with pytest.raises(RequestFailed) as caught:
        gh.rest.pulls.request_reviewers(OWNER, NAME, number, reviewers=["eve"])
    assert "only be requested from collaborators" in error(caught.value)[1]["message"]
    labels = gh.rest.issues.add_labels(OWNER, NAME, number, labels=["ssot", "Debt"]).parsed_data
    assert [label.name for label in labels] == ["ssot", "Debt"]
    got = gh.rest.pulls.get(OWNER, NAME, number).parsed_data
    assert [u.login for u in got.requested_reviewers or []] == ["alice"]
    assert [t.slug for t in got.requested_teams or []] == ["platform"]
    assert [label.name for label in got.labels] == ["ssot", "Debt"]
    closed = gh.rest.pulls.update(OWNER, NAME, number, state="closed", body="empty").parsed_data
    assert (closed.state, closed.body, closed.merged) == ("closed", "empty", False)
    pr = world.state.pull(world.repo, number)
    assert pr.closed_by == world.state.bot.login


def test_merging_moves_the_base_with_the_heads_changes(world: World) -> None:
    world.state.commit(world.repo, "b", {"app/b.py": "y = 1\n"}, "b")
    world.state.commit(world.repo, "main", {"app/c.py": "z = 1\n"}, "base moved")
    pr = world.state.open_pull_request(world.repo, "b", "main")
    world.state.close_pull_request(world.repo, pr, merged=True, by="alice")
    assert world.state.file_at(world.repo, "main", "app/b.py") == b"y = 1\n"
    assert world.state.file_at(world.repo, "main", "app/c.py") == b"z = 1\n"


def test_issues_comments_on_issues_and_labels(world: World) -> None:
    gh = world.gh()
    issue = gh.rest.issues.create(OWNER, NAME, title="Dashboard", body="- [ ] x").parsed_data
    gh.rest.issues.create_comment(OWNER, NAME, issue.number, body="hello")
    assert [c.body for c in world.state.issue_comments_for(world.repo, issue.number)] == ["hello"]
    gh.rest.issues.update(OWNER, NAME, issue.number, body="- [x] x")
    assert gh.rest.issues.get(OWNER, NAME, issue.number).parsed_data.body == "- [x] x"


@pytest.mark.parametrize(
    ("permissions", "call"),
    [
        ({"contents": "read", "pull_requests": "write"}, "branch"),
        ({"contents": "write", "pull_requests": "read"}, "pull"),
        ({"contents": "write", "pull_requests": "write", "issues": "read"}, "issue"),
        ({"checks": "read"}, "check"),
    ],
)
def test_a_write_beyond_the_installations_permissions_is_403(
    world: World, permissions: dict[str, str], call: str
) -> None:
    other = world.state.create_installation(
        "globex", permissions={"metadata": "read", **permissions}
    )
    repo = world.state.create_repo("globex", "r", files={"a.py": "x = 1\n"})
    world.state.commit(repo, "b", {"a.py": "x = 2\n"})
    gh = world.gh(other)
    main = world.state.repo(repo).branches["main"]
    with pytest.raises(RequestFailed) as caught:
        if call == "branch":
            gh.rest.git.create_ref("globex", "r", ref="refs/heads/x", sha=main)
        elif call == "pull":
            gh.rest.pulls.create("globex", "r", title="T", head="b", base="main")
        elif call == "issue":
            gh.rest.issues.create("globex", "r", title="T")
        else:
            gh.rest.checks.create("globex", "r", name="c", head_sha=main)
    assert error(caught.value) == (403, error(caught.value)[1])
    assert error(caught.value)[1]["message"] == "Resource not accessible by integration"
