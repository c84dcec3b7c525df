"""Benchmark webhook ingest: deliveries accepted per second and p99 time to the 2xx.

The real App (``ssot serve --role web``: uvicorn, the real route, store and queue) serves on
127.0.0.1; a load generator in another process (an httpx async client) posts GitHub's real
payloads from ``shared/fixtures/github-webhooks/``, each signed with the webhook secret and
with a delivery id of its own, and records the time from sending each request to its 2xx.
Two set-ups, chosen by settings alone as in production:

- embedded: SQLite (``<data_dir>/ssot.db``) and Huey on SQLite (``<data_dir>/jobs.db``);
- scale-out: PostgreSQL (database ``test``, a schema of its own, migrated with
  ``ssot migrate``) and Huey on Redis.

Each set-up is measured twice, after a warm-up:

1. capacity: ``--concurrency`` requests in flight at all times (closed loop), ``--count``
   deliveries: how many per second the App accepts at most;
2. latency at the target rate: delivery i is due at i / ``--rate`` seconds (open loop, on
   ``--concurrency`` connections) and its time to the 2xx counts from when it was due, so
   that a slow answer cannot hide the waiting of the ones behind it: p50/p99.

Target: at least 500 deliveries per second, p99 under 100 ms at 500 per second. No job
consumer runs (jobs wait in the queue): this measures what GitHub waits for. Every request
loop is bounded by ``--count`` and by ``--max-seconds``; traffic goes to 127.0.0.1 only.

Usage::

    python benchmarks/bench_ingest.py                     # both set-ups, 5,000 deliveries each
    python benchmarks/bench_ingest.py --count 1000 --only embedded
    python benchmarks/bench_ingest.py --profile embedded  # py-spy-free: cProfile of the server
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

WEBHOOKS = Path(
    os.environ.get("SSOT_WEBHOOK_FIXTURES", REPO.parent / "shared" / "fixtures" / "github-webhooks")
)
SECRET = "bench webhook secret"
FAKE_PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\\nMIIBOgIBAAJBAKj34GkxFhD9\\n-----END RSA PRIVATE KEY-----"
)
POSTGRES = os.environ.get(
    "SSOT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("SSOT_BENCH_REDIS", "redis://127.0.0.1:6379/11")
TARGET_RATE = 500.0
TARGET_P99_MS = 100.0

# (event, fixture, weight): what an App on busy repositories receives, handled ones first.
MIX: list[tuple[str, str, int]] = [
    ("pull_request", "pull_request/synchronize.payload.json", 4),
    ("pull_request", "pull_request/opened.payload.json", 2),
    ("issue_comment", "issue_comment/created.with-installation.payload.json", 2),
    ("check_run", "check_run/rerequested.payload.json", 1),
    ("push", "push/with-installation.payload.json", 2),
    ("pull_request", "pull_request/labeled.payload.json", 1),  # ignored: no handler
    ("check_suite", "check_suite/requested.payload.json", 1),  # ignored: no handler
]


# --- the load generator (runs in its own process: `bench_ingest.py --generate ...`) -----------


def _sign(body: bytes) -> str:
    import hashlib
    import hmac

    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def _requests(count: int, seed: int) -> list[tuple[dict[str, str], bytes]]:
    """``count`` signed requests (headers, body) with unique delivery ids, built before timing."""
    rng = random.Random(seed)
    bodies = [(event, (WEBHOOKS / name).read_bytes()) for event, name, _ in MIX]
    weights = [weight for _, _, weight in MIX]
    signed = [(event, body, _sign(body)) for event, body in bodies]
    out = []
    for _ in range(count):
        event, body, signature = rng.choices(signed, weights)[0]
        headers = {
            "content-type": "application/json",
            "x-github-event": event,
            "x-github-delivery": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "x-hub-signature-256": signature,
            "user-agent": "GitHub-Hookshot/bench",
        }
        out.append((headers, body))
    return out


async def _load(
    url: str, mode: str, count: int, concurrency: int, rate: float, max_seconds: float, seed: int
) -> dict[str, Any]:
    import importlib.util

    if importlib.util.find_spec("sniffio") is None:
        # httpcore tries `import sniffio` on every request; a module that is not installed is
        # searched for on sys.path each time (about 10 per request). None: fail at once.
        sys.modules["sniffio"] = None  # type: ignore[assignment]
    import httpx

    requests = _requests(count, seed)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []
    # httpcore scans every connection of a pool for each request: several small pools cost
    # far less than one pool of `concurrency` connections.
    per_client = 4
    clients = [
        httpx.AsyncClient(
            limits=httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client),
            timeout=30.0,
        )
        for _ in range(max(1, concurrency // per_client))
    ]
    async with contextlib.AsyncExitStack() as stack:
        for client in clients:
            await stack.enter_async_context(client)
        # Built before the clock starts: what is timed is sending and answering.
        built = [
            clients[i % len(clients)].build_request("POST", url, content=body, headers=headers)
            for i, (headers, body) in enumerate(requests)
        ]

        async def send(index: int, since: float | None = None) -> None:
            client = clients[index % len(clients)]
            started = time.perf_counter() if since is None else since
            try:
                response = await client.send(built[index])
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                return
            latencies.append(time.perf_counter() - started)
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1

        began = time.perf_counter()
        deadline = began + max_seconds
        queue = iter(range(len(built)))

        async def closed_worker() -> None:
            for index in queue:
                if time.perf_counter() > deadline:
                    return
                await send(index)

        async def scheduled_worker() -> None:
            # Request i is due at began + i / rate, whatever happened before it; its latency
            # counts from that moment, so a slow answer delays the next sends without hiding
            # their waiting (no "coordinated omission").
            for index in queue:
                due = began + index / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if time.perf_counter() > deadline:
                    return
                await send(index, since=due)

        worker = closed_worker if mode == "closed" else scheduled_worker
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    accepted = sum(n for status, n in statuses.items() if status.startswith("2"))
    return {
        "sent": len(latencies) + len(errors),
        "accepted": accepted,
        "statuses": statuses,
        "errors": len(errors),
        "seconds": elapsed,
        "latencies": latencies,
    }


def generate_main(argv: Sequence[str]) -> int:
    """``--generate``: run one load and print its result as JSON (the parent reads it)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=("closed", "open"), required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--max-seconds", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(
        _load(
            args.url,
            args.mode,
            args.count,
            args.concurrency,
            args.rate,
            args.max_seconds,
            args.seed,
        )
    )
    print(json.dumps(result))
    return 0


