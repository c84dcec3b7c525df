"""The fake's routes that open and change branches, pull requests and issues.

Creating and deleting branches (``POST/DELETE git/refs``), opening and updating pull
requests, review requests, labels, and issues (created, listed with pull requests among
them, read, edited), answered with GitHub's shapes and errors:

- ``POST git/refs`` for an existing branch: 422 "Reference already exists";
- ``POST pulls`` for a head that already has an open pull request into that base: 422
  "Validation Failed" with "A pull request already exists for owner:branch."; no commits
  between base and head: 422 "No commits between ...";
- a review request for someone who is not a collaborator, or for the author: 422;
- an issue body over 65,536 characters or a title over 256: 422; issues disabled in the
  repository, or a deleted issue: 410;
- a write the installation's permissions do not grant: 403 "Resource not accessible by
  integration" (``Access.require_permission``), and a branch a protection rule guards: 403 or
  422 as :meth:`FakeGitHubState.deny_push` set it up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import Response
from githubkit_schemas.latest.models import (
    ReposOwnerRepoGitRefsPostBody,
    ReposOwnerRepoIssuesIssueNumberPatchBody,
    ReposOwnerRepoIssuesPostBody,
    ReposOwnerRepoPullsPostBody,
    ReposOwnerRepoPullsPullNumberPatchBody,
)

from . import render
from .limits import (
    DOCS,
    MAX_BODY,
    MAX_ISSUE_TITLE,
    GitHubError,
    not_found,
    validate_body,
    validation_failed,
)
from .state import FakeGitHubState, Installation, Issue, PullRequest, Repository, utcnow

Json = dict[str, Any]
Level = Literal["read", "write"]
REFS_DOCS = f"{DOCS}/git/refs"
PULLS_DOCS = f"{DOCS}/pulls/pulls"
ISSUES_DOCS = f"{DOCS}/issues/issues"


@dataclass(frozen=True)
class Access:
    """The access checks of :func:`fake_github.app.create_fake_github` these routes share."""

    covered_repo: Callable[..., tuple[Installation, Repository]]
    git_writable_repo: Callable[..., Repository]
    refuse_protected: Callable[..., None]
    require_permission: Callable[[Installation, tuple[str, ...], Level], None]
    api_base: Callable[[Request], str]
    json_body: Callable[[Request], Awaitable[Any]]
    json_response: Callable[..., Response]
    paginate: Callable[[Request, list[Any]], tuple[list[Any], dict[str, str]]]


def _pull_error(message: str, field: str | None = None) -> GitHubError:
    error: Json = {"resource": "PullRequest", "code": "custom", "message": message}
    if field is not None:
        error = {"resource": "PullRequest", "field": field, "code": "invalid"}
    return GitHubError(422, "Validation Failed", errors=[error], documentation_url=PULLS_DOCS)


def add_routes(app: FastAPI, state: FakeGitHubState, access: Access) -> None:
    """Register the routes on ``app`` (called by ``create_fake_github``)."""
    api_base, json_body, json_response = access.api_base, access.json_body, access.json_response
    paginate = access.paginate

    # --- branches ------------------------------------------------------------------------------

    @app.post("/repos/{owner}/{repo}/git/refs")
    async def create_ref(request: Request, owner: str, repo: str) -> Response:
        body = await json_body(request)
        validate_body(ReposOwnerRepoGitRefsPostBody, body, "Reference")
        ref = str(body["ref"])
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise GitHubError(
                422,
                "Reference name must start with 'refs/' and have at least two slashes.",
                documentation_url=REFS_DOCS,
            )
        if not ref.startswith("refs/heads/"):
            raise GitHubError(422, "Only branches can be created here", documentation_url=REFS_DOCS)
        branch = ref.removeprefix("refs/heads/")
        found = access.git_writable_repo(request, owner, repo, branch)
        with state.lock:
            if body["sha"] not in state.commits:
                raise GitHubError(422, "Object does not exist", documentation_url=REFS_DOCS)
            if branch in found.branches:
                raise GitHubError(422, "Reference already exists", documentation_url=REFS_DOCS)
            access.refuse_protected(found, branch, True)
            state.push(found, branch, body["sha"])
            data = render.git_ref(found, branch, body["sha"], api_base(request))
        return json_response(request, data, 201)

    @app.delete("/repos/{owner}/{repo}/git/refs/{ref:path}")
    async def delete_ref(request: Request, owner: str, repo: str, ref: str) -> Response:
        branch = ref.removeprefix("refs/").removeprefix("heads/")
        found = access.git_writable_repo(request, owner, repo, branch)
        with state.lock:
            if not ref.removeprefix("refs/").startswith("heads/") or branch not in found.branches:
                raise GitHubError(422, "Reference does not exist", documentation_url=REFS_DOCS)
            access.refuse_protected(found, branch)
            state.delete_branch(found, branch)
        return Response(status_code=204)

    # --- pull requests ---------------------------------------------------------------------------

    def head_of(repo: Repository, spec: str) -> tuple[Repository, str] | None:
        owner, colon, branch = spec.partition(":")
        if not colon:
            return repo, spec
        if owner.lower() == repo.owner.login.lower():
            return repo, branch
        fork = next(
            (
                r
                for r in state.repos.values()
                if r.owner.login.lower() == owner.lower() and r.parent_id == repo.id
            ),
            None,
        )
        return None if fork is None else (fork, branch)

    @app.post("/repos/{owner}/{repo}/pulls")
    async def create_pull(request: Request, owner: str, repo: str) -> Response:
        _, found = access.covered_repo(request, owner, repo, ("pull_requests",), "write")
        body = await json_body(request)
        validate_body(ReposOwnerRepoPullsPostBody, body, "PullRequest")
        if len(str(body.get("body") or "")) > MAX_BODY:
            raise validation_failed(
                "PullRequest", "body", f"body is too long (maximum is {MAX_BODY} characters)"
            )
        with state.lock:
            if body["base"] not in found.branches:
                raise _pull_error("", field="base")
            head = head_of(found, str(body["head"]))
            if head is None or head[1] not in head[0].branches:
                raise _pull_error("", field="head")
            source, branch = head
            label = f"{source.owner.login}:{branch}"
            duplicate = any(
                pr.state == "open"
                and pr.repo_id == found.id
                and pr.head_repo_id == source.id
                and pr.head_ref == branch
                and pr.base_ref == body["base"]
                for pr in state.pulls.values()
            )
            if duplicate:
                raise _pull_error(f"A pull request already exists for {label}.")
            base_sha, head_sha = found.branches[body["base"]], source.branches[branch]
            if head_sha in state.ancestors(base_sha):
                raise _pull_error(f"No commits between {body['base']} and {branch}")
            pr = state.open_pull_request(
                found,
                branch,
                body["base"],
                title=str(body["title"]),
                body=body.get("body"),
                user=state.bot.login,
                head_repo=source,
                draft=bool(body.get("draft", False)),
                maintainer_can_modify=bool(body.get("maintainer_can_modify", True)),
            )
            data = render.pull_request(state, pr, api_base(request), full=True)
        return json_response(request, data, 201)

    def pull_or_404(repo: Repository, number: int) -> PullRequest:
        pr = state.pulls.get((repo.id, number))
        if pr is None:
            raise not_found()
        return pr

    @app.patch("/repos/{owner}/{repo}/pulls/{number}")
    async def update_pull(request: Request, owner: str, repo: str, number: int) -> Response:
        _, found = access.covered_repo(request, owner, repo, ("pull_requests",), "write")
        body = await json_body(request)
        validate_body(ReposOwnerRepoPullsPullNumberPatchBody, body, "PullRequest")
        with state.lock:
            pr = pull_or_404(found, number)
            if "title" in body:
                pr.title = str(body["title"])
            if "body" in body:
                if len(str(body["body"] or "")) > MAX_BODY:
                    raise validation_failed(
                        "PullRequest", "body", f"body is too long (maximum is {MAX_BODY})"
                    )
                pr.body = body["body"]
            if "base" in body:
                if body["base"] not in found.branches:
                    raise _pull_error("", field="base")
                pr.base_ref = str(body["base"])
                pr.base_sha = found.branches[pr.base_ref]
            if body.get("state") == "closed" and pr.state == "open":
                state.close_pull_request(found, pr, by=state.bot.login)
            elif body.get("state") == "open" and pr.state == "closed":
                if pr.merged:
                    raise _pull_error("Cannot reopen a merged pull request")
                state.reopen_pull_request(found, pr)
            pr.updated_at = utcnow()
            data = render.pull_request(state, pr, api_base(request), full=True)
        return json_response(request, data)

    @app.post("/repos/{owner}/{repo}/pulls/{number}/requested_reviewers")
    async def request_reviewers(request: Request, owner: str, repo: str, number: int) -> Response:
        _, found = access.covered_repo(request, owner, repo, ("pull_requests",), "write")
        body = await json_body(request)
        if not isinstance(body, dict):
            raise GitHubError(400, "Problems parsing JSON")
        users = [str(u) for u in body.get("reviewers") or []]
        teams = [str(t) for t in body.get("team_reviewers") or []]
        if not users and not teams:
            raise validation_failed(
                "PullRequest", "reviewers", "reviewers or team_reviewers is required"
            )
        with state.lock:
            pr = pull_or_404(found, number)
            if any(u.lower() == pr.user.login.lower() for u in users):
                raise GitHubError(
                    422,
                    "Review cannot be requested from pull request author.",
                    documentation_url=f"{DOCS}/pulls/review-requests",
                )
            strangers = [
                u
                for u in users
                if u.lower() not in state.accounts
                or state.permission_of(found, u) in ("none", "read")
            ]
            unknown = [
                t for t in teams if (found.owner.login.lower(), t.lower()) not in state.teams
            ]
            if strangers or unknown:
                raise GitHubError(
                    422,
                    "Reviews may only be requested from collaborators. One or more of the users "
                    f"or teams you specified is not a collaborator of the {found.full_name} "
                    "repository.",
                    documentation_url=f"{DOCS}/pulls/review-requests",
                )
            for u in users:
                if u.lower() not in {r.lower() for r in pr.requested_reviewers}:
                    pr.requested_reviewers.append(u)
            for t in teams:
                if t.lower() not in {r.lower() for r in pr.requested_teams}:
                    pr.requested_teams.append(t)
            data = render.pull_request(state, pr, api_base(request), full=False)
        return json_response(request, data, 201)

    # --- issues and labels -------------------------------------------------------------------------

    def issue_or_404(repo: Repository, number: int) -> Issue:
        """The issue, or GitHub's answer: 410 for a deleted one, else 404."""
        found = state.issues.get((repo.id, number))
        if found is None:
            if (repo.id, number) in state.deleted_issues:
                raise GitHubError(410, "This issue was deleted", documentation_url=ISSUES_DOCS)
            raise not_found()
        return found

    def issues_enabled(repo: Repository) -> None:
        if not repo.has_issues:
            raise GitHubError(
                410, "Issues are disabled for this repo", documentation_url=ISSUES_DOCS
            )

    def check_issue_fields(body: Json) -> None:
        if len(str(body.get("title") or "")) > MAX_ISSUE_TITLE:
            raise validation_failed(
                "Issue", "title", f"title is too long (maximum is {MAX_ISSUE_TITLE} characters)"
            )
        if len(str(body.get("body") or "")) > MAX_BODY:
            raise validation_failed(
                "Issue", "body", f"body is too long (maximum is {MAX_BODY} characters)", "custom"
            )

    @app.post("/repos/{owner}/{repo}/issues/{number}/labels")
    async def add_labels(request: Request, owner: str, repo: str, number: int) -> Response:
        installation, found = access.covered_repo(request, owner, repo)
        body = await json_body(request)
        names = body.get("labels") if isinstance(body, dict) else body
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise validation_failed("Label", "labels", "labels must be a list of names")
        if any(len(n) > 50 for n in names):
            raise validation_failed("Label", "name", "name is too long (maximum is 50 characters)")
        with state.lock:
            target: PullRequest | Issue
            if (found.id, number) in state.pulls:
                access.require_permission(installation, ("issues", "pull_requests"), "write")
                target = state.pulls[(found.id, number)]
            else:
                access.require_permission(installation, ("issues",), "write")
                target = issue_or_404(found, number)
            for name in names:
                existing = found.labels.setdefault(name.lower(), name)
                if existing.lower() not in {n.lower() for n in target.labels}:
                    target.labels.append(existing)
            api = api_base(request)
            data = [render.label(found, name, api) for name in target.labels]
        return json_response(request, data)

    @app.post("/repos/{owner}/{repo}/issues")
    async def create_issue(request: Request, owner: str, repo: str) -> Response:
        _, found = access.covered_repo(request, owner, repo, ("issues",), "write")
        body = await json_body(request)
        validate_body(ReposOwnerRepoIssuesPostBody, body, "Issue")
        issues_enabled(found)
        check_issue_fields(body)
        names = [
            str(item.get("name") if isinstance(item, dict) else item)
            for item in body.get("labels") or []
        ]
        with state.lock:
            issue = state.open_issue(
                found, str(body["title"]), body.get("body"), user=state.bot, labels=names
            )
            data = render.issue(state, issue, api_base(request))
        return json_response(request, data, 201)

    @app.get("/repos/{owner}/{repo}/issues")
    async def list_issues(request: Request, owner: str, repo: str) -> Response:
        # Pull requests are issues too for this endpoint (they carry "pull_request").
        _, found = access.covered_repo(request, owner, repo, ("issues", "pull_requests"))
        issues_enabled(found)
        params = request.query_params
        wanted = params.get("state", "open")
        if wanted not in ("open", "closed", "all"):
            raise validation_failed(
                "Issue", "state", f"state {wanted!r} is not open, closed or all"
            )
        creator = (params.get("creator") or "").lower()
        labels = {x.lower() for x in (params.get("labels") or "").split(",") if x}
        api = api_base(request)
        with state.lock:
            items: list[tuple[Any, int, Json]] = []
            for issue in state.issues.values():
                if issue.repo_id != found.id or (wanted != "all" and issue.state != wanted):
                    continue
                if creator and issue.user.login.lower() != creator:
                    continue
                if not labels <= {n.lower() for n in issue.labels}:
                    continue
                items.append((issue.created_at, issue.number, render.issue(state, issue, api)))
            for pr in state.pulls.values():
                if pr.repo_id != found.id or (wanted != "all" and pr.state != wanted):
                    continue
                if creator and pr.user.login.lower() != creator:
                    continue
                if not labels <= {n.lower() for n in pr.labels}:
                    continue
                data = render.pull_request_as_issue(state, pr, api)
                items.append((pr.created_at, pr.number, data))
            ascending = params.get("direction") == "asc"
            items.sort(key=lambda item: (item[0], item[1]), reverse=not ascending)
            page, headers = paginate(request, [data for _, _, data in items])
        return json_response(request, page, headers=headers)

    @app.get("/repos/{owner}/{repo}/issues/{number}")
    async def get_issue(request: Request, owner: str, repo: str, number: int) -> Response:
        _, found = access.covered_repo(request, owner, repo, ("issues", "pull_requests"))
        api = api_base(request)
        with state.lock:
            pr = state.pulls.get((found.id, number))
            if pr is not None:
                return json_response(request, render.pull_request_as_issue(state, pr, api))
            data = render.issue(state, issue_or_404(found, number), api)
        return json_response(request, data)

    @app.patch("/repos/{owner}/{repo}/issues/{number}")
    async def update_issue(request: Request, owner: str, repo: str, number: int) -> Response:
        _, found = access.covered_repo(request, owner, repo, ("issues",), "write")
        body = await json_body(request)
        validate_body(ReposOwnerRepoIssuesIssueNumberPatchBody, body, "Issue")
        issues_enabled(found)
        check_issue_fields(body)
        with state.lock:
            issue = issue_or_404(found, number)
            if body.get("title") is not None:
                issue.title = str(body["title"])
            if "body" in body:
                issue.body = body["body"]
            new_state = body.get("state")
            if new_state in ("open", "closed") and new_state != issue.state:
                state.set_issue_state(
                    found, number, new_state, by=state.bot, reason=body.get("state_reason")
                )
            issue.updated_at = utcnow()
            issue.edits += 1
            data = render.issue(state, issue, api_base(request))
        return json_response(request, data)
