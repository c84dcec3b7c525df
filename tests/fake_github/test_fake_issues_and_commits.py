"""The fake GitHub's issues and commit list, driven by githubkit (responses parsed through its
generated models) with GitHub's limits: 65,536-character bodies, 256-character titles, 410
for disabled issues and deleted ones, 403 without the ``issues: write`` permission, pull
requests listed among issues, commits listed newest first by date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from githubkit.exception import RequestFailed
from test_fake_github import NAME, OWNER, World, error_body, keys, status_of, world

__all__ = ["keys", "world"]  # the fixtures of test_fake_github.py, shared


def test_an_issue_is_created_read_listed_and_edited_as_the_app(world: World) -> None:
    gh = world.installation_client()
    created = gh.rest.issues.create(
        OWNER, NAME, title="Dashboard", body="<!-- m -->\nhi"
    ).parsed_data
    assert created.user is not None and created.user.login == world.state.bot.login
    assert created.performed_via_github_app is not None
    assert created.performed_via_github_app.id == world.keys.app_id
    read = gh.rest.issues.get(OWNER, NAME, created.number).parsed_data
    assert (read.number, read.body, read.state) == (created.number, "<!-- m -->\nhi", "open")
    edited = gh.rest.issues.update(OWNER, NAME, created.number, body="new").parsed_data
    assert edited.body == "new" and world.state.issue(world.repo, created.number).edits == 1
    closed = gh.rest.issues.update(OWNER, NAME, created.number, state="closed").parsed_data
    assert closed.state == "closed" and closed.closed_by is not None


def test_issues_share_numbers_with_pull_requests_which_the_list_includes(world: World) -> None:
    gh = world.installation_client()
    issue = world.state.open_issue(world.repo, "Bug", "text", user="bob")
    assert issue.number == world.pr.number + 1
    listed = gh.rest.issues.list_for_repo(OWNER, NAME, state="all").parsed_data
    by_number = {i.number: i for i in listed}
    assert by_number[world.pr.number].pull_request is not None
    assert not by_number[issue.number].pull_request  # absent (githubkit: UNSET)
    mine = gh.rest.issues.list_for_repo(OWNER, NAME, creator="bob", state="all").parsed_data
    assert [i.number for i in mine] == [world.pr.number, issue.number][::-1]
    open_only = gh.rest.issues.list_for_repo(OWNER, NAME, state="closed").parsed_data
    assert open_only == []


def test_issue_bodies_and_titles_have_githubs_limits(world: World) -> None:
    gh = world.installation_client()
    gh.rest.issues.create(OWNER, NAME, title="t" * 256, body="b" * 65_536)
    with pytest.raises(RequestFailed) as too_long:
        gh.rest.issues.create(OWNER, NAME, title="t", body="b" * 65_537)
    assert status_of(too_long.value) == 422
    assert "maximum is 65536" in str(error_body(too_long.value))
    with pytest.raises(RequestFailed) as title:
        gh.rest.issues.create(OWNER, NAME, title="t" * 257)
    assert status_of(title.value) == 422
    number = world.state.issues_of(world.repo)[0].number
    with pytest.raises(RequestFailed) as edit:
        gh.rest.issues.update(OWNER, NAME, number, body="b" * 65_537)
    assert status_of(edit.value) == 422


def test_disabled_issues_deleted_ones_and_missing_permission(world: World) -> None:
    gh = world.installation_client()
    issue = world.state.open_issue(world.repo, "Bug", user="bob")
    world.state.delete_issue(world.repo, issue.number)
    with pytest.raises(RequestFailed) as deleted:
        gh.rest.issues.get(OWNER, NAME, issue.number)
    assert status_of(deleted.value) == 410
    with pytest.raises(RequestFailed) as missing:
        gh.rest.issues.get(OWNER, NAME, 999)
    assert status_of(missing.value) == 404
    world.installation.permissions["issues"] = "read"
    with pytest.raises(RequestFailed) as refused:
        gh.rest.issues.create(OWNER, NAME, title="x")
    assert status_of(refused.value) == 403
    assert error_body(refused.value)["message"] == "Resource not accessible by integration"
    world.repo.has_issues = False
    with pytest.raises(RequestFailed) as disabled:
        gh.rest.issues.list_for_repo(OWNER, NAME)
    assert status_of(disabled.value) == 410


def test_commits_are_listed_newest_first_and_filtered_by_date(world: World) -> None:
    state = world.state
    start = datetime(2026, 3, 1, tzinfo=UTC)
    shas: list[str] = []
    for day in range(5):
        parent = world.repo.branches["main"]
        tree = dict(state.get_commit(parent).files)
        tree[f"f{day}.py"] = state.store_blob(f"x = {day}\n")
        when = int((start + timedelta(days=day)).timestamp())
        shas.append(state.commit_tree(tree, (parent,), f"c{day}", "alice", timestamp=when))
        state.push(world.repo, "main", shas[-1])
    gh = world.installation_client()
    until = (start + timedelta(days=2, hours=1)).isoformat()
    page: Any = gh.rest.repos.list_commits(OWNER, NAME, sha="main", until=until, per_page=1)
    [newest] = page.parsed_data
    assert newest.sha == shas[2] and newest.commit.committer is not None
    assert 'rel="next"' in page.headers.get("link", "")
    since = (start + timedelta(days=3)).isoformat()
    later = gh.rest.repos.list_commits(OWNER, NAME, since=since).parsed_data
    assert [c.sha for c in later] == [shas[4], shas[3]]
    touching = gh.rest.repos.list_commits(OWNER, NAME, path="f1.py").parsed_data
    assert [c.sha for c in touching] == [shas[1]]
    with pytest.raises(RequestFailed) as unknown:
        gh.rest.repos.list_commits(OWNER, NAME, sha="no-such-branch")
    assert status_of(unknown.value) == 404
