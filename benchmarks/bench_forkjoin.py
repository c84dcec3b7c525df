"""What a parallel scan pays to start its processes: analyzers.forkjoin against the pool it
replaced (concurrent.futures' ProcessPoolExecutor on the fork context).

Each side runs in a fresh interpreter that has already imported what a scan imports before
it forks (the CLI, the commands, the runner and the engine), then times its own import of
the parallel machinery, the start of one child, a trivial share in each process and the
gathering of the results: the fixed cost a ``--jobs 2`` scan pays and ``--jobs 1`` does not.
The two commands alternate, after one untimed run each.

Usage::

    python benchmarks/bench_forkjoin.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PRELOADED = "import analyzers.cli, analyzers.commands, analyzers.runner, analyzers.engine\n"
TIMED = {
    "forkjoin": """
import time
t = time.perf_counter()
from analyzers import forkjoin
forkjoin.run(sorted, [[3, 1], [2, 4]], 2)
print(time.perf_counter() - t)
""",
    "ProcessPoolExecutor": """
import time
t = time.perf_counter()
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
    done = pool.submit(sorted, [2, 4])
    sorted([3, 1])
    done.result()
print(time.perf_counter() - t)
""",
}


def once(which: str) -> float:
    """Seconds the timed part of ``which`` took in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", PRELOADED + TIMED[which]],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out.split()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each (default: 15)")
    args = parser.parse_args(argv)
    names = list(TIMED)
    for name in names:
        once(name)  # untimed: the bytecode of both is written and in the page cache
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(args.repeat):
        for name in names if i % 2 == 0 else reversed(names):
            times[name].append(once(name))
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}"
    )
    for name in names:
        runs = sorted(times[name])
        print(
            f"{name:20s} median {1000 * statistics.median(runs):5.1f} ms "
            f"(min {1000 * runs[0]:.1f}, max {1000 * runs[-1]:.1f})"
        )
    ratio = statistics.median(times["ProcessPoolExecutor"]) / statistics.median(times["forkjoin"])
    print(f"ProcessPoolExecutor / forkjoin: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
