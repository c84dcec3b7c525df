"""One function over a few shares of work: the first share here, each other one in a forked
child, all at once; the results gathered in order.

A scan's shares are known before it starts, and each child computes one share and sends its
result once, so it needs none of what a pool of processes fed through queues does. And that
pool costs: importing, starting and stopping concurrent.futures' ProcessPoolExecutor for one
child took 27 ms against 5 ms for this (benchmarks/bench_forkjoin.py; the figures and the
machine are in benchmarks/README.md), serial time `--jobs 1` never paid, and its queues and
result thread cost CPU while the scan runs. What the pool gave that matters is kept here:
an exception in a child is raised in the caller, a child that dies is an error, and no child
outlives the call (Ctrl-C included).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import NoReturn, TypeVar, cast

S = TypeVar("S")
R = TypeVar("R")


class ChildFailed(RuntimeError):
    """A forked child raised (its traceback is the message) or died before answering."""


def run(fn: Callable[[S], R], shares: Sequence[S]) -> list[R]:
    """``[fn(share) for share in shares]``: ``shares[0]`` in this process, every other share in
    a child forked for it, all at the same time. Raises :class:`ChildFailed` for a child."""
    children: dict[int, int] = {}  # pid -> the read end of its pipe, until reaped
    try:
        for share in shares[1:]:
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                _answer(fn, share, write)
            os.close(write)
            children[pid] = read
        results = [fn(shares[0])] if shares else []
        for pid, read in list(children.items()):
            payload = _read_all(read)
            os.close(read)
            _, status = os.waitpid(pid, 0)
            del children[pid]
            results.append(cast(R, _result(pid, payload, status)))
        return results
    finally:
        for pid, read in children.items():  # only after an error: stop and reap the others
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.close(read)
            os.waitpid(pid, 0)


def _answer(fn: Callable[[S], R], share: S, fd: int) -> NoReturn:
    """In the child: send ``fn(share)``, or the traceback of what it raised, and exit at once
    (``os._exit``: no atexit handler, no flush of the parent's buffers a second time)."""
    code = 0
    try:
        try:
            payload = pickle.dumps((True, fn(share)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # raised in the parent instead
            import traceback

            payload = pickle.dumps((False, "".join(traceback.format_exception(exc))))
            code = 1
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
    except BaseException:  # the parent is gone or stopped us: nobody to tell
        code = 2
    finally:
        os._exit(code)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _result(pid: int, payload: bytes, status: int) -> object:
    """What a child sent, or :class:`ChildFailed` for what it raised or how it died."""
    if not payload:
        code = os.waitstatus_to_exitcode(status)
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        raise ChildFailed(f"worker process {pid} died ({how}) before sending its results")
    ok, value = pickle.loads(payload)
    if not ok:
        raise ChildFailed(f"worker process {pid} failed:\n{value}")
    return value
