"""Benchmark ``ssot scan`` / ``ssot check`` against ruff and semgrep, side by side, in one run.

A corpus shaped like the real monorepo (see ``corpus.py`` and docs/PERFORMANCE.md) is generated
into a temporary folder; the policy of ``examples/websocket-ssot.toml`` and equivalent ruff
(``banned-api``) and semgrep rules are written next to it; then each measurement runs the two
tools alternately, several times, and compares their median wall times:

(a) ssot scan, cold (no cache)            vs ruff banned-api, no cache        target ratio <= 1.0
(a1) the same per core: ssot --jobs 1     vs ruff on one thread               no target (shown)
(b) semgrep with an equivalent rule       vs ssot scan, cold                  target ratio >= 20
(c) ssot scan, cache warm, nothing changed vs ruff with its cache warm        target ratio <= 0.8
(d) ssot check --base HEAD~1 (15 files)   vs ssot scan, cold                  target ratio < 0.25
(e) peak memory of a cold ssot scan (the process and its workers)             target < 300 MB
(f) ``ssot --help`` imports no fastapi, githubkit or libcst                    PASS / FAIL
(g) ssot scan --jobs 2                    vs ssot scan --jobs 1               target speed-up >= 1.6
(k) ssot scan, warm, one file edited      vs ruff, warm, the same edit        no target (shown)

(a), (a1), (c), (e) and (g) run on the generated corpus and on a real code base fetched from the
package registry (``realcode.py``); (b), (d) and (f) on the generated corpus. Every table row
says PASS or MISS against its target.

Every figure is a whole-process wall time (what a developer or CI waits for), measured with the
files in the page cache (one untimed run of each tool first). CPU seconds (user + system, the
process and its children) are printed too: on a shared machine they move less than wall time.

Usage::

    python benchmarks/bench_scan.py                 # 10,000 files, about 180 MB, and the real tree
    python benchmarks/bench_scan.py --quick         # 2 runs of each command, no semgrep
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import realcode  # noqa: E402
from corpus import CorpusStats, generate, git_commit  # noqa: E402

POLICY = REPO / "examples" / "websocket-ssot.toml"
SEMGREP_VENV = Path(
    os.environ.get(
        "SSOT_BENCH_SEMGREP_VENV", Path.home() / ".cache" / "ssot-bench" / "semgrep-venv"
    )
)
FORBIDDEN_AT_STARTUP = ("fastapi", "githubkit", "libcst")
DEPRECATED = (
    # (ruff banned-api key, what it bans) for the policy's three deprecated entries
    "netra_backend.app.websocket_core.unified_manager.UnifiedWebSocketManager",
    "netra_backend.app.websocket_core.websocket_manager_factory",  # `m.*` bans the module `m`
    "netra_backend.app.websocket_core.WebSocketManager",
)
SEMGREP_RULE = """\
rules:
  - id: ssot-deprecated-websocket-manager-import
    languages: [python]
    severity: ERROR
    message: >-
      deprecated WebSocket manager path; import
      netra_backend.app.websocket_core.websocket_manager.WebSocketManager instead
    pattern-either:
      - pattern: from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager
      - pattern: import netra_backend.app.websocket_core.websocket_manager_factory
      - pattern: from netra_backend.app.websocket_core.websocket_manager_factory import $X
      - patterns:
          - pattern: from netra_backend.app.websocket_core import WebSocketManager
          # semgrep matches `from pkg.sub import X` for `from pkg import X`; keep the canonical path out
          - pattern-not: from netra_backend.app.websocket_core.$MODULE import WebSocketManager
"""
CHANGED_FILES = 15


# --------------------------------------------------------------------------------------------
# Running and timing commands.


@dataclass
class Sample:
    """One run of a command."""

    wall: float
    cpu: float
    returncode: int


@dataclass
class Timing:
    """Repeated runs of one command."""

    label: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.wall for s in self.samples) if self.samples else float("nan")

    @property
    def best(self) -> float:
        return min(s.wall for s in self.samples) if self.samples else float("nan")

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples) if self.samples else float("nan")

    def spread(self) -> str:
        walls = sorted(s.wall for s in self.samples)
        return ", ".join(f"{w:.2f}" for w in walls)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(
    cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None, ok: Sequence[int] = (0, 1)
) -> Sample:
    """Run ``cmd`` to completion (output discarded); wall and CPU seconds of it and its children."""
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    done = subprocess.run(
        list(cmd), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    wall = time.perf_counter() - t0
    if done.returncode not in ok:
        raise RuntimeError(
            f"{' '.join(cmd[:3])} ... exited {done.returncode}: {done.stderr.decode(errors='replace')[-2000:]}"
        )
    return Sample(wall, _children_cpu() - cpu0, done.returncode)


def side_by_side(
    a: tuple[str, Callable[[], Sample]],
    b: tuple[str, Callable[[], Sample]],
    repeat_a: int,
    repeat_b: int,
    warmup: bool = True,
    before_each_a: Callable[[], None] | None = None,
    before_each_b: Callable[[], None] | None = None,
) -> tuple[Timing, Timing]:
    """Run two commands alternately (order flipped every round), after one untimed run each."""
    ta, tb = Timing(a[0]), Timing(b[0])
    if warmup:
        for before, (_, fn) in ((before_each_a, a), (before_each_b, b)):
            if before:
                before()
            fn()
    for i in range(max(repeat_a, repeat_b)):
        jobs: list[tuple[Timing, Callable[[], Sample], Callable[[], None] | None]] = []
        if i < repeat_a:
            jobs.append((ta, a[1], before_each_a))
        if i < repeat_b:
            jobs.append((tb, b[1], before_each_b))
        if i % 2:
            jobs.reverse()
        for timing, fn, before in jobs:
            if before:
                before()
            timing.samples.append(fn())
    return ta, tb


# --------------------------------------------------------------------------------------------
# Memory: the peak of the whole process tree, sampled, and the largest process (rusage).


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return out


def _mem_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


@dataclass
class Memory:
    """Peak memory of one command, in MB."""

    largest_process: float  # max RSS of any one process of the tree (getrusage, exact)
    tree_rss: float  # peak of the summed RSS of the tree (sampled every 10 ms; shared pages counted twice)
    tree_pss: float  # peak of the summed PSS of the tree (sampled; shared pages split)
    wall: float


_MEASURE = r"""
import resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
print(p.pid, flush=True)
code = p.wait()
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t0, code, flush=True)
"""


def peak_memory(cmd: Sequence[str], cwd: Path) -> Memory:
    """Run ``cmd`` under a fresh Python (so RUSAGE_CHILDREN holds only it) and sample /proc."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _MEASURE, *cmd], cwd=cwd, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    pid = int(proc.stdout.readline())
    peak_rss = peak_pss = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_rss, peak_pss
        while not stop.is_set():
            rss = pss = 0
            for p in _tree(pid):
                r, s = _mem_kb(p)
                rss += r
                pss += s
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    maxrss, wall, _code = proc.stdout.readline().split()
    stop.set()
    thread.join()
    proc.wait()
    return Memory(int(maxrss) / 1024, peak_rss / 1024, peak_pss / 1024, float(wall))


