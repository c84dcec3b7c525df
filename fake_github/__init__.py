"""A stateful fake GitHub for tests, ``ssot demo`` and benchmarks, driven through githubkit.

- ``state``: the in-memory world (installations, repositories, commits, pull requests, check
  runs, reviews, comments, the API call log) and helpers to build scenarios;
- ``app``: ``create_fake_github(state, faults)``, the FastAPI app with GitHub's REST routes,
  shapes and limits, plus the GraphQL the bot uses;
- ``oauth``: sign-in with GitHub (the authorize page, the token exchange, ``/user`` and the
  installations and repositories a signed-in person can read);
- ``faults``: latency, 5xx, 429, secondary rate limits, burst detection;
- ``server``: ``FakeGitHubServer``, the app on 127.0.0.1 in a background thread.

It imports nothing from ``bot`` (it is the oracle the App is tested against) and only tests,
benchmarks and ``bot.demo`` import it: no production module of the App does (checked by
the import contracts in pyproject.toml).
"""

from .app import create_fake_github
from .faults import Faults
from .limits import GitHubError
from .server import FakeGitHubServer
from .state import (
    ApiCall,
    AppKeyPair,
    CheckRun,
    FakeGitHubState,
    Installation,
    Issue,
    IssueComment,
    PullRequest,
    Repository,
    Review,
    ReviewComment,
    StateError,
    make_app_keypair,
)

__all__ = [
    "ApiCall",
    "AppKeyPair",
    "CheckRun",
    "FakeGitHubServer",
    "FakeGitHubState",
    "Faults",
    "GitHubError",
    "Installation",
    "Issue",
    "IssueComment",
    "PullRequest",
    "Repository",
    "Review",
    "ReviewComment",
    "StateError",
    "create_fake_github",
    "make_app_keypair",
]
