"""``ssot serve`` (the web app, plus a job consumer in a child process) and ``ssot worker``.

Huey's consumer installs signal handlers, so it must run in the main thread of its own
process: ``ssot serve`` starts ``python -m bot.worker`` beside uvicorn, restarts it should it
die, and stops it (gracefully, then by force) when the server stops. The child also stops on
its own when ``ssot serve`` is killed, so no orphan consumer is left behind.

Scale-out: ``ssot serve --role web`` (webhooks only) and ``ssot worker`` (jobs only), any
number of each, on the same settings (``SSOT_DATABASE_URL=postgresql+psycopg://...``,
``SSOT_REDIS_URL=redis://...``). Both log JSON lines (bot.ops.logs) and check the
database schema at start (bot.store.migrate): an embedded SQLite file is migrated, a server
database must have been migrated with ``ssot migrate``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from bot.checks import engine_process
from bot.ops.settings import Settings, SettingsError, load_settings

log = logging.getLogger("bot.serve")

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
WORKER_STOP_TIMEOUT = 40.0  # the consumer's own graceful shutdown waits 30 s for jobs
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("json", "text")
METRICS_DIR = "metrics"  # under SSOT_DATA_DIR: the worker's counters, read by the web's /metrics


def _settings(command: str) -> Settings | None:
    try:
        return load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"ssot {command}: error: {problem}", file=sys.stderr)
        return None


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace | int:
    try:
        return parser.parse_args(list(argv))
    except SystemExit as exc:  # --help, or a usage error argparse has printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE


def _add_logging_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    parser.add_argument(
        "--log-format",
        default="json",
        choices=LOG_FORMATS,
        help="json: one object per line, for log collectors (default); text: for people",
    )


def _configure_logging(args: argparse.Namespace, settings: Settings) -> None:
    from bot.ops.logs import configure_logging

    configure_logging(args.log_level, log_format=args.log_format, settings=settings)


def _share_metrics_with_children(settings: Settings) -> None:
    """Let the worker child's counters show on this process's /metrics (prometheus_client's
    multiprocess mode). Must happen before prometheus_client is imported: it decides then."""
    if "prometheus_client" in sys.modules or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    directory = Path(settings.data_dir) / METRICS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # an earlier run's counters
        stale.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory.resolve())


def _prepare_database(settings: Settings, command: str) -> bool:
    """Migrate an embedded SQLite database; check a server one. False: do not start."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.store import db, migrate

    engine = db.create_engine(settings.database_url)
    try:
        status = migrate.ensure_schema(engine)
        log.info("database: %s", status.describe())
    except migrate.SchemaNotCurrent as exc:
        print(f"ssot {command}: error: SSOT_DATABASE_URL: {exc}", file=sys.stderr)
        return False
    except SQLAlchemyError as exc:
        if engine.dialect.name == "sqlite":
            raise
        # Start anyway: /readyz says not ready until the database answers.
        log.warning("database unreachable at start (%s); will keep trying", type(exc).__name__)
    finally:
        engine.dispose()
    return True


