"""``ssot demo``: one complete pull-request check by the real App against a simulated GitHub.

The project's fake GitHub is served on 127.0.0.1 with the scenario of
:mod:`bot.demo.scenario` (the example repository as ``main``, and a pull request on it).
The App itself (:func:`bot.web.app.create_app`) is served on 127.0.0.1 too, with a generated
webhook secret and App key, and receives two of GitHub's real payloads, signed: ``push``
(the default branch exists: the App counts the repository's totals) and
``pull_request.opened``. Each job runs inside its webhook request (Huey's immediate mode)
and talks to the fake GitHub through githubkit, exactly as it talks to github.com. What the
App posted (the check run, its annotations, the review) is read back from the fake and
printed.

No network beyond 127.0.0.1, no credentials, state in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.demo import scenario
from bot.ops.settings import Settings

WEBHOOK_TIMEOUT = 120.0  # seconds: the job runs inside the webhook request


@dataclass
class Delivery:
    """One webhook the demo sent, and the App's answer."""

    event: str
    status: int
    answer: dict[str, Any]


@dataclass
class DemoResult:
    """What the App posted, read back from the fake GitHub as GitHub's API returns it."""

    repository: str
    pull_number: int
    head_sha: str
    deliveries: list[Delivery]
    check_runs: list[dict[str, Any]]
    annotations: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    review_comments: list[dict[str, Any]]
    issue_comments: list[dict[str, Any]]


def run_demo() -> DemoResult:
    """Set up the fake GitHub and the App, send the webhooks, read back what was posted."""
    import httpx

    from bot.web.app import create_app
    from bot.web.signature import sign
    from fake_github import FakeGitHubServer, FakeGitHubState, make_app_keypair, render

    keys = make_app_keypair()
    state = FakeGitHubState.for_app(keys)
    installation = state.create_installation(scenario.OWNER)
    base = scenario.sample_files()
    repo = state.create_repo(
        scenario.OWNER, scenario.NAME, files=base, message="Sample repository", author="alice"
    )
    push = scenario.push_payload(state, repo, installation.id)
    changes = scenario.pull_request_changes(base)
    state.commit(repo, scenario.HEAD_BRANCH, changes, scenario.PR_TITLE, author="alice")
    pr = state.open_pull_request(repo, scenario.HEAD_BRANCH, title=scenario.PR_TITLE, user="alice")
    webhooks = [
        ("push", push),
        ("pull_request", scenario.opened_payload(state, pr, installation.id)),
    ]
    secret = secrets.token_hex(32)
    deliveries: list[Delivery] = []
    with (
        FakeGitHubServer(state) as server,
        tempfile.TemporaryDirectory(prefix="ssot-demo-") as data_dir,
        _no_proxy_for_loopback(),
    ):
        settings = _settings(keys.app_id, keys.private_key_pem, secret, server.url, data_dir)
        with _serve(create_app(settings, immediate_jobs=True)) as app_url:
            for event, body in webhooks:
                answer = httpx.post(
                    f"{app_url}/api/github/webhooks",
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "User-Agent": "GitHub-Hookshot/ssot-demo",
                        "X-GitHub-Event": event,
                        "X-GitHub-Delivery": str(uuid.uuid4()),
                        "X-GitHub-Hook-Installation-Target-ID": str(keys.app_id),
                        "X-Hub-Signature-256": sign(secret, body),
                    },
                    timeout=WEBHOOK_TIMEOUT,
                    trust_env=False,
                )
                deliveries.append(Delivery(event, answer.status_code, answer.json()))
        api = server.url
        with state.lock:
            runs = sorted(state.check_runs_for(repo, pr.head_sha), key=lambda r: r.id)
            reviews = sorted(state.reviews_for(repo, pr.number), key=lambda r: r.id)
            comments = sorted(state.review_comments_for(repo, pr.number), key=lambda c: c.id)
            replies = sorted(state.issue_comments_for(repo, pr.number), key=lambda c: c.id)
            return DemoResult(
                repository=repo.full_name,
                pull_number=pr.number,
                head_sha=pr.head_sha,
                deliveries=deliveries,
                check_runs=[render.check_run(state, run, api) for run in runs],
                annotations=[
                    render.annotation(repo, run, item) for run in runs for item in run.annotations
                ],
                reviews=[render.review(state, review, api) for review in reviews],
                review_comments=[
                    render.review_comment(state, comment, api, outdated=False)
                    for comment in comments
                ],
                issue_comments=[render.issue_comment(state, c, api) for c in replies],
            )


