"""Where does ``ssot scan`` spend its time? Per-phase costs of a cold scan, in one process.

Each phase of what ``ssot scan --no-cache`` does is timed separately, single-threaded, over a
checkout (a generated corpus by default), next to two references: ``ast.parse`` of the
candidate files and of every file. Then the engine's own work is profiled with cProfile and its
top functions are printed. This explains the ratios of ``bench_scan.py``; it is not itself a
comparison with a peer.

It uses the engine's internals (``analyzers.gitio``, ``analyzers.triggers``, ``analyzers.engine``)
as they are today; a phase whose API moved is reported as skipped.

Usage::

    python benchmarks/profile_scan.py --files 2000          # generate a corpus and profile it
    python benchmarks/profile_scan.py --root /path/to/checkout
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import io
import os
import pickle
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

T = TypeVar("T")


def timed(label: str, rows: list[tuple[str, float, str]], fn: Callable[[], T], note: str = "") -> T:
    t0 = time.perf_counter()
    out = fn()
    rows.append((label, time.perf_counter() - t0, note))
    return out


def _wall(cmd: Sequence[str], cwd: Path, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            list(cmd), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )
        best = min(best, time.perf_counter() - t0)
    return best


# Run in a fresh interpreter: every dataclass the scan path's imports create, timed.
_DATACLASSES = r"""
import dataclasses, time
made = []
real = dataclasses._process_class
def timed(cls, *args, **kwargs):
    t0 = time.perf_counter()
    out = real(cls, *args, **kwargs)
    made.append(time.perf_counter() - t0)
    return out
dataclasses._process_class = timed
import analyzers.commands, analyzers.runner, analyzers.report, analyzers.engine
print(len(made), sum(made))
"""


def _dataclasses_row(python: str) -> tuple[str, float, str]:
    """The time the scan path's imports spend creating dataclasses (best of 3 runs)."""
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [python, "-c", _DATACLASSES], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
        runs.append((float(out[1]), int(out[0])))
    seconds, count = min(runs)
    return (
        "  of which: creating dataclasses",
        seconds,
        f"{count} classes, each method compiled with exec",
    )