# --- the server and the measurements --------------------------------------------------------


@dataclass
class Measurement:
    setup: str
    phase: str
    sent: int
    accepted: int
    seconds: float
    latencies: list[float] = field(repr=False)
    statuses: dict[str, int]
    errors: int
    server_cpu: float = 0.0  # CPU seconds the server process used during the load

    @property
    def cpu_ms(self) -> float:
        """Server CPU milliseconds per delivery."""
        return 1000 * self.server_cpu / self.sent if self.sent else float("nan")

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ssot(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from analyzers.cli import main; sys.exit(main())",
        *args,
    ]


class Server:
    """``ssot serve --role web`` in a process of its own, on settings given by environment."""

    def __init__(self, env: dict[str, str], workdir: Path, profile: Path | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        arguments = ["serve", "--role", "web", "--port", str(self.port)]  # logs at info, to a file
        command = _ssot(*arguments)
        if profile is not None:  # stopped by SIGINT, uvicorn returns and the stats are written
            code = f"import cProfile; from analyzers.cli import main; cProfile.run('main()', {str(profile)!r})"
            command = [sys.executable, "-c", code, *arguments]
        self.log = (workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            command, env=env, cwd=workdir, stdout=self.log, stderr=self.log
        )

    def cpu_seconds(self) -> float:
        """User and system CPU time of the server process so far (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_ready(self, timeout: float = 60.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited ({self.process.returncode}): see {self.log.name}"
                )
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not become ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def _run_load(
    server: Server,
    setup: str,
    phase: str,
    mode: str,
    count: int,
    args: argparse.Namespace,
    seed: int,
) -> Measurement:
    command = [
        sys.executable, str(Path(__file__).resolve()), "--generate",
        "--url", server.url + "/api/github/webhooks", "--mode", mode, "--count", str(count),
        "--concurrency", str(args.concurrency), "--rate", str(args.rate),
        "--max-seconds", str(args.max_seconds), "--seed", str(seed),
    ]  # fmt: skip
    cpu_before = server.cpu_seconds()
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.max_seconds + 120)
    server_cpu = server.cpu_seconds() - cpu_before
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Measurement(
        setup, phase, result["sent"], result["accepted"], result["seconds"],
        result["latencies"], result["statuses"], result["errors"], server_cpu,
    )  # fmt: skip


def _postgres_schema() -> tuple[str, str] | None:
    import sqlalchemy as sa

    schema = f"ssot_bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(POSTGRES, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        print(f"scale-out skipped: PostgreSQL not reachable at {POSTGRES}: {exc}", file=sys.stderr)
        return None
    finally:
        engine.dispose()
    return schema, f"{POSTGRES}?options=-csearch_path%3D{schema}"


def _drop_schema(schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def _redis_ok() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except Exception as exc:
        print(f"scale-out skipped: Redis not reachable at {REDIS}: {exc}", file=sys.stderr)
        return False
    return True


def _flush_queue(env: dict[str, str]) -> None:
    from huey import RedisHuey

    RedisHuey(env["SSOT_QUEUE_NAME"], url=env["SSOT_REDIS_URL"], results=False).flush()


def measure_setup(setup: str, args: argparse.Namespace, workdir: Path) -> list[Measurement]:
    """Start the App for ``setup``, warm it up, and take the two measurements."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SSOT_", "PROMETHEUS"))}
    env.update(
        SSOT_APP_ID="1",
        SSOT_PRIVATE_KEY=FAKE_PEM,
        SSOT_WEBHOOK_SECRET=SECRET,
        SSOT_DATA_DIR=str(workdir / "data"),
        PYTHONPATH=str(REPO),
    )
    schema = None
    if setup == "scale-out":
        if not _redis_ok():
            return []
        created = _postgres_schema()
        if created is None:
            return []
        schema, url = created
        # A queue of its own: the benchmark never touches a deployment's jobs on this Redis.
        queue = f"ssot-bench-ingest-{os.getpid()}"
        env.update(SSOT_DATABASE_URL=url, SSOT_REDIS_URL=REDIS, SSOT_QUEUE_NAME=queue)
        migrated = subprocess.run(_ssot("migrate"), env=env, cwd=workdir, capture_output=True)
        if migrated.returncode != 0:
            raise RuntimeError(migrated.stderr.decode())
        _flush_queue(env)
    profile = workdir / "server.prof" if args.profile == setup else None
    server = Server(env, workdir, profile)
    try:
        server.wait_ready()
        _run_load(server, setup, "warm-up", "closed", min(500, args.count), args, seed=1)
        capacity = _run_load(server, setup, "capacity", "closed", args.count, args, seed=2)
        at_rate = _run_load(server, setup, f"at {args.rate:g}/s", "open", args.count, args, seed=3)
    finally:
        server.stop()
        if schema is not None:
            _flush_queue(env)
            _drop_schema(schema)
    if profile is not None and profile.exists():
        import pstats

        print(f"\n--- cProfile of the {setup} server (cumulative, top 35) ---")
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(35)
    return [capacity, at_rate]


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"
    )


