"""One function over many items: in this process and in forked children, all at once, each
process taking the next chunk of items as soon as it is done with one; the results gathered
in the items' order.

A scan knows its files before it starts, and each child sends its results once, so it needs
none of what a pool of processes fed through queues does. And that pool costs: importing,
starting and stopping concurrent.futures' ProcessPoolExecutor for one child took 27 ms
against 5 ms for this (benchmarks/bench_forkjoin.py; the figures and the machine are in
benchmarks/README.md), serial time `--jobs 1` never paid, and its queues and result thread
cost CPU while the scan runs. What the pool gave that matters is kept here: an exception in a
child is raised in the caller, a child that dies is an error, and no child outlives the call
(Ctrl-C included).

The chunks are handed out through a pipe, written whole before the first fork: each process
reads the next chunk's number from it (one small read, which the pipe gives whole to one
reader) until it is empty. Fixed shares cost the scan their imbalance: on a real tree the
last process finished 5-120 ms after the first (benchmarks/timeline_scan.py), while now the
last one to finish is at most one small chunk behind.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import NoReturn, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")

# A chunk's number is 2 bytes and every number is written before the first fork, in one
# write no larger than the smallest pipe buffer (a page): it can neither block nor be split.
_TOKEN = 2
MAX_CHUNKS = 4096 // _TOKEN
# Chunks small enough that the last process is at most a few milliseconds behind, and
# many per process so that slow and fast files even out; a claim costs one read(2).
CHUNKS_PER_PROCESS = 64
LARGEST_CHUNK = 32


class ChildFailed(RuntimeError):
    """A forked child raised (its traceback is the message) or died before answering."""


def chunk_size(items: int, processes: int) -> int:
    """How many items each claim takes, for ``items`` items over ``processes`` processes."""
    wanted = min(LARGEST_CHUNK, max(1, items // (processes * CHUNKS_PER_PROCESS)))
    return max(wanted, -(-items // MAX_CHUNKS))


def run(fn: Callable[[T], R], items: Sequence[T], processes: int) -> list[R]:
    """``[fn(item) for item in items]``, computed by this process and ``processes - 1``
    children forked for the call, each taking chunks of ``items`` until none is left.
    Raises :class:`ChildFailed` for a child that raised or died."""
    if processes <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    size = chunk_size(len(items), processes)
    chunks = -(-len(items) // size)
    claims, write = os.pipe()
    try:
        os.write(write, b"".join(k.to_bytes(_TOKEN, "little") for k in range(chunks)))
    finally:
        os.close(write)  # so that an empty pipe reads as its end, in every process

    def work() -> list[tuple[int, list[R]]]:
        done = []
        while token := os.read(claims, _TOKEN):
            start = int.from_bytes(token, "little") * size
            done.append((start, [fn(item) for item in items[start : start + size]]))
        return done

    children: dict[int, int] = {}  # pid -> the read end of its pipe, until reaped
    try:
        for _ in range(processes - 1):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                _answer(work, write)
            os.close(write)
            children[pid] = read
        parts = work()
        for pid, read in list(children.items()):
            payload = _read_all(read)
            os.close(read)
            _, status = os.waitpid(pid, 0)
            del children[pid]
            parts.extend(cast("list[tuple[int, list[R]]]", _result(pid, payload, status)))
    finally:
        os.close(claims)
        for pid, read in children.items():  # only after an error: stop and reap the others
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.close(read)
            os.waitpid(pid, 0)
    parts.sort(key=lambda part: part[0])
    results = [result for _, part in parts for result in part]
    if len(results) != len(items):  # a claim lost: a bug here, never a partial answer
        raise ChildFailed(f"{len(results)} results for {len(items)} items")
    return results


def _answer(work: Callable[[], object], fd: int) -> NoReturn:
    """In the child: send what ``work()`` returns, or the traceback of what it raised, and
    exit at once (``os._exit``: no atexit handler, no flush of the parent's buffers a second
    time)."""
    code = 0
    try:
        try:
            payload = pickle.dumps((True, work()), protocol=pickle.HIGHEST_PROTOCOL)
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
