"""Instructions the engine executes to analyse a tree: two revisions side by side, under valgrind.

Wall and CPU time on a shared two-core VM move by 10-30 % between runs, more than most single
changes to the engine save; the number of instructions a process executes does not (valgrind
counts them; with a fixed hash seed and no address-space randomisation, to a millionth). Each
revision is checked out into a temporary worktree and run twice under ``valgrind
--tool=callgrind``: once up to the analysis (policy loaded, files listed and read, trigger set
built), once with every file analysed too. The difference is the analysis; the script prints
it for both revisions, their ratio, and whether the two found the same things (a digest of
every finding).

With ``--whole``, each revision is instead run once as the console script runs it, ``ssot
scan --no-cache --jobs 1 --list`` from the interpreter's start to its exit: the serial start
(imports, the cyclic collector's passes, the policy, git's listing read, the native matchers)
counts too, and the text reports are compared. One process (``--jobs 1``; git, which it
starts, is not counted).

It is a profile, not a speed measurement against a peer: instructions are not seconds (cache
misses, memory stalls and page faults do not count). Use it to tell whether a change to the
engine's Python does less work, then measure time with bench_scan.py.

Usage::

    python benchmarks/count_instructions.py --base HEAD~1 --root /tmp/ha        # vs the worktree
    python benchmarks/count_instructions.py --base v1 --head v2 --files 2000      # generated corpus
    python benchmarks/count_instructions.py --base HEAD~1 --root /tmp/ha --whole
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

# Run in the measured process, with the revision's sources first on sys.path.
PROBE = r"""
import hashlib, sys
from pathlib import Path
import analyzers
from analyzers import engine, gitio, triggers

if not analyzers.__file__.startswith(sys.argv[3]):
    raise SystemExit(f"analyzers imported from {analyzers.__file__}, not {sys.argv[3]}")
from analyzers.policy_loader import discover_policy, load_policy, local_parent_fetcher

root = Path(sys.argv[1])
source, text = discover_policy(root)
policy = load_policy(text, source, local_parent_fetcher(root)).policy
rels = policy.excluded.unmatched(gitio.python_files(root))
files = [(rel, (root / rel).read_bytes()) for rel in rels]
triggers.prepare(policy, len(files))  # as a scan of this many files does
if sys.argv[2] == "analyse":
    found = sorted(
        f"{f.rule}:{f.path}:{f.line}:{f.col}:{f.message}"
        for rel, data in files
        for f in engine.analyze(rel, data, policy).findings
    )
    digest = hashlib.sha256("\n".join(found).encode()).hexdigest()[:16]
    print(f"findings {len(found)} {digest}")
"""

# --whole: the console script's process, with the revision's sources first on sys.path.
WHOLE = r"""
import sys
root, report, src = sys.argv[1:4]
import analyzers

if not analyzers.__file__.startswith(src):
    raise SystemExit(f"analyzers imported from {analyzers.__file__}, not {src}")
sys.argv = ["ssot", "scan", "--no-cache", "--jobs", "1", "--list", "--root", root, "-o", report]
from analyzers.entry import console

console()
"""

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def instructions(src: Path, root: Path, step: str, code: str = PROBE) -> tuple[int, str]:
    """Instructions of one run of the probe (and what it printed) with ``src`` on sys.path."""
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        [
            # Without address-space randomisation: sets and dicts keyed by id() iterate in
            # the same order every run (with it, counts moved by 0.5 %).
            *(["setarch", platform.machine(), "-R"] if shutil.which("setarch") else []),
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-P",  # not the current folder first on sys.path: src is
            "-c",
            code,
            str(root),
            step,
            str(src),
        ],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    match = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"valgrind run of {src} failed:\n{done.stderr[-2000:]}")
    return int(match.group(1)), done.stdout.strip()


def whole(src: Path, root: Path) -> tuple[int, str]:
    """Instructions of a whole cold ``ssot scan --jobs 1`` process; a digest of its report."""
    with tempfile.TemporaryDirectory(prefix="ssot-report-") as tmp:
        report = Path(tmp) / "report.txt"
        total, _ = instructions(src, root, str(report), WHOLE)
        text = report.read_bytes()
    return total, f"report {hashlib.sha256(text).hexdigest()[:16]} ({len(text):,} bytes)"


def analysis(src: Path, root: Path) -> tuple[int, str]:
    """Instructions of the analysis alone (the run with it less the run without), findings."""
    setup, _ = instructions(src, root, "setup")
    total, found = instructions(src, root, "analyse")
    return total - setup, found


def checkout(rev: str, into: Path) -> Path:
    """The sources of ``rev`` (``worktree``: this checkout as it is) as a folder."""
    if rev == "worktree":
        into = REPO
    else:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(into), rev],
            check=True,
        )
    # Bytecode written on a first import would count in the setup run and not in the run with
    # the analysis, so the analysis would look smaller by the cost of compiling the modules:
    # the worktree too, which may have no bytecode (PYTHONDONTWRITEBYTECODE) or stale bytecode.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(into / "analyzers")], check=True)
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="revision to compare against")
    parser.add_argument("--head", default="worktree", help="revision measured (default: worktree)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--root", type=Path, help="an existing checkout with its policy")
    where.add_argument("--files", type=int, default=2000, help="generated corpus size")
    parser.add_argument(
        "--whole", action="store_true", help="count a whole `ssot scan --jobs 1` process"
    )
    args = parser.parse_args()
    measure = whole if args.whole else analysis
    if shutil.which("valgrind") is None:
        print("valgrind is needed (apt-get install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ssot-instructions-") as tmp:
        work = Path(tmp)
        root = args.root
        if root is None:
            import bench_scan
            import corpus

            root = work / "corpus"
            corpus.generate(root, files=args.files, seed=0)
            bench_scan.write_configs(root)
            bench_scan.git_commit(root, "benchmark configs")
        revisions = {"base": args.base, "head": args.head}
        try:
            sources = {label: checkout(rev, work / label) for label, rev in revisions.items()}
            # Two valgrind runs at a time (counts do not depend on what else runs).
            with ThreadPoolExecutor(max_workers=2) as pool:
                futures = {label: pool.submit(measure, src, root) for label, src in sources.items()}
                results = {label: future.result() for label, future in futures.items()}
        finally:
            for label in revisions:
                if (work / label).exists():
                    subprocess.run(
                        [
                            "git",
                            "-C",
                            str(REPO),
                            "worktree",
                            "remove",
                            "--force",
                            str(work / label),
                        ],
                        check=False,
                    )
        for label, rev in revisions.items():
            count, found = results[label]
            print(f"{label} {rev}: {count / 1e6:,.0f} M instructions, {found}")
        base, head = results["base"], results["head"]
        same = "same findings" if base[1] == head[1] else "FINDINGS DIFFER"
        print(
            f"head / base: {head[0] / base[0]:.3f} ({(head[0] / base[0] - 1) * 100:+.1f} %), {same}"
        )
        return 0 if base[1] == head[1] else 1


if __name__ == "__main__":
    sys.exit(main())