def report(results: list[Measurement], args: argparse.Namespace) -> bool:
    """Print the table; True when every target is met."""
    print(f"\nwebhook ingest on {_machine()}")
    print(f"payload mix: {', '.join(f'{n} x{w}' for _, n, w in MIX)}; concurrency "
          f"{args.concurrency} (capacity), {args.rate:g}/s (latency)")  # fmt: skip
    print("cpu ms: the server's CPU time per delivery (all its threads)")
    header = f"{'setup':<10} {'phase':<12} {'sent':>6} {'2xx':>6} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'cpu ms':>7}  statuses"
    print(header)
    print("-" * len(header))
    for m in results:
        print(
            f"{m.setup:<10} {m.phase:<12} {m.sent:>6} {m.accepted:>6} {m.rate:>8.0f} "
            f"{m.percentile(50):>8.1f} {m.percentile(99):>8.1f} {m.percentile(100):>8.1f} "
            f"{m.cpu_ms:>7.2f}  "
            f"{m.statuses}{f' errors={m.errors}' if m.errors else ''}"
        )
    print()
    ok = True
    for setup in dict.fromkeys(m.setup for m in results):
        capacity, at_rate = [m for m in results if m.setup == setup]
        rate_ok = capacity.rate >= TARGET_RATE and capacity.accepted == capacity.sent
        # At the target rate the App must keep up (all accepted, within 5% of the schedule).
        kept_up = at_rate.accepted == at_rate.sent and at_rate.rate >= 0.95 * args.rate
        p99_ok = at_rate.percentile(99) < TARGET_P99_MS and kept_up
        ok = ok and rate_ok and p99_ok
        print(f"{setup:<10} accepted/s {capacity.rate:>6.0f}  (target >= {TARGET_RATE:.0f})   "
              f"{'PASS' if rate_ok else 'MISS'}")  # fmt: skip
        print(f"{setup:<10} p99 at {args.rate:g}/s {at_rate.percentile(99):>6.1f} ms (target < "
              f"{TARGET_P99_MS:.0f} ms)  {'PASS' if p99_ok else 'MISS'}")  # fmt: skip
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["--generate"]:
        return generate_main(raw[1:])
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--count", type=int, default=5000, help="deliveries per measurement (default 5000)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="requests in flight, capacity run (default 32)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGET_RATE,
        help="deliveries per second, latency run (default 500)",
    )
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="time bound of each load (default 60)"
    )
    parser.add_argument("--only", choices=("embedded", "scale-out"), help="measure one set-up")
    parser.add_argument(
        "--profile", choices=("embedded", "scale-out"), help="cProfile that set-up's server"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (logs, databases)"
    )
    args = parser.parse_args(raw)
    if not WEBHOOKS.is_dir():
        print(f"missing webhook fixtures at {WEBHOOKS}", file=sys.stderr)
        return 2
    workroot = Path(tempfile.mkdtemp(prefix="ssot-bench-ingest-"))
    results: list[Measurement] = []
    try:
        for setup in ("embedded", "scale-out"):
            if args.only and setup != args.only:
                continue
            workdir = workroot / setup
            workdir.mkdir()
            results += measure_setup(setup, args, workdir)
    finally:
        if args.keep:
            print(f"work folder kept: {workroot}")
        else:
            shutil.rmtree(workroot, ignore_errors=True)
    if not results:
        print("nothing measured", file=sys.stderr)
        return 2
    return 0 if report(results, args) else 1


if __name__ == "__main__":
    sys.exit(main())