def _settings(app_id: int, pem: str, secret: str, github_url: str, data_dir: str) -> Settings:
    from pydantic import SecretStr

    folder = Path(data_dir)
    # Every value the demo depends on is given here, so neither .env nor SSOT_* variables
    # (a Redis URL, another GitHub) can send it anywhere but the fake on 127.0.0.1.
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        app_id=app_id,
        private_key=SecretStr(pem),
        private_key_path=None,
        webhook_secret=SecretStr(secret),
        github_url=github_url,
        github_web_url="https://github.com",
        public_url="http://127.0.0.1",
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'ssot.db'}",
        redis_url=None,
        workers=1,
    )


@contextmanager
def _serve(app: Any) -> Iterator[str]:
    """Serve the App's ASGI application on 127.0.0.1 (a free port) in a thread; its URL."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10.0
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the App did not start on 127.0.0.1")
            time.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def _no_proxy_for_loopback() -> Iterator[None]:
    """Keep loopback calls off any HTTP proxy of the environment (githubkit uses httpx)."""
    import os

    if not any(name.lower().endswith("_proxy") for name in os.environ):
        yield
        return
    saved = {name: os.environ[name] for name in ("NO_PROXY", "no_proxy") if name in os.environ}
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    try:
        yield
    finally:
        for name in ("NO_PROXY", "no_proxy"):
            os.environ.pop(name, None)
        os.environ.update(saved)


# --- printing -----------------------------------------------------------------------------


def print_result(result: DemoResult, out: TextIO) -> None:
    """What the App posted on the simulated GitHub, as a person reads it on the PR."""
    write = out.write
    write("SSOT guard demo: the App checks one pull request on a simulated GitHub (127.0.0.1)\n")
    write(f"  repository    {result.repository}: the bundled example repository as main\n")
    write(f"  pull request  #{result.pull_number} {scenario.PR_TITLE!r}, ")
    write(f"{scenario.HEAD_BRANCH} -> main at {result.head_sha[:7]}\n")
    for delivery in result.deliveries:
        status = delivery.answer.get("status", "")
        write(f"  webhook       {delivery.event}, signed -> {delivery.status} {status}\n")
    if not result.check_runs:
        write("\nNo check run was posted: see the errors above.\n")
    for run in result.check_runs:
        output = run["output"]
        conclusion = str(run["conclusion"] or run["status"]).upper()
        write(f"\n=== Check run {run['name']!r}: {conclusion} ===\n")
        write(f"{output['title']}\n\n{(output['summary'] or '').rstrip()}\n")
        if output.get("text"):
            write(f"\n{output['text'].rstrip()}\n")
    if result.annotations:
        write(f"\n=== Annotations ({len(result.annotations)}) ===\n")
        for item in result.annotations:
            place = f"{item['path']}:{item['start_line']}"
            write(f"{item['annotation_level']:<8} {place}  {item['title'] or ''}\n")
            write(f"         {' '.join(str(item['message']).split())}\n")
    for review in result.reviews:
        own = [c for c in result.review_comments if c["pull_request_review_id"] == review["id"]]
        write(f"\n=== Review ({review['state']}) with {len(own)} comment(s) ===\n")
        if review["body"]:
            write(f"{review['body'].rstrip()}\n")
        for comment in own:
            lines = comment["line"]
            if comment.get("start_line"):
                lines = f"{comment['start_line']}-{comment['line']}"
            write(f"\n--- {comment['path']} line {lines} ---\n{comment['body'].rstrip()}\n")
    for comment in result.issue_comments:
        write(f"\n=== Comment by {comment['user']['login']} ===\n{comment['body'].rstrip()}\n")


def demo_command(argv: list[str]) -> int:
    """``ssot demo [--json]``: run the demo and print what the App posted.

    Exit 0 when the App completed a check run of the pull request, 1 otherwise.
    """
    parser = argparse.ArgumentParser(
        prog="ssot demo",
        description="Run one complete pull-request check of the GitHub App against a "
        "simulated GitHub on 127.0.0.1, and print what the App posted.",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the posted objects as GitHub's API returns them"
    )
    args = parser.parse_args(argv)
    if not scenario.SAMPLE_REPO.is_dir():
        print(
            f"ssot demo: the example repository is missing at {scenario.SAMPLE_REPO}: "
            "reinstall ssot-guard",
            file=sys.stderr,
        )
        return 2
    result = run_demo()
    if args.json:
        json.dump(asdict(result), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_result(result, sys.stdout)
    completed = any(run["status"] == "completed" for run in result.check_runs)
    return 0 if completed else 1
