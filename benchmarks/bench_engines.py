"""Two builds of ssot and ruff on one tree, interleaved in every round: is one engine faster?

``bench_scan.py`` compares ssot with ruff, one engine per run. On a shared VM whose speed moves
by 10-30 % between minutes (benchmarks/README.md), two such runs a minute apart cannot tell
a 5 % change in the engine from the machine; even two commands a minute apart within one run
differ more than that. Here each round runs ``ruff``, the base build and the head build (in an
order shuffled every round) on the same tree, so every engine meets the same phases of the
machine. It prints each command's median, its ratio to ruff's and head / base. A comparison
of two engines, not a target: the targets stay in ``bench_scan.py``.

The tree is fetched from the package registry as ``bench_scan.py`` fetches it
(``realcode.py``), with its policy; or, with ``--gen N``, it is a corpus of N files generated
at run time into a temporary folder, with the policy and banned imports of ``bench_scan.py``'s
generated rows. The builds are installed copies (``bench_scan.py``'s ``installed_copy``, or
any ``ssot`` executable).

Usage::

    python benchmarks/bench_engines.py --base /tmp/old/bin/ssot --head /tmp/new/bin/ssot \\
        --real-dir /tmp/ha [--rounds 15] [--jobs N]
    python benchmarks/bench_engines.py --base ... --head ... --gen 10000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import realcode  # noqa: E402
from bench_scan import (  # noqa: E402
    DEPRECATED,
    Timing,
    _load,
    _stamp,
    find_tool,
    git_commit,
    machine_info,
    ruff_banned_api_command,
    run_once,
    scan_cold_command,
    write_configs,
)
from corpus import generate  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--base", required=True, help="the ssot executable to compare against")
    parser.add_argument("--head", required=True, help="the ssot executable measured")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default: 15)")
    parser.add_argument("--jobs", type=int, help="ssot's --jobs (default: its own, per core)")
    parser.add_argument("--real", default=realcode.DEFAULT_SPEC, help="package to fetch")
    parser.add_argument("--real-dir", type=Path, help="fetch the tree here (default: a temp dir)")
    parser.add_argument("--ruff", help="ruff executable (default: the one on PATH)")
    parser.add_argument(
        "--gen", type=int, metavar="N", help="a generated corpus of N files instead of real code"
    )
    parser.add_argument("--seed", type=int, default=0, help="the generated corpus's seed")
    args = parser.parse_args(argv)
    ruff = find_tool("ruff", args.ruff)
    if ruff is None:
        parser.error("ruff not found: install it or pass --ruff")
    with tempfile.TemporaryDirectory(prefix="ssot-engines-") as tmp:
        if args.gen is not None:
            dest = Path(tmp) / "corpus"
            print(generate(dest, args.gen, args.seed).summary(), flush=True)
            write_configs(dest)
            git_commit(dest, "Benchmark configuration")
            banned: Sequence[str] = DEPRECATED
        else:
            dest = (args.real_dir or Path(tmp) / "real").resolve()
            tree = realcode.fetch(dest, args.real)
            print(tree.summary(), flush=True)
            banned = realcode.banned_api(tree.policy)
        jobs = [] if args.jobs is None else ["--jobs", str(args.jobs)]
        commands = {
            "ruff": [
                *ruff_banned_api_command(ruff, dest, banned),
                "--output-format",
                "concise",
                "--no-cache",
            ],
            "base": [*scan_cold_command(args.base, dest), *jobs],
            "head": [*scan_cold_command(args.head, dest), *jobs],
        }
        timings = {label: Timing(label) for label in commands}
        for command in commands.values():  # untimed: the files into the page cache
            run_once(command, dest)
        print(f"\n{_stamp()} == {args.rounds} rounds, load {_load()}", flush=True)
        order = list(commands)
        shuffle = random.Random(0)
        for _ in range(args.rounds):
            shuffle.shuffle(order)  # no command always first after another
            for label in order:
                timings[label].samples.append(run_once(commands[label], dest))
        ruff_median = timings["ruff"].median
        for label, timing in timings.items():
            print(
                f"  {label:<5} median {timing.median:.3f} s, {timing.median / ruff_median:.2f} x "
                f"ruff, CPU {timing.cpu:.2f} s (runs: {timing.spread()})"
            )
        base, head = timings["base"].median, timings["head"].median
        print(f"\nhead / base: {head / base:.3f} ({100 * (head / base - 1):+.1f} %)")
        info = machine_info(ruff, None)
        print(f"machine: {info['cpus']} x {info['cpu model']}, {info['memory']}; load {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
