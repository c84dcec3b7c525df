"""Benchmark the App's pull-request check against the fake GitHub with latency on every call.

For a PR of 2 and of 15 changed Python files (each adds one deprecated import, so every file
has a new finding, an annotation and an inline comment with a suggestion), with 50 ms added
to every API call of the fake GitHub:

- the time from the webhook being accepted (the route's 202) to the check run completed,
  the job run by the same code a worker runs (``JobQueue.process_delivery``);
- the number of API calls the job made (the fake's call log), cold (the first job of the
  process: includes the installation token exchange) and warm (a second PR with other
  content in the same process: the token is reused, no blob is in the cache).

Targets: the number of calls does not grow with the number of files, and the cold 15-file
PR makes at most 12 calls. Then a 3,000-file PR (GitHub's maximum in the files API) must
complete with a summary within GitHub's 65,535 characters.

Usage::

    python benchmarks/bench_bot.py                  # 2, 15 and 3,000 files, 50 ms latency
    python benchmarks/bench_bot.py --latency 0.02 --big 1000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fastapi.testclient import TestClient  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from bot.checks.render import CHECK_NAME  # noqa: E402
from bot.ops.settings import Settings  # noqa: E402
from bot.store import deliveries, tables  # noqa: E402
from bot.web.app import Runtime, create_app  # noqa: E402
from bot.web.signature import sign  # noqa: E402
from fake_github import (  # noqa: E402
    FakeGitHubServer,
    FakeGitHubState,
    Faults,
    PullRequest,
    Repository,
    make_app_keypair,
)

POLICY = (REPO / "examples" / "websocket-ssot.toml").read_text(encoding="utf-8")
FIXTURE = REPO.parent / "shared" / "fixtures" / "github-webhooks" / "pull_request"
SECRET = "bench secret"
LEGACY = "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n"
MAX_CALLS_15 = 12
MAX_SUMMARY = 65_535


def module(index: int, salt: str, lines: int = 120) -> str:
    """A plausible module of about ``lines`` lines (``salt``: unique content, no cache hit)."""
    body = [
        f'"""Service module {index} of {salt}."""',
        "",
        "from __future__ import annotations",
        "",
    ]
    for n in range(lines // 4):
        body += [f"def handler_{n}(event: dict[str, object]) -> object:", "    return event", ""]
    return "\n".join(body) + "\n"


@dataclass
class Measure:
    files: int
    token: str  # "cold" (first job: token exchange) or "warm"
    seconds: float
    calls: int
    kinds: Counter[str]
    conclusion: str | None
    annotations: int
    comments: int
    summary_chars: int


class Bench:
    """A fake GitHub with latency, the App installed, and the App's web app and job queue."""

    def __init__(self, latency: float, data_dir: Path) -> None:
        self.keys = make_app_keypair()
        self.state = FakeGitHubState.for_app(self.keys)
        self.installation = self.state.create_installation("Codertocat", account_type="User")
        self.latency = latency
        self.data_dir = data_dir
        self.prs = 0

    @contextmanager
    def running(self) -> Iterator[Bench]:
        with FakeGitHubServer(self.state, Faults(latency=self.latency)) as server:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                app_id=self.keys.app_id,
                private_key=SecretStr(self.keys.private_key_pem),
                webhook_secret=SecretStr(SECRET),
                data_dir=self.data_dir,
                github_url=server.url,
            )
            with TestClient(create_app(settings)) as client:
                self.client = client
                yield self

    @property
    def runtime(self) -> Runtime:
        value: Runtime = self.client.app.state.runtime  # type: ignore[attr-defined]
        return value

    def repository(self, files: int) -> Repository:
        name = f"repo-{files}-{uuid.uuid4().hex[:6]}"
        base = {f"app/svc_{i}.py": module(i, name) for i in range(files)}
        base[".github/ssot.toml"] = POLICY
        return self.state.create_repo("Codertocat", name, files=base, default_branch="master")

    def pull_request(self, repo: Repository, files: int) -> PullRequest:
        head = {f"app/svc_{i}.py": LEGACY + module(i, repo.name) for i in range(files)}
        self.state.commit(repo, f"feature-{self.prs}", head, "Use the old manager")
        self.prs += 1
        return self.state.open_pull_request(repo, f"feature-{self.prs - 1}", "master")

    def webhook(self, repo: Repository, pr: PullRequest) -> bytes:
        data: dict[str, Any] = json.loads((FIXTURE / "opened.payload.json").read_bytes())
        data["installation"]["id"] = self.installation.id
        data["number"] = data["pull_request"]["number"] = pr.number
        for target in (data["repository"], data["pull_request"]["base"]["repo"]):
            target.update(full_name=repo.full_name, name=repo.name, default_branch="master")
        data["pull_request"]["head"]["repo"].update(full_name=repo.full_name, name=repo.name)
        data["pull_request"]["head"].update(sha=pr.head_sha, ref=pr.head_ref)
        data["pull_request"]["base"].update(sha=pr.base_sha, ref="master")
        return json.dumps(data).encode()

    def check(self, files: int, token: str) -> Measure:
        repo = self.repository(files)
        pr = self.pull_request(repo, files)
        body = self.webhook(repo, pr)
        delivery = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(SECRET, body),
        }
        response = self.client.post("/api/github/webhooks", content=body, headers=headers)
        assert response.status_code == 202, response.text
        self.state.clear_calls()
        started = time.perf_counter()  # accepted: now a worker takes the job
        state = self.runtime.jobs.process_delivery(delivery)
        seconds = time.perf_counter() - started
        stored = deliveries.get_delivery(self.runtime.engine, delivery)
        assert state == tables.DONE, stored.error if stored else state
        runs = self.state.check_runs_for(repo, head_sha=pr.head_sha, name=CHECK_NAME)
        assert len(runs) == 1 and runs[0].status == "completed", runs
        run = runs[0]
        calls = list(self.state.calls)
        kinds = Counter(_kind(c.method, c.path) for c in calls)
        return Measure(
            files=files,
            token=token,
            seconds=seconds,
            calls=len(calls),
            kinds=kinds,
            conclusion=run.conclusion,
            annotations=len(run.annotations),
            comments=len(self.state.review_comments_for(repo, pr.number)),
            summary_chars=len(run.output.summary or ""),
        )


