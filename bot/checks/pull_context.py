"""One pull request at one head, read in as few requests as possible.

:func:`load_pull_context` reads the PR (from the webhook payload when it describes the
requested head, else the API), the merge base (``compare`` in the BASE repository: a fork's
PR is never compared with the fork's own branches), the changed files (the PR files API,
paginated, at most 3,000), then in ONE GraphQL batch the policy files of the base branch
and of the organisation's ``.github`` plus the blob ids of the base files, and in a second
batch the text of every blob the cache does not know. Head blob ids come from the files
API, so a cached head blob is never read, and blobs are read by id, so what is analysed is
exactly what the cache key names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from githubkit.exception import RequestFailed

from analyzers.change import ChangedFile, FileStatus, is_python
from analyzers.policy_loader import LoadedPolicy, PolicyError
from bot.checks import policy_source
from bot.checks.blob_cache import BlobCache
from bot.github import api as github
from bot.github.api import InstallationClient
from bot.github.blobs import BlobInfo, ObjectWant, contents, expression, fetch_objects
from bot.work import CheckRequest, JobContext

MAX_PULL_FILES = 3000  # what GitHub's PR files API lists at most
_STATUSES: dict[str, FileStatus] = {
    "added": "added",
    "copied": "added",
    "modified": "modified",
    "changed": "modified",
    "unchanged": "modified",
    "removed": "removed",
    "renamed": "renamed",
}


class BlobContents(Mapping[str, bytes]):
    """path -> content of the changed Python files of one side of a pull request.

    Blobs whose findings came from the cache were not read from GitHub; the first access
    to one of them reads all of them in one GraphQL batch. :attr:`fetched` is what is in
    memory now (no request).
    """

    def __init__(
        self,
        fetched: dict[str, bytes],
        pending: dict[str, ObjectWant],
        read: Callable[[list[ObjectWant]], dict[Hashable, bytes]],
    ) -> None:
        self.fetched = fetched
        self._pending = pending
        self._read = read

    def __getitem__(self, path: str) -> bytes:
        if path not in self.fetched and path in self._pending:
            self.load(list(self._pending))
        return self.fetched[path]

    def load(self, paths: list[str]) -> None:
        """Read the pending blobs of ``paths`` now, in one batch."""
        wants = {p: self._pending.pop(p) for p in paths if p in self._pending}
        if not wants:
            return
        loaded = self._read(list(wants.values()))
        for path, want in wants.items():
            if want.key in loaded:
                self.fetched[path] = loaded[want.key]

    def __iter__(self) -> Iterator[str]:
        yield from self.fetched
        yield from (p for p in self._pending if p not in self.fetched)

    def __len__(self) -> int:
        return len(self.fetched) + sum(1 for p in self._pending if p not in self.fetched)


@dataclass
class PullContext:
    """Everything about one PR at one head, fetched in as few calls as possible.

    ``base_sha`` is the merge base of the base branch and the head (what the diff and the
    baseline start from); ``base_tip`` the base branch's commit the policy was read at.
    ``base_content`` is keyed by base path, ``head_content`` by head path (both lazy, see
    :class:`BlobContents`). ``stale``: the request named a head that is no longer the PR's
    (nothing else was read then).
    """

    gh: InstallationClient
    owner: str
    repo: str
    number: int
    head_sha: str
    head_ref: str
    head_repo: str  # "owner/name"; differs from owner/repo for a fork ("" if it was deleted)
    base_sha: str
    policy: LoadedPolicy | None
    policy_error: PolicyError | None
    files: list[ChangedFile]
    base_content: Mapping[str, bytes]
    head_content: Mapping[str, bytes]
    installation_id: int = 0
    base_ref: str = ""
    base_tip: str = ""
    current_head: str = ""
    changed_files: int = 0  # as GitHub counts them (more than len(files) past 3,000)
    default_branch: str = ""
    cache: BlobCache | None = field(default=None, repr=False)
    oversized: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def stale(self) -> bool:
        return bool(self.current_head) and self.current_head != self.head_sha

    @property
    def is_fork(self) -> bool:
        return self.head_repo.lower() != self.repository.lower()


def load_pull_context(request: CheckRequest, context: JobContext) -> PullContext | None:
    """Read one PR at one head (see the module docstring); None: not found or closed."""
    gh = github.installation_client(
        context.settings, request.installation_id, engine=context.engine
    )
    owner, repo = request.repository.split("/", 1)
    number = request.pull_number
    if number is None:
        number = find_pull_number(gh, request)
        if number is None:
            return None
    pull = _pull_from_event(request) or github.get_optional(
        gh, f"/repos/{owner}/{repo}/pulls/{number}"
    )
    if pull is None or pull.get("state") != "open":
        return None
    current = str(pull["head"]["sha"])
    head = request.head_sha or current
    head_repo = str(((pull["head"].get("repo") or {}).get("full_name")) or "")
    pull_context = PullContext(
        gh=gh,
        owner=owner,
        repo=repo,
        number=number,
        head_sha=head,
        head_ref=str(pull["head"]["ref"]),
        head_repo=head_repo,
        base_sha="",
        policy=None,
        policy_error=None,
        files=[],
        base_content={},
        head_content={},
        installation_id=request.installation_id,
        base_ref=str(pull["base"]["ref"]),
        current_head=current,
        changed_files=int(pull.get("changed_files") or 0),
        default_branch=str(((pull["base"].get("repo") or {}).get("default_branch")) or ""),
    )
    if pull_context.stale:
        return pull_context
    comparison = _compare(gh, pull_context)
    if comparison is None:
        return None
    pull_context.base_tip = str(comparison["base_commit"]["sha"])
    pull_context.base_sha = str(comparison["merge_base_commit"]["sha"])
    files = _changed_files(gh, pull_context)
    if files is None:
        return None
    pull_context.files = files
    _load_policy_and_blobs(pull_context, context)
    return pull_context


def _pull_from_event(request: CheckRequest) -> dict[str, Any] | None:
    """The webhook's own copy of the PR when it describes the requested head."""
    if request.event is None or request.head_sha is None:
        return None
    pull = request.event.payload.get("pull_request")
    if not isinstance(pull, dict) or pull.get("number") != request.pull_number:
        return None
    if (pull.get("head") or {}).get("sha") != request.head_sha or "base" not in pull:
        return None
    return pull


