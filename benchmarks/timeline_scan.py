"""When does a cold ``ssot scan`` fork, and when are its shares done? One timeline per run.

A cold parallel scan is serial until its workers fork: starting the interpreter, importing
the CLI, reading and validating the policy, waiting for git's listing, importing the engine
and compiling the native matchers. This prints, for each of ``--runs`` runs of ``ssot scan
--no-cache --jobs N`` over a checkout (in the console script's order: the replay, which starts
git, then the command line), in milliseconds from the start of the process: git started, the
policy read, the listing received, the engine prepared, the fork, this process's share done
and the children's joined. It explains row (a) of ``bench_scan.py``; it compares with no
peer, so it has no target.

It wraps the engine's internals (``analyzers.commands.policy_of``,
``analyzers.gitio.PythonFileListing.result``, ``analyzers.runner._prepare_engine``,
``analyzers.forkjoin.run``) as they are today.

Usage::

    python benchmarks/timeline_scan.py --root /path/to/checkout [--runs 6] [--jobs 2]
        [--python PATH]   # the interpreter of an installed copy (default: this one)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Run in a fresh interpreter per timeline; prints one line "mark=ms mark=ms ...".
_CHILD = r"""
import os, sys, time
T0 = time.perf_counter()
marks = {}
def mark(name):
    marks.setdefault(name, (time.perf_counter() - T0) * 1000)
ARGV = ["scan", "--no-cache", "--jobs", sys.argv[1], "-o", os.devnull]
# As the console script does: the replay first (it starts git), then the command line proper.
from analyzers.report_replay import Listed, replay
answered = replay(ARGV)
mark("git_started")
from analyzers import commands, forkjoin, gitio, runner
mark("imported")
policy_of = commands.policy_of
def timed_policy(*args):
    policy = policy_of(*args)
    mark("policy")
    return policy
commands.policy_of = timed_policy
result = gitio.PythonFileListing.result
def timed_result(self):
    paths = result(self)
    mark("listing")
    return paths
gitio.PythonFileListing.result = timed_result
from analyzers import globs, triggers
unmatched = globs.GlobSet.unmatched
def timed_unmatched(self, paths):
    out = unmatched(self, paths)
    mark("excluded")
    return out
globs.GlobSet.unmatched = timed_unmatched
build = triggers.prepare
def timed_build(*args):
    mark("matchers_started")
    out = build(*args)
    mark("matchers_built")
    return out
triggers.prepare = timed_build
prepare = runner._prepare_engine
def timed_prepare(*args, **kwargs):
    prepare(*args, **kwargs)
    mark("prepared")
runner._prepare_engine = timed_prepare
run = forkjoin.run
PID = os.getpid()
def timed_run(fn, items, processes):
    mark("fork")
    def item(work):
        out = fn(work)
        if os.getpid() == PID:
            marks["own_share_done"] = (time.perf_counter() - T0) * 1000  # its last item
        return out
    out = run(item, items, processes)
    mark("joined")
    return out
forkjoin.run = timed_run
from analyzers import cli
cli.main(ARGV, listed=answered if isinstance(answered, Listed) else None)
mark("report_written")
print(" ".join(f"{k}={v:.1f}" for k, v in marks.items()))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="checkout to scan")
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--python", default=sys.executable, help="interpreter to run ssot with")
    args = parser.parse_args()
    runs: list[dict[str, float]] = []
    for i in range(args.runs + 1):  # the first is untimed: files into the page cache
        done = subprocess.run(
            [args.python, "-c", _CHILD, str(args.jobs)],
            cwd=args.root,
            capture_output=True,
            text=True,
            check=True,
        )
        line = done.stdout.strip().splitlines()[-1]
        if i:
            runs.append({k: float(v) for k, v in (item.split("=") for item in line.split())})
            print(f"run {i}: {line}", flush=True)
    print("\nmedian ms from the start of the process:")
    for name in runs[0]:
        values = [r[name] for r in runs if name in r]
        print(
            f"  {name:<16} {statistics.median(values):7.1f}  ({min(values):.1f}-{max(values):.1f})"
        )


if __name__ == "__main__":
    main()
