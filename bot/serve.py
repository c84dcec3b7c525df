"""``ssot serve`` (the web app, plus a job consumer in a child process) and ``ssot worker``.

Huey's consumer installs signal handlers, so it must run in the main thread of its own
process: ``ssot serve`` starts ``python -m bot.worker`` beside uvicorn, restarts it should it
die, and stops it (gracefully, then by force) when the server stops. The child also stops on
its own when ``ssot serve`` is killed, so no orphan consumer is left behind.
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
from types import FrameType

from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("bot.serve")

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
WORKER_STOP_TIMEOUT = 40.0  # the consumer's own graceful shutdown waits 30 s for jobs
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)


class WorkerProcess:
    """The job consumer as a child process (``python -m bot.worker``), kept alive."""

    def __init__(self, workers: int | None = None) -> None:
        self._workers = workers
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
        # Its own session: a Ctrl-C reaches only us, and we stop it in order.
        return subprocess.Popen(command, start_new_session=True)

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
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )
    args = _parse(parser, argv)
    if isinstance(args, int):
        return args
    settings = _settings("serve")
    if settings is None:
        return EXIT_USAGE
    _configure_logging(args.log_level)

    import uvicorn

    from bot import store
    from bot.web import create_app

    # Create the tables before the consumer process starts, so the two do not race.
    store.open_database(settings.database_url).dispose()
    worker = WorkerProcess() if args.role == "all" else None
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host=args.host, port=args.port, log_level=args.log_level
        )
    )
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
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )
    parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    args = _parse(parser, argv)
    if isinstance(args, int):
        return args
    settings = _settings("worker")
    if settings is None:
        return EXIT_USAGE
    _configure_logging(args.log_level)

    from bot import store
    from bot.jobs import JobQueue

    engine = store.open_database(settings.database_url)
    try:
        JobQueue(settings, engine).run_consumer(workers=args.workers, parent_pid=args.parent_pid)
    except KeyboardInterrupt:
        pass  # stopped while starting, before the consumer took over SIGINT
    finally:
        engine.dispose()
    return EXIT_OK