# --------------------------------------------------------------------------------------------
# The setup: tools, configuration files, the change for `ssot check`.


def _version(cmd: Sequence[str]) -> str:
    # semgrep checks for a newer version over the network unless told not to (100 s offline).
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    try:
        done = subprocess.run(
            list(cmd), capture_output=True, text=True, check=False, timeout=120, env=env
        )
    except (OSError, subprocess.TimeoutExpired):
        return "not available"
    out = (done.stdout or done.stderr).strip().splitlines()
    return out[0] if out else "?"


def find_tool(name: str, explicit: str | None = None) -> str | None:
    """The tool next to this interpreter (the project's venv) first, then PATH."""
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def find_semgrep(explicit: str | None, install: bool) -> str | None:
    """semgrep from --semgrep, the venv, PATH, or its own venv (created with --install-semgrep).

    semgrep pins opentelemetry-api ~= 1.37 while fastapi needs >= 1.44, so installing it into the
    project's environment downgrades a dependency of the App; its own venv avoids that.
    """
    found = find_tool("semgrep", explicit)
    if found:
        return found
    own = SEMGREP_VENV / "bin" / "semgrep"
    if own.exists():
        return str(own)
    if not install:
        return None
    print(f"installing semgrep into {SEMGREP_VENV} (its own venv) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(SEMGREP_VENV)], check=True)
        subprocess.run(
            [str(SEMGREP_VENV / "bin" / "pip"), "install", "--quiet", "semgrep>=1.80"], check=True
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"  could not install semgrep: {exc}")
        return None
    return str(own) if own.exists() else None


def ruff_banned_api_toml(banned: Sequence[str] = DEPRECATED) -> str:
    lines = ["[lint.flake8-tidy-imports.banned-api]"]
    lines += [f'"{key}".msg = "deprecated by the SSOT policy"' for key in banned]
    return "\n".join(lines) + "\n"


def ruff_config_override(banned: Sequence[str] = DEPRECATED) -> str:
    """The banned list as one ``--config`` key (works with ``--isolated``)."""
    items = ", ".join(f'"{key}" = {{msg = "deprecated by the SSOT policy"}}' for key in banned)
    return f"lint.flake8-tidy-imports.banned-api = {{{items}}}"


def ruff_banned_api_command(ruff: str, root: Path, banned: Sequence[str]) -> list[str]:
    """ruff checking ``root`` for imports of ``banned`` alone (TID251), with no config file of
    the tree's; the output format and the cache are the caller's."""
    config = ruff_config_override(banned)
    return [ruff, "check", "--select", "TID251", "--isolated", "--config", config, str(root)]


def write_configs(root: Path) -> None:
    (root / ".github").mkdir(exist_ok=True)
    shutil.copyfile(POLICY, root / ".github" / "ssot.toml")
    (root / "ruff.toml").write_text(ruff_banned_api_toml())
    (root / "semgrep-ssot.yml").write_text(SEMGREP_RULE)
    # An explicit .semgrepignore replaces semgrep's defaults (which skip tests/): all files, as ssot.
    (root / ".semgrepignore").write_text(
        "# every Python file, as ssot and ruff see them\n.ssot_cache/\n.ruff_cache/\n"
    )


def make_change(root: Path, seed: int, count: int = CHANGED_FILES) -> dict[str, list[str]]:
    """Edit ``count`` tracked files the way a typical pull request does, and commit.

    Most edits change code in files that already touch the concept; four add a deprecated import,
    one removes one, and one file is new.
    """
    rng = random.Random(f"ssot-bench-change:{seed}")
    tracked = subprocess.run(
        ["git", "-C", str(root), "ls-files", "*.py"], capture_output=True, text=True, check=True
    ).stdout.split()
    texts = {p: (root / p).read_text(encoding="utf-8") for p in tracked}
    concept = sorted(
        p
        for p, t in texts.items()
        if "websocket" in t.lower() and "__init__" not in p and 2_000 < len(t) < 60_000
    )
    with_deprecated = sorted(
        p
        for p in concept
        if "websocket_core.unified_manager import" in texts[p] and p.startswith("tests/")
    )
    others = sorted(
        p
        for p in tracked
        if p not in set(concept) and "__init__" not in p and 2_000 < len(texts[p]) < 60_000
    )
    removed = rng.sample(with_deprecated, 1) if with_deprecated else []
    pool = [p for p in concept if p not in removed]
    added = rng.sample(pool, 4)
    pool = [p for p in pool if p not in added]
    edited = rng.sample(pool, count - 1 - len(added) - len(removed) - 3) + rng.sample(others, 3)
    deprecated_line = (
        "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager"
    )
    for path in added:
        lines = texts[path].splitlines(keepends=True)
        at = next((i for i, line in enumerate(lines) if line.startswith(("import ", "from "))), 0)
        lines.insert(at, deprecated_line + "\n")
        (root / path).write_text("".join(lines), encoding="utf-8")
    for path in removed:
        lines = [
            line
            for line in texts[path].splitlines(keepends=True)
            if "websocket_core.unified_manager import" not in line
        ]
        (root / path).write_text("".join(lines), encoding="utf-8")
    for path in edited:
        lines = texts[path].splitlines(keepends=True)
        # Insert a function at a top-level boundary and change one line: about 20 changed lines.
        bounds = [
            i for i, line in enumerate(lines) if line.startswith(("def ", "async def ", "class "))
        ] or [len(lines)]
        at = rng.choice(bounds)
        name = f"handle_change_{rng.randrange(10**6)}"
        block = [
            f"def {name}(event: dict, retries: int = 3) -> bool:\n",
            '    """Added by the benchmark change."""\n',
            "    for attempt in range(retries):\n",
            '        if event.get("status") == "ok":\n',
            "            return True\n",
            '        event["attempt"] = attempt\n',
            "    return False\n",
            "\n",
            "\n",
        ]
        lines[at:at] = block
        (root / path).write_text("".join(lines), encoding="utf-8")
    new_file = "netra_backend/app/services/benchmark_change_service.py"
    (root / new_file).parent.mkdir(parents=True, exist_ok=True)
    (root / new_file).write_text(
        '"""A new service added by the benchmark change."""\n\n'
        "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n\n\n"
        "async def notify(manager: WebSocketManager, user_id: str) -> int:\n"
        '    return await manager.send_to_user(user_id, {"event_type": "agent_started", "timestamp": 0.0,'
        ' "user_id": user_id, "thread_id": "t", "data": {}})\n'
    )
    git_commit(root, "Benchmark change: 15 files")
    return {
        "added_deprecated": added,
        "removed_deprecated": removed,
        "edited": edited,
        "new": [new_file],
    }


# --------------------------------------------------------------------------------------------
# Machine information.


def installed_copy(workdir: Path, interpreter: str | None = None) -> tuple[str, str]:
    """``ssot`` installed as ``pip install`` installs the wheel; its path and how, in words.

    The development venv holds an editable install: its import hook (setuptools' finder,
    about 12-20 ms of every start) and, where PYTHONDONTWRITEBYTECODE is set, sources
    compiled at every start, are costs a user's installed copy does not pay. So the package
    is copied with its bytecode into a fresh venv whose dependencies are this venv's (a
    ``.pth`` line: that folder's own ``.pth`` files, the editable hook among them, are not
    run), with the console script pip writes.

    ``interpreter``: the Python of that venv (default: the one running this). It must be the
    same minor version as this one, whose compiled dependencies the copy imports; ValueError
    says why when it cannot serve.
    """
    venv_dir = workdir / "installed"
    base = interpreter or sys.executable
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    try:
        minor = subprocess.check_output(
            [base, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], text=True
        ).strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ValueError(f"--python {base}: cannot run it ({exc})") from None
    if minor != here:
        raise ValueError(
            f"--python {base} is Python {minor}: the installed copy uses this venv's compiled "
            f"dependencies, built for {here}"
        )
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv_dir)], check=True)
    python = venv_dir / "bin" / "python"
    purelib = [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    site = Path(subprocess.check_output([str(python), *purelib[1:]], text=True).strip())
    deps = subprocess.check_output(purelib, text=True).strip()
    (site / "ssot-bench-dependencies.pth").write_text(deps + "\n")
    shutil.copytree(
        REPO / "analyzers", site / "analyzers", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run([str(python), "-m", "compileall", "-q", str(site / "analyzers")], check=True)
    script = venv_dir / "bin" / "ssot"
    # The entry point the project declares, in the console script pip writes for it.
    target = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    module, _, function = target["scripts"]["ssot"].partition(":")
    script.write_text(
        f"#!{python}\nimport re\nimport sys\nfrom {module} import {function}\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        f"    sys.exit({function}())\n"
    )
    script.chmod(0o755)
    where = subprocess.check_output(
        [str(python), "-c", "import analyzers; print(analyzers.__file__)"], text=True, cwd=workdir
    ).strip()
    if not where.startswith(str(site)):
        raise RuntimeError(f"the installed copy imports analyzers from {where}, not {site}")
    return str(script), (
        f"an installed copy in {venv_dir} (package and bytecode in its site-packages, "
        "dependencies from this venv; --as-is to run the development venv's ssot)"
    )


def interpreter_of(script: str) -> str | None:
    """The Python a console script runs on (its ``#!`` line), or None for anything else."""
    try:
        with open(script, "rb") as fh:
            first = fh.readline(4096)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode(errors="replace").split()
    return words[0] if words else None


# Run by the interpreter in question: its version, where it really lives, and whether the
# interpreter is linked to a shared libpython (calls across a shared library cost; builds
# that link it in, as Debian's python3, are often also profile-guided, PGO, and link-time
# optimised, LTO, which its sysconfig does not say).
_BUILD_PROBE = (
    "import os, platform, sys\n"
    "maps = open('/proc/self/maps').read() if os.path.exists('/proc/self/maps') else ''\n"
    "linked = 'shared libpython' if 'libpython' in maps else "
    "('libpython linked in' if maps else 'libpython: unknown')\n"
    "print(f'{platform.python_implementation()} {platform.python_version()}, "
    "{os.path.realpath(sys.executable)}, {linked}')"
)


def interpreter_build(python: str | None) -> str:
    """Version, real path and libpython linkage of ``python`` (the interpreter ssot runs on)."""
    if python is None:
        return "unknown (not a Python console script)"
    try:
        return subprocess.check_output([python, "-c", _BUILD_PROBE], text=True).strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"unknown ({exc})"


def machine_info(ruff: str | None, semgrep: str | None) -> dict[str, str]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as fh:
            mem = f"{int(fh.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {
        "cpus": f"{os.cpu_count()} (usable: {usable})",
        "cpu model": cpu,
        "memory": mem,
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "ruff": _version([ruff, "--version"]) if ruff else "not found",
        "semgrep": _version([semgrep, "--version", "--disable-version-check"])
        if semgrep
        else "not found",
        "git": _version(["git", "--version"]),
    }


def filesystem_of(path: Path) -> str:
    try:
        out = subprocess.run(
            ["df", "-T", str(path)], capture_output=True, text=True, check=False
        ).stdout.splitlines()
        return out[1].split()[1] if len(out) > 1 else "?"
    except OSError:
        return "?"


# --------------------------------------------------------------------------------------------
# The report.


@dataclass
class Row:
    """One line of the results table."""

    name: str
    ssot: float | None
    peer: float | None
    ratio: float | None
    target: str
    ok: bool | None
    note: str = ""


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def print_table(rows: list[Row]) -> str:
    header = ("measurement", "ssot s", "peer s", "ratio", "target", "result")
    body = [
        (
            r.name,
            _fmt(r.ssot),
            _fmt(r.peer),
            _fmt(r.ratio, 3 if r.ratio is not None and r.ratio < 0.1 else 2),
            r.target,
            "-" if r.ok is None else ("PASS" if r.ok else "MISS"),
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    notes = [f"  {r.name}: {r.note}" for r in rows if r.note]
    text = "\n".join([*lines, *(["", *notes] if notes else [])])
    print(text)
    return text


def importtime_check(python: str) -> tuple[bool, list[str], float]:
    """``python -X importtime -m analyzers.cli --help``: forbidden modules imported, and its wall time."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [python, "-X", "importtime", "-m", "analyzers.cli", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    modules = [
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    bad = sorted({m for m in modules if m.split(".")[0] in FORBIDDEN_AT_STARTUP})
    if done.returncode != 0:
        bad.append(
            f"(exit {done.returncode}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''})"
        )
    return not bad, bad, wall


def scan_imports(python: str, root: Path, path: str) -> list[str]:
    """Forbidden or heavy top-level modules that ``ssot scan`` of one file imports."""
    done = subprocess.run(
        [
            python,
            "-X",
            "importtime",
            "-m",
            "analyzers.cli",
            "scan",
            "--root",
            str(root),
            "--no-cache",
            "--format",
            "json",
            "-o",
            os.devnull,
            path,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return sorted(m for m in modules if m in FORBIDDEN_AT_STARTUP)


def _json_counts(ssot: str, root: Path, extra: Sequence[str] = ()) -> dict[str, int]:
    out = root.parent / "ssot-report.json"
    subprocess.run(
        [ssot, *extra, "--root", str(root), "--format", "json", "-o", str(out)],
        cwd=root,
        capture_output=True,
        check=False,
    )
    try:
        data = json.loads(out.read_text())
    except (OSError, ValueError):
        return {}
    counts: dict[str, int] = {}
    for finding in data.get("findings", []):
        key = finding.get("rule", "?") + (f"/{finding['status']}" if finding.get("status") else "")
        counts[key] = counts.get(key, 0) + 1
    return counts


def _ruff_count(cmd: Sequence[str], root: Path) -> tuple[int, int]:
    done = subprocess.run(
        [*cmd, "--output-format", "json"], cwd=root, capture_output=True, text=True, check=False
    )
    try:
        items = json.loads(done.stdout)
    except ValueError:
        return -1, -1
    hits = [i for i in items if i.get("code") == "TID251"]
    return len(hits), len({i["filename"] for i in hits})


def _semgrep_count(cmd: Sequence[str], root: Path, env: dict[str, str]) -> tuple[int, int]:
    out = root.parent / "semgrep.json"
    subprocess.run(
        [*cmd, "--json", "-o", str(out)], cwd=root, env=env, capture_output=True, check=False
    )
    try:
        data = json.loads(out.read_text())
    except (OSError, ValueError):
        return -1, -1
    return len(data.get("results", [])), len(data.get("paths", {}).get("scanned", []))


SCAN = ("ssot", "scan")


@dataclass
class Tree:
    """One tree to measure: where it is, its policy's banned list for ruff, and a label."""

    label: str  # "gen" (the generated corpus) or "real" (the registry's code base)
    root: Path
    banned: Sequence[str]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--files", type=int, default=10_000, help="Python files in the corpus (default: 10000)"
    )
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default: 0)")
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed runs of ssot and ruff each (default: 5)"
    )
    parser.add_argument(
        "--semgrep-repeat", type=int, default=2, help="timed runs of semgrep (default: 2)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 timed runs of each command, no semgrep: every other figure, in about 3 minutes",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="generate the corpus in DIR (missing, empty or an earlier corpus) and keep it (default: a temporary folder)",
    )
    parser.add_argument(
        "--real",
        default=realcode.DEFAULT_SPEC,
        help=f"the real code base fetched with pip download (default: {realcode.DEFAULT_SPEC})",
    )
    parser.add_argument(
        "--real-dir",
        type=Path,
        help="fetch the real code base into DIR and keep it (default: a temporary folder)",
    )
    parser.add_argument(
        "--skip-real", action="store_true", help="measure the generated corpus only"
    )
    parser.add_argument("--skip-gen", action="store_true", help="measure the real code base only")
    parser.add_argument("--ssot", help="ssot executable (default: the one beside this Python)")
    parser.add_argument("--ruff", help="ruff executable (default: the one beside this Python)")
    parser.add_argument("--semgrep", help="semgrep executable")
    parser.add_argument(
        "--install-semgrep",
        action="store_true",
        help=f"create a venv for semgrep in {SEMGREP_VENV} if none is found",
    )
    parser.add_argument("--skip-semgrep", action="store_true", help="skip measurement (b)")
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="run the development venv's (editable) ssot as it is (default: an installed copy)",
    )
    parser.add_argument(
        "--python",
        help="the interpreter of ssot's installed copy (default: the one running this; the "
        "same minor version)",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = min(args.repeat, 2)
        args.skip_semgrep = True

    ssot = find_tool("ssot", args.ssot)
    ruff = find_tool("ruff", args.ruff)
    semgrep = None if args.skip_semgrep else find_semgrep(args.semgrep, args.install_semgrep)
    if ssot is None or ruff is None:
        print(
            f"ssot ({ssot}) and ruff ({ruff}) are needed: pip install -e '.[dev]'", file=sys.stderr
        )
        return 2
    if args.python and (args.as_is or args.ssot):
        print("--python makes the installed copy: not with --ssot or --as-is", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="ssot-bench-"))
    info = machine_info(ruff, semgrep)
    if args.as_is or args.ssot:
        info["ssot"] = f"{ssot} as it is" + (
            " (PYTHONDONTWRITEBYTECODE set: sources compiled at every start)"
            if os.environ.get("PYTHONDONTWRITEBYTECODE")
            else ""
        )
    else:
        try:
            ssot, info["ssot"] = installed_copy(workdir, args.python)
        except ValueError as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            print(exc, file=sys.stderr)
            return 2
    info["ssot python"] = interpreter_build(interpreter_of(ssot))
    print("== machine")
    for key, value in info.items():
        print(f"  {key:<13} {value}")

    results: dict[str, object] = {"machine": info, "files": args.files, "seed": args.seed}
    rows: list[Row] = []
    try:
        if not args.skip_gen:
            root = workdir / "corpus" if args.keep is None else args.keep.resolve()
            print(
                f"\n== generated corpus: {args.files:,} files, seed {args.seed}, in {root} ({filesystem_of(root.parent)})",
                flush=True,
            )
            stats: CorpusStats = generate(root, args.files, args.seed)
            write_configs(root)
            git_commit(root, "Benchmark configuration: SSOT policy, ruff and semgrep rules")
            print(stats.summary())
            results["corpus"] = stats.as_dict()
            gen = Tree("gen", root, DEPRECATED)
            rows += measure_tree(args, gen, ssot, ruff, results)
            rows += measure_generated_only(args, gen, ssot, semgrep, results)
        if not args.skip_real:
            dest = workdir / "real" if args.real_dir is None else args.real_dir.resolve()
            print(f"\n== real code: pip download {args.real} into {dest}", flush=True)
            real = realcode.fetch(dest, args.real)
            print(real.summary())
            results["real"] = {
                "spec": real.spec,
                "wheel": real.wheel,
                "files": real.files,
                "mb": real.mb,
            }
            rows += measure_tree(
                args, Tree("real", dest, realcode.banned_api(real.policy)), ssot, ruff, results
            )
        print("\n== results (median wall seconds; ratios of medians)")
        results["table"] = print_table(rows)
        results["rows"] = [r.__dict__ for r in rows]
        print(
            f"\nmachine: {info['cpus']} x {info['cpu model']}, {info['memory']}, Python {info['python']}, {info['ruff']}, {info['semgrep']}"
        )
        print(f"ssot ran on: {info['ssot python']}")
        print(f"load average before: {info['load average']}; after: {_load()}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


_DIGEST_FIELDS = (
    "path",
    "rule",
    "line",
    "col",
    "end_line",
    "end_col",
    "fingerprint",
    "severity",
    "scope",
    "suppressed",
    "message",
)


def findings_digest(path: Path) -> tuple[dict[str, int], str]:
    """Counts per rule and a digest of every finding of a JSON report (identical runs agree)."""
    data = json.loads(path.read_text())
    counts: dict[str, int] = {}
    keys = []
    for f in data.get("findings", []):
        key = f.get("rule", "?") + (f"/{f['status']}" if f.get("status") else "")
        counts[key] = counts.get(key, 0) + 1
        keys.append("|".join(str(f.get(k)) for k in _DIGEST_FIELDS))
    digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]
    return counts, digest


