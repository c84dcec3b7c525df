"""Benchmark the App's throughput: pull-request checks per minute with 1 and with 2 workers.

The scale-out set-up of tests/bot/test_scaleout.py (tests/bot/cluster.py): one real ``ssot serve --role web``
process and N real ``ssot worker`` processes on PostgreSQL (127.0.0.1:5432, database
``test``, a schema of its own) and Redis (127.0.0.1:6379, a Huey queue name of its own),
reporting to the fake GitHub served on loopback by this process with 50 ms added to every
API call. For each worker count, on a fresh schema, queue and fake GitHub:

- ``--prs`` pull requests of 3 changed files each are opened on the fake (every file adds a
  deprecated import: the check fails and posts a review with 3 comments);
- their ``pull_request.opened`` webhooks (the real payload, signed) are posted to the web
  process back to back;
- the time is taken from the first post until every PR's check run is completed (the
  fake's state, polled every 50 ms); then the jobs are let finish (their reviews) to count
  the API calls they made.

The table gives, per worker count, the seconds, the checks per minute, the API calls and
the speed-up against the first worker count. A run is stopped after ``--timeout`` seconds
(180) with a message saying how far it got. Everything is removed afterwards, also on a
failure or Ctrl-C: the processes stopped, the schema dropped, the queue's Redis keys deleted.
When PostgreSQL or Redis is unreachable the benchmark says so and exits 0 (skipped).

Usage::

    python benchmarks/bench_throughput.py --prs 20
    python benchmarks/bench_throughput.py --prs 10 --workers 1,2,3 --threads 1 --latency 0.02
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "bot"))  # the scale-out harness of the tests

import httpx  # noqa: E402
from cluster import Cluster, ClusterError, unreachable, wait_for  # noqa: E402

from bot.store import tables  # noqa: E402
from fake_github import PullRequest, Repository  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/11"
POLICY = (REPO / "examples" / "websocket-ssot.toml").read_text(encoding="utf-8")
LEGACY = "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n"
FILES_PER_PR = 3
MAX_PRS = 200


def module(name: str) -> str:
    """A plausible module of about 40 lines, unique to ``name`` (no blob cache hit)."""
    body = [f'"""Service module {name}."""', "", "from __future__ import annotations", ""]
    for n in range(12):
        body += [f"def handler_{n}(event: dict[str, object]) -> object:", "    return event", ""]
    return "\n".join(body) + "\n"


@dataclass
class Result:
    workers: int
    threads: int
    prs: int
    seconds: float  # first post -> every check run completed
    calls: int  # API calls of the jobs, to the last review
    writes: int  # of which content-creating (serialised per installation, within budget)
    installations: int
    failures: int  # check runs not concluded "failure" (every PR has a finding)
    reviews: int
    retried: int  # deliveries that took more than one attempt (back-off: 30 s, 60 s, ...)

    @property
    def per_minute(self) -> float:
        return self.prs / self.seconds * 60


def repositories(cluster: Cluster, prs: int, installations: int) -> list[Repository]:
    """One repository per installation (the first is the cluster's own, the others are new
    accounts): the policy, and 3 modules per PR (unique: no blob cache hit)."""
    files: dict[str, str | bytes | None] = {
        f"app/svc_{i}_{j}.py": module(f"{i}-{j}") for i in range(prs) for j in range(FILES_PER_PR)
    }
    files[".github/ssot.toml"] = POLICY
    files["README.md"] = "# Hello\n"
    owners = [cluster.owner] + [
        cluster.add_installation(f"tenant-{n}").account.login for n in range(1, installations)
    ]
    return [cluster.create_repo(f"repo-{cluster.tag}", files, owner=owner) for owner in owners]


def open_prs(cluster: Cluster, repos: list[Repository], prs: int) -> list[PullRequest]:
    """``prs`` pull requests, round robin over ``repos``, each adding the deprecated import to
    its 3 modules."""
    return [
        cluster.open_pr(
            repos[i % len(repos)],
            f"feature-{i}",
            {f"app/svc_{i}_{j}.py": LEGACY + module(f"{i}-{j}") for j in range(FILES_PER_PR)},
        )
        for i in range(prs)
    ]


def measure(
    workers: int,
    threads: int,
    prs: int,
    installations: int,
    latency: float,
    timeout: float,
    tmp: Path,
) -> Result:
    cluster = Cluster(tmp, postgres_url=POSTGRES, redis_url=REDIS_URL, latency=latency)
    try:
        with cluster.running():
            cluster.start_web()
            cluster.start_workers(*(f"worker-{i + 1}" for i in range(workers)), threads=threads)
            repos = repositories(cluster, prs, installations)
            pulls = open_prs(cluster, repos, prs)
            targets = [(repos[i % len(repos)], pr) for i, pr in enumerate(pulls)]
            bodies = [
                (
                    json.dumps(cluster.pr_payload("opened", repo, pr, pr.head_sha)).encode(),
                    f"bench-{cluster.tag}-{i}",
                )
                for i, (repo, pr) in enumerate(targets)
            ]
            deliveries = [delivery for _, delivery in bodies]
            heads = {pr.head_sha for pr in pulls}
            cluster.state.clear_calls()
            url = cluster.web_url + "/api/github/webhooks"

            started = time.monotonic()
            deadline = started + timeout
            with httpx.Client(timeout=10) as client:
                for body, delivery in bodies:
                    response = client.post(
                        url, content=body, headers=cluster.signed("pull_request", body, delivery)
                    )
                    if response.status_code != 202:
                        raise ClusterError(
                            f"webhook answered {response.status_code}: {response.text}"
                        )
            completed: set[str] = set()
            checked = started
            while True:
                runs = [r for repo in repos for r in cluster.state.check_runs_for(repo)]
                completed = {r.head_sha for r in runs if r.status == "completed"} & heads
                if len(completed) == len(heads):
                    break
                now = time.monotonic()
                if now > deadline:
                    raise ClusterError(
                        f"stopped after {timeout:.0f} s: {len(completed)} of {prs} check runs "
                        f"completed with {workers} worker(s) (deliveries: "
                        f"{cluster.states(deliveries)})"
                    )
                if now - checked > 1:  # a dead worker or a failed job: stop early
                    checked = now
                    cluster.alive()
                    failed = cluster.states(deliveries).get(tables.FAILED, 0)
                    if failed:
                        raise ClusterError(f"{failed} deliveries failed with {workers} worker(s)")
                time.sleep(0.05)
            seconds = time.monotonic() - started

            # Let the jobs finish (their reviews come after the check run) to count the calls.
            remaining = max(deadline - time.monotonic(), 5.0)
            wait_for(
                lambda: cluster.states(deliveries).get(tables.DONE, 0) == prs,
                remaining,
                "every delivery to be done after its check run was completed",
            )
            runs = [r for repo in repos for r in cluster.state.check_runs_for(repo)]
            return Result(
                workers=workers,
                threads=threads,
                prs=prs,
                seconds=seconds,
                calls=len(cluster.state.calls),
                writes=sum(1 for c in cluster.state.calls if c.content_creating),
                installations=installations,
                failures=sum(1 for r in runs if r.conclusion != "failure"),
                reviews=sum(
                    len(cluster.state.reviews_for(repo, pr.number)) for repo, pr in targets
                ),
                retried=cluster.retried(deliveries),
            )
    except ClusterError:
        print(cluster.logs(), file=sys.stderr)
        raise


def table(rows: list[Result]) -> str:
    head = (
        "| workers | threads each | installations | PRs | seconds | checks per minute "
        "| API calls | of which writes | reviews | jobs retried | speed-up |"
    )
    lines = [head, "|" + "---|" * 11]
    base = rows[0].per_minute if rows else 1.0
    for r in rows:
        lines.append(
            f"| {r.workers} | {r.threads} | {r.installations} | {r.prs} | {r.seconds:.2f} | "
            f"{r.per_minute:.1f} | {r.calls} | {r.writes} | {r.reviews} | {r.retried} | "
            f"{r.per_minute / base:.2f}x |"
        )
    return "\n".join(lines)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # clean up as on Ctrl-C


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prs", type=int, default=20, help=f"pull requests per run (<= {MAX_PRS})")
    parser.add_argument("--workers", default="1,2", help="worker process counts, e.g. 1,2")
    parser.add_argument(
        "--installations",
        type=int,
        default=4,
        help="accounts the PRs are spread over (4): each has GitHub's limits of its own",
    )
    parser.add_argument("--threads", type=int, default=2, help="threads per worker (default 2)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API call")
    parser.add_argument("--timeout", type=float, default=180, help="seconds per run at most")
    parser.add_argument("--keep", type=Path, help="write the processes' logs there, and keep them")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    if not 1 <= args.prs <= MAX_PRS or not counts or not all(1 <= n <= 8 for n in counts):
        parser.error(f"--prs must be 1..{MAX_PRS}, --workers counts 1..8")
    reason = unreachable(POSTGRES, REDIS_URL)
    if reason:
        print(f"SKIPPED: {reason}")
        return 0
    signal.signal(signal.SIGTERM, _terminate)

    rows: list[Result] = []
    error = ""
    with ExitStack() as stack:
        tmp = args.keep or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="ssot-bench-throughput-"))
        )
        for workers in counts:
            run_dir = tmp / f"workers-{workers}"
            run_dir.mkdir(parents=True, exist_ok=True)
            try:
                rows.append(
                    measure(
                        workers,
                        args.threads,
                        args.prs,
                        args.installations,
                        args.latency,
                        args.timeout,
                        run_dir,
                    )
                )
            except ClusterError as exc:
                error = str(exc)
                break
    print(
        f"SSOT guard App throughput: {args.prs} PRs of {FILES_PER_PR} changed files each, "
        f"{args.latency * 1000:.0f} ms per API call, web + N `ssot worker` processes "
        f"on PostgreSQL + Redis\n"
    )
    print(table(rows))
    bad = [r for r in rows if r.failures or r.reviews != r.prs]
    for r in bad:
        print(
            f"\nUNEXPECTED with {r.workers} worker(s): {r.failures} check runs not 'failure', "
            f"{r.reviews} reviews for {r.prs} PRs"
        )
    for r in rows:
        if r.retried:
            print(
                f"\nNOTE with {r.workers} worker(s): {r.retried} job(s) failed an attempt and "
                "were retried after the back-off (30 s): the seconds include it (the error is "
                "in the worker's log: --keep DIR)"
            )
    if rows and rows[0].writes:
        per_check = rows[0].writes / rows[0].prs
        print(
            f"\nContent-creating calls per check: {per_check:.1f}. GitHub's budget of 80 a minute "
            f"and 500 an hour per installation (SSOT_GITHUB_WRITES_PER_MINUTE/_PER_HOUR) caps "
            f"one installation at about {80 / per_check:.0f} checks a minute and "
            f"{500 / per_check:.0f} an hour, whatever the number of workers; more workers "
            "serve more installations at once."
        )
    if error:
        print(f"\nSTOPPED: {error}")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
