"""The engine in a child process, one per pull request, killed past its time or memory bound.

A pull request's content is chosen by its author: a file made to be slow or huge to analyse
must not hold a worker (and, through the GIL, the worker's other jobs and its lease
heartbeat) for good. So :func:`bot.checks.analysis.analyse_pull` runs the engine's calls
(``analyze`` and proving fixes) in a child process of its own, started on first use:

- the child caps its own address space (``RLIMIT_AS``, ``SSOT_ANALYSIS_MEMORY_MB``): an
  allocation past it raises ``MemoryError`` there, or the kernel kills it;
- the parent waits at most until the analysis' deadline (``SSOT_ANALYSIS_SECONDS`` from the
  first call) for each answer, then kills the child (SIGKILL: a C call holding the GIL there
  cannot refuse) and raises :class:`AnalysisLimit`;
- the parent only waits on a pipe, without the GIL, so other jobs of the worker run on.

Children are forked from a forkserver that imported the engine once, so a child starts in
milliseconds and inherits no thread, lock or connection of the worker.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import resource
import time
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

from analyzers.engine import FileResult, analyze
from analyzers.findings import Finding
from analyzers.policy import Policy

log = logging.getLogger(__name__)

STARTUP_SECONDS = 30.0
# libcst (analyzers.fix) is left out: most children never prove a fix, and it is slow to import.
_PRELOAD = ["analyzers.engine", "bot.checks.engine_process"]
_context: ForkServerContext | None = None


class AnalysisLimit(Exception):
    """The analysis of one pull request went past a bound: ``what`` is "time" or "memory"."""

    def __init__(self, what: str, bound: str) -> None:
        self.what, self.bound = what, bound
        super().__init__(f"analysis stopped: over its {what} bound ({bound})")


def _forkserver() -> ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        assert isinstance(context, ForkServerContext)
        context.set_forkserver_preload(_PRELOAD)
        _context = context
    return _context


def warm_up() -> None:
    """Start the forkserver now (a worker at start), not on the first pull request's check."""
    from multiprocessing import forkserver

    _forkserver()
    forkserver.ensure_running()


class EngineProcess:
    """The engine for one pull request's analysis, in a child process (see the module)."""

    def __init__(self, policy: Policy, *, seconds: float, memory_bytes: int) -> None:
        self.policy = policy
        self.seconds = seconds
        self.memory_bytes = memory_bytes
        self._deadline: float | None = None
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def __enter__(self) -> EngineProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def analyze(self, path: str, data: bytes) -> FileResult:
        """:func:`analyzers.engine.analyze` of one file, in the child."""
        result: FileResult = self._call("analyze", path, data)
        return result

    def attach_fixes(self, path: str, text: str, findings: list[Finding]) -> list[Finding]:
        """:func:`analyzers.fix.attach_fixes` of one file's findings, in the child."""
        fixed: list[Finding] = self._call("attach_fixes", path, text, findings)
        return fixed

    def close(self) -> None:
        """Stop the child (asked first, killed when it does not go at once)."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        if process is not None:
            process.join(timeout=1.0)
            if process.is_alive():
                process.kill()
                process.join()

    def _start(self) -> Connection:
        if self._conn is not None:
            return self._conn
        context = _forkserver()
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve, args=(child, self.policy, self.memory_bytes), daemon=True
        )
        process.start()
        child.close()
        # The child says it is ready once its limits are set: dying before that is not a
        # pull request's doing (a broken install, a main module that fails to import).
        if not parent.poll(STARTUP_SECONDS) or parent.recv() != "ready":
            process.kill()
            process.join()
            raise RuntimeError("the engine process did not start")
        self._conn, self._process = parent, process
        if self._deadline is None:
            self._deadline = time.monotonic() + self.seconds
        return parent

    def _call(self, name: str, *args: Any) -> Any:
        conn = self._start()
        assert self._deadline is not None
        try:
            conn.send((name, args))
            left = self._deadline - time.monotonic()
            ready = left > 0 and conn.poll(left)
            answer: tuple[str, Any] = conn.recv() if ready else ("late", None)
        except (EOFError, OSError):
            # The child died: the kernel's answer to an allocation past RLIMIT_AS.
            self._kill()
            raise AnalysisLimit("memory", f"{self.memory_bytes // 2**20:,} MB") from None
        if not ready:
            self._kill()
            raise AnalysisLimit("time", f"{self.seconds:g} s")
        kind, value = answer
        if kind == "memory":
            self._kill()
            raise AnalysisLimit("memory", f"{self.memory_bytes // 2**20:,} MB")
        if kind == "error":
            raise RuntimeError(f"engine process: {value}")
        return value

    def _kill(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is not None:
            process.kill()
            process.join()
        if conn is not None:
            conn.close()


def _serve(conn: Connection, policy: Policy, memory_bytes: int) -> None:
    """The child: cap the address space, then answer calls until told to stop."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    conn.send("ready")

    def attach_fixes(path: str, text: str, findings: list[Finding]) -> list[Finding]:
        from analyzers.fix import attach_fixes

        return attach_fixes(path, text, findings, policy)

    calls: dict[str, Any] = {
        "analyze": lambda path, data: analyze(path, data, policy),
        "attach_fixes": attach_fixes,
    }
    while True:
        request = conn.recv()
        if request is None:
            return
        name, args = request
        try:
            conn.send(("ok", calls[name](*args)))
        except MemoryError:
            conn.send(("memory", None))
            return
        except Exception as exc:  # a bug of the engine: the parent raises it
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
