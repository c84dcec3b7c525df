"""The fake GitHub's HTTP API: ``create_fake_github(state, faults) -> FastAPI``.

REST routes the bot uses, with GitHub's JSON shapes, pagination (``Link`` headers), ETags,
rate-limit headers and limits; ``POST /graphql`` for batched blob reads and comment
minimisation. Request bodies are validated with githubkit's own generated request models
(``githubkit_schemas.latest.models``, the version githubkit's ``rest`` uses by default), so
a body githubkit would refuse is refused here too, and GitHub's extra limits (annotation
columns, titles, review lines off the diff) are enforced on top.

Every request passes through ``GitHubEdge`` first: latency, injected faults, burst limits
and the call log.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import jwt
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from githubkit_schemas.latest.models import (
    AppInstallationsInstallationIdAccessTokensPostBody,
    ReposOwnerRepoCheckRunsCheckRunIdPatchBodyAnyof0,
    ReposOwnerRepoCheckRunsCheckRunIdPatchBodyAnyof1,
    ReposOwnerRepoCheckRunsPostBodyOneof0,
    ReposOwnerRepoCheckRunsPostBodyOneof1,
    ReposOwnerRepoGitBlobsPostBody,
    ReposOwnerRepoGitCommitsPostBody,
    ReposOwnerRepoGitRefsRefPatchBody,
    ReposOwnerRepoGitTreesPostBody,
    ReposOwnerRepoIssuesCommentsCommentIdPatchBody,
    ReposOwnerRepoIssuesCommentsCommentIdReactionsPostBody,
    ReposOwnerRepoIssuesIssueNumberCommentsPostBody,
    ReposOwnerRepoPullsPullNumberReviewsPostBody,
)
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import oauth, render, repo_writes
from .edge import GitHubEdge
from .faults import Faults
from .gitdiff import FileChange, PatchLine, Side, diff_hunk, tree_shas
from .graphql import execute as execute_graphql
from .graphql import is_mutation
from .limits import (
    DOCS,
    MAX_BODY,
    GitHubError,
    as_side,
    check_run_limits,
    not_found,
    place_review_comment,
    unprocessable,
    validate_body,
    validation_failed,
)
from .responses import api_base, json_body, json_response, paginate
from .state import (
    CheckRun,
    FakeGitHubState,
    Installation,
    IssueComment,
    PullRequest,
    Reaction,
    Repository,
    Review,
    ReviewComment,
    utcnow,
)

Json = dict[str, Any]
T = TypeVar("T")
NOT_ACCESSIBLE = "Resource not accessible by integration"
REFS_DOCS = f"{DOCS}/git/refs"

REVIEW_EVENTS = {
    "COMMENT": "COMMENTED",
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
}


# --- helpers shared by routes -------------------------------------------------------------------


def wants_raw(request: Request) -> bool:
    return ".raw" in request.headers.get("accept", "")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- the app factory ----------------------------------------------------------------------------


def create_fake_github(state: FakeGitHubState, faults: Faults | None = None) -> FastAPI:
    """The fake GitHub as an ASGI app over ``state``; ``faults`` may be changed at runtime."""
    faults = faults if faults is not None else Faults()
    app = FastAPI(title="Fake GitHub", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.fake = state
    app.state.faults = faults
    app.add_middleware(GitHubEdge, state=state, faults=faults)

    @app.exception_handler(GitHubError)
    async def github_error(request: Request, exc: GitHubError) -> Response:
        return json_response(request, exc.body(), exc.status, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "Not Found" if exc.status_code == 404 else str(exc.detail)
        return json_response(request, GitHubError(exc.status_code, message).body(), exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> Response:
        # GitHub answers 404 for a path that does not match (e.g. a non-numeric number).
        return json_response(request, not_found().body(), 404)

    # Sign-in with GitHub: the authorize page, the token exchange, /user and what the
    # person can see (fake_github/oauth.py).
    app.include_router(oauth.router)

    # --- authentication -----------------------------------------------------------------

    def require_app(request: Request) -> None:
        """The caller is the App itself: an RS256 JWT signed with the App's private key."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise GitHubError(
                401,
                "A JSON web token could not be decoded",
                documentation_url="https://docs.github.com/rest",
            )
        try:
            claims = jwt.decode(
                token.strip(),
                state.app_public_key_pem,
                algorithms=["RS256"],
                options={"require": ["exp", "iat", "iss"], "verify_iss": False},
                leeway=timedelta(seconds=30),
            )
        except jwt.PyJWTError as exc:
            raise GitHubError(401, f"A JSON web token could not be decoded ({exc})") from None
        if str(claims["iss"]) != str(state.app_id):
            raise GitHubError(
                401, "'Issuer' claim ('iss') must be an Integer or the App's client id"
            )
        if int(claims["exp"]) - int(claims["iat"]) > 600 + 60:
            raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future")

    def require_installation(request: Request) -> Installation:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token:
            raise GitHubError(401, "Requires authentication")
        installation = state.token_installation(token.strip())
        if installation is None:
            raise GitHubError(401, "Bad credentials")
        return installation

    def head_of_open_pull(installation: Installation, repo: Repository) -> list[PullRequest]:
        """Open PRs into a repository of the installation whose head is in ``repo`` (a fork)."""
        return [
            pr
            for pr in state.pulls.values()
            if pr.state == "open"
            and pr.head_repo_id == repo.id
            and pr.repo_id != repo.id
            and installation.covers(state.repos[pr.repo_id])
        ]

    def require_permission(
        installation: Installation, need: tuple[str, ...], level: Literal["read", "write"]
    ) -> None:
        """GitHub's answer to a call the installation's permissions do not grant: 403.

        ``need``: the permissions any one of which allows the call (a comment on a pull
        request takes ``issues`` or ``pull_requests``).
        """
        if need and not any(installation.grants(scope, level) for scope in need):
            raise GitHubError(403, NOT_ACCESSIBLE, documentation_url=DOCS)

    def readable_repo(
        request: Request,
        owner: str,
        name: str,
        need: tuple[str, ...] = (),
        level: Literal["read", "write"] = "read",
    ) -> tuple[Installation, Repository]:
        installation = require_installation(request)
        repo = state.find_repo(owner, name)
        if repo is None:
            raise not_found()
        if not installation.covers(repo) and not head_of_open_pull(installation, repo):
            raise not_found()
        require_permission(installation, need, level)
        return installation, repo

    def covered_repo(
        request: Request,
        owner: str,
        name: str,
        need: tuple[str, ...] = (),
        level: Literal["read", "write"] = "read",
    ) -> tuple[Installation, Repository]:
        installation = require_installation(request)
        repo = state.find_repo(owner, name)
        if repo is None or not installation.covers(repo):
            raise not_found()
        require_permission(installation, need, level)
        return installation, repo

    def git_writable_repo(
        request: Request, owner: str, name: str, branch: str | None = None
    ) -> Repository:
        """A repo the App may write git objects to: its own, or a fork branch it may modify."""
        installation, repo = readable_repo(request, owner, name, ("contents",), "write")
        if installation.covers(repo):
            return repo
        pulls = head_of_open_pull(installation, repo)
        if any(pr.maintainer_can_modify and branch in (None, pr.head_ref) for pr in pulls):
            return repo
        raise GitHubError(403, NOT_ACCESSIBLE)

    def issue_or_pull_or_404(repo: Repository, number: int) -> bool:
        """True for a pull request, False for an issue; 404 for neither."""
        if (repo.id, number) in state.pulls:
            return True
        if (repo.id, number) in state.issues:
            return False
        raise not_found()

    def pull_or_404(repo: Repository, number: int) -> PullRequest:
        pr = state.pulls.get((repo.id, number))
        if pr is None:
            raise not_found()
        return pr

    # --- the App ------------------------------------------------------------------------

    @app.get("/users/{login}")
    async def get_user(request: Request, login: str) -> Response:
        account = state.accounts.get(login.lower())
        if account is None:
            raise not_found()
        return json_response(request, render.user(account, api_base(request)))

    @app.get("/app")
    async def get_app(request: Request) -> Response:
        require_app(request)
        return json_response(request, render.app(state, api_base(request)))

    @app.post("/app/installations/{installation_id}/access_tokens")
    async def create_access_token(request: Request, installation_id: int) -> Response:
        require_app(request)
        installation = state.installations.get(installation_id)
        if installation is None:
            raise not_found()
        body = await json_body(request)
        validate_body(AppInstallationsInstallationIdAccessTokensPostBody, body, "InstallationToken")
        token = state.issue_token(installation.id)
        data = {
            "token": token.token,
            "expires_at": render.timestamp(token.expires_at),
            "permissions": dict(installation.permissions),
            "repository_selection": installation.repository_selection,
        }
        return json_response(request, data, 201)

    @app.get("/app/installations")
    async def list_installations(request: Request) -> Response:
        require_app(request)
        api = api_base(request)
        with state.lock:
            items = [render.installation(state, i, api) for i in state.installations.values()]
        page, headers = paginate(request, items)
        return json_response(request, page, headers=headers)

    @app.get("/app/installations/{installation_id}")
    async def get_installation(request: Request, installation_id: int) -> Response:
        require_app(request)
        installation = state.installations.get(installation_id)
        if installation is None:
            raise not_found()
        return json_response(request, render.installation(state, installation, api_base(request)))

    @app.get("/repos/{owner}/{repo}/installation")
    async def get_repo_installation(request: Request, owner: str, repo: str) -> Response:
        require_app(request)
        found = state.find_repo(owner, repo)
        installation = state.installation_for(found) if found else None
        if installation is None:
            raise not_found()
        return json_response(request, render.installation(state, installation, api_base(request)))

    @app.get("/installation/repositories")
    async def list_installation_repos(request: Request) -> Response:
        installation = require_installation(request)
        api = api_base(request)
        with state.lock:
            repos = [r for r in state.repos.values() if installation.covers(r)]
            items = [render.repository(state, r, api) for r in repos]
        page, headers = paginate(request, items)
        data = {
            "total_count": len(items),
            "repository_selection": installation.repository_selection,
            "repositories": page,
        }
        return json_response(request, data, headers=headers)

    @app.get("/app/hook/deliveries")
    async def list_deliveries(request: Request) -> Response:
        require_app(request)
        try:
            per_page = min(max(int(request.query_params.get("per_page", "30")), 1), 100)
            start = int(request.query_params.get("cursor", "0") or "0")
        except ValueError:
            raise validation_failed("HookDelivery", "cursor", "invalid cursor") from None
        with state.lock:
            newest_first = sorted(state.deliveries, key=lambda d: d.id, reverse=True)
        chunk = newest_first[start : start + per_page]
        headers: dict[str, str] = {}
        if start + per_page < len(newest_first):
            url = request.url.include_query_params(cursor=start + per_page, per_page=per_page)
            headers["link"] = f'<{url}>; rel="next"'
        return json_response(
            request, [render.hook_delivery(d, full=False) for d in chunk], headers=headers
        )

    @app.get("/app/hook/deliveries/{delivery_id}")
    async def get_delivery(request: Request, delivery_id: int) -> Response:
        require_app(request)
        found = next((d for d in state.deliveries if d.id == delivery_id), None)
        if found is None:
            raise not_found()
        return json_response(request, render.hook_delivery(found, full=True))

    @app.post("/app/hook/deliveries/{delivery_id}/attempts")
    async def redeliver(request: Request, delivery_id: int) -> Response:
        require_app(request)
        with state.lock:
            found = next((d for d in state.deliveries if d.id == delivery_id), None)
            if found is None:
                raise not_found()
            state.redelivery_requests.append(delivery_id)
            hook = state.redeliver
        # In a worker thread, outside the lock: the webhook handler it calls may call back.
        status = await asyncio.to_thread(hook, found) if hook is not None else 200
        with state.lock:
            again = state.add_delivery(
                found.event,
                found.action,
                status_code=status,
                guid=found.guid,
                payload=found.payload,
            )
            again.redelivery = True
            again.installation_id = found.installation_id
            again.repository_id = found.repository_id
        return json_response(request, {}, 202)

    # --- repositories, pull requests, contents -------------------------------------------------

    @app.get("/repos/{owner}/{repo}")
    async def get_repo(request: Request, owner: str, repo: str) -> Response:
        _, found = readable_repo(request, owner, repo)
        return json_response(request, render.repository(state, found, api_base(request)))

    @app.get("/repos/{owner}/{repo}/pulls")
    async def list_pulls(request: Request, owner: str, repo: str) -> Response:
        _, found = covered_repo(request, owner, repo, need=("pull_requests",))
        wanted = request.query_params.get("state", "open")
        head = request.query_params.get("head")
        base = request.query_params.get("base")
        api = api_base(request)
        with state.lock:
            pulls = [
                pr
                for pr in state.pulls.values()
                if pr.repo_id == found.id
                and (wanted == "all" or pr.state == wanted)
                and (base is None or pr.base_ref == base)
                and (
                    head is None
                    or f"{state.repos[pr.head_repo_id].owner.login}:{pr.head_ref}".lower()
                    == head.lower()
                )
            ]
            pulls.sort(
                key=lambda pr: pr.number, reverse=request.query_params.get("direction") != "asc"
            )
            items = [render.pull_request(state, pr, api, full=False) for pr in pulls]
        page, headers = paginate(request, items)
        return json_response(request, page, headers=headers)

    @app.get("/repos/{owner}/{repo}/pulls/{number}")
    async def get_pull(request: Request, owner: str, repo: str, number: int) -> Response:
        _, found = covered_repo(request, owner, repo, need=("pull_requests",))
        with state.lock:
            pr = pull_or_404(found, number)
            accept = request.headers.get("accept", "")
            if ".diff" in accept or ".patch" in accept:
                return diff_text(request, state.pull_files(pr))
            data = render.pull_request(state, pr, api_base(request), full=True)
        return json_response(request, data)

    def diff_text(request: Request, files: list[FileChange]) -> Response:
        if len(files) > 300:
            raise GitHubError(
                406,
                "Sorry, the diff exceeded the maximum number of files (300). Consider using "
                "'List pull requests files' API or locally cloning the repository instead.",
            )
        parts: list[str] = []
        for change in files:
            old = change.previous_filename or change.filename
            parts.append(f"diff --git a/{old} b/{change.filename}")
            if change.patch:
                source = "/dev/null" if change.status == "added" else f"a/{old}"
                target = "/dev/null" if change.status == "removed" else f"b/{change.filename}"
                parts += [f"--- {source}", f"+++ {target}", change.patch]
        return Response("\n".join(parts) + "\n", media_type="text/plain; charset=utf-8")

    @app.get("/repos/{owner}/{repo}/pulls/{number}/files")
    async def list_pull_files(request: Request, owner: str, repo: str, number: int) -> Response:
        _, found = covered_repo(request, owner, repo, need=("pull_requests",))
        api = api_base(request)
        with state.lock:
            pr = pull_or_404(found, number)
            files = state.pull_files(pr)[: state.max_pull_files]
            page, headers = paginate(request, files)
            data = [render.diff_entry(found, pr.head_sha, change, api) for change in page]
        return json_response(request, data, headers=headers)

    @app.get("/repos/{owner}/{repo}/pulls/{number}/commits")
    async def list_pull_commits(request: Request, owner: str, repo: str, number: int) -> Response:
        _, found = covered_repo(request, owner, repo, need=("pull_requests",))
        api = api_base(request)
        with state.lock:
            pr = pull_or_404(found, number)
            shas = state.pull_commits(pr)[:250]
            items = [render.commit(state, found, state.commits[sha], api) for sha in shas]
        page, headers = paginate(request, items)
        return json_response(request, page, headers=headers)

    def resolve_in_network(repo: Repository, spec: str) -> str | None:
        """A compare endpoint's ref: "ref" in ``repo`` or "owner:ref" in a fork of it."""
        owner, colon, ref = spec.partition(":")
        if not colon:
            return state.resolve(repo, spec)
        target = state.find_repo(owner, repo.name)
        if target is None:
            target = next(
                (
                    r
                    for r in state.repos.values()
                    if r.owner.login.lower() == owner.lower()
                    and (r.parent_id == repo.id or repo.parent_id == r.id)
                ),
                None,
            )
        return state.resolve(target, ref) if target is not None else None

    @app.get("/repos/{owner}/{repo}/compare/{basehead:path}")
    async def compare(request: Request, owner: str, repo: str, basehead: str) -> Response:
        _, found = covered_repo(request, owner, repo, need=("contents",))
        base_spec, dots, head_spec = basehead.partition("...")
        if not dots:
            raise not_found()
        api = api_base(request)
        with state.lock:
            base_sha = resolve_in_network(found, base_spec)
            head_sha = resolve_in_network(found, head_spec)
            if base_sha is None or head_sha is None:
                raise not_found()
            merge_base = state.merge_base(base_sha, head_sha)
            if merge_base is None:
                raise GitHubError(404, f"No common ancestor between {base_spec} and {head_spec}.")
            ahead = state.ancestors(head_sha)
            behind = state.ancestors(base_sha)
            ahead_shas = sorted((s for s in ahead if s not in behind), key=lambda s: -ahead[s])
            behind_count = sum(1 for s in behind if s not in ahead)
            status = (
                "identical"
                if not ahead_shas and not behind_count
                else "ahead"
                if not behind_count
                else "behind"
                if not ahead_shas
                else "diverged"
            )
            files = state.diff(merge_base, head_sha)[: state.max_compare_files]
            base_url = f"{api}repos/{found.full_name}/compare/{basehead}"
            data = {
                "url": base_url,
                "html_url": f"{render.WEB}{found.full_name}/compare/{basehead}",
                "permalink_url": f"{render.WEB}{found.full_name}/compare/{base_sha[:7]}...{head_sha[:7]}",
                "diff_url": f"{render.WEB}{found.full_name}/compare/{basehead}.diff",
                "patch_url": f"{render.WEB}{found.full_name}/compare/{basehead}.patch",
                "base_commit": render.commit(state, found, state.commits[base_sha], api),
                "merge_base_commit": render.commit(state, found, state.commits[merge_base], api),
                "status": status,
                "ahead_by": len(ahead_shas),
                "behind_by": behind_count,
                "total_commits": len(ahead_shas),
                "commits": [
                    render.commit(state, found, state.commits[s], api) for s in ahead_shas[:250]
                ],
                "files": [render.diff_entry(found, head_sha, f, api) for f in files],
            }
        return json_response(request, data)

    @app.get("/repos/{owner}/{repo}/commits")
    async def list_commits(request: Request, owner: str, repo: str) -> Response:
        _, found = readable_repo(request, owner, repo)
        params = request.query_params
        ref = params.get("sha") or found.default_branch
        bounds: dict[str, datetime | None] = {}
        for name in ("since", "until"):
            value = params.get(name)
            bounds[name] = parse_time(value) if value else None
            if value and bounds[name] is None:
                raise validation_failed("Commit", name, f"{name} is not an ISO 8601 timestamp")
        path = params.get("path")
        api = api_base(request)
        with state.lock:
            sha = state.resolve(found, ref)
            if sha is None:
                raise GitHubError(404, f"No commit found for SHA: {ref}")
            distance = state.ancestors(sha)
            commits = [state.commits[s] for s in distance]
            since, until = bounds["since"], bounds["until"]
            commits = [
                c
                for c in commits
                if (since is None or c.date >= since)
                and (until is None or c.date <= until)
                and (path is None or _touches(state, c, path))
            ]
            # Newest first, as `git log` lists them.
            commits.sort(key=lambda c: (-c.timestamp, distance[c.sha]))
            page, headers = paginate(request, commits)
            items = [render.commit(state, found, c, api) for c in page]
        return json_response(request, items, headers=headers)

    @app.get("/repos/{owner}/{repo}/commits/{ref:path}/check-runs")
    async def list_check_runs_for_ref(
        request: Request, owner: str, repo: str, ref: str
    ) -> Response:
        _, found = covered_repo(request, owner, repo, need=("checks",))
        params = request.query_params
        api = api_base(request)
        with state.lock:
            sha = state.resolve(found, ref)
            if sha is None:
                raise GitHubError(422, f"No commit found for SHA: {ref}")
            runs = [r for r in state.check_runs_for(found, head_sha=sha)]
            if "check_name" in params:
                runs = [r for r in runs if r.name == params["check_name"]]
            if "status" in params:
                runs = [r for r in runs if r.status == params["status"]]
            if "app_id" in params:
                runs = [r for r in runs if str(r.app_id) == params["app_id"]]
            runs.sort(key=lambda r: r.id, reverse=True)
            if params.get("filter", "latest") == "latest":
                latest: dict[str, CheckRun] = {}
                for run in runs:
                    latest.setdefault(run.name, run)
                runs = list(latest.values())
            page, headers = paginate(request, runs)
            data = {
                "total_count": len(runs),
                "check_runs": [render.check_run(state, r, api) for r in page],
            }
        return json_response(request, data, headers=headers)

    @app.get("/repos/{owner}/{repo}/contents")
    async def get_root_contents(request: Request, owner: str, repo: str) -> Response:
        return await get_contents(request, owner, repo, "")

    @app.get("/repos/{owner}/{repo}/contents/{path:path}")
    async def get_contents(request: Request, owner: str, repo: str, path: str) -> Response:
        _, found = readable_repo(request, owner, repo, need=("contents",))
        ref = request.query_params.get("ref") or found.default_branch
        api = api_base(request)
        path = path.strip("/")
        with state.lock:
            sha = state.resolve(found, ref)
            if sha is None:
                raise GitHubError(404, f"No commit found for the ref {ref}")
            files = state.commits[sha].files
            blob_sha = files.get(path)
            if blob_sha is not None:
                content = state.blobs[blob_sha]
                if wants_raw(request):
                    return Response(content, media_type="application/octet-stream")
                item = render.content_item(found, ref, path, blob_sha, "file", len(content), api)
                if len(content) > state.contents_size_limit:
                    item.update(content="", encoding="none")
                else:
                    item.update(content=render.encode_base64(content), encoding="base64")
                return json_response(request, item)
            prefix = f"{path}/" if path else ""
            below = {p[len(prefix) :]: s for p, s in files.items() if p.startswith(prefix)}
            if not below:
                raise not_found()
            subtrees = tree_shas(files)
            entries: dict[str, Json] = {}
            for rest, blob in sorted(below.items()):
                head, sep, _ = rest.partition("/")
                full = prefix + head
                if sep:
                    entries.setdefault(
                        head,
                        render.content_item(found, ref, full, subtrees[full + "/"], "dir", 0, api),
                    )
                else:
                    size = len(state.blobs[blob])
                    entries[head] = render.content_item(found, ref, full, blob, "file", size, api)
        return json_response(request, list(entries.values()))

    # --- git data ------------------------------------------------------------------------------

    @app.get("/repos/{owner}/{repo}/git/blobs/{sha}")
    async def get_blob(request: Request, owner: str, repo: str, sha: str) -> Response:
        _, found = readable_repo(request, owner, repo, need=("contents",))
        content = state.blobs.get(sha)
        if content is None:
            raise not_found()
        if wants_raw(request):
            return Response(content, media_type="application/octet-stream")
        return json_response(request, render.blob(found, sha, content, api_base(request)))

    @app.post("/repos/{owner}/{repo}/git/blobs")
    async def create_blob(request: Request, owner: str, repo: str) -> Response:
        found = git_writable_repo(request, owner, repo)
        body = await json_body(request)
        validate_body(ReposOwnerRepoGitBlobsPostBody, body, "Blob")
        encoding = body.get("encoding", "utf-8")
        if encoding == "base64":
            try:
                content = base64.b64decode(body["content"])
            except (binascii.Error, ValueError):
                raise validation_failed("Blob", "content", "content is not valid base64") from None
        elif encoding in ("utf-8", "utf8"):
            content = body["content"].encode("utf-8")
        else:
            raise validation_failed("Blob", "encoding", f"encoding {encoding!r} is not supported")
        sha = state.store_blob(content)
        url = f"{api_base(request)}repos/{found.full_name}/git/blobs/{sha}"
        return json_response(request, {"url": url, "sha": sha}, 201)

    @app.post("/repos/{owner}/{repo}/git/trees")
    async def create_tree(request: Request, owner: str, repo: str) -> Response:
        found = git_writable_repo(request, owner, repo)
        body = await json_body(request)
        validate_body(ReposOwnerRepoGitTreesPostBody, body, "Tree")
        with state.lock:
            files: dict[str, str] = {}
            if "base_tree" in body:
                base = state.tree_files(body["base_tree"])
                if base is None:
                    raise validation_failed(
                        "Tree", "base_tree", "base_tree is not a valid tree oid"
                    )
                files = dict(base)
            for index, entry in enumerate(body["tree"]):
                path = str(entry.get("path", "")).strip("/")
                if not path:
                    raise validation_failed(
                        "Tree", f"tree.{index}.path", "path is required", "missing_field"
                    )
                if "sha" in entry and "content" in entry:
                    raise validation_failed(
                        "Tree", f"tree.{index}", "Provide either sha or content, not both"
                    )
                kind = entry.get("type", "blob")
                if "content" in entry:
                    files[path] = state.store_blob(str(entry["content"]))
                    continue
                sha = entry.get("sha")
                below = [p for p in files if p == path or p.startswith(path + "/")]
                if sha is None:
                    for removed in below:
                        del files[removed]
                elif kind == "tree":
                    subtree = state.tree_files(sha)
                    if subtree is None:
                        raise validation_failed("Tree", f"tree.{index}.sha", f"{sha} is not a tree")
                    for removed in below:
                        del files[removed]
                    files.update({f"{path}/{p}": s for p, s in subtree.items()})
                elif sha in state.blobs:
                    files[path] = sha
                else:
                    raise validation_failed(
                        "Tree", f"tree.{index}.sha", f"blob {sha} does not exist"
                    )
            tree_sha = state.store_tree(files)
            data = render.git_tree(
                state, found, tree_sha, files, api_base(request), recursive=False
            )
        return json_response(request, data, 201)

    @app.get("/repos/{owner}/{repo}/git/trees/{sha:path}")
    async def get_tree(request: Request, owner: str, repo: str, sha: str) -> Response:
        _, found = readable_repo(request, owner, repo, need=("contents",))
        recursive = request.query_params.get("recursive") not in (None, "", "0", "false")
        with state.lock:
            files: Mapping[str, str] | None = state.tree_files(sha)
            tree_sha = sha
            if files is None:
                commit_sha = state.resolve(found, sha)
                if commit_sha is None:
                    raise not_found()
                tree_sha = state.commits[commit_sha].tree_sha
                files = state.commits[commit_sha].files
            data = render.git_tree(
                state, found, tree_sha, dict(files), api_base(request), recursive=recursive
            )
        return json_response(request, data)

    @app.post("/repos/{owner}/{repo}/git/commits")
    async def create_commit(request: Request, owner: str, repo: str) -> Response:
        found = git_writable_repo(request, owner, repo)
        body = await json_body(request)
        validate_body(ReposOwnerRepoGitCommitsPostBody, body, "Commit")
        with state.lock:
            tree = state.trees.get(body["tree"])
            if tree is None:
                raise validation_failed("Commit", "tree", "Tree SHA does not exist")
            parents = tuple(body.get("parents", []))
            for parent in parents:
                if parent not in state.commits:
                    raise validation_failed(
                        "Commit", "parents", "Parent SHA does not exist or is not a commit object"
                    )
            author = body.get("author") or {}
            name = str(author.get("name") or state.bot.login)
            when = parse_time(author.get("date"))
            sha = state.commit_tree(
                tree,
                parents,
                str(body["message"]),
                name,
                timestamp=int(when.timestamp()) if when else int(time.time()),
            )
            data = render.git_commit(found, state.commits[sha], api_base(request))
        return json_response(request, data, 201)

    @app.get("/repos/{owner}/{repo}/git/commits/{sha}")
    async def get_git_commit(request: Request, owner: str, repo: str, sha: str) -> Response:
        _, found = readable_repo(request, owner, repo, need=("contents",))
        commit = state.commits.get(sha)
        if commit is None:
            raise not_found()
        return json_response(request, render.git_commit(found, commit, api_base(request)))

    @app.get("/repos/{owner}/{repo}/git/ref/{ref:path}")
    async def get_ref(request: Request, owner: str, repo: str, ref: str) -> Response:
        _, found = readable_repo(request, owner, repo, need=("contents",))
        if not ref.startswith("heads/"):
            raise not_found()
        branch = ref.removeprefix("heads/")
        sha = found.branches.get(branch)
        if sha is None:
            raise not_found()
        return json_response(request, render.git_ref(found, branch, sha, api_base(request)))

    @app.get("/repos/{owner}/{repo}/branches/{name:path}")
    async def get_branch(request: Request, owner: str, repo: str, name: str) -> Response:
        _, found = readable_repo(request, owner, repo)
        sha = found.branches.get(name)
        if sha is None:
            raise not_found()
        return json_response(request, render.branch(found, name, sha, api_base(request)))

    @app.patch("/repos/{owner}/{repo}/git/refs/{ref:path}")
    async def update_ref(request: Request, owner: str, repo: str, ref: str) -> Response:
        branch = ref.removeprefix("refs/").removeprefix("heads/")
        found = git_writable_repo(request, owner, repo, branch)
        body = await json_body(request)
        validate_body(ReposOwnerRepoGitRefsRefPatchBody, body, "Reference")
        with state.lock:
            if not ref.removeprefix("refs/").startswith("heads/") or branch not in found.branches:
                raise GitHubError(422, "Reference does not exist", documentation_url=REFS_DOCS)
            refuse_protected(found, branch)
            sha = body["sha"]
            if sha not in state.commits:
                raise GitHubError(422, "Object does not exist", documentation_url=REFS_DOCS)
            current = found.branches[branch]
            if not body.get("force") and current not in state.ancestors(sha):
                # GitHub answers 422 here (its OpenAPI description also lists a 409).
                raise GitHubError(422, "Update is not a fast forward", documentation_url=REFS_DOCS)
            state.push(found, branch, sha)
            data = render.git_ref(found, branch, sha, api_base(request))
        return json_response(request, data)

    def refuse_protected(repo: Repository, branch: str, creating: bool = False) -> None:
        """A branch protection or ruleset that refuses the App's write (see deny_push)."""
        denied = repo.denied(branch)
        if denied == 403:
            raise GitHubError(403, NOT_ACCESSIBLE, documentation_url=REFS_DOCS)
        if denied is not None and creating:
            raise GitHubError(
                422,
                "Repository rule violations found\n\n"
                "Cannot create ref due to creations being restricted.\n\n",
                documentation_url=REFS_DOCS,
            )
        if denied is not None:
            raise GitHubError(
                422,
                f"Protected branch update failed for refs/heads/{branch}.",
                documentation_url=REFS_DOCS,
            )

    repo_writes.add_routes(
        app,
        state,
        repo_writes.Access(
            covered_repo=covered_repo,
            git_writable_repo=git_writable_repo,
            refuse_protected=refuse_protected,
            require_permission=require_permission,
            api_base=api_base,
            json_body=json_body,
            json_response=json_response,
            paginate=paginate,
        ),
    )

    # --- check runs ----------------------------------------------------------------------------

    def apply_check_run(run: CheckRun, body: Json) -> None:
        for key in ("name", "details_url", "external_id"):
            if key in body:
                setattr(run, key, body[key])
        if "started_at" in body:
            run.started_at = parse_time(body["started_at"])
        if "status" in body:
            run.status = body["status"]
            if run.status == "in_progress" and run.started_at is None:
                run.started_at = utcnow()
        if body.get("conclusion") is not None:
            run.conclusion = body["conclusion"]
            run.status = "completed"
        if run.status == "completed":
            run.completed_at = parse_time(body.get("completed_at")) or run.completed_at or utcnow()
        output = body.get("output")
        if isinstance(output, dict):
            if "title" in output:
                run.output.title = output["title"]
            run.output.summary = output.get("summary", run.output.summary)
            if "text" in output:
                run.output.text = output["text"]
            run.annotations.extend(output.get("annotations") or [])
            run.images.extend(output.get("images") or [])
        if "actions" in body:
            run.actions = list(body["actions"])

    @app.post("/repos/{owner}/{repo}/check-runs")
    async def create_check_run(request: Request, owner: str, repo: str) -> Response:
        _, found = covered_repo(request, owner, repo, need=("checks",), level="write")
        body = await json_body(request)
        if not isinstance(body, dict):
            raise GitHubError(400, "Problems parsing JSON")
        completed = body.get("status") == "completed"
        model = (
            ReposOwnerRepoCheckRunsPostBodyOneof0
            if completed
            else ReposOwnerRepoCheckRunsPostBodyOneof1
        )
        validate_body(model, body, "CheckRun")
        check_run_limits(body)
        with state.lock:
            if body["head_sha"] not in state.commits:
                raise validation_failed(
                    "CheckRun", "head_sha", f"No commit found for SHA: {body['head_sha']}"
                )
            run = CheckRun(
                id=state.next_id(),
                repo_id=found.id,
                name=body["name"],
                head_sha=body["head_sha"],
                app_id=state.app_id,
                check_suite_id=_suite_id(found.id, body["head_sha"]),
                started_at=utcnow(),
            )
            apply_check_run(run, body)
            state.check_runs[run.id] = run
            data = render.check_run(state, run, api_base(request))
        return json_response(request, data, 201)

    @app.patch("/repos/{owner}/{repo}/check-runs/{check_run_id}")
    async def update_check_run(
        request: Request, owner: str, repo: str, check_run_id: int
    ) -> Response:
        _, found = covered_repo(request, owner, repo, need=("checks",), level="write")
        body = await json_body(request)
        if not isinstance(body, dict):
            raise GitHubError(400, "Problems parsing JSON")
        completing = "conclusion" in body or body.get("status") == "completed"
        model = (
            ReposOwnerRepoCheckRunsCheckRunIdPatchBodyAnyof0
            if completing
            else ReposOwnerRepoCheckRunsCheckRunIdPatchBodyAnyof1
        )
        validate_body(model, body, "CheckRun")
        check_run_limits(body)
        output = body.get("output")
        if isinstance(output, dict) and "title" not in output:
            raise validation_failed(
                "CheckRun", "output.title", "output.title is required", "missing_field"
            )
        with state.lock:
            run = state.check_runs.get(check_run_id)
            if run is None or run.repo_id != found.id:
                raise not_found()
            apply_check_run(run, body)
            run.updates += 1
            data = render.check_run(state, run, api_base(request))
        return json_response(request, data)

    @app.get("/repos/{owner}/{repo}/check-runs/{check_run_id}")
    async def get_check_run(request: Request, owner: str, repo: str, check_run_id: int) -> Response:
        _, found = covered_repo(request, owner, repo, need=("checks",))
        with state.lock:
            run = state.check_runs.get(check_run_id)
            if run is None or run.repo_id != found.id:
                raise not_found()
            data = render.check_run(state, run, api_base(request))
        return json_response(request, data)

    @app.get("/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations")
    async def list_annotations(
        request: Request, owner: str, repo: str, check_run_id: int
    ) -> Response:
        _, found = covered_repo(request, owner, repo, need=("checks",))
        with state.lock:
            run = state.check_runs.get(check_run_id)
            if run is None or run.repo_id != found.id:
                raise not_found()
            page, headers = paginate(request, list(run.annotations))
            data = [render.annotation(found, run, item) for item in page]
        return json_response(request, data, headers=headers)

    # --- reviews and comments ---------------------------------------------------------------------

    @app.post("/repos/{owner}/{repo}/pulls/{number}/reviews")
    async def create_review(request: Request, owner: str, repo: str, number: int) -> Response:
        _, found = covered_repo(request, owner, repo, need=("pull_requests",), level="write")
        body = await json_body(request)
        validate_body(ReposOwnerRepoPullsPullNumberReviewsPostBody, body, "PullRequestReview")
        docs = f"{DOCS}/pulls/reviews#create-a-review-for-a-pull-request"
        review_body = str(body.get("body") or "")
        if len(review_body) > MAX_BODY:
            raise unprocessable(
                f"Body is too long (maximum is {MAX_BODY} characters)", documentation_url=docs
            )
        with state.lock:
            pr = pull_or_404(found, number)
            commit_id = body.get("commit_id") or pr.head_sha
            if commit_id not in state.commits or commit_id not in state.ancestors(pr.head_sha):
                raise unprocessable(
                    "Commit id is not part of the pull request", documentation_url=docs
                )
            changes = {c.filename: c for c in state.diff(state.pull_merge_base(pr), commit_id)}
            placed: list[tuple[Json, tuple[PatchLine, int, Side], FileChange]] = []
            errors: list[str] = []
            for item in body.get("comments") or []:
                result = place_review_comment(item, changes)
                if isinstance(result, str):
                    errors.append(result)
                else:
                    placed.append((item, result, changes[item["path"]]))
            if errors:
                raise unprocessable(*errors, documentation_url=docs)
            event = body.get("event")
            if event in ("REQUEST_CHANGES", "COMMENT") and not review_body and not placed:
                raise unprocessable(
                    f"Body is required when event is {event}", documentation_url=docs
                )
            state_name = REVIEW_EVENTS.get(event, "PENDING") if event else "PENDING"
            if state_name == "PENDING" and any(
                r.state == "PENDING" and r.user.id == state.bot.id
                for r in state.reviews_for(found, number)
            ):
                raise unprocessable(
                    "User can only have one pending review per pull request", documentation_url=docs
                )
            review = Review(
                state.next_id(), found.id, number, state.bot, review_body, state_name, commit_id
            )
            for item, (target, line, side), change in placed:
                assert change.patch is not None
                start_line = item.get("start_line")
                comment = ReviewComment(
                    id=state.next_id(),
                    repo_id=found.id,
                    pr_number=number,
                    review_id=review.id,
                    path=item["path"],
                    line=line,
                    side=side,
                    body=item["body"],
                    commit_id=commit_id,
                    user=state.bot,
                    diff_hunk=diff_hunk(change.patch, target),
                    position=target.position,
                    start_line=start_line,
                    start_side=as_side(item.get("start_side", side))
                    if start_line is not None
                    else None,
                )
                state.review_comments[comment.id] = comment
                review.comment_ids.append(comment.id)
            state.reviews[review.id] = review
            data = render.review(state, review, api_base(request))
        return json_response(request, data)

    @app.get("/repos/{owner}/{repo}/pulls/{number}/reviews")
    async def list_reviews(request: Request, owner: str, repo: str, number: int) -> Response:
        _, found = covered_repo(request, owner, repo, need=("pull_requests",))
        api = api_base(request)
        with state.lock:
            pull_or_404(found, number)
            items = [
                render.review(state, r, api)
                for r in sorted(state.reviews_for(found, number), key=lambda r: r.id)
            ]
        page, headers = paginate(request, items)
        return json_response(request, page, headers=headers)

    @app.get("/repos/{owner}/{repo}/pulls/{number}/comments")
    async def list_review_comments(
        request: Request, owner: str, repo: str, number: int
    ) -> Response:
        _, found = covered_repo(request, owner, repo, need=("pull_requests",))
        api = api_base(request)
        with state.lock:
            pr = pull_or_404(found, number)
            head_files = state.commits[pr.head_sha].files
            comments = sorted(state.review_comments_for(found, number), key=lambda c: c.id)
            items = []
            for comment in comments:
                then = state.commits[comment.commit_id].files.get(comment.path)
                outdated = comment.commit_id != pr.head_sha and head_files.get(comment.path) != then
                items.append(render.review_comment(state, comment, api, outdated=outdated))
        page, headers = paginate(request, items)
        return json_response(request, page, headers=headers)

    @app.get("/repos/{owner}/{repo}/issues/{number}/comments")
    async def list_issue_comments(request: Request, owner: str, repo: str, number: int) -> Response:
        _, found = covered_repo(request, owner, repo, need=("issues", "pull_requests"))
        api = api_base(request)
        with state.lock:
            issue_or_pull_or_404(found, number)
            comments = sorted(state.issue_comments_for(found, number), key=lambda c: c.id)
            items = [render.issue_comment(state, c, api) for c in comments]
        page, headers = paginate(request, items)
        return json_response(request, page, headers=headers)

    def check_comment_length(body: dict[str, Any]) -> None:
        if len(body["body"]) > MAX_BODY:
            raise validation_failed(
                "IssueComment",
                "body",
                f"body is too long (maximum is {MAX_BODY} characters)",
                "too_long",
            )

    @app.post("/repos/{owner}/{repo}/issues/{number}/comments")
    async def create_issue_comment(
        request: Request, owner: str, repo: str, number: int
    ) -> Response:
        installation, found = covered_repo(
            request, owner, repo, need=("issues", "pull_requests"), level="write"
        )
        body = await json_body(request)
        validate_body(ReposOwnerRepoIssuesIssueNumberCommentsPostBody, body, "IssueComment")
        check_comment_length(body)
        with state.lock:
            if not issue_or_pull_or_404(found, number):
                require_permission(installation, ("issues",), "write")  # an issue, not a PR
            comment = IssueComment(state.next_id(), found.id, number, body["body"], state.bot)
            state.issue_comments[comment.id] = comment
            data = render.issue_comment(state, comment, api_base(request))
        return json_response(request, data, 201)

    def issue_comment_or_404(repo: Repository, comment_id: int) -> IssueComment:
        comment = state.issue_comments.get(comment_id)
        if comment is None or comment.repo_id != repo.id:
            raise not_found()
        return comment

    @app.get("/repos/{owner}/{repo}/issues/comments/{comment_id}")
    async def get_issue_comment(
        request: Request, owner: str, repo: str, comment_id: int
    ) -> Response:
        _, found = covered_repo(request, owner, repo, need=("issues", "pull_requests"))
        with state.lock:
            data = render.issue_comment(
                state, issue_comment_or_404(found, comment_id), api_base(request)
            )
        return json_response(request, data)

    @app.patch("/repos/{owner}/{repo}/issues/comments/{comment_id}")
    async def update_issue_comment(
        request: Request, owner: str, repo: str, comment_id: int
    ) -> Response:
        _, found = covered_repo(
            request, owner, repo, need=("issues", "pull_requests"), level="write"
        )
        body = await json_body(request)
        validate_body(ReposOwnerRepoIssuesCommentsCommentIdPatchBody, body, "IssueComment")
        check_comment_length(body)
        with state.lock:
            comment = issue_comment_or_404(found, comment_id)
            if comment.user.id != state.bot.id:
                raise GitHubError(403, NOT_ACCESSIBLE)
            comment.body = body["body"]
            comment.updated_at = utcnow()
            data = render.issue_comment(state, comment, api_base(request))
        return json_response(request, data)

    @app.post("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
    async def create_reaction(request: Request, owner: str, repo: str, comment_id: int) -> Response:
        _, found = covered_repo(
            request, owner, repo, need=("issues", "pull_requests"), level="write"
        )
        body = await json_body(request)
        validate_body(ReposOwnerRepoIssuesCommentsCommentIdReactionsPostBody, body, "Reaction")
        with state.lock:
            comment = issue_comment_or_404(found, comment_id)
            existing = next(
                (
                    r
                    for r in comment.reactions
                    if r.user.id == state.bot.id and r.content == body["content"]
                ),
                None,
            )
            if existing is not None:
                return json_response(request, render.reaction(existing, api_base(request)), 200)
            reaction = Reaction(state.next_id(), state.bot, body["content"])
            comment.reactions.append(reaction)
            data = render.reaction(reaction, api_base(request))
        return json_response(request, data, 201)

    @app.get("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
    async def list_reactions(request: Request, owner: str, repo: str, comment_id: int) -> Response:
        _, found = covered_repo(request, owner, repo, need=("issues", "pull_requests"))
        api = api_base(request)
        with state.lock:
            comment = issue_comment_or_404(found, comment_id)
            content = request.query_params.get("content")
            items = [
                render.reaction(r, api) for r in comment.reactions if content in (None, r.content)
            ]
        page, headers = paginate(request, items)
        return json_response(request, page, headers=headers)

    @app.get("/repos/{owner}/{repo}/collaborators/{username}/permission")
    async def get_permission(request: Request, owner: str, repo: str, username: str) -> Response:
        _, found = covered_repo(request, owner, repo)
        with state.lock:
            account = state.accounts.get(username.lower())
            if account is None:
                raise not_found()
            role = state.permission_of(found, username)
            data = render.collaborator_permission(state, found, account, role, api_base(request))
        return json_response(request, data)

    # --- GraphQL -----------------------------------------------------------------------------------

    @app.post("/graphql")
    async def graphql(request: Request) -> Response:
        installation = require_installation(request)
        body = await json_body(request)
        query = body.get("query") if isinstance(body, dict) else None
        if not isinstance(query, str):
            return json_response(
                request,
                {
                    "errors": [
                        {"message": "A query attribute must be specified and must be a string."}
                    ]
                },
            )
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            return json_response(request, {"errors": [{"message": "Variables are invalid JSON."}]})
        writer = installation.grants("issues", "write") or installation.grants(
            "pull_requests", "write"
        )
        if is_mutation(query) and not writer:
            forbidden = {"type": "FORBIDDEN", "message": NOT_ACCESSIBLE}
            return json_response(request, {"data": None, "errors": [forbidden]})
        with state.lock:
            data = execute_graphql(state, installation, query, variables)
        return json_response(request, data)

    return app


def _touches(state: FakeGitHubState, commit: Any, path: str) -> bool:
    """Whether ``commit`` changed ``path`` (or a file below it) against its first parent."""
    parent = state.commits[commit.parents[0]].files if commit.parents else {}
    prefix = path.rstrip("/") + "/"
    paths = {p for p in (*commit.files, *parent) if p == path or p.startswith(prefix)}
    return any(commit.files.get(p) != parent.get(p) for p in paths)


def _suite_id(repo_id: int, head_sha: str) -> int:
    """A stable check suite id per (repository, head sha)."""
    return int(hashlib.sha1(f"{repo_id}:{head_sha}".encode()).hexdigest()[:8], 16)
