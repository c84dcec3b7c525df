"""The fake GitHub, driven by githubkit exactly as the bot drives the real one.

Every response is parsed through githubkit's generated models (``.parsed_data``), so a shape
the bot could not parse from the fake fails here first.

githubkit's own retries (observed with githubkit 0.16.1, ``auto_retry=True`` by default):
- 5xx: retried 3 times, sleeping 1, 4 and 9 s (``RetryServerError``);
- 403/429 carrying ``retry-after`` (or ``x-ratelimit-remaining: 0``): raised as
  ``SecondaryRateLimitExceeded`` (any response with ``retry-after``, whatever its status) or
  ``PrimaryRateLimitExceeded``, retried once after ``retry-after`` (``RetryRateLimit``);
- anything else (401, 404, 422...) raises ``RequestFailed`` at once.
Most tests pass ``auto_retry=False`` to see the raw answers; two tests show the defaults.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pydantic
import pytest
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.exception import (
    GraphQLFailed,
    RequestError,
    RequestFailed,
    SecondaryRateLimitExceeded,
)

from fake_github import (
    AppKeyPair,
    FakeGitHubServer,
    FakeGitHubState,
    Installation,
    PullRequest,
    Repository,
    make_app_keypair,
)
from fake_github.gitdiff import blob_sha, commentable_lines, unified_patch

OWNER, NAME = "acme", "monorepo"

WS_OLD = """\
from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager


def connect(user):
    manager = UnifiedWebSocketManager()
    manager.add_connection(user)
    return manager
"""
WS_NEW = """\
from netra_backend.app.websocket_core.websocket_manager import WebSocketManager


def connect(user):
    manager = WebSocketManager()
    manager.add_connection(user)
    manager.send_to_user(user, {"event_type": "agent_started"})
    return manager