def measure_tree(
    args: argparse.Namespace, tree: Tree, ssot: str, ruff: str, results: dict[str, object]
) -> list[Row]:
    """(a) cold and (c) warm against ruff, (g) --jobs 2 against --jobs 1, (e) memory."""
    rows: list[Row] = []
    root, tag = tree.root, tree.label
    # Timed in text (ruff prints its concise text); the JSON report also proves every
    # finding's fix with libcst: once cold below, and warm (fixes cached) in (h).
    scan_cold = scan_cold_command(ssot, root)
    scan_warm = [c for c in scan_cold if c != "--no-cache"]
    ruff_args = ruff_banned_api_command(ruff, root, tree.banned)
    ruff_base = [*ruff_args, "--output-format", "concise"]
    ruff_cold = [*ruff_base, "--no-cache"]

    # What each tool finds: they must do comparable work (and a digest to compare engines).
    report = root.parent / f"ssot-{tag}-report.json"
    as_json = [*scan_cold[:-4], "--format", "json", "-o", str(report)]
    json_run = run_once(as_json, root)
    counts, digest = findings_digest(report)
    print(
        f"\n== [{tag}] a cold scan with --format json (fixes built for every finding): "
        f"{json_run.wall:.2f} s, CPU {json_run.cpu:.2f} s",
        flush=True,
    )
    ruff_hits, ruff_files = _ruff_count([*ruff_args, "--no-cache"], root)
    print(
        f"\n== [{tag}] findings: ssot {counts} (digest {digest}); ruff TID251 {ruff_hits} in {ruff_files} files",
        flush=True,
    )
    results[f"findings_{tag}"] = {
        "ssot": counts,
        "digest": digest,
        "ruff_tid251": ruff_hits,
        "ruff_files": ruff_files,
    }

    ta, tr = race(
        args, f"[{tag}] (a) ssot scan --no-cache vs ruff --no-cache", scan_cold, ruff_cold, root
    )
    rows.append(_ratio_row(f"{tag} (a) scan cold vs ruff cold", ta, tr, 1.0, "<="))
    rows.append(measure_per_core(args, tree, scan_cold, ruff_cold))

    json_warm = [*scan_warm[:-4], "--format", "json", "-o", os.devnull]
    for code, title, ours, peer in (
        ("c", "scan warm", scan_warm, ruff_base),
        ("h", "JSON scan warm", json_warm, [*ruff_args, "--output-format", "json"]),
    ):
        ours_t, peer_t = race(
            args, f"[{tag}] ({code}) {title}: ssot (cache) vs ruff (cache)", ours, peer, root
        )
        rows.append(_ratio_row(f"{tag} ({code}) {title} vs ruff warm", ours_t, peer_t, 0.8, "<="))
    rows.append(measure_floor(args, tree, ssot, ruff_base))
    rows.append(measure_one_edit(args, tree, scan_warm, ruff_base))

    print(
        f"\n{_stamp()} == [{tag}] (g) ssot scan --no-cache --jobs 2 vs --jobs 1, load {_load()}",
        flush=True,
    )
    t2, t1 = side_by_side(
        ("jobs 2", lambda: run_once([*scan_cold, "--jobs", "2"], root)),
        ("jobs 1", lambda: run_once([*scan_cold, "--jobs", "1"], root)),
        args.repeat,
        args.repeat,
    )
    _show(t2, t1)
    speedup = t1.median / t2.median
    rows.append(
        Row(
            f"{tag} (g) --jobs 1 / --jobs 2 (speed-up)",
            t2.median,
            t1.median,
            speedup,
            ">= 1.6",
            speedup >= 1.6,
            f"CPU s: jobs 2 {t2.cpu:.2f}, jobs 1 {t1.cpu:.2f}",
        )
    )

    rows.append(measure_start(args, tree, ssot, ruff_cold, ta))

    print(f"\n== [{tag}] (e) peak memory of ssot scan --no-cache", flush=True)
    mem = peak_memory(scan_cold, root)
    ruff_mem = peak_memory(ruff_cold, root)
    print(
        f"  ssot: largest process {mem.largest_process:.0f} MB, tree RSS {mem.tree_rss:.0f} MB, tree PSS {mem.tree_pss:.0f} MB"
    )
    print(
        f"  ruff: largest process {ruff_mem.largest_process:.0f} MB, tree RSS {ruff_mem.tree_rss:.0f} MB"
    )
    worst = max(mem.largest_process, mem.tree_rss)
    rows.append(
        Row(
            f"{tag} (e) peak memory, scan cold (MB)",
            worst,
            ruff_mem.tree_rss,
            None,
            "< 300 MB",
            worst < 300,
            f"ssot: largest process {mem.largest_process:.0f} MB, whole tree RSS {mem.tree_rss:.0f} MB / PSS {mem.tree_pss:.0f} MB "
            f"(peer column: ruff tree RSS)",
        )
    )
    return rows