def profile(root: Path, top: int) -> None:
    from analyzers import engine, gitio
    from analyzers.policy_loader import discover_policy, load_policy, local_parent_fetcher
    from analyzers.triggers import use_native

    rows: list[tuple[str, float, str]] = []
    python = sys.executable
    ssot = str(Path(python).parent / "ssot")
    start_up = _wall([python, "-c", "pass"], REPO)
    rows.append(
        ("python start-up (python -c pass)", start_up, "in every run, both tools pay their own")
    )
    imports = _wall(
        [
            python,
            "-c",
            "import analyzers.commands, analyzers.runner, analyzers.report, analyzers.engine",
        ],
        REPO,
    )
    rows.append(
        (
            "imports of the scan path",
            imports - start_up,
            "python -c 'import analyzers.commands, .runner, .report, .engine' minus start-up",
        )
    )

    rows.append(_dataclasses_row(python))

    found = timed("policy: discover", rows, lambda: discover_policy(root))
    assert found is not None, f"no policy in {root}"
    source, text = found
    policy = timed(
        "policy: load + validate (pydantic)",
        rows,
        lambda: load_policy(text, source, local_parent_fetcher(root)).policy,
    )
    rels = timed("git ls-files (gitio.python_files)", rows, lambda: gitio.python_files(root))
    rels = timed("exclude globs", rows, lambda: [r for r in rels if not policy.excluded.match(r)])
    stat_results = timed(
        "stat every file", rows, lambda: [os.stat(root / r) for r in rels], f"{len(rels):,} files"
    )
    datas = timed("read every file (bytes)", rows, lambda: [(root / r).read_bytes() for r in rels])
    total = sum(len(d) for d in datas)
    rows[-1] = (rows[-1][0], rows[-1][1], f"{total / 1e6:.0f} MB")
    triggers = timed(
        "native matchers (trigger set + Hyperscan compile)",
        rows,
        lambda: use_native(policy),  # as a scan of this many files does
        "serial: before the fork",
    )
    flags = timed(
        "prefilter (TriggerSet.is_candidate on bytes)",
        rows,
        lambda: [triggers.is_candidate(d) for d in datas],
    )
    candidates = [(r, d) for r, d, f in zip(rels, datas, flags, strict=True) if f]
    rows[-1] = (
        rows[-1][0],
        rows[-1][1],
        f"{len(candidates):,} candidates ({100 * len(candidates) / max(len(rels), 1):.0f} % of files)",
    )
    texts = timed(
        "decode candidates (utf-8)",
        rows,
        lambda: [d.decode("utf-8", "replace") for _, d in candidates],
    )
    with_hits = timed(
        "hits in the candidates (TriggerSet.hits)",
        rows,
        lambda: sum(1 for text in texts if triggers.hits(text.removeprefix("\ufeff"))),
    )
    rows[-1] = (
        rows[-1][0],
        rows[-1][1],
        f"{with_hits:,} files with hits (whole words where a rule can look): parsed around them",
    )

    prof = cProfile.Profile()

    def analyse_candidates() -> list[Any]:
        prof.enable()
        try:
            return [engine.analyze(r, d, policy) for r, d in candidates]
        finally:
            prof.disable()

    results = timed(
        "engine.analyze of the candidates (slice + parse + rules)", rows, analyse_candidates
    )
    nfind = sum(len(r.findings) for r in results)
    rows[-1] = (
        rows[-1][0],
        rows[-1][1],
        f"{nfind:,} findings (cProfile on: ~1.3-2x slower than real)",
    )
    timed(
        "engine.analyze of the other files (prefilter says no)",
        rows,
        lambda: [
            engine.analyze(r, d, policy)
            for r, d, f in zip(rels, datas, flags, strict=True)
            if not f
        ],
    )

    # What a forked child of a --jobs 2 scan sends: every other file's findings and stamp.
    found_in = {r: res.findings for (r, _), res in zip(candidates, results, strict=True)}
    sent = [
        (found_in.get(r, []), (st.st_mtime_ns, st.st_size))
        for r, st in list(zip(rels, stat_results, strict=True))[1::2]
    ]
    payload = timed(
        "a child's results: pickle (half the files)",
        rows,
        lambda: pickle.dumps(sent, protocol=pickle.HIGHEST_PROTOCOL),
    )
    rows[-1] = (rows[-1][0], rows[-1][1], f"{len(payload) / 1e6:.2f} MB")
    timed("a child's results: unpickle", rows, lambda: pickle.loads(payload))

    def parse_all(pairs: list[tuple[str, bytes]]) -> int:
        bad = 0
        for _, d in pairs:
            try:
                ast.parse(d)
            except (SyntaxError, ValueError):
                bad += 1
        return bad

    timed("reference: ast.parse of the candidate files, whole", rows, lambda: parse_all(candidates))
    timed(
        "reference: ast.parse of every file, whole",
        rows,
        lambda: parse_all(list(zip(rels, datas, strict=True))),
    )
    for jobs in (1, 2):
        rows.append(
            (
                f"end to end: ssot scan --no-cache --jobs {jobs}",
                _wall(
                    [
                        ssot,
                        "scan",
                        "--root",
                        str(root),
                        "--no-cache",
                        "--jobs",
                        str(jobs),
                        # Text, as bench_scan.py's (a): JSON proves every finding's fix with
                        # libcst (--jobs 1 on the real tree: 2.96 s in JSON, 0.66 s in text).
                        "--format",
                        "text",
                        "-o",
                        os.devnull,
                    ],
                    root,
                    2,
                ),
                "whole process, best of 2 (the text report, as bench_scan.py's (a))",
            )
        )
    rows.append(
        (
            "end to end: ssot --help",
            _wall([ssot, "--help"], root),
            "start-up floor of every ssot command",
        )
    )

    width = max(len(r[0]) for r in rows)
    print(f"\n== phases of a cold scan of {root} ({len(rels):,} files), one process, seconds")
    for label, secs, note in rows:
        print(f"  {label:<{width}}  {secs:8.3f}  {note}")

    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    print("\n== engine.analyze of the candidates, cProfile, by own time")
    print(
        "\n".join(line for line in out.getvalue().splitlines() if line.strip())[-(top + 4) * 200 :]
    )
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats("analyzers", top)
    print("\n== the same, by cumulative time (engine functions)")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Per-phase profile of a cold `ssot scan`.")
    parser.add_argument(
        "--root", type=Path, help="an existing checkout with a policy (default: generate a corpus)"
    )
    parser.add_argument(
        "--files", type=int, default=2_000, help="corpus size when generating (default: 2000)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top", type=int, default=25, help="functions to list (default: 25)")
    args = parser.parse_args(argv)
    if args.root is not None:
        profile(args.root.resolve(), args.top)
        return 0
    from bench_scan import write_configs
    from corpus import generate, git_commit

    workdir = Path(tempfile.mkdtemp(prefix="ssot-profile-"))
    try:
        root = workdir / "corpus"
        stats = generate(root, args.files, args.seed)
        write_configs(root)
        git_commit(root, "Benchmark configuration")
        print(
            f"corpus: {stats.files:,} files, {stats.mb:.0f} MB, generated in {stats.seconds:.1f} s"
        )
        profile(root, args.top)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