"""


@dataclass
class World:
    """A running fake with the App installed on "acme" and one open pull request."""

    keys: AppKeyPair
    state: FakeGitHubState
    server: FakeGitHubServer
    installation: Installation
    repo: Repository
    pr: PullRequest

    def client(self, **options: Any) -> GitHub[Any]:
        """githubkit as the App (a fresh token cache per client: no state between tests)."""
        options.setdefault("auto_retry", False)
        options.setdefault("cache_strategy", MemCacheStrategy())
        return GitHub(
            AppAuthStrategy(self.keys.app_id, self.keys.private_key_pem),
            base_url=self.server.url,
            **options,
        )

    def installation_client(self, **options: Any) -> GitHub[Any]:
        gh = self.client(**options)
        return gh.with_auth(gh.auth.as_installation(self.installation.id))


@pytest.fixture(scope="module")
def keys() -> AppKeyPair:
    return make_app_keypair()


@pytest.fixture
def world(keys: AppKeyPair) -> Iterator[World]:
    state = FakeGitHubState.for_app(keys)
    installation = state.create_installation(OWNER)
    repo = state.create_repo(
        OWNER,
        NAME,
        files={"app/ws.py": WS_OLD, "app/events.py": "EVENTS = []\n", "README.md": "# mono\n"},
    )
    state.commit(
        repo, "feature", {"app/ws.py": WS_NEW, "app/new.py": "x = 1\n"}, "Use the canonical manager"
    )
    pr = state.open_pull_request(repo, "feature", "main", title="Canonical manager", user="bob")
    with FakeGitHubServer(state) as server:
        yield World(keys, state, server, installation, repo, pr)


def status_of(error: RequestFailed) -> int:
    return error.response.status_code


def error_body(error: RequestFailed) -> dict[str, Any]:
    body: dict[str, Any] = error.response.json()
    return body


# --- authentication ---------------------------------------------------------------------------


def test_installation_token_is_exchanged_once_with_the_app_jwt(world: World) -> None:
    igh = world.installation_client()
    assert igh.rest.repos.get(OWNER, NAME).parsed_data.full_name == f"{OWNER}/{NAME}"
    assert igh.rest.pulls.get(OWNER, NAME, world.pr.number).parsed_data.number == world.pr.number

    exchanges = world.state.calls_matching(path="/access_tokens")
    assert [(c.method, c.status) for c in exchanges] == [("POST", 201)]
    assert exchanges[0].installation_id == world.installation.id
    assert len(world.state.tokens) == 1


def test_jwt_signed_by_another_key_gets_401(world: World) -> None:
    impostor = make_app_keypair()
    gh = GitHub(
        AppAuthStrategy(world.keys.app_id, impostor.private_key_pem),
        base_url=world.server.url,
        auto_retry=False,
        cache_strategy=MemCacheStrategy(),
    )
    igh = gh.with_auth(gh.auth.as_installation(world.installation.id))
    # githubkit exchanges the token inside httpx's auth flow, so the 401 arrives wrapped in a
    # RequestError whose cause is the RequestFailed (and is never retried).
    with pytest.raises(RequestError) as caught:
        igh.rest.repos.get(OWNER, NAME)
    cause = caught.value.__cause__
    assert isinstance(cause, RequestFailed) and status_of(cause) == 401
    assert "JSON web token" in error_body(cause)["message"]
    assert world.state.tokens == {}


def test_app_routes_need_the_jwt_and_list_installations(world: World) -> None:
    gh = world.client()
    installations = gh.rest.apps.list_installations().parsed_data
    assert [i.id for i in installations] == [world.installation.id]
    assert installations[0].account is not None
    # githubkit signs App routes with the JWT even on an installation client; a raw call with
    # an installation token is refused.
    igh = world.installation_client()
    igh.rest.repos.get(OWNER, NAME)
    (token,) = world.state.tokens
    answer = httpx.get(
        f"{world.server.url}app/installations", headers={"Authorization": f"token {token}"}
    )
    assert answer.status_code == 401


def test_expired_installation_token_gets_401(world: World) -> None:
    igh = world.installation_client()
    igh.rest.repos.get(OWNER, NAME)
    world.state.expire_tokens()
    with pytest.raises(RequestFailed) as caught:
        igh.rest.repos.get(OWNER, NAME)
    assert status_of(caught.value) == 401
    assert error_body(caught.value)["message"] == "Bad credentials"


def test_repository_outside_the_installation_is_not_found(world: World) -> None:
    world.state.create_repo("other-org", "secret", private=True)
    igh = world.installation_client()
    with pytest.raises(RequestFailed) as caught:
        igh.rest.repos.get("other-org", "secret")
    assert status_of(caught.value) == 404


def test_installation_repositories_are_listed(world: World) -> None:
    igh = world.installation_client()
    data = igh.rest.apps.list_repos_accessible_to_installation()
    assert [r.full_name for r in data.parsed_data.repositories] == [f"{OWNER}/{NAME}"]


# --- pull request files -------------------------------------------------------------------------


def test_pull_files_paginate_by_100_with_link_headers(world: World) -> None:
    files = {f"pkg/mod_{i:03d}.py": f"VALUE = {i}\n" for i in range(250)}
    world.state.commit(world.repo, "many", files, "Add 250 modules")
    pr = world.state.open_pull_request(world.repo, "many", "main")
    igh = world.installation_client()

    first = igh.rest.pulls.list_files(OWNER, NAME, pr.number, per_page=100)
    link = first.headers["link"]
    assert 'page=2>; rel="next"' in link and 'page=3>; rel="last"' in link
    last = igh.rest.pulls.list_files(OWNER, NAME, pr.number, per_page=100, page=3)
    assert len(last.parsed_data) == 50
    assert 'rel="next"' not in last.headers["link"] and 'rel="prev"' in last.headers["link"]

    every = list(
        igh.rest.paginate(
            igh.rest.pulls.list_files, owner=OWNER, repo=NAME, pull_number=pr.number, per_page=100
        )
    )
    assert len(every) == 250
    assert every[0].status == "added" and every[0].patch == "@@ -0,0 +1 @@\n+VALUE = 0"


def test_pull_files_stop_at_3000_while_changed_files_counts_all(world: World) -> None:
    files = {f"gen/f{i:04d}.py": f"N = {i}\n" for i in range(3005)}
    world.state.commit(world.repo, "huge", files, "Generate")
    pr = world.state.open_pull_request(world.repo, "huge", "main")
    igh = world.installation_client()

    assert igh.rest.pulls.get(OWNER, NAME, pr.number).parsed_data.changed_files == 3005
    page_30 = igh.rest.pulls.list_files(OWNER, NAME, pr.number, per_page=100, page=30)
    assert len(page_30.parsed_data) == 100
    assert 'rel="next"' not in page_30.headers["link"]
    assert (
        igh.rest.pulls.list_files(OWNER, NAME, pr.number, per_page=100, page=31).parsed_data == []
    )


def test_modified_file_has_git_style_patch_and_counts(world: World) -> None:
    igh = world.installation_client()
    files = {
        f.filename: f for f in igh.rest.pulls.list_files(OWNER, NAME, world.pr.number).parsed_data
    }

    ws = files["app/ws.py"]
    assert ws.status == "modified"
    assert (ws.additions, ws.deletions, ws.changes) == (3, 2, 5)
    assert isinstance(ws.patch, str)
    assert ws.patch.startswith("@@ -1,7 +1,8 @@\n-from netra_backend")
    assert "@@ -1,7 +1,8 @@\n" in ws.patch
    assert files["app/new.py"].status == "added"
    assert ws.sha == blob_sha(WS_NEW.encode())


def test_rename_with_the_same_blob_is_detected(world: World) -> None:
    world.state.commit(
        world.repo, "move", {"app/ws.py": None, "app/websocket.py": WS_OLD}, "Move the module"
    )
    pr = world.state.open_pull_request(world.repo, "move", "main")
    igh = world.installation_client()
    files = igh.rest.pulls.list_files(OWNER, NAME, pr.number).parsed_data

    assert [(f.filename, f.status, f.previous_filename) for f in files] == [
        ("app/websocket.py", "renamed", "app/ws.py")
    ]
    assert files[0].changes == 0


def test_rename_with_an_edit_keeps_the_patch_of_the_edit(world: World) -> None:
    edited = WS_OLD.replace("return manager", "return manager  # moved")
    world.state.commit(world.repo, "move-edit", {"app/ws.py": None, "app/websocket.py": edited})
    pr = world.state.open_pull_request(world.repo, "move-edit", "main")
    igh = world.installation_client()
    (only,) = igh.rest.pulls.list_files(OWNER, NAME, pr.number).parsed_data

    assert (only.status, only.previous_filename) == ("renamed", "app/ws.py")
    assert (only.additions, only.deletions) == (1, 1)


def test_patch_matches_gits_hunk_format_and_commentable_lines() -> None:
    old = "".join(f"line {i}\n" for i in range(1, 21))
    new = old.replace("line 10\n", "line 10 changed\nline 10b\n")
    patch, additions, deletions = unified_patch(old, new)

    assert patch.splitlines()[0] == "@@ -7,7 +7,8 @@ line 6"
    assert (additions, deletions) == (2, 1)
    right, left = commentable_lines(patch)
    assert right == set(range(7, 15))
    assert left == set(range(7, 14))


# --- contents, blobs, compare, GraphQL ---------------------------------------------------------


def test_contents_are_base64_and_absent_paths_404(world: World) -> None:
    igh = world.installation_client()
    content = igh.rest.repos.get_content(OWNER, NAME, "app/ws.py", ref="feature").parsed_data
    assert getattr(content, "encoding", None) == "base64"
    assert base64.b64decode(getattr(content, "content", "")).decode() == WS_NEW
    with pytest.raises(RequestFailed) as caught:
        igh.rest.repos.get_content(OWNER, NAME, "nope.py", ref="main")
    assert status_of(caught.value) == 404


def test_contents_of_a_file_over_1_mb_come_without_content(world: World) -> None:
    world.state.commit(world.repo, "main", {"data.json": "0" * (1024 * 1024 + 1)}, "Big data")
    igh = world.installation_client()
    content = igh.rest.repos.get_content(OWNER, NAME, "data.json").parsed_data
    assert (getattr(content, "encoding", None), getattr(content, "content", None)) == ("none", "")


def test_open_pull_requests_are_listed_until_closed(world: World) -> None:
    igh = world.installation_client()
    listed = igh.rest.pulls.list(OWNER, NAME, state="open").parsed_data
    assert [(p.number, p.head.ref, p.base.ref) for p in listed] == [(1, "feature", "main")]
    world.state.close_pull_request(world.repo, world.pr.number)
    assert igh.rest.pulls.list(OWNER, NAME, state="open").parsed_data == []
    assert len(igh.rest.pulls.list(OWNER, NAME, state="closed").parsed_data) == 1


def test_git_blob_api_returns_the_blob_by_sha(world: World) -> None:
    igh = world.installation_client()
    blob = igh.rest.git.get_blob(OWNER, NAME, blob_sha(WS_OLD.encode()))
    assert blob.parsed_data.size == len(WS_OLD.encode())
    assert blob.parsed_data.encoding == "base64"


def test_compare_reports_the_merge_base_when_base_moved_on(world: World) -> None:
    fork_point = world.state.repo(world.repo).branches["main"]
    world.state.commit(world.repo, "main", {"app/events.py": "EVENTS = [1]\n"}, "Later on main")
    igh = world.installation_client()
    comparison = igh.rest.repos.compare_commits(OWNER, NAME, "main...feature")
    data = comparison.parsed_data
    assert data.merge_base_commit.sha == fork_point
    assert (data.status, data.ahead_by, data.behind_by) == ("diverged", 1, 1)
    assert sorted(f.filename for f in data.files or []) == ["app/new.py", "app/ws.py"]


BLOB_QUERY = """
query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    f1: object(expression: "%s:app/ws.py") { ... on Blob { text isTruncated byteSize oid } }
    f2: object(expression: "%s:app/ws.py") { ... on Blob { text isTruncated byteSize oid } }
    f3: object(expression: "%s:missing.py") { ... on Blob { text } }
    big: object(expression: "%s:big.txt") { ... on Blob { text isTruncated byteSize } }
  }
}
"""


def test_graphql_fetches_many_blobs_in_one_call_and_truncates_big_ones(world: World) -> None:
    world.state.graphql_blob_text_limit = 1024
    head = world.state.commit(world.repo, "feature", {"big.txt": "x" * 5000}, "Big file")
    base = world.pr.base_sha
    igh = world.installation_client()

    data = igh.graphql(BLOB_QUERY % (base, head, head, head), {"owner": OWNER, "name": NAME})
    repo = data["repository"]
    assert repo["f1"] == {
        "text": WS_OLD,
        "isTruncated": False,
        "byteSize": len(WS_OLD.encode()),
        "oid": blob_sha(WS_OLD.encode()),
    }
    assert repo["f2"]["text"] == WS_NEW
    assert repo["f3"] is None
    assert repo["big"] == {"text": "x" * 1024, "isTruncated": True, "byteSize": 5000}
    assert [c.kind for c in world.state.calls_matching(path="/graphql")] == ["GraphQL"]


def test_graphql_unknown_field_fails_the_request(world: World) -> None:
    igh = world.installation_client()
    with pytest.raises(GraphQLFailed) as caught:
        igh.graphql('query { repository(owner: "acme", name: "monorepo") { nope } }')
    assert "Field 'nope' doesn't exist on type 'Repository'" in repr(caught.value)


def test_graphql_repository_outside_the_installation_is_not_found(world: World) -> None:
    world.state.create_repo("other-org", "elsewhere")
    igh = world.installation_client()
    with pytest.raises(GraphQLFailed) as caught:
        igh.graphql('query { repository(owner: "other-org", name: "elsewhere") { name } }')
    assert "NOT_FOUND" in repr(caught.value)


# --- check runs ----------------------------------------------------------------------------------


def annotations(count: int, path: str = "app/ws.py") -> list[dict[str, Any]]:
    return [
        {
            "path": path,
            "start_line": 1 + i % 7,
            "end_line": 1 + i % 7,
            "annotation_level": "failure",
            "message": f"finding {i}",
        }
        for i in range(count)
    ]


def test_check_run_is_created_found_by_external_id_and_accumulates_annotations(
    world: World,
) -> None:
    igh = world.installation_client()
    head = world.pr.head_sha
    created = igh.rest.checks.create(
        OWNER,
        NAME,
        name="SSOT guard",
        head_sha=head,
        external_id=f"ssot:{head}",
        status="in_progress",
    ).parsed_data

    found = igh.rest.checks.list_for_ref(OWNER, NAME, head, check_name="SSOT guard").parsed_data
    assert [(r.id, r.external_id) for r in found.check_runs] == [(created.id, f"ssot:{head}")]
    assert found.check_runs[0].pull_requests[0].number == world.pr.number

    for batch in range(2):
        igh.rest.checks.update(
            OWNER,
            NAME,
            created.id,
            status="in_progress",
            output={
                "title": "Checking",
                "summary": f"batch {batch}",
                "annotations": annotations(50),
            },
        )
    done = igh.rest.checks.update(
        OWNER, NAME, created.id, conclusion="failure", output={"title": "2 new", "summary": "done"}
    ).parsed_data
    assert (done.status, done.conclusion, done.output.annotations_count) == (
        "completed",
        "failure",
        100,
    )
    run = world.state.check_runs[created.id]
    assert len(run.annotations) == 100 and run.output.summary == "done" and run.updates == 3
    listed = igh.rest.checks.list_annotations(OWNER, NAME, created.id, per_page=100).parsed_data
    assert len(listed) == 100
    assert igh.rest.checks.get(OWNER, NAME, created.id).parsed_data.conclusion == "failure"


def test_githubkit_itself_refuses_51_annotations_before_sending(world: World) -> None:
    igh = world.installation_client()
    with pytest.raises(pydantic.ValidationError, match="ReposOwnerRepoCheckRunsPostBodyOneof1"):
        igh.rest.checks.create(
            OWNER,
            NAME,
            name="SSOT guard",
            head_sha=world.pr.head_sha,
            output={"title": "t", "summary": "s", "annotations": annotations(51)},
        )
    assert world.state.calls_matching(path="/check-runs") == []


def test_51_annotations_in_one_request_get_422(world: World) -> None:
    igh = world.installation_client(rest_api_validate_body=False)
    created = igh.rest.checks.create(OWNER, NAME, name="SSOT guard", head_sha=world.pr.head_sha)
    with pytest.raises(RequestFailed) as caught:
        igh.rest.checks.update(
            OWNER,
            NAME,
            created.parsed_data.id,
            output={"title": "t", "summary": "s", "annotations": annotations(51)},
        )
    assert status_of(caught.value) == 422
    body = error_body(caught.value)
    assert body["message"] == "Validation Failed"
    assert body["errors"][0]["field"] == "output.annotations"
    assert world.state.check_runs[created.parsed_data.id].annotations == []


def test_summary_over_65535_characters_gets_422(world: World) -> None:
    igh = world.installation_client(rest_api_validate_body=False)
    with pytest.raises(RequestFailed) as caught:
        igh.rest.checks.create(
            OWNER,
            NAME,
            name="SSOT guard",
            head_sha=world.pr.head_sha,
            status="completed",
            conclusion="failure",
            output={"title": "t", "summary": "x" * 65_536},
        )
    assert status_of(caught.value) == 422
    assert error_body(caught.value)["errors"][0]["field"] == "output.summary"
    assert world.state.check_runs == {}


def test_limits_githubkit_does_not_check_are_enforced_by_the_fake(world: World) -> None:
    igh = world.installation_client()
    head = world.pr.head_sha
    with pytest.raises(RequestFailed) as title:
        igh.rest.checks.create(
            OWNER, NAME, name="n", head_sha=head, output={"title": "t" * 256, "summary": "s"}
        )
    assert error_body(title.value)["errors"][0]["field"] == "output.title"
    multi_line_columns = [{**annotations(1)[0], "end_line": 3, "start_column": 1, "end_column": 4}]
    with pytest.raises(RequestFailed) as columns:
        igh.rest.checks.create(
            OWNER,
            NAME,
            name="n",
            head_sha=head,
            output={"title": "t", "summary": "s", "annotations": multi_line_columns},
        )
    assert status_of(columns.value) == 422


def test_check_run_actions_are_limited(world: World) -> None:
    igh = world.installation_client(rest_api_validate_body=False)
    action = {"label": "Fix", "description": "Commit the fixes", "identifier": "fix"}
    for actions, field in (
        ([action] * 4, "actions"),
        ([{**action, "label": "L" * 21}], "actions.0.label"),
        ([{**action, "description": "D" * 41}], "actions.0.description"),
        ([{**action, "identifier": "I" * 21}], "actions.0.identifier"),
    ):
        with pytest.raises(RequestFailed) as caught:
            igh.rest.checks.create(
                OWNER, NAME, name="n", head_sha=world.pr.head_sha, actions=actions
            )
        assert error_body(caught.value)["errors"][0]["field"] == field
    ok = igh.rest.checks.create(OWNER, NAME, name="n", head_sha=world.pr.head_sha, actions=[action])
    assert world.state.check_runs[ok.parsed_data.id].actions == [action]


def test_body_failing_githubkits_model_gets_422_naming_the_field(world: World) -> None:
    igh = world.installation_client(rest_api_validate_body=False)
    with pytest.raises(RequestFailed) as caught:
        igh.rest.checks.create(
            OWNER, NAME, name="n", head_sha=world.pr.head_sha, status="completed"
        )
    assert status_of(caught.value) == 422
    error = error_body(caught.value)["errors"][0]
    assert error["field"] == "conclusion" and error["code"] == "missing_field"
    assert "ReposOwnerRepoCheckRunsPostBodyOneof0" in error["message"]


# --- reviews, comments, reactions, permissions -----------------------------------------------


def test_review_comment_off_the_diff_fails_the_whole_review(world: World) -> None:
    igh = world.installation_client()
    with pytest.raises(RequestFailed) as caught:
        igh.rest.pulls.create_review(
            OWNER,
            NAME,
            world.pr.number,
            commit_id=world.pr.head_sha,
            event="COMMENT",
            body="SSOT guard found 1 new deprecated import",
            comments=[
                {"path": "app/ws.py", "line": 1, "side": "RIGHT", "body": "on the diff"},
                {"path": "README.md", "line": 1, "side": "RIGHT", "body": "file not in the PR"},
                {"path": "app/ws.py", "line": 200, "side": "RIGHT", "body": "past the end"},
            ],
        )
    assert status_of(caught.value) == 422
    body = error_body(caught.value)
    assert body["message"] == "Unprocessable Entity" and len(body["errors"]) == 2
    assert world.state.reviews == {} and world.state.review_comments == {}


def test_review_body_over_65536_characters_gets_422(world: World) -> None:
    igh = world.installation_client()
    with pytest.raises(RequestFailed) as caught:
        igh.rest.pulls.create_review(
            OWNER, NAME, world.pr.number, event="COMMENT", body="x" * 65_537
        )
    assert status_of(caught.value) == 422
    assert world.state.reviews == {}


def test_review_comments_on_added_deleted_and_context_lines_are_stored(world: World) -> None:
    igh = world.installation_client()
    review = igh.rest.pulls.create_review(
        OWNER,
        NAME,
        world.pr.number,
        commit_id=world.pr.head_sha,
        event="COMMENT",
        body="summary <!-- ssot:review -->",
        comments=[
            {"path": "app/ws.py", "line": 1, "side": "RIGHT", "body": "added line"},
            {"path": "app/ws.py", "line": 1, "side": "LEFT", "body": "deleted line"},
            {"path": "app/ws.py", "line": 4, "side": "RIGHT", "body": "context line"},
            {"path": "app/ws.py", "start_line": 5, "line": 7, "side": "RIGHT", "body": "range"},
        ],
    ).parsed_data
    assert review.state == "COMMENTED"

    listed = igh.rest.pulls.list_review_comments(OWNER, NAME, world.pr.number).parsed_data
    assert [(c.line, c.side, c.start_line) for c in listed] == [
        (1, "RIGHT", None),
        (1, "LEFT", None),
        (4, "RIGHT", None),
        (7, "RIGHT", 5),
    ]
    assert listed[0].diff_hunk.startswith("@@ -1,7 +1,8 @@")


def test_review_comment_becomes_outdated_when_its_file_changes(world: World) -> None:
    igh = world.installation_client()
    igh.rest.pulls.create_review(
        OWNER,
        NAME,
        world.pr.number,
        event="COMMENT",
        comments=[{"path": "app/ws.py", "line": 1, "body": "x"}],
    )
    world.state.commit(world.repo, "feature", {"app/ws.py": WS_NEW + "# more\n"}, "Push again")
    (comment,) = igh.rest.pulls.list_review_comments(OWNER, NAME, world.pr.number).parsed_data
    assert (comment.line, comment.original_line) == (None, 1)


def test_minimize_comment_marks_the_review_comment(world: World) -> None:
    igh = world.installation_client()
    igh.rest.pulls.create_review(
        OWNER,
        NAME,
        world.pr.number,
        event="COMMENT",
        comments=[{"path": "app/ws.py", "line": 1, "body": "<!-- ssot:fingerprint=abc -->"}],
    )
    (comment,) = igh.rest.pulls.list_review_comments(OWNER, NAME, world.pr.number).parsed_data

    result = igh.graphql(
        "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) "
        "{ minimizedComment { isMinimized minimizedReason } } }",
        {"id": comment.node_id},
    )
    assert result == {
        "minimizeComment": {
            "minimizedComment": {"isMinimized": True, "minimizedReason": "outdated"}
        }
    }
    stored = world.state.review_comments[comment.id]
    assert (stored.minimized, stored.minimized_reason) == (True, "OUTDATED")
    assert world.state.calls_matching(path="/graphql")[0].content_creating


def test_issue_comments_and_reactions(world: World) -> None:
    command = world.state.add_issue_comment(world.repo, world.pr.number, "/ssot rescan", user="bob")
    igh = world.installation_client()

    first = igh.rest.reactions.create_for_issue_comment(OWNER, NAME, command.id, content="eyes")
    again = igh.rest.reactions.create_for_issue_comment(OWNER, NAME, command.id, content="eyes")
    assert (first.status_code, again.status_code) == (201, 200)
    igh.rest.reactions.create_for_issue_comment(OWNER, NAME, command.id, content="+1")
    assert [r.content for r in world.state.issue_comments[command.id].reactions] == ["eyes", "+1"]

    reply = igh.rest.issues.create_comment(OWNER, NAME, world.pr.number, body="Rescanned.")
    assert reply.parsed_data.user is not None
    assert reply.parsed_data.user.login == "ssot-guard[bot]"
    listed = igh.rest.issues.list_comments(OWNER, NAME, world.pr.number).parsed_data
    assert [c.body for c in listed] == ["/ssot rescan", "Rescanned."]
    assert listed[0].reactions is not None and listed[0].reactions.total_count == 2


def test_collaborator_permission_api(world: World) -> None:
    world.state.set_permission(world.repo, "carol", "maintain")
    world.state.set_permission(world.repo, "dave", "triage")
    igh = world.installation_client()

    carol = igh.rest.repos.get_collaborator_permission_level(OWNER, NAME, "carol").parsed_data
    assert (carol.permission, carol.role_name) == ("write", "maintain")
    dave = igh.rest.repos.get_collaborator_permission_level(OWNER, NAME, "dave").parsed_data
    assert (dave.permission, dave.role_name) == ("read", "triage")
    with pytest.raises(RequestFailed) as caught:
        igh.rest.repos.get_collaborator_permission_level(OWNER, NAME, "nobody-at-all")
    assert status_of(caught.value) == 404


# --- /ssot fix commits -----------------------------------------------------------------------------


def test_fix_commit_through_the_git_data_api_moves_the_branch(world: World) -> None:
    igh = world.installation_client()
    head = igh.rest.git.get_commit(OWNER, NAME, world.pr.head_sha).parsed_data
    blob = igh.rest.git.create_blob(OWNER, NAME, content="x = 2\n", encoding="utf-8").parsed_data
    tree = igh.rest.git.create_tree(
        OWNER,
        NAME,
        base_tree=head.tree.sha,
        tree=[{"path": "app/new.py", "mode": "100644", "type": "blob", "sha": blob.sha}],
    ).parsed_data
    commit = igh.rest.git.create_commit(
        OWNER, NAME, message="ssot: fix", tree=tree.sha, parents=[head.sha]
    ).parsed_data
    igh.rest.git.update_ref(OWNER, NAME, "heads/feature", sha=commit.sha)

    assert world.state.pull(world.repo, world.pr.number).head_sha == commit.sha
    assert world.state.file_at(world.repo, "feature", "app/new.py") == b"x = 2\n"
    assert world.state.file_at(world.repo, "feature", "app/ws.py") == WS_NEW.encode()

    stale = igh.rest.git.create_commit(
        OWNER, NAME, message="stale", tree=tree.sha, parents=[head.sha]
    ).parsed_data
    with pytest.raises(RequestFailed) as caught:
        igh.rest.git.update_ref(OWNER, NAME, "heads/feature", sha=stale.sha)
    # GitHub's answer: 422 with the reason as the message (its OpenAPI description also lists
    # a 409, which the real service does not send for this).
    assert status_of(caught.value) == 422
    assert error_body(caught.value)["message"] == "Update is not a fast forward"


def test_push_to_a_denied_branch_gets_403(world: World) -> None:
    world.state.deny_push(world.repo, "feature")
    igh = world.installation_client()
    with pytest.raises(RequestFailed) as caught:
        igh.rest.git.update_ref(OWNER, NAME, "heads/feature", sha=world.pr.head_sha)
    assert status_of(caught.value) == 403


def test_fork_pull_request_and_pushes_to_the_fork(world: World) -> None:
    fork = world.state.fork_repo(world.repo, "bob")
    world.state.commit(fork, "patch-1", {"app/events.py": "EVENTS = ['x']\n"}, "Fork change")
    pr = world.state.open_pull_request(
        world.repo, "patch-1", "main", head_repo=fork, maintainer_can_modify=False
    )
    igh = world.installation_client()

    data = igh.rest.pulls.get(OWNER, NAME, pr.number).parsed_data
    assert data.head.repo is not None and data.head.repo.full_name == "bob/monorepo"
    assert data.base.repo.full_name == f"{OWNER}/{NAME}"
    with pytest.raises(RequestFailed) as caught:
        igh.rest.git.update_ref("bob", NAME, "heads/patch-1", sha=pr.head_sha)
    assert status_of(caught.value) == 403

    pr.maintainer_can_modify = True
    moved = world.state.make_commit({"fix.py": "ok\n"}, parent=pr.head_sha)
    igh.rest.git.update_ref("bob", NAME, "heads/patch-1", sha=moved)
    assert pr.head_sha == moved


# --- webhooks deliveries -----------------------------------------------------------------------------


def test_failed_deliveries_are_listed_and_redelivered(world: World) -> None:
    ok = world.state.add_delivery("pull_request", "opened", installation=world.installation)
    failed = world.state.add_delivery(
        "pull_request", "synchronize", status_code=502, installation=world.installation
    )
    redelivered: list[str] = []
    world.state.redeliver = lambda delivery: redelivered.append(delivery.guid) or 202
    gh = world.client()

    listed = gh.rest.apps.list_webhook_deliveries(per_page=100).parsed_data
    assert [(d.id, d.status_code) for d in listed] == [(failed.id, 502), (ok.id, 200)]
    gh.rest.apps.redeliver_webhook_delivery(failed.id)
    assert world.state.redelivery_requests == [failed.id]
    assert redelivered == [failed.guid]
    again = world.state.deliveries[-1]
    assert (again.redelivery, again.guid, again.status_code) == (True, failed.guid, 202)


# --- faults -------------------------------------------------------------------------------------------


def test_injected_latency_delays_every_call(world: World) -> None:
    igh = world.installation_client()
    igh.rest.repos.get(OWNER, NAME)  # token exchange outside the measure
    world.server.faults.latency = 0.05
    started = time.perf_counter()
    igh.rest.repos.get(OWNER, NAME)
    assert time.perf_counter() - started >= 0.05


def test_server_error_is_raised_without_retry(world: World) -> None:
    igh = world.installation_client()
    igh.rest.repos.get(OWNER, NAME)
    world.server.faults.server_error(1, status=502)
    with pytest.raises(RequestFailed) as caught:
        igh.rest.repos.get(OWNER, NAME)
    assert status_of(caught.value) == 502
    assert igh.rest.repos.get(OWNER, NAME).status_code == 200
    statuses = [c.status for c in world.state.calls_matching(path=f"/repos/{OWNER}/{NAME}")]
    assert statuses == [200, 502, 304]  # the last one revalidated by its ETag


def test_githubkit_retries_a_500_by_default_after_one_second(world: World) -> None:
    igh = world.installation_client(auto_retry=True)
    igh.rest.repos.get(OWNER, NAME)
    world.server.faults.server_error(1, path=r"^/repos/acme/monorepo$")
    started = time.perf_counter()
    assert igh.rest.repos.get(OWNER, NAME).status_code == 200
    assert time.perf_counter() - started >= 1.0
    faults = [c.fault for c in world.state.calls_matching(path="/repos/acme/monorepo")]
    assert faults == [None, "500", None]


def test_429_with_retry_after_is_a_rate_limit_githubkit_retries_once(world: World) -> None:
    igh = world.installation_client()
    igh.rest.repos.get(OWNER, NAME)
    world.server.faults.rate_limit(1, retry_after=1)
    with pytest.raises(SecondaryRateLimitExceeded) as caught:
        igh.rest.repos.get(OWNER, NAME)
    assert status_of(caught.value) == 429
    assert caught.value.retry_after.total_seconds() == 1

    retrying = world.installation_client(auto_retry=True)
    retrying.rest.repos.get(OWNER, NAME)  # a rate-limited token exchange is not retried
    world.server.faults.rate_limit(1, retry_after=1)
    started = time.perf_counter()
    assert retrying.rest.repos.get(OWNER, NAME).status_code == 200
    assert time.perf_counter() - started >= 1.0


def test_secondary_rate_limit_answers_403_with_githubs_message(world: World) -> None:
    igh = world.installation_client()
    world.server.faults.secondary_rate_limit(1, retry_after=2, path="/check-runs")
    with pytest.raises(SecondaryRateLimitExceeded) as caught:
        igh.rest.checks.create(OWNER, NAME, name="n", head_sha=world.pr.head_sha)
    assert status_of(caught.value) == 403
    assert "secondary rate limit" in error_body(caught.value)["message"]
    assert caught.value.retry_after.total_seconds() == 2
    assert world.state.check_runs == {}


def test_bursts_of_content_creating_calls_are_refused_past_the_limit(world: World) -> None:
    world.server.faults.content_creation_limit_per_minute = 3
    igh = world.installation_client()
    for i in range(3):
        igh.rest.issues.create_comment(OWNER, NAME, world.pr.number, body=f"comment {i}")
    with pytest.raises(SecondaryRateLimitExceeded):
        igh.rest.issues.create_comment(OWNER, NAME, world.pr.number, body="one too many")
    faults = world.server.faults
    assert faults.burst_rejections[world.installation.id] == 1
    assert faults.peak_content_creation_per_minute(world.installation.id) == 3
    assert igh.rest.issues.list_comments(OWNER, NAME, world.pr.number).status_code == 200


def test_call_log_counts_calls_by_kind_installation_and_content_creation(world: World) -> None:
    igh = world.installation_client()
    igh.rest.pulls.get(OWNER, NAME, world.pr.number)
    igh.rest.pulls.list_files(OWNER, NAME, world.pr.number)
    igh.rest.checks.create(OWNER, NAME, name="n", head_sha=world.pr.head_sha)
    igh.graphql('query { repository(owner: "acme", name: "monorepo") { name } }')

    state = world.state
    assert len(state.calls_matching(kind="REST")) == 4  # with the token exchange
    assert len(state.calls_matching(kind="GraphQL")) == 1
    assert len(state.calls_matching(installation_id=world.installation.id)) == 5
    creating = state.calls_matching(content_creating=True)
    assert [(c.method, c.path) for c in creating] == [("POST", "/repos/acme/monorepo/check-runs")]
    assert all(c.duration >= 0 for c in state.calls)


def test_unchanged_resource_is_revalidated_with_its_etag(world: World) -> None:
    igh = world.installation_client()
    first = igh.rest.pulls.get(OWNER, NAME, world.pr.number).parsed_data
    second = igh.rest.pulls.get(OWNER, NAME, world.pr.number).parsed_data
    assert first == second
    statuses = [c.status for c in world.state.calls_matching(path="/pulls/1")]
    assert statuses == [200, 304]
    world.state.commit(world.repo, "feature", {"more.py": "y = 1\n"}, "Push")
    third = igh.rest.pulls.get(OWNER, NAME, world.pr.number).parsed_data
    assert third.head.sha != first.head.sha


def test_parallel_content_creating_calls_are_detected_and_can_be_refused(world: World) -> None:
    world.server.faults.latency = 0.05
    igh = world.installation_client()
    igh.rest.repos.get(OWNER, NAME)

    async def post_five() -> list[int]:
        async def post(i: int) -> int:
            try:
                answer = await igh.rest.issues.async_create_comment(
                    OWNER, NAME, world.pr.number, body=f"parallel {i}"
                )
            except RequestFailed as error:
                return status_of(error)
            return answer.status_code

        return list(await asyncio.gather(*(post(i) for i in range(5))))

    assert asyncio.run(post_five()) == [201] * 5
    faults = world.server.faults
    assert faults.peak_concurrent_content_creating[world.installation.id] > 1

    faults.serial_content_creation = True
    statuses = asyncio.run(post_five())
    assert statuses.count(201) >= 1 and 403 in statuses
    assert faults.burst_rejections[world.installation.id] == statuses.count(403)


def test_async_client_reads_files_and_blobs(world: World) -> None:
    igh = world.installation_client()

    async def read() -> tuple[list[str], dict[str, Any]]:
        files = await igh.rest.pulls.async_list_files(OWNER, NAME, world.pr.number)
        query = (
            'query { repository(owner: "acme", name: "monorepo") '
            f'{{ f: object(expression: "{world.pr.head_sha}:app/new.py") '
            "{ ... on Blob { text } } } }"
        )
        return [f.filename for f in files.parsed_data], await igh.async_graphql(query)

    names, data = asyncio.run(read())
    assert names == ["app/new.py", "app/ws.py"]
    assert data == {"repository": {"f": {"text": "x = 1\n"}}}
