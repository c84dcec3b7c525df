"""One function over many items: in this process and in forked children, all at once, each
process taking the next chunk of items as soon as it is done with one; the results gathered
in the items' order.

A scan knows its files before it starts, and each child sends its results down one pipe, so
it needs none of what a pool of processes fed through queues does. And that pool costs:
importing, starting and stopping concurrent.futures' ProcessPoolExecutor for one child took
27 ms against 5 ms for this (benchmarks/bench_forkjoin.py; the figures and the machine are in
benchmarks/README.md), serial time `--jobs 1` never paid, and its queues and result thread
cost CPU while the scan runs. What the pool gave that matters is kept here: an exception in a
child is raised in the caller, a child that dies is an error, and no child outlives the call
(Ctrl-C included).

The chunks are handed out through a pipe, written whole before the first fork: each process
reads the next chunk's number from it (one small read, which the pipe gives whole to one
reader) until it is empty. Fixed shares cost the scan their imbalance: on a real tree the
last process finished 14-52 ms after the first (benchmarks/timeline_scan.py). A child sends
each chunk's results as soon as they are made, and this process takes them in between its
own chunks: pickling and unpickling them all at the end was serial time (7 ms on that tree,
benchmarks/profile_scan.py).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn, TypeVar

from analyzers.pipes import widen

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
# A child's messages: each is its length (8 bytes) and a pickled tuple, the first item one of
_PART, _FAILED, _DONE = 0, 1, 2  # (_PART, start, results) | (_FAILED, traceback) | (_DONE,)
_LENGTH = 8


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
    parts: dict[int, list[R]] = {}

    def chunks_claimed() -> Iterator[int]:
        while token := os.read(claims, _TOKEN):
            yield int.from_bytes(token, "little") * size

    children: list[_Child] = []
    try:
        for _ in range(processes - 1):
            read, write = os.pipe()
            widen(write)  # a child that fills it would wait for this busy process
            pid = os.fork()
            if pid == 0:
                os.close(read)
                _serve(fn, items, size, chunks_claimed(), write)
            os.close(write)
            children.append(_Child(pid, read))
        for start in chunks_claimed():
            parts[start] = [fn(item) for item in items[start : start + size]]
            for child in children:
                child.take(parts, wait=False)
        for child in children:
            child.take(parts, wait=True)
            child.reap()
    finally:
        os.close(claims)
        for child in children:  # only after an error: stop and reap the others
            child.kill()
    results = [result for start in sorted(parts) for result in parts[start]]
    if len(results) != len(items):  # a claim lost: a bug here, never a partial answer
        raise ChildFailed(f"{len(results)} results for {len(items)} items")
    return results


class _Child:
    """A forked child as this process sees it: its pipe, and what came down it so far."""

    def __init__(self, pid: int, read: int) -> None:
        self.pid, self.read = pid, read
        self.pending = b""
        self.done = False
        self.reaped = False
        os.set_blocking(read, False)  # read between chunks: whatever has come, no waiting

    def take(self, parts: dict[int, list[R]], *, wait: bool) -> None:
        """Move the child's finished chunks into ``parts``: those that have come (one read:
        a child that keeps sending must not keep this process from its own chunks), or with
        ``wait`` all of them, until it is done. Raises :class:`ChildFailed` for what it
        raised, or if it died before it was done."""
        if self.done:
            return
        if wait:
            os.set_blocking(self.read, True)
        while not self.done:
            try:
                data = os.read(self.read, 1 << 20)
            except BlockingIOError:
                return
            if not data:
                raise ChildFailed(
                    f"worker process {self.pid} died ({self._how()}) before sending its results"
                )
            self.pending += data
            self._unpack(parts)
            if not wait:
                return

    def _unpack(self, parts: dict[int, list[R]]) -> None:
        """Each whole message received so far: a chunk's results, a failure, or the end."""
        while len(self.pending) >= _LENGTH:
            length = int.from_bytes(self.pending[:_LENGTH], "little")
            if len(self.pending) < _LENGTH + length:
                return
            message = pickle.loads(self.pending[_LENGTH : _LENGTH + length])
            self.pending = self.pending[_LENGTH + length :]
            if message[0] == _PART:
                parts[message[1]] = message[2]
            elif message[0] == _FAILED:
                raise ChildFailed(f"worker process {self.pid} failed:\n{message[1]}")
            else:
                self.done = True
                return

    def reap(self) -> None:
        """Wait for the child to exit (it has sent everything)."""
        os.close(self.read)
        self.read = -1
        if not self.reaped:
            os.waitpid(self.pid, 0)
            self.reaped = True

    def kill(self) -> None:
        """Stop and reap the child, and close its pipe, where not done already."""
        if self.read != -1:
            os.close(self.read)
            self.read = -1
        if not self.reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.reaped = True

    def _how(self) -> str:
        _, status = os.waitpid(self.pid, 0)
        self.reaped = True
        code = os.waitstatus_to_exitcode(status)
        return f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


def _serve(
    fn: Callable[[T], R], items: Sequence[T], size: int, starts: Iterator[int], fd: int
) -> NoReturn:
    """In the child: send each claimed chunk's results as it is done, then that it is done
    (or the traceback of what it raised), and exit at once (``os._exit``: no atexit handler,
    no flush of the parent's buffers a second time)."""
    code = 0
    try:
        try:
            for start in starts:
                _send(fd, (_PART, start, [fn(item) for item in items[start : start + size]]))
            _send(fd, (_DONE,))
        except BaseException as exc:  # raised in the parent instead
            import traceback

            _send(fd, (_FAILED, "".join(traceback.format_exception(exc))))
            code = 1
    except BaseException:  # the parent is gone or stopped us: nobody to tell
        code = 2
    finally:
        os._exit(code)


def _send(fd: int, message: tuple[object, ...]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(len(data).to_bytes(_LENGTH, "little") + data)
    while view:
        view = view[os.write(fd, view) :]