class WorkerProcess:
    """The job consumer as a child process (``python -m bot.worker``), kept alive."""

    def __init__(self, workers: int | None = None, *, extra_args: Sequence[str] = ()) -> None:
        self._workers = workers
        self._extra_args = list(extra_args)
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._monitor: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def _spawn(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "bot.worker", "--parent-pid", str(os.getpid())]
        if self._workers:
            command += ["--workers", str(self._workers)]
        command += self._extra_args
        # Started with SIGINT blocked (a signal mask survives exec), which the child unblocks
        # once it holds the signal (bot.jobs.early_stop): a stop sent while Python starts
        # would otherwise raise where it can be lost.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            # Its own session: a Ctrl-C reaches only us, and we stop it in order.
            return subprocess.Popen(command, start_new_session=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def start(self) -> None:
        with self._lock:
            self._process = self._spawn()
        log.info("job consumer started (pid %s)", self._process.pid)
        self._monitor = threading.Thread(
            target=self._keep_alive, name="worker-monitor", daemon=True
        )
        self._monitor.start()

    def _keep_alive(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            process = self._process
            assert process is not None
            code = process.wait()
            if self._stopping.is_set():
                return
            log.warning("job consumer exited with %s; restarting in %.0f s", code, delay)
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, 30.0)
            with self._lock:
                if self._stopping.is_set():
                    return
                self._process = self._spawn()

    def stop(self, timeout: float = WORKER_STOP_TIMEOUT) -> int | None:
        """Stop the consumer: SIGINT (jobs finish), then SIGTERM, then SIGKILL."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                process.send_signal(sig)
                return process.wait(wait)
            except subprocess.TimeoutExpired:
                log.warning("job consumer still running after %s", signal.Signals(sig).name)
            except ProcessLookupError:
                break
        return process.poll()


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_command(argv: list[str]) -> int:
    """``ssot serve``: the App on uvicorn, with its job consumer in a child process."""
    parser = argparse.ArgumentParser(
        prog="ssot serve",
        description="Run the GitHub App: webhooks, setup page and (by default) the job worker. "
        "Settings come from SSOT_* environment variables and .env.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    parser.add_argument(
        "--role",
        choices=("all", "web"),
        default="all",
        help="all: web and job consumer (default); web: only the web app (run `ssot worker` elsewhere)",
    )
    _add_logging_options(parser)
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="also log every HTTP request (each webhook delivery is logged either way)",
    )
    args = _parse(parser, argv)
    if isinstance(args, int):
        return args
    settings = _settings("serve")
    if settings is None:
        return EXIT_USAGE
    if args.role == "all":
        _share_metrics_with_children(settings)
    _configure_logging(args, settings)

    import uvicorn

    from bot.web.app import create_app

    # Migrate (or check) before the consumer process starts, so the two do not race.
    if not _prepare_database(settings, "serve"):
        return EXIT_USAGE
    worker = (
        WorkerProcess(extra_args=["--log-level", args.log_level, "--log-format", args.log_format])
        if args.role == "all"
        else None
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            log_config=None,  # our handler (JSON, redacted) takes uvicorn's records too
            access_log=args.access_log,
        )
    )
    # Started as a shell's background job (`ssot serve &`), SIGINT is ignored, and an
    # ignored signal stays ignored in the job consumer we spawn: SIGINT is how we stop it
    # gracefully. Its default here (uvicorn installs its own while it runs).
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # uvicorn re-raises the signal that stopped it; make SIGTERM land in our `finally` too.
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        if worker is not None:
            worker.start()
        if not settings.has_credentials:
            log.info(
                "no App credentials: open http://%s:%s/ to create the App", args.host, args.port
            )
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            worker.stop()
        signal.signal(signal.SIGTERM, previous)
    return EXIT_OK if server.started else EXIT_ERROR


def worker_command(argv: list[str]) -> int:
    """``ssot worker``: only the job consumer, in this process's main thread."""
    parser = argparse.ArgumentParser(
        prog="ssot worker",
        description="Run the job consumer (SIGINT: finish running jobs and stop).",
    )
    parser.add_argument("--workers", type=int, help="worker threads (default: SSOT_WORKERS, 2)")
    parser.add_argument(
        "--metrics-port",
        type=int,
        help="serve this worker's Prometheus metrics on this port (e.g. 9100)",
    )
    parser.add_argument(
        "--metrics-host", default="0.0.0.0", help="address of --metrics-port (default: 0.0.0.0)"
    )
    _add_logging_options(parser)
    parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    args = _parse(parser, argv)
    if isinstance(args, int):
        return args
    settings = _settings("worker")
    if settings is None:
        return EXIT_USAGE
    _configure_logging(args, settings)
    from bot.jobs import early_stop

    # A Ctrl-C or a stop from `ssot serve` while starting is kept for the consumer, which
    # then stops gracefully (raised here, it could be lost: see early_stop).
    previous = signal.getsignal(signal.SIGINT)
    early_stop.hold_sigint()
    try:
        return _run_worker(args, settings)
    finally:
        if previous is not None:  # None: a handler not set from Python, which we cannot restore
            signal.signal(signal.SIGINT, previous)


def _run_worker(args: argparse.Namespace, settings: Settings) -> int:
    if args.parent_pid is None and not _prepare_database(settings, "worker"):
        return EXIT_USAGE

    from bot.jobs.queue import JobQueue
    from bot.ops import metrics
    from bot.store import db

    if args.metrics_port is not None:
        metrics.serve_metrics(args.metrics_port, args.metrics_host)
    engine = db.create_engine(settings.database_url)
    try:
        # Pull requests are analysed in children of a forkserver (bot.checks.engine_process):
        # start it now, before the first check waits for it.
        engine_process.warm_up()
        JobQueue(settings, engine).run_consumer(workers=args.workers, parent_pid=args.parent_pid)
    except KeyboardInterrupt:
        pass  # a second SIGINT during the graceful stop: Huey stops at once, as asked
    finally:
        engine.dispose()
    return EXIT_OK
