"""In-memory state of the fake GitHub, and helpers to build scenarios in a few lines.

Everything a test needs to arrange (an App installed on an organisation, a repository with
files, a branch with commits, a pull request from a fork, collaborator permissions) and to
assert on afterwards (check runs with their accumulated annotations, reviews and comments,
reactions, minimised comments, the log of API calls) lives here as plain dataclasses.

The server mutates this object from its own thread; hold ``state.lock`` when reading
collections that the server may be changing at the same moment (the helpers do).

Example::

    keys = make_app_keypair()
    state = FakeGitHubState.for_app(keys)
    installation = state.create_installation("acme")
    repo = state.create_repo("acme", "monorepo", files={"app/ws.py": "import x\\n"})
    state.commit(repo, "feature", {"app/ws.py": "import y\\n", "old.py": None}, "Use y")
    pr = state.open_pull_request(repo, "feature", "main", user="alice")
"""

from __future__ import annotations

import fnmatch
import functools
import itertools
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml  # type: ignore[import-untyped]  # no stubs installed (types-PyYAML)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .gitdiff import FileChange, blob_sha, commit_sha, diff_trees, tree_shas

Permission = Literal["admin", "maintain", "write", "triage", "read", "none"]
PERMISSIONS: tuple[Permission, ...] = ("admin", "maintain", "write", "triage", "read", "none")
AccountType = Literal["User", "Organization", "Bot"]
ReactionContent = Literal["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]
CallKind = Literal["REST", "GraphQL"]
FileContent = str | bytes | None

# Commits get deterministic times (one minute apart from this instant), so their shas are
# reproducible from one run to the next; API objects use the wall clock.
COMMIT_EPOCH = int(datetime(2025, 1, 6, 9, 0, tzinfo=UTC).timestamp())

# App ids are unique per process: githubkit caches JWTs and installation tokens in a
# process-wide memory cache keyed by app id, so two keypairs must never share an id.
_app_ids = itertools.count(900_001)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


MANIFEST = "app.yml"


@functools.cache
def manifest() -> dict[str, Any]:
    """The App's manifest: ``app.yml`` of the working directory (an operator's own), else the
    one the App bundles (``bot/web/app.yml``, beside this package: read as a file, the fake
    imports nothing of the App).

    A new installation grants what it asks for (``default_permissions``) and subscribes to
    its ``default_events``, as GitHub does when someone installs the App: a permission the
    App forgot to ask for fails its tests with GitHub's 403, not a user's first try.
    """
    bundled = Path(__file__).resolve().parents[1] / "bot" / "web" / MANIFEST
    for candidate in (Path.cwd() / MANIFEST, bundled):
        if candidate.is_file():
            data = yaml.safe_load(candidate.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
    raise StateError(
        f"no {MANIFEST} in {Path.cwd()} nor in bot/web/: pass the installation's "
        "permissions to create_installation()"
    )


def manifest_permissions() -> dict[str, str]:
    """``default_permissions`` of the App's manifest."""
    return {str(k): str(v) for k, v in (manifest().get("default_permissions") or {}).items()}


def manifest_events() -> list[str]:
    """``default_events`` of the App's manifest."""
    return sorted(str(e) for e in manifest().get("default_events") or [])


@dataclass(frozen=True)
class AppKeyPair:
    """A GitHub App's id and RSA key pair: the private key for the client, public for the fake."""

    app_id: int
    private_key_pem: str
    public_key_pem: str


def make_app_keypair() -> AppKeyPair:
    """A fresh 2048-bit RSA key pair and a new App id (unique in this process)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return AppKeyPair(next(_app_ids), private_pem, public_pem)


@dataclass
class Account:
    """A user, an organisation or a bot."""

    id: int
    login: str
    type: AccountType

    @property
    def node_id(self) -> str:
        prefix = {"User": "U", "Organization": "O", "Bot": "BOT"}[self.type]
        return f"{prefix}_kgDO{self.id:08d}"


@dataclass
class Installation:
    """The App installed on an account, for all its repositories or selected ones."""

    id: int
    account: Account
    repository_selection: Literal["all", "selected"] = "all"
    repository_ids: set[int] = field(default_factory=set)
    created_at: datetime = field(default_factory=utcnow)
    permissions: dict[str, str] = field(default_factory=manifest_permissions)
    events: list[str] = field(default_factory=manifest_events)

    def covers(self, repo: Repository) -> bool:
        if self.repository_selection == "all":
            return repo.owner.id == self.account.id
        return repo.id in self.repository_ids

    def grants(self, scope: str, level: Literal["read", "write"]) -> bool:
        """Whether the installation may ``level`` (read or write) ``scope`` (e.g. contents)."""
        granted = self.permissions.get(scope)
        return granted == "write" or (level == "read" and granted == "read")


@dataclass
class InstallationToken:
    token: str
    installation_id: int
    expires_at: datetime


@dataclass
class UserToken:
    """A user access token of the App's OAuth client ("Sign in with GitHub")."""

    token: str
    login: str
    expires_at: datetime
    refresh_token: str


@dataclass
class OAuthCode:
    """A code of the web flow: ``login`` authorised the App; valid 10 minutes, once."""

    code: str
    login: str
    redirect_uri: str | None
    expires_at: datetime


@dataclass
class Repository:
    id: int
    owner: Account
    name: str
    default_branch: str = "main"
    private: bool = False
    parent_id: int | None = None  # set on a fork
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit sha
    created_at: datetime = field(default_factory=utcnow)
    permissions: dict[str, Permission] = field(default_factory=dict)  # login -> permission
    # Branch name or fnmatch pattern -> the status the App's ref writes there get (403, 422).
    push_denied: dict[str, int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # lower-case name -> name
    # Branches GitHub reports as protected (GET .../branches/{b}: "protected": true). Pushes
    # are refused only through push_denied: an App can be granted a bypass of the rules.
    protected_branches: set[str] = field(default_factory=set)

    def denied(self, branch: str) -> int | None:
        """The status a write of the App to ``branch`` gets, or None when it may write."""
        if branch in self.push_denied:
            return self.push_denied[branch]
        return next(
            (
                status
                for pattern, status in self.push_denied.items()
                if fnmatch.fnmatchcase(branch, pattern)
            ),
            None,
        )

    has_issues: bool = True  # False: the issues API answers 410 "Issues are disabled"

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    @property
    def fork(self) -> bool:
        return self.parent_id is not None

    @property
    def node_id(self) -> str:
        return f"R_kgDO{self.id:08d}"


@dataclass(frozen=True)
class Commit:
    sha: str
    tree_sha: str
    files: Mapping[str, str]  # path -> blob sha (treat as read-only)
    parents: tuple[str, ...]
    message: str
    author: str
    email: str
    timestamp: int

    @property
    def date(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)


@dataclass
class PullRequest:
    id: int
    number: int
    repo_id: int
    base_ref: str
    base_sha: str
    head_repo_id: int
    head_ref: str
    head_sha: str
    user: Account
    title: str
    body: str | None = None
    state: Literal["open", "closed"] = "open"
    draft: bool = False
    merged: bool = False
    maintainer_can_modify: bool = True
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    closed_at: datetime | None = None
    labels: list[str] = field(default_factory=list)
    requested_reviewers: list[str] = field(default_factory=list)  # logins
    requested_teams: list[str] = field(default_factory=list)  # team slugs
    closed_by: str | None = None  # who closed or merged it

    @property
    def node_id(self) -> str:
        return f"PR_kwDO{self.id:08d}"


@dataclass
class Issue:
    """An issue (pull requests share the numbering, and live in ``pulls``)."""

    id: int
    number: int
    repo_id: int
    title: str
    user: Account
    body: str | None = None
    state: Literal["open", "closed"] = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    closed_at: datetime | None = None
    closed_by: Account | None = None
    edits: int = 0  # PATCHes received

    @property
    def node_id(self) -> str:
        return f"I_kwDO{self.id:08d}"


@dataclass
class CheckRunOutput:
    title: str | None = None
    summary: str | None = None
    text: str | None = None


@dataclass
class CheckRun:
    id: int
    repo_id: int
    name: str
    head_sha: str
    app_id: int
    check_suite_id: int
    external_id: str | None = None
    details_url: str | None = None
    status: str = "queued"
    conclusion: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    output: CheckRunOutput = field(default_factory=CheckRunOutput)
    annotations: list[dict[str, Any]] = field(default_factory=list)  # accumulated over PATCHes
    images: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime = field(default_factory=utcnow)
    updates: int = 0  # PATCHes received

    @property
    def node_id(self) -> str:
        return f"CR_kwDO{self.id:08d}"


@dataclass
class Reaction:
    id: int
    user: Account
    content: ReactionContent
    created_at: datetime = field(default_factory=utcnow)

    @property
    def node_id(self) -> str:
        return f"REA_lADO{self.id:08d}"


@dataclass
class IssueComment:
    id: int
    repo_id: int
    issue_number: int
    body: str
    user: Account
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    minimized: bool = False
    minimized_reason: str | None = None  # GraphQL classifier, e.g. "OUTDATED"
    reactions: list[Reaction] = field(default_factory=list)

    @property
    def node_id(self) -> str:
        return f"IC_kwDO{self.id:08d}"


@dataclass
class ReviewComment:
    id: int
    repo_id: int
    pr_number: int
    review_id: int
    path: str
    line: int
    side: Literal["LEFT", "RIGHT"]
    body: str
    commit_id: str
    user: Account
    diff_hunk: str
    position: int
    start_line: int | None = None
    start_side: Literal["LEFT", "RIGHT"] | None = None
    in_reply_to_id: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    minimized: bool = False
    minimized_reason: str | None = None
    reactions: list[Reaction] = field(default_factory=list)

    @property
    def node_id(self) -> str:
        return f"PRRC_kwDO{self.id:08d}"


@dataclass
class Review:
    id: int
    repo_id: int
    pr_number: int
    user: Account
    body: str
    state: str  # COMMENTED, APPROVED, CHANGES_REQUESTED, PENDING
    commit_id: str
    comment_ids: list[int] = field(default_factory=list)
    submitted_at: datetime = field(default_factory=utcnow)

    @property
    def node_id(self) -> str:
        return f"PRR_kwDO{self.id:08d}"


@dataclass
class HookDelivery:
    """A webhook delivery as ``GET /app/hook/deliveries`` lists it."""

    id: int
    guid: str
    event: str
    action: str | None
    status_code: int
    installation_id: int | None = None
    repository_id: int | None = None
    redelivery: bool = False
    delivered_at: datetime = field(default_factory=utcnow)
    duration: float = 0.05
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "OK" if 200 <= self.status_code < 300 else "Invalid HTTP Response"


@dataclass(frozen=True)
class ApiCall:
    """One request the fake answered (faults and errors included)."""

    method: str
    path: str
    status: int
    started_at: float  # time.time()
    duration: float
    kind: CallKind
    installation_id: int | None
    content_creating: bool
    fault: str | None = None  # "latency", "500", "429", "secondary", "burst"... when injected


class StateError(ValueError):
    """A scenario helper was called with something that does not exist."""


RepoRef = Repository | str
PullRef = PullRequest | int


class FakeGitHubState:
    """Everything the fake GitHub knows. Build scenarios with the helper methods."""

    def __init__(
        self,
        app_id: int,
        app_public_key_pem: str,
        *,
        app_slug: str = "ssot-guard",
        app_name: str = "SSOT guard",
        token_ttl: timedelta = timedelta(hours=1),
        user_token_ttl: timedelta = timedelta(hours=8),
        graphql_blob_text_limit: int = 512 * 1024,
        contents_size_limit: int = 1024 * 1024,
        max_pull_files: int = 3000,
        max_compare_files: int = 300,
        patch_size_limit: int = 1_000_000,
        rename_similarity: float | None = 0.5,
    ) -> None:
        self.lock = threading.RLock()
        self.app_id = app_id
        self.app_public_key_pem = app_public_key_pem
        self.app_slug = app_slug
        self.app_name = app_name
        self.app_created_at = utcnow()
        self.token_ttl = token_ttl
        self.user_token_ttl = user_token_ttl
        # The App's OAuth client (what the manifest conversion returns as client_id/secret).
        self.client_id = f"Iv23li{app_id:014d}"
        self.client_secret = secrets.token_hex(20)
        # The App's callback URLs: a redirect_uri must start with one of them (empty: any).
        self.callback_urls: list[str] = []
        self.oauth_codes: dict[str, OAuthCode] = {}
        self.user_tokens: dict[str, UserToken] = {}
        self.graphql_blob_text_limit = graphql_blob_text_limit
        self.contents_size_limit = contents_size_limit
        self.max_pull_files = max_pull_files
        self.max_compare_files = max_compare_files
        self.patch_size_limit = patch_size_limit
        self.rename_similarity = rename_similarity

        self._ids = itertools.count(1001)
        self._commit_clock = itertools.count()
        self.accounts: dict[str, Account] = {}  # lower-case login -> account
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, InstallationToken] = {}
        self.repos: dict[int, Repository] = {}
        self._issue_numbers: dict[int, itertools.count[int]] = {}
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, dict[str, str]] = {}  # root tree sha -> path -> blob sha
        self.subtrees: dict[str, tuple[str, str]] = {}  # tree sha -> (root tree sha, "dir/")
        self.commits: dict[str, Commit] = {}
        self.pulls: dict[tuple[int, int], PullRequest] = {}
        self.issues: dict[tuple[int, int], Issue] = {}
        self.teams: dict[tuple[str, str], set[str]] = {}  # (org, slug) -> member logins
        self.deleted_issues: set[tuple[int, int]] = set()  # GitHub answers 410 for these
        self.check_runs: dict[int, CheckRun] = {}
        self.reviews: dict[int, Review] = {}
        self.review_comments: dict[int, ReviewComment] = {}
        self.issue_comments: dict[int, IssueComment] = {}
        self.deliveries: list[HookDelivery] = []
        self.redelivery_requests: list[int] = []  # delivery ids the App asked to redeliver
        #: Called (in the server's thread) when the App asks for a redelivery; returns the
        #: status code the webhook endpoint answered. None: redeliveries "succeed" with 200.
        self.redeliver: Callable[[HookDelivery], int] | None = None
        self.calls: deque[ApiCall] = deque(maxlen=1_000_000)
        self._diff_cache: dict[tuple[str, str], list[FileChange]] = {}
        self.app_owner = Account(next(self._ids), f"{app_slug}-developers", "Organization")
        self.bot = Account(next(self._ids), f"{app_slug}[bot]", "Bot")
        self.accounts[self.bot.login.lower()] = self.bot

    @classmethod
    def for_app(cls, keys: AppKeyPair, **options: Any) -> FakeGitHubState:
        """A state whose App is ``keys`` (options as for the constructor)."""
        return cls(keys.app_id, keys.public_key_pem, **options)

    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)

    # --- accounts, installations, tokens -------------------------------------------------

    def user(self, login: str, type: AccountType = "User") -> Account:
        """The account ``login``, created on first use."""
        with self.lock:
            account = self.accounts.get(login.lower())
            if account is None:
                account = Account(next(self._ids), login, type)
                self.accounts[login.lower()] = account
            return account

    def create_installation(
        self,
        account: str,
        *,
        account_type: AccountType = "Organization",
        repositories: Iterable[RepoRef] | None = None,
        permissions: Mapping[str, str] | None = None,
    ) -> Installation:
        """Install the App on ``account``: all its repositories, or only ``repositories``.

        ``permissions``: what the installation grants (default: what app.yml asks for).
        """
        with self.lock:
            owner = self.user(account, account_type)
            installation = Installation(next(self._ids), owner)
            if permissions is not None:
                installation.permissions = dict(permissions)
            if repositories is not None:
                installation.repository_selection = "selected"
                installation.repository_ids = {self.repo(r).id for r in repositories}
            self.installations[installation.id] = installation
            return installation

    def installation_for(self, repo: RepoRef) -> Installation | None:
        """The installation that gives the App access to ``repo``, if any."""
        with self.lock:
            target = self.repo(repo)
            for installation in self.installations.values():
                if installation.covers(target):
                    return installation
            return None

    def issue_token(self, installation_id: int) -> InstallationToken:
        with self.lock:
            token = InstallationToken(
                "ghs_" + secrets.token_urlsafe(27)[:36],
                installation_id,
                utcnow() + self.token_ttl,
            )
            self.tokens[token.token] = token
            return token

    def token_installation(self, token: str) -> Installation | None:
        """The installation an unexpired token belongs to."""
        with self.lock:
            entry = self.tokens.get(token)
            if entry is None or entry.expires_at <= utcnow():
                return None
            return self.installations.get(entry.installation_id)

    def expire_tokens(self) -> None:
        """Expire every installation token (the next call with one answers 401)."""
        with self.lock:
            past = utcnow() - timedelta(seconds=1)
            for token in self.tokens.values():
                token.expires_at = past

    # --- people signed in with the App's OAuth client -------------------------------------

    def authorize_user(self, login: str, redirect_uri: str | None = None) -> str:
        """``login`` authorises the App (the authorize page's button): a code for the App."""
        with self.lock:
            self.user(login)
            code = secrets.token_hex(10)
            self.oauth_codes[code] = OAuthCode(
                code, login, redirect_uri, utcnow() + timedelta(minutes=10)
            )
            return code

    def take_code(self, code: str) -> OAuthCode | None:
        """The unexpired code ``code``, used up (a code works once)."""
        with self.lock:
            found = self.oauth_codes.pop(code, None)
            if found is None or found.expires_at <= utcnow():
                return None
            return found

    def issue_user_token(self, login: str) -> UserToken:
        with self.lock:
            token = UserToken(
                "ghu_" + secrets.token_urlsafe(27)[:36],
                login,
                utcnow() + self.user_token_ttl,
                "ghr_" + secrets.token_urlsafe(54)[:76],
            )
            self.user_tokens[token.token] = token
            return token

    def token_user(self, token: str) -> Account | None:
        """The person an unexpired user access token belongs to."""
        with self.lock:
            entry = self.user_tokens.get(token)
            if entry is None or entry.expires_at <= utcnow():
                return None
            return self.accounts.get(entry.login.lower())

    def expire_user_tokens(self) -> None:
        """Expire every user access token (the next call with one answers 401)."""
        with self.lock:
            past = utcnow() - timedelta(seconds=1)
            for token in self.user_tokens.values():
                token.expires_at = past

    def can_read(self, login: str, repo: RepoRef) -> bool:
        """Whether ``login`` has explicit access to ``repo`` (a role, or owning it), as the
        ``/user/installations`` endpoints count it: a public repository alone is not enough."""
        with self.lock:
            target = self.repo(repo)
            role = target.permissions.get(login.lower())
            if role is not None:
                return role != "none"
            return target.owner.login.lower() == login.lower()

    def user_repositories(self, login: str, installation: Installation) -> list[Repository]:
        """The repositories of ``installation`` that ``login`` can read, by id."""
        with self.lock:
            return [
                repo
                for repo in sorted(self.repos.values(), key=lambda r: r.id)
                if installation.covers(repo) and self.can_read(login, repo)
            ]

    def user_installations(self, login: str) -> list[Installation]:
        """The App's installations in which ``login`` can read at least one repository."""
        with self.lock:
            return [
                installation
                for installation in self.installations.values()
                if self.user_repositories(login, installation)
            ]

    # --- repositories and git objects ------------------------------------------------------

    def repo(self, ref: RepoRef) -> Repository:
        """A repository by object or "owner/name" (case-insensitive)."""
        if isinstance(ref, Repository):
            return ref
        found = self.find_repo(*ref.split("/", 1)) if "/" in ref else None
        if found is None:
            raise StateError(f"no repository {ref!r}")
        return found

    def find_repo(self, owner: str, name: str) -> Repository | None:
        with self.lock:
            wanted = f"{owner}/{name}".lower()
            for repo in self.repos.values():
                if repo.full_name.lower() == wanted:
                    return repo
            return None

    def create_repo(
        self,
        owner: str,
        name: str,
        *,
        files: Mapping[str, FileContent] | None = None,
        default_branch: str = "main",
        private: bool = False,
        message: str = "Initial commit",
        author: str = "alice",
        owner_type: AccountType = "Organization",
    ) -> Repository:
        """A repository with one commit on ``default_branch`` holding ``files``.

        ``files`` defaults to a README. An installation of the App on ``owner`` covers it
        (``owner`` is created as an organisation unless it exists or ``owner_type`` says).
        """
        with self.lock:
            account = self.user(owner, owner_type)
            if self.find_repo(owner, name) is not None:
                raise StateError(f"repository {owner}/{name} exists")
            repo = Repository(next(self._ids), account, name, default_branch, private)
            self.repos[repo.id] = repo
            self._issue_numbers[repo.id] = itertools.count(1)
            initial = files if files is not None else {"README.md": f"# {name}\n"}
            repo.branches[default_branch] = self.make_commit(
                initial, message=message, author=author
            )
            return repo

    def fork_repo(self, source: RepoRef, owner: str, name: str | None = None) -> Repository:
        """A fork of ``source`` owned by user ``owner``, with the same branches."""
        with self.lock:
            parent = self.repo(source)
            account = self.user(owner)
            fork = Repository(
                next(self._ids),
                account,
                name or parent.name,
                parent.default_branch,
                parent.private,
                parent_id=parent.id,
                branches=dict(parent.branches),
            )
            self.repos[fork.id] = fork
            self._issue_numbers[fork.id] = itertools.count(1)
            return fork

    def store_blob(self, content: FileContent) -> str:
        data = content.encode("utf-8") if isinstance(content, str) else (content or b"")
        sha = blob_sha(data)
        with self.lock:
            self.blobs[sha] = data
        return sha

    def store_tree(self, files: Mapping[str, str]) -> str:
        """Store a flat tree (path -> blob sha) and its subtrees; return the root tree sha."""
        shas = tree_shas(files)
        root = shas[""]
        with self.lock:
            if root not in self.trees:
                self.trees[root] = dict(files)
                for directory, sha in shas.items():
                    if directory:
                        self.subtrees.setdefault(sha, (root, directory))
        return root

    def tree_files(self, tree_sha: str) -> dict[str, str] | None:
        """path -> blob sha of a stored tree (root or subtree), or None."""
        with self.lock:
            if tree_sha in self.trees:
                return self.trees[tree_sha]
            located = self.subtrees.get(tree_sha)
            if located is None:
                return None
            root, prefix = located
            return {
                path[len(prefix) :]: sha
                for path, sha in self.trees[root].items()
                if path.startswith(prefix)
            }

    def make_commit(
        self,
        files: Mapping[str, FileContent],
        *,
        parent: str | None = None,
        parents: tuple[str, ...] | None = None,
        message: str = "Update",
        author: str = "alice",
        replace: bool = False,
    ) -> str:
        """Store a commit without moving any branch; return its sha.

        The tree is the first parent's with ``files`` applied (None deletes a path), or
        exactly ``files`` when ``replace`` is set.
        """
        with self.lock:
            all_parents = parents if parents is not None else ((parent,) if parent else ())
            tree: dict[str, str] = {}
            if all_parents and not replace:
                tree = dict(self.get_commit(all_parents[0]).files)
            for path, content in files.items():
                if content is None:
                    tree.pop(path, None)
                else:
                    tree[path] = self.store_blob(content)
            return self.commit_tree(tree, all_parents, message, author)

    def commit_tree(
        self,
        tree: Mapping[str, str],
        parents: tuple[str, ...],
        message: str,
        author: str = "alice",
        timestamp: int | None = None,
    ) -> str:
        """Store a commit of a flat tree (path -> blob sha, blobs already stored)."""
        with self.lock:
            tree_sha = self.store_tree(tree)
            when = (
                timestamp if timestamp is not None else COMMIT_EPOCH + 60 * next(self._commit_clock)
            )
            email = f"{author}@users.noreply.github.com"
            sha = commit_sha(tree_sha, parents, message, author, email, when)
            self.commits[sha] = Commit(
                sha, tree_sha, self.trees[tree_sha], parents, message, author, email, when
            )
            return sha

    def get_commit(self, sha: str) -> Commit:
        with self.lock:
            commit = self.commits.get(sha)
            if commit is None:
                raise StateError(f"no commit {sha}")
            return commit

    def commit(
        self,
        repo: RepoRef,
        branch: str,
        files: Mapping[str, FileContent],
        message: str = "Update",
        *,
        author: str = "alice",
        base: str | None = None,
    ) -> str:
        """Commit ``files`` (None deletes a path) on top of ``branch`` and move it; return sha.

        A branch that does not exist yet starts from ``base`` (a ref or sha; default: the
        default branch). Open pull requests with this branch as head or base follow it.
        """
        with self.lock:
            target = self.repo(repo)
            parent = target.branches.get(branch)
            if parent is None:
                parent = self.resolve(target, base or target.default_branch)
                if parent is None:
                    raise StateError(f"no ref {base!r} in {target.full_name}")
            sha = self.make_commit(files, parent=parent, message=message, author=author)
            self.push(target, branch, sha)
            return sha

    def push(self, repo: RepoRef, branch: str, sha: str) -> None:
        """Point ``branch`` at commit ``sha`` (creating it; force pushes allowed)."""
        with self.lock:
            target = self.repo(repo)
            self.get_commit(sha)
            target.branches[branch] = sha
            now = utcnow()
            for pr in self.pulls.values():
                if pr.state != "open":
                    continue
                if pr.head_repo_id == target.id and pr.head_ref == branch:
                    pr.head_sha = sha
                    pr.updated_at = now
                if pr.repo_id == target.id and pr.base_ref == branch:
                    pr.base_sha = sha

    def delete_branch(self, repo: RepoRef, branch: str) -> None:
        with self.lock:
            self.repo(repo).branches.pop(branch, None)

    def resolve(self, repo: RepoRef, ref: str) -> str | None:
        """Commit sha of a branch, "heads/x", "refs/heads/x", "refs/pull/N/head", "HEAD" or sha."""
        with self.lock:
            target = self.repo(repo)
            name = ref
            for prefix in ("refs/heads/", "heads/"):
                if name.startswith(prefix):
                    name = name[len(prefix) :]
            if name == "HEAD":
                name = target.default_branch
            if name in target.branches:
                return target.branches[name]
            if name.startswith("refs/pull/") and name.endswith(("/head", "/merge")):
                number = name.split("/")[2]
                pr = self.pulls.get((target.id, int(number))) if number.isdigit() else None
                return pr.head_sha if pr else None
            if 7 <= len(name) <= 40 and all(c in "0123456789abcdef" for c in name):
                if name in self.commits:
                    return name
                matches = [sha for sha in self.commits if sha.startswith(name)]
                return matches[0] if len(matches) == 1 else None
            return None

    def file_at(self, repo: RepoRef, ref: str, path: str) -> bytes | None:
        """Content of ``path`` at ``ref``, or None."""
        with self.lock:
            sha = self.resolve(repo, ref)
            if sha is None:
                return None
            blob = self.commits[sha].files.get(path)
            return None if blob is None else self.blobs[blob]

    def ancestors(self, sha: str) -> dict[str, int]:
        """Every commit reachable from ``sha`` with its distance (``sha`` itself at 0)."""
        with self.lock:
            seen: dict[str, int] = {sha: 0}
            queue = deque([sha])
            while queue:
                current = queue.popleft()
                for parent in self.commits[current].parents:
                    if parent not in seen:
                        seen[parent] = seen[current] + 1
                        queue.append(parent)
            return seen

    def merge_base(self, a: str, b: str) -> str | None:
        """The nearest common ancestor of two commits (None for unrelated histories)."""
        with self.lock:
            from_a = self.ancestors(a)
            from_b = self.ancestors(b)
            common = [sha for sha in from_a if sha in from_b]
            if not common:
                return None
            return min(common, key=lambda sha: (from_a[sha] + from_b[sha], from_b[sha]))

    def diff(self, base_sha: str, head_sha: str) -> list[FileChange]:
        """Files changed from commit ``base_sha`` to ``head_sha`` (cached per tree pair)."""
        with self.lock:
            old, new = self.get_commit(base_sha), self.get_commit(head_sha)
            key = (old.tree_sha, new.tree_sha)
            cached = self._diff_cache.get(key)
            if cached is None:
                cached = diff_trees(
                    old.files,
                    new.files,
                    self.blobs,
                    rename_similarity=self.rename_similarity,
                    patch_size_limit=self.patch_size_limit,
                )
                self._diff_cache[key] = cached
            return cached

    def deny_push(self, repo: RepoRef, branch: str, status: int = 403) -> None:
        """Make the App's ref writes (create, update, delete) of ``branch`` fail with
        ``status``: 403 (not accessible), 422 (a protection rule); ``branch`` may be an
        fnmatch pattern such as ``ssot/*``."""
        with self.lock:
            self.repo(repo).push_denied[branch] = status

    def set_permission(self, repo: RepoRef, user: str, permission: Permission) -> None:
        """Give ``user`` a role on ``repo`` (what the collaborator permission API answers)."""
        if permission not in PERMISSIONS:
            raise StateError(f"unknown permission {permission!r}")
        with self.lock:
            self.user(user)
            self.repo(repo).permissions[user.lower()] = permission

    def permission_of(self, repo: RepoRef, user: str) -> Permission:
        """A user's role: explicit, admin for the owner, else read on public repos."""
        with self.lock:
            target = self.repo(repo)
            explicit = target.permissions.get(user.lower())
            if explicit is not None:
                return explicit
            if target.owner.login.lower() == user.lower():
                return "admin"
            return "none" if target.private else "read"

    # --- pull requests ---------------------------------------------------------------------

    def open_pull_request(
        self,
        repo: RepoRef,
        head_branch: str,
        base_branch: str | None = None,
        *,
        title: str = "Change",
        body: str | None = None,
        user: str = "alice",
        head_repo: RepoRef | None = None,
        draft: bool = False,
        maintainer_can_modify: bool = True,
    ) -> PullRequest:
        """Open a pull request from ``head_branch`` (of ``head_repo``, a fork, if given)."""
        with self.lock:
            base_repo = self.repo(repo)
            source = self.repo(head_repo) if head_repo is not None else base_repo
            base_ref = base_branch or base_repo.default_branch
            if head_branch not in source.branches:
                raise StateError(f"no branch {head_branch!r} in {source.full_name}")
            if base_ref not in base_repo.branches:
                raise StateError(f"no branch {base_ref!r} in {base_repo.full_name}")
            pr = PullRequest(
                id=next(self._ids),
                number=next(self._issue_numbers[base_repo.id]),
                repo_id=base_repo.id,
                base_ref=base_ref,
                base_sha=base_repo.branches[base_ref],
                head_repo_id=source.id,
                head_ref=head_branch,
                head_sha=source.branches[head_branch],
                user=self.user(user),
                title=title,
                body=body,
                draft=draft,
                maintainer_can_modify=maintainer_can_modify,
            )
            self.pulls[(base_repo.id, pr.number)] = pr
            return pr

    def pull(self, repo: RepoRef, number: PullRef) -> PullRequest:
        if isinstance(number, PullRequest):
            return number
        with self.lock:
            pr = self.pulls.get((self.repo(repo).id, number))
            if pr is None:
                raise StateError(f"no pull request #{number} in {self.repo(repo).full_name}")
            return pr

    def close_pull_request(
        self, repo: RepoRef, number: PullRef, *, merged: bool = False, by: str | None = None
    ) -> None:
        """Close (or merge) a pull request as ``by``; a merge moves the base branch to a
        commit with the head's tree whose parents are the base and the head."""
        with self.lock:
            pr = self.pull(repo, number)
            if merged:
                self._merge(pr, by or "alice")
            pr.state = "closed"
            pr.merged = merged
            pr.closed_by = by
            pr.closed_at = pr.updated_at = utcnow()

    def _merge(self, pr: PullRequest, author: str) -> None:
        """Move the base branch to a merge commit: the base's tree with the files the head
        changed since the merge base (no conflict detection: the head's side wins)."""
        target = self.repos[pr.repo_id]
        base = target.branches[pr.base_ref]
        since = self.commits[self.merge_base(base, pr.head_sha) or base].files
        head = self.commits[pr.head_sha].files
        tree = dict(self.commits[base].files)
        for path in set(since) | set(head):
            if since.get(path) == head.get(path):
                continue
            if path in head:
                tree[path] = head[path]
            else:
                tree.pop(path, None)
        merge = self.commit_tree(
            tree, (base, pr.head_sha), f"Merge pull request #{pr.number}", author
        )
        self.push(target, pr.base_ref, merge)

    def reopen_pull_request(self, repo: RepoRef, number: PullRef) -> None:
        with self.lock:
            pr = self.pull(repo, number)
            pr.state, pr.merged, pr.closed_at = "open", False, None
            head = self.repos[pr.head_repo_id].branches.get(pr.head_ref)
            if head is not None:
                pr.head_sha = head
            pr.base_sha = self.repos[pr.repo_id].branches[pr.base_ref]

    def pull_merge_base(self, pr: PullRequest) -> str:
        """The commit a pull request's diff starts from (merge base of base and head)."""
        return self.merge_base(pr.base_sha, pr.head_sha) or pr.base_sha

    def pull_files(self, pr: PullRequest) -> list[FileChange]:
        """Every file a pull request changes (GitHub shows the first ``max_pull_files``)."""
        return self.diff(self.pull_merge_base(pr), pr.head_sha)

    def pull_commits(self, pr: PullRequest) -> list[str]:
        """Commits on the head that are not on the base, oldest first."""
        with self.lock:
            on_base = self.ancestors(pr.base_sha)
            from_head = self.ancestors(pr.head_sha)
            ahead = [sha for sha in from_head if sha not in on_base]
            return sorted(ahead, key=lambda sha: -from_head[sha])

    def open_issue(
        self,
        repo: RepoRef,
        title: str,
        body: str | None = None,
        *,
        user: str | Account = "alice",
        labels: Iterable[str] = (),
    ) -> Issue:
        """Open an issue as ``user`` (a login, or an account such as ``state.bot``), numbered
        with the repository's pull requests."""
        with self.lock:
            target = self.repo(repo)
            author = user if isinstance(user, Account) else self.user(user)
            issue = Issue(
                id=next(self._ids),
                number=next(self._issue_numbers[target.id]),
                repo_id=target.id,
                title=title,
                user=author,
                body=body,
                labels=list(labels),
            )
            self.issues[(target.id, issue.number)] = issue
            return issue

    def add_team(self, org: str, slug: str, members: Iterable[str] = ()) -> None:
        """A team ``@org/slug`` that can be asked for reviews in ``org``'s repositories."""
        with self.lock:
            self.teams[(org.lower(), slug.lower())] = {m.lower() for m in members}

    def issue(self, repo: RepoRef, number: int) -> Issue:
        with self.lock:
            found = self.issues.get((self.repo(repo).id, number))
            if found is None:
                raise StateError(f"no issue #{number} in {self.repo(repo).full_name}")
            return found

    def issues_of(self, repo: RepoRef) -> list[Issue]:
        """The issues of ``repo``, by number."""
        with self.lock:
            target = self.repo(repo)
            return sorted(
                (i for i in self.issues.values() if i.repo_id == target.id), key=lambda i: i.number
            )

    def set_issue_state(
        self,
        repo: RepoRef,
        number: int,
        state: Literal["open", "closed"],
        *,
        by: str | Account = "alice",
        reason: str | None = None,
    ) -> Issue:
        """Close or reopen an issue as ``by`` does (a person, or ``state.bot``)."""
        with self.lock:
            issue = self.issue(repo, number)
            actor = by if isinstance(by, Account) else self.user(by)
            issue.state = state
            issue.updated_at = utcnow()
            if state == "closed":
                issue.closed_at, issue.closed_by = issue.updated_at, actor
                issue.state_reason = reason or "completed"
            else:
                issue.closed_at, issue.closed_by = None, None
                issue.state_reason = "reopened"
            return issue

    def delete_issue(self, repo: RepoRef, number: int) -> None:
        """Delete an issue as an admin does (its number answers 410 from then on)."""
        with self.lock:
            key = (self.repo(repo).id, number)
            if self.issues.pop(key, None) is not None:
                self.deleted_issues.add(key)

    # --- comments, reviews, check runs, deliveries ------------------------------------------

    def add_issue_comment(
        self, repo: RepoRef, number: int, body: str, user: str = "alice"
    ) -> IssueComment:
        """A comment by ``user`` on issue or pull request ``number`` (e.g. "/ssot rescan")."""
        with self.lock:
            target = self.repo(repo)
            comment = IssueComment(next(self._ids), target.id, number, body, self.user(user))
            self.issue_comments[comment.id] = comment
            return comment

    def issue_comments_for(self, repo: RepoRef, number: int) -> list[IssueComment]:
        with self.lock:
            target = self.repo(repo)
            return [
                c
                for c in self.issue_comments.values()
                if c.repo_id == target.id and c.issue_number == number
            ]

    def reviews_for(self, repo: RepoRef, number: int) -> list[Review]:
        with self.lock:
            target = self.repo(repo)
            return [
                r for r in self.reviews.values() if r.repo_id == target.id and r.pr_number == number
            ]

    def review_comments_for(self, repo: RepoRef, number: int) -> list[ReviewComment]:
        with self.lock:
            target = self.repo(repo)
            return [
                c
                for c in self.review_comments.values()
                if c.repo_id == target.id and c.pr_number == number
            ]

    def check_runs_for(
        self, repo: RepoRef, head_sha: str | None = None, name: str | None = None
    ) -> list[CheckRun]:
        with self.lock:
            target = self.repo(repo)
            return [
                run
                for run in self.check_runs.values()
                if run.repo_id == target.id
                and (head_sha is None or run.head_sha == head_sha)
                and (name is None or run.name == name)
            ]

    def comment_by_node_id(self, node_id: str) -> IssueComment | ReviewComment | None:
        with self.lock:
            for issue_comment in self.issue_comments.values():
                if issue_comment.node_id == node_id:
                    return issue_comment
            for review_comment in self.review_comments.values():
                if review_comment.node_id == node_id:
                    return review_comment
            return None

    def add_delivery(
        self,
        event: str,
        action: str | None = None,
        *,
        status_code: int = 200,
        guid: str | None = None,
        installation: Installation | None = None,
        repository: RepoRef | None = None,
        payload: dict[str, Any] | None = None,
    ) -> HookDelivery:
        """Record a webhook delivery (``status_code`` >= 400 makes it a failed one)."""
        with self.lock:
            delivery = HookDelivery(
                id=next(self._ids),
                guid=guid or secrets.token_hex(16),
                event=event,
                action=action,
                status_code=status_code,
                installation_id=installation.id if installation else None,
                repository_id=self.repo(repository).id if repository is not None else None,
                payload=payload or {},
            )
            self.deliveries.append(delivery)
            return delivery

    # --- the call log ------------------------------------------------------------------------

    def record_call(self, call: ApiCall) -> None:
        with self.lock:
            self.calls.append(call)

    def calls_matching(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        kind: CallKind | None = None,
        status: int | None = None,
        installation_id: int | None = None,
        content_creating: bool | None = None,
    ) -> list[ApiCall]:
        """Logged calls filtered by exact method/kind/status and ``path`` as a substring."""
        with self.lock:
            return [
                c
                for c in self.calls
                if (method is None or c.method == method.upper())
                and (path is None or path in c.path)
                and (kind is None or c.kind == kind)
                and (status is None or c.status == status)
                and (installation_id is None or c.installation_id == installation_id)
                and (content_creating is None or c.content_creating == content_creating)
            ]

    def clear_calls(self) -> None:
        with self.lock:
            self.calls.clear()
