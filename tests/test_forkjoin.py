"""analyzers.forkjoin: one function over many items, in this process and forked children."""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from analyzers import forkjoin

PARENT = os.getpid()  # the process the tests run in; the tests set it again, to be sure


def _pid_and_square(n: int) -> tuple[int, int]:
    time.sleep(0.001)  # slow enough that every process is started before the items run out
    return os.getpid(), n * n


def test_results_come_back_in_the_items_order_from_this_process_and_the_children() -> None:
    items = list(range(300))
    results = forkjoin.run(_pid_and_square, items, 3)
    assert [square for _, square in results] == [n * n for n in items]
    pids = {pid for pid, _ in results}
    assert os.getpid() in pids and len(pids) == 3
    assert forkjoin.run(_pid_and_square, [], 3) == []


def test_one_process_or_one_item_forks_nothing() -> None:
    assert forkjoin.run(_pid_and_square, [1, 2, 3], 1) == [(os.getpid(), n * n) for n in (1, 2, 3)]
    assert forkjoin.run(_pid_and_square, [4], 2) == [(os.getpid(), 16)]


def _slow_first_chunk(n: int) -> tuple[int, int]:
    # The first chunk is slow: fixed shares would leave its process with half the items
    # after it; chunks taken as each process is free give the other one nearly all of them.
    time.sleep(0.3 if n == 0 else 0.001)
    return os.getpid(), n


def test_a_process_held_up_by_slow_items_leaves_the_rest_to_the_others() -> None:
    items = list(range(200))
    assert forkjoin.chunk_size(len(items), 2) == 1
    results = forkjoin.run(_slow_first_chunk, items, 2)
    assert [n for _, n in results] == items
    slow = results[0][0]
    taken_by_the_slow_one = sum(pid == slow for pid, _ in results)
    assert taken_by_the_slow_one < 50, taken_by_the_slow_one


def test_chunks_are_small_and_never_more_than_the_pipe_holds_at_once() -> None:
    assert forkjoin.chunk_size(6_454, 2) == forkjoin.LARGEST_CHUNK
    assert forkjoin.chunk_size(300, 2) == 2
    for items in (1, 250, 10_000, 1_000_000):
        size = forkjoin.chunk_size(items, 2)
        assert size >= 1 and -(-items // size) <= forkjoin.MAX_CHUNKS


def _fail_in_a_child(n: int) -> int:
    if os.getpid() != PARENT:
        raise ValueError(f"item {n} is bad")
    time.sleep(0.05)  # so that the child is started before this process takes every item
    return n


def test_what_a_child_raises_is_raised_here_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "PARENT", os.getpid())
    with pytest.raises(
        forkjoin.ChildFailed, match=r"(?s)failed:.*ValueError: item ([1-9]|10) is bad"
    ):
        forkjoin.run(_fail_in_a_child, list(range(1, 11)), 2)


def _die(n: int) -> int:
    if os.getpid() != PARENT:  # in the child, whichever item it takes
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return n


def test_a_child_that_dies_is_an_error_naming_how(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "PARENT", os.getpid())
    with pytest.raises(forkjoin.ChildFailed, match=r"died \(signal SIGKILL\) before sending"):
        forkjoin.run(_die, list(range(10)), 2)


def _record_then_fail_here(folder: Path) -> None:
    if os.getpid() == PARENT:
        deadline = time.monotonic() + 30
        while not any(folder.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.01)  # until the child works
        raise KeyboardInterrupt  # as Ctrl-C does in the parent while the children work
    (folder / str(os.getpid())).touch()
    time.sleep(60)  # far longer than the test waits


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find processes")
def test_when_this_process_fails_no_child_outlives_the_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "PARENT", os.getpid())
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        forkjoin.run(_record_then_fail_here, [tmp_path, tmp_path], 2)
    assert time.monotonic() - started < 30  # the child was stopped, not waited for
    # Killed and reaped: no process left, not even a zombie.
    [child] = [int(p.name) for p in tmp_path.iterdir()]
    assert not Path(f"/proc/{child}").exists()


def _big(n: int) -> bytes:
    return bytes([n % 256]) * 50_000  # far more than a pipe holds, over all the items


def test_results_larger_than_a_pipe_holds_come_back_whole() -> None:
    items = list(range(300))
    assert forkjoin.run(_big, items, 2) == [_big(n) for n in items]


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts /proc/self/fd")
def test_no_pipe_is_left_open_after_a_run_or_a_failed_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "PARENT", os.getpid())
    before = _open_fds()
    forkjoin.run(_pid_and_square, list(range(300)), 3)
    assert _open_fds() == before
    with pytest.raises(forkjoin.ChildFailed):
        forkjoin.run(_die, list(range(10)), 2)
    with pytest.raises(forkjoin.ChildFailed):
        forkjoin.run(_fail_in_a_child, list(range(1, 11)), 2)
    assert _open_fds() == before


SLEPT: list[int] = []


def _slow_here_big_there(n: int) -> tuple[int, bytes]:
    if os.getpid() == PARENT and not SLEPT:
        SLEPT.append(n)
        time.sleep(0.5)  # this process, on its first item: it reads no results meanwhile
    return os.getpid(), b"x" * 5_000


@pytest.mark.skipif(not hasattr(fcntl, "F_SETPIPE_SZ"), reason="pipe sizes are set on Linux")
def test_a_child_is_not_held_up_by_a_full_pipe_while_this_process_is_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 99 results of 5 KB are more than a default pipe holds: the child would wait for this
    # process to finish its slow item, then share the rest with it, item by item.
    monkeypatch.setattr(sys.modules[__name__], "PARENT", os.getpid())
    monkeypatch.setattr(sys.modules[__name__], "SLEPT", [])
    monkeypatch.setattr(forkjoin, "CHUNKS_PER_PROCESS", 1_000)  # one item per chunk
    results = forkjoin.run(_slow_here_big_there, list(range(100)), 2)
    assert [len(data) for _, data in results] == [5_000] * 100
    assert sum(pid == os.getpid() for pid, _ in results) <= 2