def find_pull_number(gh: InstallationClient, request: CheckRequest) -> int | None:
    """The open PR whose head is ``request.head_sha`` (a fork's check run names none)."""
    if request.head_sha is None:
        return None
    owner, repo = request.repository.split("/", 1)
    for pull in github.get_pages(gh, f"/repos/{owner}/{repo}/pulls", {"state": "open"}):
        if (pull.get("head") or {}).get("sha") == request.head_sha:
            return int(pull["number"])
    return None


def _compare(gh: InstallationClient, pull: PullContext) -> dict[str, Any] | None:
    """``compare/{base branch}...{head}`` in the BASE repository (a fork's head as
    ``owner:sha``): the merge base and the base branch's commit."""
    head = pull.head_sha
    if pull.is_fork and pull.head_repo:
        head = f"{pull.head_repo.split('/')[0]}:{head}"
    spec = f"{quote(pull.base_ref, safe='/')}...{quote(head, safe=':')}"
    url = f"/repos/{pull.owner}/{pull.repo}/compare/{spec}"
    found = github.get_optional(gh, url, {"per_page": 1})
    return found if isinstance(found, dict) else None


def _changed_files(gh: InstallationClient, pull: PullContext) -> list[ChangedFile] | None:
    """The PR files API's list (at most 3,000); None when the PR is gone (404)."""
    url = f"/repos/{pull.owner}/{pull.repo}/pulls/{pull.number}/files"
    try:
        items = github.get_pages(gh, url, max_items=MAX_PULL_FILES)
    except RequestFailed as exc:
        if exc.response.status_code == 404:
            return None
        raise
    files: list[ChangedFile] = []
    for item in items:
        status = _STATUSES.get(str(item.get("status")), "modified")
        previous = item.get("previous_filename") if status == "renamed" else None
        files.append(
            ChangedFile(
                path=str(item["filename"]),
                status=status,
                previous_path=previous,
                patch=item.get("patch"),
                head_sha=None if status == "removed" else item.get("sha"),
            )
        )
    return files