def measure_per_core(
    args: argparse.Namespace, tree: Tree, scan_cold: Sequence[str], ruff_cold: Sequence[str]
) -> Row:
    """(a1) The cold scan of (a) on one core each: ``--jobs 1`` against ruff with one rayon
    thread. No target: it separates the engine's speed from how the two tools use a second
    core (ssot's serial start, its workers' start, ruff's threads)."""
    tag = tree.label
    ours, peer = race(
        args,
        f"[{tag}] (a1) per core: ssot scan --no-cache --jobs 1 vs ruff --no-cache, "
        "RAYON_NUM_THREADS=1",
        [*scan_cold, "--jobs", "1"],
        ruff_cold,
        tree.root,
        peer_env={**os.environ, "RAYON_NUM_THREADS": "1"},
    )
    return _untargeted_row(
        f"{tag} (a1) per core: scan cold --jobs 1 vs ruff, 1 thread",
        ours,
        peer,
        f"CPU s: ssot {ours.cpu:.2f}, ruff {peer.cpu:.2f}",
    )


def measure_one_edit(
    args: argparse.Namespace, tree: Tree, scan_warm: Sequence[str], ruff_warm: Sequence[str]
) -> Row:
    """(k) A warm scan after one file was edited (its mtime moved before every run of either
    tool): the stored report of (c) no longer answers, so this is the cost of the findings
    cache, as ruff's warm run re-lints the one file. No target: (c) is the issue's warm."""
    files = sorted(tree.root.rglob("*.py"))
    edited = files[len(files) // 2]

    def edit() -> None:
        os.utime(edited, ns=(time.time_ns(), time.time_ns()))

    tag = tree.label
    ours, peer = race(
        args,
        f"[{tag}] (k) warm scan after one file is edited ({edited.relative_to(tree.root)}), "
        "ssot vs ruff",
        scan_warm,
        ruff_warm,
        tree.root,
        before_each=edit,
    )
    return _untargeted_row(
        f"{tag} (k) scan warm, one file edited, vs ruff",
        ours,
        peer,
        f"CPU s: ssot {ours.cpu:.2f}, ruff {peer.cpu:.2f}; the stored report misses, the "
        "findings cache answers all but one file",
    )


def measure_start(
    args: argparse.Namespace, tree: Tree, ssot: str, ruff_cold: Sequence[str], cold: Timing
) -> Row:
    """(i) The fixed start of a cold scan: the same commands over a one-file git tree with
    the tree's policy (interpreter, imports, policy validation, listing, matcher compile).
    No target: it says how much of (a) no faster engine can win back."""
    tag = tree.label
    start = tree.root.parent / f"{tag}-start"
    shutil.rmtree(start, ignore_errors=True)
    (start / ".github").mkdir(parents=True)
    shutil.copyfile(tree.root / ".github" / "ssot.toml", start / ".github" / "ssot.toml")
    (start / "app.py").write_text("x = 1\n")
    subprocess.run(["git", "init", "-q", str(start)], check=True)
    git_commit(start, "one file")
    ours = scan_cold_command(ssot, start)
    peer = [str(start) if arg == str(tree.root) else arg for arg in ruff_cold]
    ts, tr = race(
        args,
        f"[{tag}] (i) start of a cold scan: a one-file tree with the same policy, ssot vs ruff",
        ours,
        peer,
        start,
    )
    share = ts.median / cold.median
    return _untargeted_row(
        f"{tag} (i) start of a cold scan (1 file) vs ruff",
        ts,
        tr,
        f"CPU s: ssot {ts.cpu:.2f}, ruff {tr.cpu:.2f}; {100 * share:.0f} % of ssot's (a) median",
    )


# What any warm scan in CPython must do at least: start the interpreter (without even the
# site module), list the tree with git and stat every file (a changed file is found no other
# way). No import of ours, no cache read, no report.
FLOOR_CODE = """
import os, subprocess
out = subprocess.run(
    ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.py", "*.pyi"],
    capture_output=True, check=True,
).stdout
for rel in out.split(b"\\0"):
    if rel:
        os.stat(rel)
"""


def measure_floor(args: argparse.Namespace, tree: Tree, ssot: str, ruff_warm: Sequence[str]) -> Row:
    """(j) The floor of a warm scan in CPython (:data:`FLOOR_CODE`, run by the interpreter
    of the ssot under test) against ruff warm. No target: when the floor alone comes near
    0.8x ruff, (c) cannot be met by any Python code, only by moving work out of Python."""
    tag = tree.label
    python = Path(ssot).read_text().splitlines()[0].removeprefix("#!")
    floor = [python, "-I", "-S", "-c", FLOOR_CODE]
    tf, tr = race(
        args,
        f"[{tag}] (j) floor of a warm scan (python -I -S: git ls-files + stat each) vs ruff warm",
        floor,
        ruff_warm,
        tree.root,
    )
    return _untargeted_row(
        f"{tag} (j) Python floor of a warm scan vs ruff warm",
        tf,
        tr,
        f"interpreter, git ls-files, stat of each file; leaves {1000 * (0.8 * tr.median - tf.median):.0f} ms "
        "of the 0.8 target for the rest of a warm scan",
    )


def race(
    args: argparse.Namespace,
    title: str,
    ours: Sequence[str],
    peer: Sequence[str],
    cwd: Path,
    before_each: Callable[[], None] | None = None,
    peer_env: dict[str, str] | None = None,
) -> tuple[Timing, Timing]:
    """``ours`` (ssot) and ``peer`` (ruff) side by side, ``args.repeat`` runs each, shown;
    ``before_each`` is run (untimed) before every run of either; ``peer_env``: the peer's
    environment (default: this one's)."""
    print(
        f"\n{_stamp()} == {title}, {args.repeat} runs each, load {_load()}",
        flush=True,
    )
    timings = side_by_side(
        ("ssot", functools.partial(run_once, ours, cwd)),
        ("ruff", functools.partial(run_once, peer, cwd, peer_env)),
        args.repeat,
        args.repeat,
        before_each_a=before_each,
        before_each_b=before_each,
    )
    _show(*timings)
    return timings


def scan_cold_command(ssot: str, root: Path) -> list[str]:
    """The cold scan of (a) over ``root``, timed in text (ruff prints its concise text)."""
    text_to_null = ("--format", "text", "-o", os.devnull)
    return [ssot, *SCAN[1:], "--root", str(root), "--no-cache", *text_to_null]


def _untargeted_row(name: str, ours: Timing, peer: Timing, note: str) -> Row:
    """A row with a ratio and no target: it explains the rows that have one."""
    return Row(name, ours.median, peer.median, ours.median / peer.median, "none", None, note)


def _ratio_row(name: str, ours: Timing, peer: Timing, target: float, op: str) -> Row:
    ratio = ours.median / peer.median
    return Row(
        name,
        ours.median,
        peer.median,
        ratio,
        f"{op} {target}",
        ratio <= target,
        f"CPU s: ssot {ours.cpu:.2f}, ruff {peer.cpu:.2f}; {paired_ratios(ours, peer)}",
    )


def paired_ratios(ours: Timing, peer: Timing) -> str:
    """The ratio within each round of :func:`side_by_side` (its two runs next to each other in
    time), as a median and a range: the machine's speed drifts between rounds, which moves a
    ratio of medians more than the ratio within a round. Shown beside the table's ratio of
    medians, which decides the result."""
    # strict=False: with fewer runs of one command, the rounds where both ran.
    ratios = sorted(a.wall / b.wall for a, b in zip(ours.samples, peer.samples, strict=False))
    if not ratios:
        return "no paired rounds"
    return f"per round {statistics.median(ratios):.2f} (median; {ratios[0]:.2f}-{ratios[-1]:.2f})"


def measure_generated_only(
    args: argparse.Namespace,
    tree: Tree,
    ssot: str,
    semgrep: str | None,
    results: dict[str, object],
) -> list[Row]:
    """(b) semgrep, (d) check of a 15-file change against a cold scan, (f) start-up imports."""
    rows: list[Row] = []
    root = tree.root
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    scan_cold = scan_cold_command(ssot, root)
    semgrep_cmd = [
        semgrep or "semgrep",
        "scan",
        "--config",
        str(root / "semgrep-ssot.yml"),
        "--metrics=off",
        "--disable-version-check",
        "--quiet",
        str(root),
    ]
    found: dict[str, object] = {}
    results["findings_gen_peers"] = found

    if semgrep is None:
        print(
            "\n== [gen] (b) semgrep: not run (--quick, --skip-semgrep, or not found: --install-semgrep)"
        )
    else:
        print(
            f"\n{_stamp()} == [gen] (b) semgrep vs ssot scan --no-cache, {args.semgrep_repeat} runs",
            flush=True,
        )
        hits, scanned = _semgrep_count(semgrep_cmd, root, env)
        if hits < 0:
            print("  semgrep did not run; skipped")
        else:
            print(f"  semgrep finds {hits} in {scanned} files scanned")
            found["semgrep"], found["semgrep_scanned"] = hits, scanned
            ts, tg = side_by_side(
                ("ssot", lambda: run_once(scan_cold, root)),
                ("semgrep", lambda: run_once(semgrep_cmd, root, env)),
                args.semgrep_repeat,
                args.semgrep_repeat,
                warmup=False,
            )
            _show(ts, tg)
            ratio = tg.median / ts.median
            rows.append(
                Row(
                    "gen (b) semgrep vs scan cold (peer/ssot)",
                    ts.median,
                    tg.median,
                    ratio,
                    ">= 20",
                    ratio >= 20,
                    f"semgrep scanned {scanned} files; CPU s: ssot {ts.cpu:.2f}, semgrep {tg.cpu:.2f}",
                )
            )

    print(
        f"\n{_stamp()} == [gen] (d) ssot check --base HEAD~1 after a {CHANGED_FILES}-file commit vs ssot scan --no-cache, load {_load()}",
        flush=True,
    )
    change = make_change(root, args.seed)
    results["change"] = change
    check_cold = [
        ssot,
        "check",
        "--base",
        "HEAD~1",
        "--root",
        str(root),
        "--no-cache",
        "--format",
        "text",
        "-o",
        os.devnull,
    ]
    check_counts = _json_counts(ssot, root, ["check", "--base", "HEAD~1", "--no-cache"])
    print(
        f"  check reports: {check_counts} (planted: {len(change['added_deprecated'])} new deprecated imports, {len(change['removed_deprecated'])} removed)"
    )
    found["check"] = check_counts
    tc, ts2 = side_by_side(
        ("check", lambda: run_once(check_cold, root)),
        ("scan cold", lambda: run_once(scan_cold, root)),
        args.repeat,
        args.repeat,
    )
    _show(tc, ts2)
    rows.append(
        Row(
            f"gen (d) check, {CHANGED_FILES} files vs scan cold",
            tc.median,
            ts2.median,
            tc.median / ts2.median,
            "< 0.25",
            tc.median / ts2.median < 0.25,
            f"CPU s: check {tc.cpu:.2f}, scan {ts2.cpu:.2f}",
        )
    )

    print("\n== [gen] (f) ssot --help imports", flush=True)
    ok, bad, wall = importtime_check(sys.executable)
    in_scan = scan_imports(sys.executable, root, change["edited"][0])
    print(
        f"  --help: {'no forbidden module' if ok else 'imports ' + ', '.join(bad)} ({wall:.2f} s with -X importtime)"
    )
    print(
        f"  scan of one file imports: {', '.join(in_scan) if in_scan else 'none of ' + ', '.join(FORBIDDEN_AT_STARTUP)}"
    )
    rows.append(
        Row(
            "gen (f) ssot --help imports no fastapi/githubkit/libcst",
            None,
            None,
            None,
            "none imported",
            ok,
            ("" if ok else "imports " + ", ".join(bad) + "; ")
            + f"scan imports: {', '.join(in_scan) or 'none'}",
        )
    )
    return rows


_T0 = time.perf_counter()


def _stamp() -> str:
    return f"[{time.perf_counter() - _T0:6.1f} s]"


def _show(*timings: Timing) -> None:
    for t in timings:
        print(f"  {t.label:<10} median {t.median:.3f} s (runs: {t.spread()}), CPU {t.cpu:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
