"""``ssot demo``: one complete pull-request check by the real App against a simulated GitHub,
and the App's dashboard of the repository's progress.

The project's fake GitHub is served on 127.0.0.1 with the scenario of
:mod:`bot.demo.scenario` (the example repository as ``main``, six weeks of its history
(:mod:`bot.demo.history`), and a pull request on it).
The App itself (:func:`bot.web.app.create_app`) is served on 127.0.0.1 too, with a generated
webhook secret and App key, and receives GitHub's real payloads, signed: a ``push`` per
week of ``main``'s history (the App counts the repository's totals and records each as a
history sample) and ``pull_request.opened``. Each job runs inside its webhook request (Huey's immediate mode)
and talks to the fake GitHub through githubkit, exactly as it talks to github.com. What the
App posted (the check run, its annotations, the review) is read back from the fake and
printed, and then the dashboard's URL: with ``--serve`` the App and the fake GitHub stay up
until Ctrl-C, and a browser signs in there through the fake GitHub's sign-in page (as
``alice``, who can read the repository; ``bob`` cannot).

No network beyond 127.0.0.1, no credentials, state in a temporary directory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import secrets
import socket
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
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
    dashboard_url: str  # the App's dashboard (up while the demo runs; --serve keeps it)
    github_url: str  # the fake GitHub (API and sign-in pages)
    history_samples: int  # commits of main whose totals the dashboard draws


def run_demo() -> DemoResult:
    """Set up the fake GitHub and the App, send the webhooks, read back what was posted."""
    with demo_world() as result:
        return result


@contextmanager
def demo_world(port: int = 0) -> Iterator[DemoResult]:
    """The demo's world, up (the fake GitHub and the App on 127.0.0.1; the App on ``port``,
    0: any free one) while the caller holds it: the webhooks sent, what was posted read back."""
    import httpx

    from bot.demo import history
    from bot.store import history as store_history
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
    # alice works on the repository (her dashboard shows it); bob has no access to it.
    state.set_permission(repo, scenario.AUTHOR, "write")
    state.set_permission(repo, "bob", "none")
    # main's last six weeks, pushed a week apart: the App records each push's totals.
    main_history = history.build_main(state, repo, base, now=dt.datetime.now(dt.UTC))
    pushes = [
        scenario.push_payload(state, repo, installation.id, after=sha, before=before)
        for before, sha in zip([None, *main_history], main_history, strict=False)
    ]
    changes = scenario.pull_request_changes(base)
    state.commit(repo, scenario.HEAD_BRANCH, changes, scenario.PR_TITLE, author="alice")
    pr = state.open_pull_request(repo, scenario.HEAD_BRANCH, title=scenario.PR_TITLE, user="alice")
    webhooks = [
        *(("push", push) for push in pushes),
        ("pull_request", scenario.opened_payload(state, pr, installation.id)),
    ]
    secret = secrets.token_hex(32)
    deliveries: list[Delivery] = []
    with (
        FakeGitHubServer(state) as server,
        tempfile.TemporaryDirectory(prefix="ssot-demo-") as data_dir,
        _no_proxy_for_loopback(),
        _listening(port) as (sock, app_url),
    ):
        state.callback_urls = [f"{app_url}/login/callback"]
        settings = _settings(state, keys.private_key_pem, secret, server.url, data_dir, app_url)
        app = create_app(settings, immediate_jobs=True)
        with _serve(app, sock):
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
            samples = store_history.samples(
                app.state.runtime.engine, installation.id, repo.full_name
            )
            api = server.url
            with state.lock:
                runs = sorted(state.check_runs_for(repo, pr.head_sha), key=lambda r: r.id)
                reviews = sorted(state.reviews_for(repo, pr.number), key=lambda r: r.id)
                comments = sorted(state.review_comments_for(repo, pr.number), key=lambda c: c.id)
                replies = sorted(state.issue_comments_for(repo, pr.number), key=lambda c: c.id)
                result = DemoResult(
                    repository=repo.full_name,
                    pull_number=pr.number,
                    head_sha=pr.head_sha,
                    deliveries=deliveries,
                    check_runs=[render.check_run(state, run, api) for run in runs],
                    annotations=[
                        render.annotation(repo, run, item)
                        for run in runs
                        for item in run.annotations
                    ],
                    reviews=[render.review(state, review, api) for review in reviews],
                    review_comments=[
                        render.review_comment(state, comment, api, outdated=False)
                        for comment in comments
                    ],
                    issue_comments=[render.issue_comment(state, c, api) for c in replies],
                    dashboard_url=f"{app_url}/dashboard",
                    github_url=server.url.rstrip("/"),
                    history_samples=len(samples),
                )
            yield result


def _settings(
    state: Any, pem: str, secret: str, github_url: str, data_dir: str, app_url: str
) -> Settings:
    from pydantic import SecretStr

    folder = Path(data_dir)
    # Every value the demo depends on is given here, so neither .env nor SSOT_* variables
    # (a Redis URL, another GitHub) can send it anywhere but the fake on 127.0.0.1. The
    # fake serves GitHub's web pages too (sign-in), so it is both URLs.
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        app_id=state.app_id,
        private_key=SecretStr(pem),
        private_key_path=None,
        webhook_secret=SecretStr(secret),
        client_id=state.client_id,
        client_secret=SecretStr(state.client_secret),
        github_url=github_url,
        github_web_url=github_url,
        public_url=app_url,
        session_secret=SecretStr(secrets.token_urlsafe(32)),
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'ssot.db'}",
        redis_url=None,
        workers=1,
    )


@contextmanager
def _listening(port: int) -> Iterator[tuple[socket.socket, str]]:
    """A socket bound on 127.0.0.1 (``port``, 0: a free one) and the App's URL on it: the URL
    is known before the App is made (its settings and the fake's callback URL name it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        yield sock, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@contextmanager
def _serve(app: Any, sock: socket.socket) -> Iterator[None]:
    """Serve the App's ASGI application on ``sock`` in a thread."""
    import time

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10.0
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the App did not start on 127.0.0.1")
            time.sleep(0.005)
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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
    for (event, answer), same in itertools.groupby(
        result.deliveries, key=lambda d: (d.event, f"{d.status} {d.answer.get('status', '')}")
    ):
        times = len(list(same))
        several = f" x{times} (main's last {times} weeks)" if times > 1 else ""
        write(f"  webhook       {event}{several}, signed -> {answer}\n")
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


def print_dashboard(result: DemoResult, out: TextIO, *, serving: bool) -> None:
    """Where the dashboard is, and how to sign in to it."""
    write = out.write
    write(f"\n=== Dashboard: {result.dashboard_url} ===\n")
    write(
        f"{result.repository}: {result.history_samples} weekly samples of main (a concept "
        "renamed three weeks ago starts a new series).\n"
    )
    if serving:
        write(
            f"Sign in on the simulated GitHub ({result.github_url}) as {scenario.AUTHOR}, who "
            "can read the repository (bob cannot).\nServing until Ctrl-C.\n"
        )
    else:
        write("It closes with the demo: `ssot demo --serve` keeps it up to open in a browser.\n")


def wait_for_interrupt() -> None:
    """Block until Ctrl-C (or SIGTERM)."""
    import signal

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def demo_command(argv: list[str], *, wait: Callable[[DemoResult], None] | None = None) -> int:
    """``ssot demo [--json] [--serve [--port N]]``: run the demo and print what the App
    posted, then the dashboard's URL; ``--serve`` keeps the App and the fake GitHub up
    (``wait``, for tests: called instead of waiting for Ctrl-C).

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
    parser.add_argument(
        "--serve",
        action="store_true",
        help="keep the App (its dashboard) and the simulated GitHub up until Ctrl-C",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="the App's port with --serve (default: a free one)"
    )
    args = parser.parse_args(argv)
    if not scenario.SAMPLE_REPO.is_dir():
        print(
            f"ssot demo: the example repository is missing at {scenario.SAMPLE_REPO}: "
            "reinstall ssot-guard",
            file=sys.stderr,
        )
        return 2
    with demo_world(args.port if args.serve else 0) as result:
        if args.json:
            json.dump(asdict(result), sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            print_result(result, sys.stdout)
            print_dashboard(result, sys.stdout, serving=args.serve)
        sys.stdout.flush()
        if args.serve:
            (wait or (lambda _: wait_for_interrupt()))(result)
    completed = any(run["status"] == "completed" for run in result.check_runs)
    return 0 if completed else 1