def _load_policy_and_blobs(pull: PullContext, context: JobContext) -> None:
    """Policy and base blob ids in one GraphQL batch, then the blobs the cache lacks."""
    gh, owner, repo = pull.gh, pull.owner, pull.repo
    python = [f for f in pull.files if is_python(f.path) or is_python(f.previous_path)]
    wants = policy_source.wants(owner, repo, pull.base_tip)
    wants += [
        ObjectWant(
            ("base", f.base_path), owner, repo, expression(pull.base_sha, f.base_path), False
        )
        for f in python
        if f.base_path is not None
    ]
    found = fetch_objects(gh, wants)
    lookup = policy_source.resolve(
        gh,
        owner,
        repo,
        pull.base_tip,
        found,
        settings=context.settings,
    )
    pull.policy, pull.policy_error = lookup.policy, lookup.error
    if pull.policy is None:
        return
    policy = pull.policy.policy
    files: list[ChangedFile] = []
    base_info: dict[str, BlobInfo] = {}
    for f in python:
        if policy.excluded.match(f.path):
            continue
        info = found.get(("base", f.base_path)) if f.base_path is not None else None
        if info is not None and f.base_path is not None:
            base_info[f.base_path] = info
        files.append(dataclasses.replace(f, base_sha=None if info is None else info.oid))
    pull.files = files
    cache = BlobCache(context.engine, policy, pull.installation_id)
    pull.cache = cache
    cache.load(
        [(info.oid, path) for path, info in base_info.items()]
        + [(f.head_sha, f.path) for f in files if f.head_sha]
    )
    base_wants: dict[str, ObjectWant] = {}
    base_pending: dict[str, ObjectWant] = {}
    oversized_base: dict[str, bytes] = {}
    for path, info in base_info.items():
        want = ObjectWant(("base", path), owner, repo, oid=info.oid)
        if info.size > policy.max_file_size:
            pull.oversized[(info.oid, path)] = info.size
            oversized_base[path] = b""  # not read: the engine needs only its size
        elif cache.get(info.oid, path) is None:
            base_wants[path] = want
        else:
            base_pending[path] = want
    head_wants: dict[str, ObjectWant] = {}
    head_pending: dict[str, ObjectWant] = {}
    for f in files:
        if f.head_sha is None:
            continue
        # By blob id: the files API names the head's blobs, and the cache is keyed by them.
        want = ObjectWant(("head", f.path), owner, repo, oid=f.head_sha)
        if cache.get(f.head_sha, f.path) is None:
            head_wants[f.path] = want
        else:
            head_pending[f.path] = want
    fetched = _read_blobs(pull, [*base_wants.values(), *head_wants.values()], policy.max_file_size)

    def read(items: list[ObjectWant]) -> dict[Hashable, bytes]:
        return _read_blobs(pull, items, None)

    pull.base_content = BlobContents(
        {
            **oversized_base,
            **{p: fetched[w.key] for p, w in base_wants.items() if w.key in fetched},
        },
        base_pending,
        read,
    )
    pull.head_content = BlobContents(
        {p: fetched[w.key] for p, w in head_wants.items() if w.key in fetched}, head_pending, read
    )


def _read_blobs(
    pull: PullContext, wants: list[ObjectWant], max_size: int | None
) -> dict[Hashable, bytes]:
    """Contents of ``wants``; blobs over ``max_size`` are recorded, not read."""
    if not wants:
        return {}
    infos = fetch_objects(pull.gh, wants)
    out: dict[Hashable, bytes] = {}
    for want in wants:
        info = infos.get(want.key)
        if info is None:
            continue
        path = str(want.key[1]) if isinstance(want.key, tuple) else ""
        if max_size is not None and info.size > max_size:
            pull.oversized[(info.oid, path)] = info.size
            out[want.key] = b""
            continue
        out[want.key] = contents(pull.gh, pull.owner, pull.repo, info)
    return out