def _kind(method: str, path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if path.startswith("/graphql"):
        return "graphql"
    if "access_tokens" in path:
        return "token"
    if len(parts) > 3:
        tail = parts[3] if parts[3] != "commits" else "commits/check-runs"
        if tail == "pulls" and len(parts) > 5:
            tail = f"pulls/{parts[5]}"
        return f"{method} {tail}"
    return f"{method} {path}"


def table(rows: list[Measure]) -> str:
    head = "| files | token | seconds | API calls | conclusion | annotations | comments | summary chars | calls by kind |"
    lines = [head, "|" + "---|" * 9]
    for m in rows:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(m.kinds.items()))
        lines.append(
            f"| {m.files:,} | {m.token} | {m.seconds:.2f} | {m.calls} | {m.conclusion} | "
            f"{m.annotations:,} | {m.comments} | {m.summary_chars:,} | {kinds} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API call")
    parser.add_argument("--big", type=int, default=3000, help="files of the big PR (0: skip)")
    args = parser.parse_args(argv)

    rows: list[Measure] = []
    with tempfile.TemporaryDirectory(prefix="ssot-bench-bot-") as tmp:
        for files in (2, 15):
            bench = Bench(args.latency, Path(tmp) / f"data-{files}")
            with bench.running():
                rows.append(bench.check(files, "cold"))
                rows.append(bench.check(files, "warm"))
        if args.big:
            bench = Bench(args.latency, Path(tmp) / "data-big")
            with bench.running():
                rows.append(bench.check(args.big, "cold"))
    print(f"SSOT guard App: one pull request check, {args.latency * 1000:.0f} ms per API call\n")
    print(table(rows))
    print()
    by = {(m.files, m.token): m for m in rows}
    cold2, cold15, warm2, warm15 = (
        by[(2, "cold")],
        by[(15, "cold")],
        by[(2, "warm")],
        by[(15, "warm")],
    )
    verdicts = [
        (
            f"calls do not grow with files: 2 files {cold2.calls} / {warm2.calls}, "
            f"15 files {cold15.calls} / {warm15.calls} (cold / warm)",
            cold15.calls <= cold2.calls and warm15.calls <= warm2.calls,
        ),
        (
            f"15-file PR at most {MAX_CALLS_15} calls (cold): {cold15.calls}",
            cold15.calls <= MAX_CALLS_15,
        ),
    ]
    if args.big:
        big = by[(args.big, "cold")]
        verdicts.append(
            (
                f"{args.big:,}-file PR completed ({big.conclusion}) in {big.seconds:.1f} s, "
                f"summary {big.summary_chars:,} <= {MAX_SUMMARY:,} chars",
                big.summary_chars <= MAX_SUMMARY and big.conclusion is not None,
            )
        )
    for text, ok in verdicts:
        print(f"{'PASS' if ok else 'MISS'}  {text}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
