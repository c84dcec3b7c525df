"""analyzers.forkjoin: the shares of a parallel scan, in this process and forked children."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from analyzers import forkjoin


def _pid_and_square(numbers: list[int]) -> tuple[int, list[int]]:
    return os.getpid(), [n * n for n in numbers]


def test_each_share_after_the_first_runs_in_a_child_and_results_come_back_in_order() -> None:
    shares = [[1, 2], [3], [4, 5, 6]]
    results = forkjoin.run(_pid_and_square, shares)
    assert [squares for _, squares in results] == [[1, 4], [9], [16, 25, 36]]
    pids = [pid for pid, _ in results]
    assert pids[0] == os.getpid() and len(set(pids)) == 3
    assert forkjoin.run(_pid_and_square, []) == []


def _fail_in_a_child(n: int) -> int:
    if n == 2:
        raise ValueError("share two is bad")
    return n


def test_what_a_child_raises_is_raised_here_with_its_traceback() -> None:
    with pytest.raises(forkjoin.ChildFailed, match=r"(?s)failed:.*ValueError: share two is bad"):
        forkjoin.run(_fail_in_a_child, [1, 2])


def _die(n: int) -> int:
    if n:
        os.kill(os.getpid(), signal.SIGKILL)
    return n


def test_a_child_that_dies_is_an_error_naming_how() -> None:
    with pytest.raises(forkjoin.ChildFailed, match=r"died \(signal SIGKILL\) before sending"):
        forkjoin.run(_die, [0, 1])


def _record_then_fail_here(args: tuple[Path, bool]) -> None:
    folder, here = args
    if here:
        deadline = time.monotonic() + 30
        while not any(folder.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.01)  # until the child works
        raise KeyboardInterrupt  # as Ctrl-C does in the parent while the children work
    (folder / str(os.getpid())).touch()
    time.sleep(60)  # far longer than the test waits


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find processes")
def test_when_this_process_fails_no_child_outlives_the_call(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        forkjoin.run(_record_then_fail_here, [(tmp_path, True), (tmp_path, False)])
    assert time.monotonic() - started < 30  # the child was stopped, not waited for
    # Killed and reaped: no process left, not even a zombie.
    [child] = [int(p.name) for p in tmp_path.iterdir()]
    assert not Path(f"/proc/{child}").exists()
