"""Deterministic generator of a realistic Python monorepo for the SSOT guard benchmarks.

The shape follows ``docs/PERFORMANCE.md`` (the monorepo of the WebSocket SSOT failure report):
about 10,000 Python files and 180 MB, two thirds of them tests, file sizes with p10 1.6 KB,
median 14 KB, p90 39 KB, p99 87 KB and a few up to 500 KB, and the same shares of files that
mention the concept: "websocket" in 49 % of files (67 % of bytes), a deprecated import in about
6 %, a golden-path event name in 16 % (13 % quoted), a class named ``*WebSocket*`` in 17 %,
legacy event payloads (about 1,600 dict displays per 10,000 files, 42 of them outside tests)
and 17 unparsable files per 10,000.

The same ``seed`` gives byte-identical files (and the same git commit id); the corpus is
generated at run time into a temporary folder and never committed.

Usage::

    python benchmarks/corpus.py DEST --files 10000 --seed 0
"""

from __future__ import annotations

import argparse
import bisect
import functools
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
REFERENCE_FILES = 9_720  # Python files of the real tree (PERFORMANCE.md)
REFERENCE_MB = 180.0  # its size, for the default mean file size
GIT_DATE = "2025-09-14T12:00:00+00:00"

# File-size quantiles of the real tree (bytes), interpolated log-linearly in between.
SIZE_QUANTILES: tuple[tuple[float, float], ...] = (
    (0.0, 40),
    (0.03, 380),
    (0.10, 1_600),
    (0.25, 6_300),
    (0.50, 14_000),
    (0.75, 24_500),
    (0.90, 39_000),
    (0.97, 58_000),
    (0.99, 87_000),
    (0.998, 160_000),
    (0.9995, 290_000),
    (1.0, 499_000),
)

# Shares of Python files (of the whole tree) that each trigger is planted in.
SHARE_WEBSOCKET = 0.49
SHARE_DEPRECATED = 0.058
SHARE_CORE_IMPORT = 0.09
SHARE_EVENT = 0.16
SHARE_EVENT_QUOTED = 0.13
SHARE_WS_CLASS = 0.17
SHARE_MANAGER = 0.009
SHARE_NON_ASCII = 0.10
LEGACY_TEST_DICTS = 1_558  # per REFERENCE_FILES
LEGACY_SOURCE_DICTS = 42
SYNTAX_ERRORS = 17  # per REFERENCE_FILES
NON_PY_RATIO = 0.7  # other files (docs, configs) per Python file: 16,575 files in all

TOP_FOLDERS: tuple[tuple[str, float], ...] = (
    ("netra_backend", 3_991),
    ("tests", 3_562),
    ("scripts", 1_010),
    ("test_framework", 319),
    ("auth_service", 270),
    ("analytics_service", 150),
    ("shared", 95),
    ("dev_launcher", 70),
    ("netra_mcp", 55),
    ("deployment", 45),
    ("load_tests", 40),
    ("zen", 35),
    ("tools", 30),
    ("dashboard", 20),
    ("docs_tools", 16),
    ("frontend_bridge", 12),
)

GOLDEN_EVENTS = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)
WS_CORE = "netra_backend.app.websocket_core"
CANONICAL_MODULE = "netra_backend/app/websocket_core/websocket_manager.py"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --------------------------------------------------------------------------------------------
# Vocabulary. None of these can spell a trigger by accident: no "websocket", no golden-path
# event name, no "unified_manager" (so "started", "thinking", "executing", "completed" and
# "unified" are not words here).
NOUNS = _words(
    "agent thread user session message event tool run execution context state cache token auth "
    "config request response handler service registry pipeline supervisor triage optimization "
    "cost metric report data query result model prompt router queue job worker task schedule "
    "retry timeout client database redis postgres clickhouse health monitor alert log trace span "
    "notifier bridge factory validator schema payload tracker isolation environment secret "
    "permission tenant quota usage billing invoice demo corpus workload benchmark analysis "
    "account profile preference feature flag deployment instance region cluster node pool batch "
    "record entry item snapshot checkpoint history summary insight recommendation anomaly "
    "threshold budget forecast provider endpoint route middleware circuit breaker limiter window "
    "counter gauge status lifecycle startup shutdown credential oauth jwt header cookie origin "
    "frame chunk stream buffer channel subscription heartbeat latency throughput error failure "
    "fallback recovery audit compliance rule scope mapping index key value field column table "
    "row partition tier plan organization workspace project dataset embedding vector document"
)
VERBS = _words(
    "get create update delete process handle validate build load save fetch send emit register "
    "resolve execute parse format compute calculate check ensure apply collect aggregate "
    "normalize transform initialize cleanup reset refresh sync dispatch notify track record "
    "persist restore verify authenticate authorize extract merge filter sort render serialize "
    "deserialize enqueue acquire release prepare publish consume route score rank estimate "
    "optimize summarize generate inspect compare migrate archive"
)
ADJS = _words(
    "active pending default current legacy new isolated shared cached raw total max min valid "
    "invalid primary secondary internal external global local remote stale recent last first "
    "next final partial expected actual mock sample initial base effective scoped"
)
CLASS_PARTS = _words(
    "Agent Thread User Session Message Tool Execution Context State Cache Token Auth Config "
    "Request Response Service Registry Pipeline Supervisor Triage Cost Metric Report Query Result "
    "Model Router Queue Job Worker Task Retry Client Database Redis Health Monitor Alert Trace "
    "Notifier Bridge Schema Payload Isolation Environment Secret Tenant Quota Usage Billing "
    "Corpus Workload Benchmark Analysis Provider Endpoint Circuit Breaker Limiter Lifecycle "
    "Credential Stream Channel Subscription Heartbeat Audit Organization Workspace Dataset"
)
CLASS_SUFFIXES = _words(
    "Manager Service Handler Factory Validator Registry Client Engine Adapter Tracker Config "
    "Error Result Request Response State Context Builder Store Repository Orchestrator "
    "Coordinator Dispatcher Monitor Emitter Processor Executor Scheduler Resolver Policy"
)
EXCEPTIONS = (
    "ValueError",
    "RuntimeError",
    "KeyError",
    "TimeoutError",
    "ConnectionError",
    "PermissionError",
    "TypeError",
    "asyncio.TimeoutError",
    "OSError",
    "LookupError",
)
WS_IDENTS = (
    "websocket",
    "ws",
    "websocket_manager",
    "ws_manager",
    "websocket_bridge",
    "ws_connection",
    "websocket_connection",
    "ws_client",
    "websocket_notifier",
    "websocket_url",
    "ws_message",
    "websocket_events",
    "ws_emitter",
    "websocket_handler",
    "websocket_state",
)
WS_CLASS_MIDDLES = (
    "Connection",
    "Auth",
    "Message",
    "Event",
    "Routing",
    "Heartbeat",
    "Reconnect",
    "Isolation",
    "Integration",
    "Handshake",
    "Session",
    "Bridge",
    "Notifier",
    "Emitter",
    "Protocol",
    "Performance",
    "Recovery",
    "Security",
    "TypeSafety",
    "Lifecycle",
    "Broadcast",
    "Delivery",
    "Ordering",
    "Concurrency",
    "Cleanup",
    "Timeout",
    "Serialization",
    "GoldenPath",
    "Resilience",
)
EMOJI = (
    "\u2705",
    "\u274c",
    "\U0001f680",
    "\u26a0\ufe0f",
    "\U0001f50d",
    "\U0001f4ca",
    "\U0001f6a8",
    "\u2728",
)
SEGMENTS = (
    "Platform/Internal",
    "Enterprise",
    "Mid & Enterprise",
    "Free, Early, Mid, Enterprise",
    "All",
)
GOALS = (
    "Stability",
    "Retention",
    "Expansion",
    "Conversion",
    "Development Velocity",
    "Risk Reduction",
)
STDLIB = (
    "import asyncio",
    "import json",
    "import logging",
    "import os",
    "import time",
    "import uuid",
    "import re",
    "import sys",
    "from datetime import datetime, timezone",
    "from dataclasses import dataclass, field",
    "from enum import Enum",
    "from pathlib import Path",
    "from typing import Any, Dict, List, Optional",
    "from collections import defaultdict",
    "from contextlib import asynccontextmanager",
    "import hashlib",
    "import functools",
)
TEST_IMPORTS = (
    "import pytest",
    "from unittest.mock import AsyncMock, MagicMock, patch",
    "from test_framework.ssot.base_test_case import SSotAsyncTestCase, SSotBaseTestCase",
    "from test_framework.fixtures.real_services import real_services_fixture",
    "from shared.isolated_environment import IsolatedEnvironment, get_env",
)
APP_PACKAGES = (
    "agents",
    "agents.supervisor",
    "agents.triage",
    "services",
    "services.user_execution",
    "core",
    "core.configuration",
    "db",
    "schemas",
    "llm",
    "tools",
    "monitoring",
    "middleware",
    "routes",
    "clients",
    "utils",
    "models",
    "logging_config",
    "redis_manager",
    "auth_integration",
)

_BASE_IMPORTS = (
    "import logging",
    "from typing import Any, Dict, List, Optional",
    "import asyncio",
    "import time",
    "import uuid",
    "from datetime import datetime, timezone",
    "from collections import defaultdict",
    "from dataclasses import dataclass",
    "from enum import Enum",
)


def _merge_imports(lines: Sequence[str]) -> list[str]:
    """Plain imports first, then one ``from`` import per module (names merged), sorted."""
    plain: set[str] = set()
    froms: dict[str, set[str]] = {}
    for line in lines:
        if line.startswith("from "):
            module, _, names = line[5:].partition(" import ")
            froms.setdefault(module, set()).update(n.strip() for n in names.split(","))
        else:
            plain.add(line)
    return sorted(plain) + [f"from {m} import {', '.join(sorted(froms[m]))}" for m in sorted(froms)]


_WS_CLASS_RE = re.compile(rb"class\s+\w*WebSocket")
_DEPRECATED_RE = re.compile(
    rb"websocket_core\.unified_manager|websocket_core\.websocket_manager_factory|"
    rb"from\s+\.+(?:websocket_core\.)?(?:unified_manager|websocket_manager_factory)\s+import|"
    rb"from\s+netra_backend\.app\.websocket_core\s+import\s+\(?[\w\s,]*\bWebSocketManager\b"
)
_EVENT_RE = re.compile(
    rb"agent_started|agent_thinking|tool_executing|tool_completed|agent_completed"
)
_EVENT_QUOTED_RE = re.compile(
    rb"[\"'](?:agent_started|agent_thinking|tool_executing|tool_completed|agent_completed)[\"']"
)


@dataclass
class CorpusStats:
    """What was generated, measured on the bytes written (and what was planted)."""

    files: int = 0
    bytes: int = 0
    other_files: int = 0
    seconds: float = 0.0
    test_files: int = 0
    top_folders: dict[str, int] = field(default_factory=dict)
    size_percentiles: dict[str, int] = field(default_factory=dict)
    websocket_files: int = 0
    websocket_bytes: int = 0
    deprecated_files: int = 0
    deprecated_bytes: int = 0
    deprecated_imports_planted: int = 0
    event_files: int = 0
    event_quoted_files: int = 0
    legacy_payloads_planted: int = 0
    legacy_payloads_outside_tests: int = 0
    ws_class_files: int = 0
    manager_classes_planted: int = 0
    any_trigger_files: int = 0
    syntax_error_files: int = 0
    syntax_error_paths: list[str] = field(default_factory=list)
    commit: str = ""

    @property
    def mb(self) -> float:
        return self.bytes / 1e6

    def share(self, count: int) -> float:
        return 100.0 * count / self.files if self.files else 0.0

    def summary(self) -> str:
        """A human-readable table of the figures, with the real tree's for comparison."""
        rows = [
            ("Python files", f"{self.files:,}", "9,720"),
            ("MB of Python", f"{self.mb:.1f}", "181"),
            ("other files", f"{self.other_files:,}", "6,855"),
            ("tests (share of files)", f"{self.share(self.test_files):.1f} %", "~66.7 %"),
            (
                "size p10/p50/p90/p99/max (KB)",
                "/".join(
                    f"{self.size_percentiles.get(k, 0) / 1000:.1f}"
                    for k in ("p10", "p50", "p90", "p99", "max")
                ),
                "1.6/14/39/87/499",
            ),
            ("'websocket' (files)", f"{self.share(self.websocket_files):.1f} %", "49 %"),
            (
                "'websocket' (bytes)",
                f"{100.0 * self.websocket_bytes / max(self.bytes, 1):.1f} %",
                "67 %",
            ),
            (
                "deprecated import (files)",
                f"{self.share(self.deprecated_files):.1f} %",
                "5.7-7.0 %",
            ),
            (
                "deprecated import (bytes)",
                f"{100.0 * self.deprecated_bytes / max(self.bytes, 1):.1f} %",
                "8.3 %",
            ),
            ("deprecated import lines planted", f"{self.deprecated_imports_planted:,}", "662-710"),
            ("golden-path event name", f"{self.share(self.event_files):.1f} %", "16 %"),
            ("... as a quoted literal", f"{self.share(self.event_quoted_files):.1f} %", "13 %"),
            ("class named *WebSocket*", f"{self.share(self.ws_class_files):.1f} %", "17 %"),
            (
                "any trigger but the bare word",
                f"{self.share(self.any_trigger_files):.1f} %",
                "30 %",
            ),
            (
                "legacy payload dicts (outside tests)",
                f"{self.legacy_payloads_planted:,} ({self.legacy_payloads_outside_tests})",
                "~1,600 (42)",
            ),
            ("manager-like classes planted", f"{self.manager_classes_planted}", "-"),
            ("files with syntax errors", f"{self.syntax_error_files}", "17"),
        ]
        width = max(len(r[0]) for r in rows)
        lines = [f"{'':<{width}}  {'corpus':>18}  {'real tree (10k)':>16}"]
        lines += [f"{a:<{width}}  {b:>18}  {c:>16}" for a, b, c in rows]
        folders = ", ".join(
            f"{k} {v:,}" for k, v in sorted(self.top_folders.items(), key=lambda kv: -kv[1])
        )
        lines.append(f"top-level folders: {folders}")
        lines.append(f"generated in {self.seconds:.1f} s; commit {self.commit[:12] or '-'}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["mb"] = round(self.mb, 2)
        return out


# --------------------------------------------------------------------------------------------
# The plan: paths, sizes and what each file holds.


@dataclass
class FileSpec:
    """One Python file to write."""

    path: str
    kind: str  # init, source, test, conftest, script, framework
    size: int = 0
    ws: bool = False
    deprecated: int = 0
    core: bool = False
    event: str = ""  # "", "quoted", "bare"
    legacy: int = 0
    ws_class: bool = False
    manager: bool = False
    syntax: str = ""
    non_ascii: bool = False

    @property
    def is_test(self) -> bool:
        return self.kind in ("test", "conftest", "framework") or "/tests/" in f"/{self.path}"


def size_at(u: float) -> float:
    """The file size (bytes) at quantile ``u`` of the real tree's distribution."""
    qs = [q for q, _ in SIZE_QUANTILES]
    i = max(1, min(len(qs) - 1, bisect.bisect_right(qs, u)))
    (q0, s0), (q1, s1) = SIZE_QUANTILES[i - 1], SIZE_QUANTILES[i]
    t = 0.0 if q1 == q0 else (u - q0) / (q1 - q0)
    return math.exp(math.log(s0) + t * (math.log(s1) - math.log(s0)))


class _Rng(random.Random):
    """``random.Random`` with cheaper ``choice`` and ``randint`` (one ``random()`` call each)."""

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))


@functools.lru_cache(maxsize=1)
def _quantile_mean() -> float:
    n = 20_000
    return sum(size_at((i + 0.5) / n) for i in range(n)) / n


def _weighted_pick(
    rng: random.Random, items: Sequence[int], weights: Sequence[float], k: int
) -> list[int]:
    """``k`` items without replacement, with probability growing with weight (Efraimidis-Spirakis)."""
    if k <= 0 or not items:
        return []
    keyed = sorted(
        ((rng.random() ** (1.0 / w) if w > 0 else 0.0), item)
        for item, w in zip(items, weights, strict=True)
    )
    return [item for _, item in keyed[-k:]]


def _scaled(count: float, files: int) -> int:
    return round(count * files / REFERENCE_FILES)


class _Planner:
    def __init__(self, rng: random.Random, files: int) -> None:
        self.rng = rng
        self.files = files
        self.used: set[str] = set()
        self.specs: list[FileSpec] = []

    def unique(self, path: str) -> str:
        if path not in self.used:
            self.used.add(path)
            return path
        stem, ext = path.rsplit(".", 1)
        n = 2
        while f"{stem}_{n}.{ext}" in self.used:
            n += 1
        self.used.add(f"{stem}_{n}.{ext}")
        return f"{stem}_{n}.{ext}"

    def words(self, n: int, pool: Sequence[str] = NOUNS) -> str:
        return "_".join(self.rng.choice(pool) for _ in range(n))

    def dirs_for(self, top: str, count: int) -> tuple[list[tuple[str, str]], float]:
        """(directory, kind of files in it) for a top-level folder, and its share of tests."""
        r = self.rng
        ndirs = max(1, round(count / 17))
        fixed: list[tuple[str, str]]
        if top == "netra_backend":
            fixed = [("netra_backend/app/websocket_core", "source")]
            fixed += [(f"netra_backend/app/{p.replace('.', '/')}", "source") for p in APP_PACKAGES]
            fixed += [
                (f"netra_backend/tests/{d}", "test")
                for d in (
                    "unit",
                    "integration",
                    "e2e",
                    "websocket_core",
                    "agents",
                    "critical",
                    "services",
                    "unit/websocket_core",
                )
            ]
            share_test = 0.55
        elif top == "tests":
            fixed = [
                (f"tests/{d}", "test")
                for d in (
                    "unit",
                    "integration",
                    "e2e",
                    "mission_critical",
                    "websocket",
                    "agents",
                    "performance",
                    "regression",
                    "e2e/staging",
                    "integration/golden_path",
                    "unit/websocket_core",
                    "integration/websocket_core",
                    "unit/ssot",
                )
            ]
            share_test = 1.0
        elif top == "auth_service":
            fixed = [
                ("auth_service/auth_core", "source"),
                ("auth_service/tests/unit", "test"),
                ("auth_service/tests/integration", "test"),
            ]
            share_test = 0.5
        elif top == "test_framework":
            fixed = [
                ("test_framework", "framework"),
                ("test_framework/ssot", "framework"),
                ("test_framework/fixtures", "framework"),
            ]
            share_test = 1.0
        elif top == "scripts":
            fixed = [
                ("scripts", "script"),
                ("scripts/deploy", "script"),
                ("scripts/maintenance", "script"),
            ]
            share_test = 0.0
        else:
            fixed = [(top, "source"), (f"{top}/tests", "test")]
            share_test = 0.4
        tests = [d for d in fixed if d[1] == "test"]
        others = [d for d in fixed if d[1] != "test"]
        for group, wanted in (
            (tests, round(ndirs * share_test)),
            (others, ndirs - round(ndirs * share_test)),
        ):
            while group and len(group) < wanted:
                parent, kind = r.choice(group)
                if parent.count("/") >= 4:
                    parent = group[0][0]
                name = r.choice(NOUNS) if r.random() < 0.6 else self.words(2)
                group.append((f"{parent}/{name}", kind))
        unique: dict[str, tuple[str, str]] = {}
        for d, k in fixed + tests + others:
            unique.setdefault(d, (d, k))
        return list(unique.values()), share_test

    def plan(self) -> list[FileSpec]:
        r = self.rng
        total_ref = sum(w for _, w in TOP_FOLDERS)
        quotas = [(top, max(2, round(self.files * w / total_ref))) for top, w in TOP_FOLDERS]
        # Small corpora keep the big folders and drop the smallest ones.
        while sum(q for _, q in quotas) > self.files and len(quotas) > 1:
            excess = sum(q for _, q in quotas) - self.files
            top, q = quotas[0]
            if excess >= quotas[-1][1]:
                quotas.pop()
            else:
                quotas[0] = (top, q - excess)
        missing = self.files - sum(q for _, q in quotas)
        quotas[0] = (quotas[0][0], quotas[0][1] + missing)
        for top, quota in quotas:
            dirs, share_test = self.dirs_for(top, quota)
            test_dirs = [d for d in dirs if d[1] == "test"]
            other_dirs = [d for d in dirs if d[1] != "test"]
            made = 0
            packages = [d for d, k in dirs if not d.startswith("scripts")]
            for d in packages[: max(0, min(len(packages), quota // 9))]:
                self.specs.append(FileSpec(self.unique(f"{d}/__init__.py"), "init"))
                made += 1
            if top == "netra_backend":
                for name in (
                    "websocket_manager",
                    "unified_manager",
                    "websocket_manager_factory",
                    "types",
                    "handlers",
                    "auth",
                    "event_validator",
                    "connection_state",
                ):
                    self.specs.append(
                        FileSpec(
                            self.unique(f"{WS_CORE.replace('.', '/')}/{name}.py"), "source", ws=True
                        )
                    )
                    made += 1
            while made < quota:
                if test_dirs and (not other_dirs or r.random() < share_test):
                    d, kind = r.choice(test_dirs)
                else:
                    d, kind = r.choice(other_dirs)
                if kind == "test" and r.random() < 0.02:
                    self.specs.append(FileSpec(self.unique(f"{d}/conftest.py"), "conftest"))
                else:
                    self.specs.append(FileSpec(self.unique(f"{d}/{self.file_name(kind)}"), kind))
                made += 1
        self.assign_sizes()
        self.assign_triggers()
        return self.specs

    def file_name(self, kind: str) -> str:
        r = self.rng
        if kind == "test":
            return f"test_{self.words(r.randint(2, 4))}.py"
        if kind == "script":
            return f"{r.choice(VERBS)}_{self.words(r.randint(1, 3))}.py"
        suffix = r.choice(
            (
                "manager",
                "service",
                "handler",
                "utils",
                "models",
                "schemas",
                "client",
                "router",
                "validator",
                "factory",
                "core",
                "types",
                "config",
                "helpers",
                "registry",
                "executor",
            )
        )
        return f"{self.words(r.randint(1, 2))}_{suffix}.py"

    def assign_sizes(self) -> None:
        r = self.rng
        n = len(self.specs)
        sizes = sorted(size_at((i + r.random()) / n) for i in range(n))
        inits = [s for s in self.specs if s.kind == "init"]
        others = [s for s in self.specs if s.kind != "init"]
        for spec, size in zip(inits, sizes, strict=False):
            spec.size = int(size)
        rest = sizes[len(inits) :]
        r.shuffle(rest)
        for spec, size in zip(others, rest, strict=True):
            spec.size = int(size)

    def assign_triggers(self) -> None:
        r = self.rng
        n = len(self.specs)
        idx = list(range(n))
        specs = self.specs

        def w(i: int, test: float, power: float) -> float:
            s = specs[i]
            return (test if s.is_test else 1.0) * math.pow(max(s.size, 200), power)

        forced = [i for i in idx if specs[i].ws]
        ws = set(forced) | set(
            _weighted_pick(
                r,
                [i for i in idx if not specs[i].ws],
                [w(i, 1.2, 0.65) for i in idx if not specs[i].ws],
                round(n * SHARE_WEBSOCKET) - len(forced),
            )
        )
        ws_list = sorted(ws)
        for i in ws_list:
            specs[i].ws = True
        for i in _weighted_pick(
            r, ws_list, [w(i, 1.3, 0.3) for i in ws_list], round(n * SHARE_DEPRECATED)
        ):
            specs[i].deprecated = r.choices((1, 2, 3, 4), (78, 16, 5, 1))[0]
        for i in _weighted_pick(
            r, ws_list, [w(i, 1.0, 0.3) for i in ws_list], round(n * SHARE_CORE_IMPORT)
        ):
            specs[i].core = True
        # Event names: mostly tests; a fifth of them in files that never say "websocket".
        quoted_n = round(n * SHARE_EVENT_QUOTED)
        bare_n = round(n * (SHARE_EVENT - SHARE_EVENT_QUOTED))
        pool_ws = [i for i in ws_list if specs[i].kind != "init"]
        pool_other = [i for i in idx if not specs[i].ws and specs[i].kind != "init"]
        ev = _weighted_pick(
            r, pool_ws, [w(i, 4.0, 0.4) for i in pool_ws], round((quoted_n + bare_n) * 0.8)
        )
        ev += _weighted_pick(
            r, pool_other, [w(i, 4.0, 0.4) for i in pool_other], quoted_n + bare_n - len(ev)
        )
        ev_sorted = sorted(ev)
        r.shuffle(ev_sorted)
        for k, i in enumerate(ev_sorted):
            specs[i].event = "quoted" if k < quoted_n else "bare"
        quoted = [i for i in ev_sorted if specs[i].event == "quoted" and specs[i].ws]
        self.plant_legacy(
            [i for i in quoted if specs[i].is_test], _scaled(LEGACY_TEST_DICTS, n), 4.0
        )
        self.plant_legacy(
            [i for i in quoted if not specs[i].is_test], _scaled(LEGACY_SOURCE_DICTS, n), 1.7
        )
        cls_pool = [i for i in ws_list if specs[i].kind != "init"]
        for i in _weighted_pick(
            r, cls_pool, [w(i, 3.0, 0.3) for i in cls_pool], round(n * SHARE_WS_CLASS)
        ):
            specs[i].ws_class = True
        for i in _weighted_pick(
            r, cls_pool, [w(i, 1.0, 0.3) for i in cls_pool], max(1, round(n * SHARE_MANAGER))
        ):
            specs[i].manager = True
        big_enough = [i for i in idx if specs[i].kind != "init" and specs[i].size > 2_000]
        kinds = (
            "print2",
            "conflict",
            "colon",
            "paren",
            "fstring312",
            "indent",
            "fstring312",
            "print2",
            "colon",
            "paren",
        )
        for k, i in enumerate(
            sorted(r.sample(big_enough, min(len(big_enough), max(1, _scaled(SYNTAX_ERRORS, n)))))
        ):
            specs[i].syntax = kinds[k % len(kinds)]
        for i in r.sample(idx, round(n * SHARE_NON_ASCII)):
            specs[i].non_ascii = True

    def plant_legacy(self, pool: list[int], dicts: int, mean: float) -> None:
        r = self.rng
        if not pool or dicts <= 0:
            return
        chosen = _weighted_pick(
            r,
            pool,
            [math.sqrt(max(self.specs[i].size, 500)) for i in pool],
            max(1, min(len(pool), round(dicts / mean))),
        )
        left = dicts
        for k, i in enumerate(chosen):
            share = (
                left
                if k == len(chosen) - 1
                else max(1, min(left - (len(chosen) - k - 1), round(r.expovariate(1 / mean)) or 1))
            )
            self.specs[i].legacy = share
            left -= share


# --------------------------------------------------------------------------------------------
# Writing one file.


class _Writer:
    """Builds the text of one file from its spec."""

    def __init__(self, spec: FileSpec, rng: random.Random) -> None:
        self.spec = spec
        self.r = rng
        self.rand = rng.random
        self.choice = rng.choice
        self.ws = spec.ws
        self.test = spec.is_test
        self.budget = 1 << 30  # bytes the next unit may take, roughly
        self.has_main = False
        self.size = 0
        self.lazy_deprecated: list[str] = []
        self.module_alias = ""

    def methods(self, most: int, each: int) -> int:
        """How many methods a class may have within the current budget."""
        return max(1, min(most, self.budget // each))

    # --- names and expressions -------------------------------------------------------------
    def noun(self) -> str:
        if self.ws and self.rand() < 0.07:
            return self.choice(WS_IDENTS)
        return self.choice(NOUNS)

    def var(self) -> str:
        x = self.rand()
        if x < 0.45:
            return self.noun()
        if x < 0.8:
            return f"{self.choice(NOUNS)}_{self.noun()}"
        return f"{self.choice(ADJS)}_{self.noun()}"

    def func(self) -> str:
        x = self.rand()
        if x < 0.6:
            return f"{self.choice(VERBS)}_{self.noun()}"
        if x < 0.9:
            return f"{self.choice(VERBS)}_{self.choice(ADJS)}_{self.noun()}"
        return f"{self.choice(VERBS)}_{self.choice(NOUNS)}_{self.noun()}"

    def cls(self) -> str:
        return f"{self.choice(CLASS_PARTS)}{self.choice(CLASS_PARTS) if self.rand() < 0.3 else ''}{self.choice(CLASS_SUFFIXES)}"

    def phrase(self) -> str:
        c = self.choice
        x = self.rand()
        if x < 0.25:
            s = f"{c(VERBS)} the {c(ADJS)} {c(NOUNS)} for the {self.noun()}"
        elif x < 0.5:
            s = f"failed to {c(VERBS)} {c(NOUNS)} {c(NOUNS)}"
        elif x < 0.7:
            s = f"{c(NOUNS)} {c(NOUNS)} is {c(ADJS)}"
        elif x < 0.85:
            s = f"unable to {c(VERBS)} {self.noun()} after retries"
        else:
            s = f"{c(ADJS)} {c(NOUNS)} does not match the {c(ADJS)} {c(NOUNS)}"
        if self.spec.non_ascii and self.rand() < 0.3:
            s = f"{c(EMOJI)} {s}"
        return s

    def sentence(self) -> str:
        c = self.choice
        x = self.rand()
        if x < 0.3:
            s = f"{c(VERBS).capitalize()} the {c(ADJS)} {c(NOUNS)} of each {self.noun()} and {c(VERBS)} the {c(NOUNS)}."
        elif x < 0.55:
            s = f"The {self.noun()} {c(NOUNS)} must be {c(ADJS)} before the {c(NOUNS)} is {c(ADJS)}."
        elif x < 0.75:
            s = f"This keeps the {c(NOUNS)} {c(NOUNS)} {c(ADJS)} across {c(NOUNS)} boundaries."
        else:
            s = f"Used by the {c(NOUNS)} {c(NOUNS)} to {c(VERBS)} {c(ADJS)} {c(NOUNS)} data."
        if self.spec.non_ascii and self.rand() < 0.15:
            s = s.replace(" and ", " \u2014 ", 1)
        return s

    def string(self) -> str:
        x = self.rand()
        if x < 0.4:
            return f'"{self.choice(NOUNS)}_{self.noun()}"'
        if x < 0.7:
            return f'"{self.choice(NOUNS)}"'
        return f'"{self.phrase()}"'

    def expr(self) -> str:
        c = self.choice
        x = self.rand()
        if x < 0.14:
            return self.var()
        if x < 0.22:
            return str(self.r.randint(0, 500))
        if x < 0.32:
            return self.string()
        if x < 0.42:
            return f"{self.var()}.{self.noun()}"
        if x < 0.52:
            return f"{self.func()}({self.var()})"
        if x < 0.6:
            return (
                f"self._{self.noun()}.get({self.string()}, {c(('None', '0', '[]', '{}', 'False'))})"
            )
        if x < 0.66:
            item = self.noun()
            return f"[{item}.{self.noun()} for {item} in {self.var()} if {item}.is_{c(ADJS)}]"
        if x < 0.72:
            return f"len({self.var()})"
        if x < 0.77:
            return c(
                (
                    "time.time()",
                    "datetime.now(timezone.utc)",
                    "uuid.uuid4().hex",
                    "asyncio.get_event_loop().time()",
                )
            )
        if x < 0.85:
            first, second = self.noun(), self.noun()
            if first == second:
                return f"{self.cls()}({first}={self.var()})"
            return f"{self.cls()}({first}={self.var()}, {second}={self.expr_simple()})"
        if x < 0.92:
            return f"{self.var()} or {self.expr_simple()}"
        return f"{{{self.string()}: {self.var()}, {self.string()}: {self.expr_simple()}}}"

    def expr_simple(self) -> str:
        x = self.rand()
        if x < 0.4:
            return self.var()
        if x < 0.6:
            return str(self.r.randint(0, 100))
        if x < 0.8:
            return self.string()
        return self.choice(("None", "True", "False", "[]", "{}"))

    def args(self) -> str:
        k = self.r.randint(0, 3)
        parts = [self.var() for _ in range(k)]
        if self.rand() < 0.4:
            parts.append(f"{self.noun()}={self.expr_simple()}")
        return ", ".join(parts)

    # --- statements -------------------------------------------------------------------------
    def block(self, ind: str, n: int, depth: int, is_async: bool, out: list[str]) -> None:
        """An indented block: statements, at least one of which is not a comment."""
        start = len(out)
        self.stmts(ind, n, depth, is_async, out)
        if all(line.lstrip().startswith("#") for line in out[start:]):
            out.append(f"{ind}pass")

    def stmts(self, ind: str, n: int, depth: int, is_async: bool, out: list[str]) -> None:
        c = self.choice
        for _ in range(n):
            x = self.rand()
            if x < 0.2:
                out.append(f"{ind}{self.var()} = {self.expr()}")
            elif x < 0.3:
                aw = "await " if is_async else ""
                out.append(
                    f"{ind}{self.var()} = {aw}self.{self.noun()}.{self.func()}({self.args()})"
                )
            elif x < 0.37:
                out.append(f"{ind}self._{self.noun()} = {self.expr()}")
            elif x < 0.45:
                level = c(("info", "debug", "warning", "error", "info"))
                out.append(f'{ind}logger.{level}(f"{self.phrase()}: {{{self.var()}}}")')
            elif x < 0.5:
                out.append(f"{ind}# {self.sentence()}")
            elif x < 0.56 and depth < 3:
                out.append(f"{ind}if {self.var()} is None:")
                self.block(ind + "    ", self.r.randint(1, 2), depth + 1, is_async, out)
            elif x < 0.61:
                out.append(f"{ind}if not {self.var()}:")
                out.append(f'{ind}    raise {c(EXCEPTIONS)}(f"{self.phrase()}: {{{self.var()}}}")')
            elif x < 0.67 and depth < 3:
                v = self.noun()
                out.append(f"{ind}for {v} in {self.var()}:")
                self.block(ind + "    ", self.r.randint(1, 3), depth + 1, is_async, out)
            elif x < 0.72 and depth < 3:
                out.append(f"{ind}try:")
                self.block(ind + "    ", self.r.randint(1, 3), depth + 1, is_async, out)
                out.append(f"{ind}except {c(EXCEPTIONS)} as e:")
                out.append(f'{ind}    logger.error(f"{self.phrase()}: {{e}}")')
                if self.rand() < 0.5:
                    out.append(f"{ind}    raise")
            elif x < 0.76:
                out.append(f"{ind}{self.var()}.append({self.expr()})")
            elif x < 0.8 and depth < 3:
                out.append(f"{ind}{self.var()} = {{")
                for _ in range(self.r.randint(2, 6)):
                    out.append(f"{ind}    {self.string()}: {self.expr()},")
                out.append(f"{ind}}}")
            elif x < 0.84 and depth < 3:
                out.append(
                    f"{ind}with {c(('self._lock', 'open(path)', 'patch.object(self, ' + repr(self.noun()) + ')', 'self._tracer.span(' + self.string() + ')'))} as {self.noun()}:"
                )
                self.block(ind + "    ", self.r.randint(1, 2), depth + 1, is_async, out)
            elif x < 0.88 and self.test:
                self.assertion(ind, out)
            elif x < 0.92:
                out.append(f"{ind}{self.var()}[{self.string()}] = {self.expr_simple()}")
            elif x < 0.95:
                aw = "await " if is_async else ""
                out.append(f"{ind}{aw}{self.func()}(")
                for key in dict.fromkeys(self.noun() for _ in range(self.r.randint(1, 4))):
                    out.append(f"{ind}    {key}={self.expr()},")
                out.append(f"{ind})")
            else:
                out.append(f"{ind}{self.var()} += {self.r.randint(1, 10)}")

    def assertion(self, ind: str, out: list[str]) -> None:
        x = self.rand()
        if x < 0.3:
            out.append(f"{ind}assert {self.var()} == {self.expr_simple()}")
        elif x < 0.5:
            out.append(f"{ind}assert {self.var()} is not None")
        elif x < 0.65:
            out.append(
                f'{ind}assert len({self.var()}) == {self.r.randint(0, 9)}, f"{self.phrase()}: {{{self.var()}}}"'
            )
        elif x < 0.8:
            out.append(f"{ind}self.assertEqual({self.var()}.{self.noun()}, {self.expr_simple()})")
        else:
            out.append(f"{ind}{self.var()}.assert_called_once_with({self.args()})")

    def docstring(self, ind: str, out: list[str], long: bool = False) -> None:
        if long or self.rand() < 0.3:
            out.append(f'{ind}"""{self.sentence()}')
            out.append("")
            for _ in range(self.r.randint(1, 4)):
                out.append(f"{ind}{self.sentence()}")
            if self.rand() < 0.4:
                out.append("")
                out.append(f"{ind}Args:")
                for _ in range(self.r.randint(1, 3)):
                    out.append(f"{ind}    {self.var()}: {self.sentence()}")
            out.append(f'{ind}"""')
        else:
            out.append(f'{ind}"""{self.sentence()}"""')

    def function(self, ind: str, method: bool, out: list[str], name: str = "") -> None:
        is_async = self.rand() < 0.45
        if method and self.rand() < 0.1:
            out.append(f"{ind}@property")
            is_async = False
        params = ["self"] if method else []
        for _ in range(self.r.randint(0, 3)):
            params.append(
                f"{self.var()}: {self.choice(('str', 'int', 'Optional[str]', 'Dict[str, Any]', 'List[str]', 'Any', self.cls()))}"
            )
        if self.rand() < 0.2:
            params.append(f"{self.noun()}: bool = False")
        by_name: dict[str, str] = {}
        for param in params:
            by_name.setdefault(param.split(":")[0], param)
        params = list(by_name.values())
        ret = self.choice(
            (
                "None",
                "bool",
                "str",
                "Dict[str, Any]",
                "Optional[" + self.cls() + "]",
                "List[Any]",
                "int",
            )
        )
        out.append(
            f"{ind}{'async ' if is_async else ''}def {name or (('_' if method and self.rand() < 0.3 else '') + self.func())}({', '.join(params)}) -> {ret}:"
        )
        body = ind + "    "
        self.docstring(body, out)
        if self.lazy_deprecated and self.rand() < 0.5:
            self.lazy_import(body, out)
        self.stmts(body, self.r.randint(3, 11), 0, is_async, out)
        out.append(f"{body}return {self.expr()}" if ret != "None" else f"{body}return None")

    def klass(self, ind: str, out: list[str], name: str = "", bases: str = "") -> None:
        name = name or self.cls()
        x = self.rand()
        if not bases and x < 0.15:
            out.append(f"{ind}@dataclass")
            out.append(f"{ind}class {name}:")
            self.docstring(ind + "    ", out)
            for _ in range(self.r.randint(3, 9)):
                out.append(
                    f"{ind}    {self.var()}: {self.choice(('str', 'int', 'float', 'bool', 'Optional[str]'))} = {self.expr_simple()}"
                )
            return
        if not bases and x < 0.25:
            out.append(f"{ind}class {name}(str, Enum):")
            self.docstring(ind + "    ", out)
            for _ in range(self.r.randint(3, 8)):
                v = self.func()
                out.append(f'{ind}    {v.upper()} = "{v}"')
            return
        out.append(f"{ind}class {name}{f'({bases})' if bases else ''}:")
        self.docstring(ind + "    ", out, long=self.rand() < 0.4)
        out.append("")
        out.append(f"{ind}    def __init__(self, {self.var()}: Any = None) -> None:")
        for _ in range(self.r.randint(2, 6)):
            out.append(f"{ind}        self._{self.noun()} = {self.expr()}")
        for _ in range(self.r.randint(1, self.methods(6, 700))):
            out.append("")
            self.function(ind + "    ", True, out)

    def test_function(
        self, out: list[str], ind: str = "", method: bool = False, name: str = ""
    ) -> None:
        is_async = self.rand() < 0.5
        marks = self.r.randint(0, 2)
        for _ in range(marks):
            out.append(
                f"{ind}@pytest.mark.{self.choice(('asyncio', 'integration', 'unit', 'mission_critical', 'real_services', 'e2e'))}"
            )
        params = ["self"] if method else []
        if not method:
            for _ in range(self.r.randint(0, 2)):
                param = self.choice(
                    (
                        "mock_" + self.noun(),
                        self.noun() + "_fixture",
                        "real_services_fixture",
                        "isolated_env",
                    )
                )
                if param not in params:
                    params.append(param)
        out.append(
            f"{ind}{'async ' if is_async else ''}def {name or 'test_' + self.func()}({', '.join(params)}):"
        )
        body = ind + "    "
        self.docstring(body, out)
        if self.lazy_deprecated and self.rand() < 0.5:
            self.lazy_import(body, out)
        out.append(f"{body}# Arrange")
        self.stmts(body, self.r.randint(2, 6), 1, is_async, out)
        out.append(f"{body}# Act")
        aw = "await " if is_async else ""
        out.append(f"{body}result = {aw}{self.var()}.{self.func()}({self.args()})")
        out.append(f"{body}# Assert")
        for _ in range(self.r.randint(1, 4)):
            self.assertion(body, out)

    def test_class(self, out: list[str], name: str = "", long: bool = False) -> None:
        base = self.choice(
            (
                "SSotAsyncTestCase",
                "SSotBaseTestCase",
                "",
                "unittest.TestCase",
                "BaseIntegrationTest",
            )
        )
        name = name or f"Test{self.cls()}"
        out.append(f"class {name}{f'({base})' if base else ''}:")
        self.docstring("    ", out, long=self.rand() < 0.5)
        out.append("")
        out.append("    def setup_method(self, method):")
        out.append("        super().setup_method(method)")
        for _ in range(self.r.randint(1, 5)):
            out.append(
                f"        self.{self.noun()} = {self.choice(('MagicMock()', 'AsyncMock()', self.expr()))}"
            )
        most = self.methods(40, 700) if long else self.methods(8, 800)
        for _ in range(self.r.randint(max(1, most // 2) if long else 1, most)):
            out.append("")
            self.test_function(out, "    ", True)

    def fixture(self, out: list[str]) -> None:
        out.append("@pytest.fixture")
        is_async = self.rand() < 0.4
        name = self.choice(("mock_", "")) + self.var()
        out.append(f"{'async ' if is_async else ''}def {name}():")
        self.docstring("    ", out)
        self.stmts("    ", self.r.randint(1, 4), 1, is_async, out)
        out.append(f"    yield {self.expr()}")

    def script_main(self, out: list[str]) -> None:
        out.append("def main() -> int:")
        out.append(f'    parser = argparse.ArgumentParser(description="{self.sentence()}")')
        for _ in range(self.r.randint(1, 5)):
            flag = self.noun().replace("_", "-")
            out.append(f'    parser.add_argument("--{flag}", help="{self.phrase()}")')
        out.append("    args = parser.parse_args()")
        for _ in range(self.r.randint(2, 8)):
            em = f"{self.choice(EMOJI)} " if self.spec.non_ascii else ""
            out.append(f'    print(f"{em}{self.phrase()}: {{args}}")')
            self.stmts("    ", self.r.randint(1, 3), 1, False, out)
        out.append("    return 0")

    # --- the concept's triggers ---------------------------------------------------------------
    def deprecated_lines(self) -> list[str]:
        """Import statements (possibly multi-line) of a deprecated path."""
        c = self.choice
        x = self.rand()
        path = self.spec.path
        if x < 0.42:
            extra = c(
                ("", "", ", WebSocketConnection", " as WebSocketManager", ", get_websocket_manager")
            )
            return [f"from {WS_CORE}.unified_manager import UnifiedWebSocketManager{extra}"]
        if x < 0.64:
            name = c(
                (
                    "create_websocket_manager",
                    "WebSocketManagerFactory",
                    "get_websocket_manager_factory",
                    "create_websocket_manager, WebSocketManagerFactory",
                )
            )
            return [f"from {WS_CORE}.websocket_manager_factory import {name}"]
        if x < 0.86:
            if self.rand() < 0.35:
                others = [
                    "get_websocket_manager",
                    "WebSocketMessage",
                    "MessageType",
                    "ConnectionState",
                ]
                others += [f"{self.cls()}" for _ in range(self.r.randint(0, 8))]
                names = sorted({"WebSocketManager", *others[: self.r.randint(1, len(others))]})
                return [f"from {WS_CORE} import (", *(f"    {n}," for n in names), ")"]
            return [f"from {WS_CORE} import WebSocketManager"]
        if x < 0.94 and path.startswith("netra_backend/app/"):
            package = path.rsplit("/", 1)[0].split("/")
            if package[:3] == ["netra_backend", "app", "websocket_core"] and len(package) == 3:
                return [
                    f"from .{c(('unified_manager import UnifiedWebSocketManager', 'websocket_manager_factory import create_websocket_manager'))}"
                ]
            dots = "." * (len(package) - 1)
            return [
                f"from {dots}websocket_core.{c(('unified_manager import UnifiedWebSocketManager', 'websocket_manager_factory import create_websocket_manager'))}"
            ]
        self.module_alias = c(("unified_manager_module", "legacy_ws", "um"))
        return [f"import {WS_CORE}.unified_manager as {self.module_alias}"]

    def lazy_import(self, ind: str, out: list[str]) -> None:
        line = self.lazy_deprecated.pop()
        out.append(f"{ind}{line}")

    def core_line(self) -> str:
        c = self.choice
        x = self.rand()
        if x < 0.45:
            return f"from {WS_CORE}.websocket_manager import WebSocketManager"
        mod, names = c(
            (
                ("types", "MessageType, WebSocketMessage"),
                ("handlers", "MessageRouter"),
                ("auth", "WebSocketAuthenticator"),
                ("event_validator", "EventValidator, ValidationResult"),
                ("connection_state", "ConnectionState"),
                ("websocket_manager", "WebSocketManager, get_websocket_manager"),
            )
        )
        return f"from {WS_CORE}.{mod} import {names}"

    def events_unit(self, out: list[str], quoted: bool) -> None:
        c = self.choice
        ev = c(GOLDEN_EVENTS)
        x = self.rand()
        if not quoted:
            if x < 0.5:
                out.append(
                    f"{'async ' if self.rand() < 0.5 else ''}def {c(('test_', 'emit_', 'on_', 'handle_', 'notify_'))}{ev}_{self.noun()}({'self' if not self.test else ''}):"
                )
                self.docstring("    ", out)
                self.stmts("    ", self.r.randint(2, 5), 1, False, out)
                out.append(f"    return {self.expr()}")
            else:
                out.append(f"# {ev} {self.sentence()}")
                out.append(f"{ev.upper()}_{self.noun().upper()} = {self.r.randint(1, 60)}")
            return
        if x < 0.2:
            out.append(
                f"{c(('EXPECTED_EVENTS', 'REQUIRED_EVENTS', 'GOLDEN_PATH_EVENTS', 'CRITICAL_EVENTS'))} = ["
            )
            for e in GOLDEN_EVENTS:
                out.append(f'    "{e}",')
            out.append("]")
        elif x < 0.4 and self.test:
            name = f"test_{ev}_{self.noun()}"
            out.append(f"async def {name}():")
            self.docstring("    ", out)
            out.append(f"    events = await {self.var()}.collect_events({self.var()})")
            out.append('    event_types = [e["event_type"] for e in events]')
            out.append(f'    assert "{ev}" in event_types')
            out.append(f'    assert event_types.count("{c(GOLDEN_EVENTS)}") >= 1')
        elif x < 0.6:
            out.append(
                f"async def {self.func()}(self, {self.var()}: str, data: Dict[str, Any]) -> None:"
            )
            self.docstring("    ", out)
            out.append("    payload = {")
            out.append(f'        "event_type": "{ev}",')
            out.append('        "timestamp": time.time(),')
            out.append('        "user_id": self.user_id,')
            out.append('        "thread_id": self.thread_id,')
            out.append('        "data": data,')
            out.append("    }")
            out.append(f"    await self._{self.noun()}.send_event(payload)")
        elif x < 0.8:
            out.append(f"def {self.func()}(event: Dict[str, Any]) -> bool:")
            self.docstring("    ", out)
            out.append(f'    if event.get("event_type") == "{ev}":')
            self.block("        ", self.r.randint(1, 3), 2, False, out)
            out.append(
                f'    elif event.get("event_type") in ("{c(GOLDEN_EVENTS)}", "{c(GOLDEN_EVENTS)}"):'
            )
            out.append("        return True")
            out.append("    return False")
        else:
            out.append(f"async def {self.func()}(notifier, {self.var()}):")
            self.docstring("    ", out)
            out.append(
                f'    await notifier.emit("{ev}", {{"run_id": {self.var()}, "{self.noun()}": {self.expr_simple()}}})'
            )
            self.stmts("    ", self.r.randint(1, 4), 1, True, out)

    def legacy_payload(self, ind: str, out: list[str]) -> None:
        c = self.choice
        ev = c(GOLDEN_EVENTS)
        x = self.rand()
        extra = c(
            (
                '"agent_name": "cost_optimizer"',
                '"tool": tool_name',
                '"message": "' + self.phrase() + '"',
                '"result": result',
                '"run_id": run_id',
            )
        )
        if x < 0.45:
            out.append(
                f"{ind}{c(('legacy_event', 'event', 'old_format', 'message', 'payload'))} = {{"
            )
            out.append(f'{ind}    "type": "{ev}",')
            out.append(
                f'{ind}    "time": "{c(("2023-10-01T10:00:00Z", "2025-09-14T12:00:00Z", "2024-01-15T08:30:00Z"))}",'
            )
            out.append(f'{ind}    "user": "user_{self.r.randint(1000, 99999)}",')
            out.append(f"{ind}    {extra},")
            out.append(f"{ind}}}")
        elif x < 0.75:
            out.append(
                f'{ind}await {c(("websocket", "ws", "self.websocket", "connection"))}.send_json({{"type": "{ev}", "user": user_id, "time": datetime.now().isoformat(), {extra}}})'
            )
        else:
            out.append(f"{ind}return {{")
            out.append(f'{ind}    "type": "{ev}",')
            out.append(f'{ind}    "user": self.user_id,')
            out.append(f'{ind}    "time": str(time.time()),')
            out.append(f"{ind}    {extra},")
            out.append(f"{ind}}}")
            return

    def legacy_unit(self, out: list[str], count: int) -> None:
        if self.test and self.rand() < 0.5:
            self.nested_legacy_unit(out, count)
            return
        if self.test:
            out.append(
                f"async def test_legacy_{self.func()}(websocket, user_id, tool_name, result, run_id):"
            )
        else:
            out.append(
                f"async def {self.func()}(self, websocket, user_id, tool_name, result, run_id):"
            )
        self.docstring("    ", out)
        for k in range(count):
            self.stmts("    ", self.r.randint(0, 2), 1, True, out)
            self.legacy_payload("    ", out) if k < count - 1 else None
        last: list[str] = []
        self.legacy_payload("    ", last)
        out.extend(last)
        if not last[0].lstrip().startswith("return"):
            out.append(f"    return {self.expr_simple()}")

    def nested_legacy_unit(self, out: list[str], count: int) -> None:
        """Legacy payloads four or five blocks deep in a test method, as real suites nest them
        (a class, a method, ``with patch``, ``for``, ``try``)."""
        c = self.choice
        out.append(f"class TestLegacy{c(WS_CLASS_MIDDLES)}Events{c(('', 'Regression', 'Compat'))}:")
        self.docstring("    ", out)
        for k in range(count):
            out.append("")
            out.append(
                f"    async def test_legacy_{self.func()}(self, websocket, user_id, tool_name, result, run_id):"
            )
            self.docstring("        ", out)
            self.stmts("        ", self.r.randint(1, 3), 1, True, out)
            out.append(f"        with patch.object(self, {self.noun()!r}) as {self.noun()}_mock:")
            out.append(f"            for attempt in range({self.r.randint(2, 5)}):")
            ind = "                "
            if self.rand() < 0.6:
                out.append(f"{ind}if attempt == {self.r.randint(0, 2)}:")
                ind += "    "
            out.append(f"{ind}try:")
            self.stmts(ind + "    ", self.r.randint(0, 2), 4, True, out)
            self.legacy_payload(ind + "    ", out)
            out.append(f"{ind}except {c(EXCEPTIONS)}:")
            out.append(f"{ind}    continue")
            if k == 0 and self.lazy_deprecated:
                self.lazy_import("        ", out)
            out.append(f"        assert {self.var()} is not None")

    def ws_class(self, out: list[str]) -> None:
        c = self.choice
        mid = c(WS_CLASS_MIDDLES)
        if self.test:
            x = self.rand()
            if x < 0.6:
                # Real suites name a third of them after the manager they test
                # (`TestWebSocketManagerIsolation`): SSOT002 classes in tests, and long ones.
                manager = self.rand() < 0.35
                name = (
                    f"Test{c(('', '', 'Unified', 'Isolated', 'UserScoped'))}WebSocketManager{mid}"
                    if manager
                    else f"TestWebSocket{mid}{c(('', '', 'Suite', 'Integration', 'Unit', 'E2E'))}"
                )
                self.test_class(out, name, long=True)
                return
            name = c(
                (
                    "MockWebSocket",
                    "FakeWebSocket",
                    f"MockWebSocket{mid}",
                    f"WebSocket{mid}TestHelper",
                    "MockWebSocketConnection",
                )
            )
            out.append(f"class {name}:")
            self.docstring("    ", out)
            out.append("")
            out.append("    def __init__(self):")
            out.append("        self.sent_messages = []")
            out.append("        self.closed = False")
            out.append("")
            out.append("    async def send_json(self, data):")
            out.append("        self.sent_messages.append(data)")
            out.append("")
            out.append("    async def close(self, code: int = 1000):")
            out.append("        self.closed = True")
            return
        name = c(
            (
                f"WebSocket{mid}Handler",
                f"WebSocket{mid}Router",
                f"WebSocket{mid}Config",
                f"WebSocket{mid}Validator",
                f"WebSocket{mid}Tracker",
            )
        )
        self.klass("", out, name=name)

    def manager_class(self, out: list[str]) -> None:
        c = self.choice
        prefix = c(
            (
                "Mock",
                "Isolated",
                "Legacy",
                "Scoped",
                "Simple",
                "Fallback",
                "Emergency",
                "UserScoped",
                "Test",
                "InMemory",
            )
        )
        name = f"{prefix}WebSocket{c(('', 'Connection', 'Session'))}Manager"
        out.append(f"class {name}{c(('', '', '(WebSocketManagerProtocol)'))}:")
        self.docstring("    ", out)
        out.append("")
        out.append("    def __init__(self) -> None:")
        out.append("        self._connections: Dict[str, List[Any]] = defaultdict(list)")
        out.append("        self._lock = asyncio.Lock()")
        methods = [
            m
            for m in ("add_connection", "remove_connection", "send_to_user", "broadcast")
            if self.rand() < 0.8
        ]
        if len(methods) < 2:
            methods = ["add_connection", "send_to_user"]
        for m in methods:
            out.append("")
            if m == "add_connection":
                out.append(
                    "    async def add_connection(self, user_id: str, websocket: Any) -> None:"
                )
                out.append("        async with self._lock:")
                out.append("            self._connections[user_id].append(websocket)")
            elif m == "remove_connection":
                out.append(
                    "    async def remove_connection(self, user_id: str, websocket: Any) -> None:"
                )
                out.append("        async with self._lock:")
                out.append("            if websocket in self._connections.get(user_id, []):")
                out.append("                self._connections[user_id].remove(websocket)")
            elif m == "send_to_user":
                out.append(
                    "    async def send_to_user(self, user_id: str, message: Dict[str, Any]) -> int:"
                )
                out.append("        sent = 0")
                out.append("        for websocket in list(self._connections.get(user_id, [])):")
                out.append("            await websocket.send_json(message)")
                out.append("            sent += 1")
                out.append("        return sent")
            else:
                out.append("    async def broadcast(self, message: Dict[str, Any]) -> None:")
                out.append("        for user_id in list(self._connections):")
                out.append("            await self.send_to_user(user_id, message)")

    def syntax_error(self, out: list[str]) -> None:
        kind = self.spec.syntax
        if kind == "print2":
            out.append(f'print "{self.phrase()}"')
        elif kind == "conflict":
            out.append("<<<<<<< HEAD")
            out.append(f"{self.var()} = {self.expr_simple()}")
            out.append("=======")
            out.append(f"{self.var()} = {self.expr_simple()}")
            out.append(">>>>>>> origin/main")
        elif kind == "colon":
            out.append(f"def {self.func()}(self, {self.var()})")
            out.append(f"    return {self.var()}")
        elif kind == "paren":
            out.append(f"{self.var()} = {self.func()}({self.var()}, ({self.var()}")
            out.append(f"{self.var()} = 1")
        elif kind == "fstring312":
            out.append(f'{self.var()} = f"{{event["event_type"]}} {self.phrase()}"')
        else:
            out.append(f"{self.var()} = {self.expr_simple()}")
            out.append(f"        {self.var()} = {self.expr_simple()}")

    # --- the whole file -----------------------------------------------------------------------
    def header(self) -> list[str]:
        spec = self.spec
        out: list[str] = []
        if spec.kind == "script" and self.rand() < 0.7:
            out.append("#!/usr/bin/env python3")
        if spec.size > 3_000 and self.rand() < 0.6:
            out.append(f'"""{self.sentence()}')
            out.append("")
            out.append("Business Value Justification (BVJ):")
            out.append(f"- Segment: {self.choice(SEGMENTS)}")
            out.append(f"- Business Goal: {self.choice(GOALS)}")
            out.append(f"- Value Impact: {self.sentence()}")
            out.append(f"- Strategic Impact: {self.sentence()}")
            if spec.ws:
                out.append("")
                out.append(
                    f"{self.choice(('This module talks to the WebSocket layer', 'Covers websocket event delivery', 'Relies on websocket notifications'))}: {self.sentence()}"
                )
            out.append('"""')
        else:
            out.append(
                f'"""{self.sentence()}{" (websocket)" if spec.ws and self.rand() < 0.5 else ""}"""'
            )
        out.append("")
        return out

    def imports(self) -> tuple[list[str], list[str]]:
        """Module-level imports, and the deprecated ones that go into blocks later."""
        spec = self.spec
        r = self.r
        top: list[str] = []
        if spec.kind != "init":
            base = _BASE_IMPORTS if spec.size > 2_500 else _BASE_IMPORTS[:2]
            top += _merge_imports(
                [*r.sample(STDLIB, r.randint(1 if spec.size < 2_500 else 2, 8)), *base]
            )
            if spec.kind == "script":
                top.append("import argparse")
            if spec.is_test:
                top += ["import unittest", *r.sample(TEST_IMPORTS, r.randint(2, len(TEST_IMPORTS)))]
            top.append("")
        if spec.kind != "init" and spec.size > 4_000 and r.random() < 0.35:
            # Long parenthesised imports, one name a line, as formatters leave them.
            pkg = self.choice(APP_PACKAGES)
            names = sorted({self.cls() for _ in range(r.randint(5, 30))})
            top.append(f"from netra_backend.app.{pkg}.{self.choice(NOUNS)}_models import (")
            top += [f"    {n}," for n in names]
            top.append(")")
        for _ in range(r.randint(0 if spec.kind == "init" else 1, 6)):
            pkg = self.choice(APP_PACKAGES)
            top.append(
                f"from netra_backend.app.{pkg}.{self.choice(NOUNS)}_{self.choice(('service', 'manager', 'models', 'types', 'utils'))} import {self.cls()}"
            )
        if spec.is_test and r.random() < 0.5:
            top.append(f"from auth_service.auth_core.{self.choice(NOUNS)} import {self.cls()}")
        if spec.core:
            top.append(self.core_line())
            if r.random() < 0.3:
                top.append(self.core_line())
        blocks: list[str] = []
        for _ in range(spec.deprecated):
            lines = self.deprecated_lines()
            where = self.rand()
            if where < 0.7 or len(lines) > 1 or lines[0].startswith("import "):
                top.extend(lines)
            elif where < 0.82:
                self.lazy_deprecated.append(lines[0])
            elif where < 0.9:
                blocks += ["if TYPE_CHECKING:", f"    {lines[0]}", ""]
            else:
                blocks += [
                    "try:",
                    f"    {lines[0]}",
                    "except ImportError:  # pragma: no cover - old layout",
                    f"    {lines[0].split(' import ')[1].split(' as ')[-1].split(',')[0]} = None",
                    "",
                ]
        if any(b.startswith("if TYPE_CHECKING") for b in blocks):
            top.insert(0, "from typing import TYPE_CHECKING")
        top.append("")
        if spec.kind != "init":
            top.append("logger = logging.getLogger(__name__)")
            top.append("")
        return top, blocks

    def render(self) -> str:
        spec = self.spec
        r = self.r
        out = self.header()
        top, blocks = self.imports()
        out += top
        out += blocks
        units: list[Callable[[list[str]], None]] = []
        if spec.ws_class:
            units.append(self.ws_class)
            if r.random() < 0.4:
                units.append(self.ws_class)
        if spec.manager:
            units.append(self.manager_class)
        if spec.event:
            for _ in range(r.choices((1, 2, 3, 5), (50, 25, 15, 10))[0]):
                units.append(lambda o: self.events_unit(o, spec.event == "quoted"))
        if spec.legacy:
            left = spec.legacy
            while left > 0:
                k = min(left, r.randint(1, 3))
                units.append(functools.partial(self.legacy_unit, count=k))
                left -= k
        if spec.syntax:
            units.append(self.syntax_error)
        if self.module_alias:
            alias = self.module_alias
            units.append(
                lambda o: o.extend(
                    [
                        f"def {self.func()}() -> Any:",
                        f"    return {alias}.UnifiedWebSocketManager()",
                    ]
                )
            )
        if spec.ws and not spec.ws_class and not spec.manager and r.random() < 0.5:
            units.append(
                lambda o: o.append(
                    f"{self.choice(('WEBSOCKET_TIMEOUT', 'WS_HEARTBEAT_INTERVAL', 'WEBSOCKET_MAX_CONNECTIONS'))} = {r.randint(5, 120)}"
                )
            )
        body: list[list[str]] = []
        self.budget = max(spec.size // max(len(units), 1), 800)
        for unit in units:
            chunk: list[str] = []
            unit(chunk)
            body.append([*chunk, "", ""])
        size = sum(len(line) + 1 for chunk in [out, *body] for line in chunk)
        target = spec.size
        filler = self.filler_kinds()
        fillers: list[list[str]] = []
        while size < target - 200 or self.lazy_deprecated:
            chunk = []
            left = target - size
            if spec.kind == "init" and left < 600:
                chunk.append(
                    f"from .{self.noun()}_{self.choice(('service', 'models', 'types'))} import {self.cls()}"
                )
            elif left < 1_800:
                self.small_unit(chunk)
            else:
                self.budget = left
                self.choice(filler)(chunk)
            chunk += ["", ""]
            size += sum(len(line) + 1 for line in chunk)
            fillers.append(chunk)
            if len(fillers) > 20_000:
                break
        for chunk in fillers:
            body.insert(r.randint(0, len(body)), chunk)
        if self.ws and not any(
            "websocket" in line.lower() for chunk in [out, *body] for line in chunk
        ):
            # Every file planned to mention the word does so at least once.
            out.append(f"# websocket: {self.sentence()}")
            out.append("")
        for chunk in body:
            out += chunk
        if spec.kind == "script":
            out += ["", 'if __name__ == "__main__":', "    sys.exit(main())"]
            if not any(line.startswith("def main(") for line in out):
                out[-3:-3] = [
                    "def main() -> int:",
                    f'    print("{self.phrase()}")',
                    "    return 0",
                    "",
                ]
            if "import sys" not in out:
                out.insert(self.first_import(out), "import sys")
        while out and out[-1] == "":
            out.pop()
        return "\n".join(out) + "\n"

    def small_unit(self, out: list[str]) -> None:
        """A unit of a few hundred bytes, to end a file close to its planned size."""
        x = self.rand()
        if self.lazy_deprecated or x < 0.35:
            name = ("test_" if self.test else "") + self.func()
            out.append(f"def {name}() -> Any:")
            out.append(f'    """{self.sentence()}"""')
            if self.lazy_deprecated:
                self.lazy_import("    ", out)
            self.stmts("    ", self.r.randint(0, 2), 2, False, out)
            out.append(f"    return {self.expr_simple()}")
        elif x < 0.7:
            out.append(f"{self.func().upper()} = {self.expr_simple()}")
        else:
            out.append(f"# {self.sentence()}")
            out.append(
                f"{self.func().upper()}_{self.choice(('TIMEOUT', 'LIMIT', 'RETRIES', 'INTERVAL'))} = {self.r.randint(1, 600)}"
            )

    @staticmethod
    def first_import(out: list[str]) -> int:
        for i, line in enumerate(out):
            if line.startswith(("import ", "from ")):
                return i
        return len(out)

    def filler_kinds(self) -> list[Callable[[list[str]], None]]:
        def fn(o: list[str]) -> None:
            self.function("", False, o)

        def cl(o: list[str]) -> None:
            self.klass("", o)

        def const(o: list[str]) -> None:
            o.append(f"{self.func().upper()} = {self.expr_simple()}")

        def test_fn(o: list[str]) -> None:
            self.test_function(o)

        def scripted(o: list[str]) -> None:
            if self.has_main:
                self.function("", False, o)
            else:
                self.has_main = True
                self.script_main(o)

        if self.spec.is_test:
            return [self.test_class, self.test_class, test_fn, self.fixture, fn, const]
        if self.spec.kind == "script":
            return [fn, fn, cl, scripted, const]
        return [cl, cl, fn, fn, const]


def render_file(spec: FileSpec, seed: int, index: int) -> str:
    """The text of one planned file (a function of the seed, the index and the spec only)."""
    rng = _Rng(f"{seed}:{index}:{spec.path}")
    special = _SPECIAL.get(spec.path)
    if special is not None:
        return special(spec, rng)
    return _Writer(spec, rng).render()


def _canonical(spec: FileSpec, rng: random.Random) -> str:
    head = (
        '"""The canonical WebSocket manager: the single source of truth for connections and events.\n\n'
        "Business Value Justification (BVJ):\n- Segment: All\n- Business Goal: Stability\n"
        '- Value Impact: one place delivers every golden-path event to its user.\n"""\n\n'
        "import asyncio\nimport logging\nimport time\nfrom collections import defaultdict\n"
        "from typing import Any, Dict, List, Optional\n\nlogger = logging.getLogger(__name__)\n\n\n"
        "class WebSocketManager:\n"
        '    """Holds the connections of each user and sends them events in canonical form."""\n\n'
        "    def __init__(self) -> None:\n"
        "        self._connections: Dict[str, List[Any]] = defaultdict(list)\n"
        "        self._lock = asyncio.Lock()\n\n"
        "    async def add_connection(self, user_id: str, websocket: Any) -> None:\n"
        "        async with self._lock:\n            self._connections[user_id].append(websocket)\n\n"
        "    async def remove_connection(self, user_id: str, websocket: Any) -> None:\n"
        "        async with self._lock:\n            if websocket in self._connections.get(user_id, []):\n"
        "                self._connections[user_id].remove(websocket)\n\n"
        "    async def send_to_user(self, user_id: str, message: Dict[str, Any]) -> int:\n"
        "        sent = 0\n        for websocket in list(self._connections.get(user_id, [])):\n"
        "            await websocket.send_json(message)\n            sent += 1\n        return sent\n\n"
        "    async def broadcast(self, message: Dict[str, Any]) -> None:\n"
        "        for user_id in list(self._connections):\n            await self.send_to_user(user_id, message)\n\n"
        "    async def emit_event(self, event_type: str, user_id: str, thread_id: str, data: Dict[str, Any]) -> int:\n"
        '        """Send a golden-path event (``agent_started`` ... ``agent_completed``) in canonical form."""\n'
        "        return await self.send_to_user(user_id, {\n"
        '            "event_type": event_type,\n            "timestamp": time.time(),\n'
        '            "user_id": user_id,\n            "thread_id": thread_id,\n            "data": data,\n        })\n\n\n'
        "_manager: Optional[WebSocketManager] = None\n\n\n"
        "def get_websocket_manager() -> WebSocketManager:\n"
        "    global _manager\n    if _manager is None:\n        _manager = WebSocketManager()\n    return _manager\n"
    )
    writer = _Writer(
        FileSpec(spec.path, "source", size=max(spec.size - len(head), 0), ws=True), rng
    )
    extra: list[str] = []
    while sum(len(line) + 1 for line in extra) < spec.size - len(head):
        writer.function("", False, extra)
        extra += ["", ""]
    return head + ("\n\n" + "\n".join(extra).rstrip() + "\n" if extra else "")


def _unified(spec: FileSpec, rng: random.Random) -> str:
    w = _Writer(FileSpec(spec.path, "source", ws=True), rng)
    out = [
        '"""Legacy unified WebSocket manager (deprecated: use websocket_manager.WebSocketManager)."""',
        "",
        "import asyncio",
        "from collections import defaultdict",
        "from typing import Any, Dict, List",
        "",
        "",
        "",
    ]
    body: list[str] = []
    w.manager_class(body)
    body[0] = "class UnifiedWebSocketManager:"
    text = "\n".join(out + body)
    return (
        text
        + "\n\n\nWebSocketConnection = Dict[str, Any]\n\n\ndef get_websocket_manager() -> UnifiedWebSocketManager:\n    return UnifiedWebSocketManager()\n"
    )


def _factory(spec: FileSpec, rng: random.Random) -> str:
    return (
        '"""Deprecated factory around the WebSocket manager; kept for old imports."""\n\n'
        "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n\n\n"
        "class WebSocketManagerFactory:\n"
        '    """Creates one manager per user context (superseded by the canonical manager)."""\n\n'
        "    def create(self, user_id: str) -> WebSocketManager:\n        return WebSocketManager()\n\n\n"
        'def create_websocket_manager(user_id: str = "") -> WebSocketManager:\n'
        "    return WebSocketManagerFactory().create(user_id)\n\n\n"
        "def get_websocket_manager_factory() -> WebSocketManagerFactory:\n    return WebSocketManagerFactory()\n"
    )


def _package_init(spec: FileSpec, rng: random.Random) -> str:
    return (
        '"""WebSocket core package: re-exports kept for backward compatibility."""\n\n'
        "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager, get_websocket_manager\n"
        "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n\n"
        '__all__ = ["UnifiedWebSocketManager", "WebSocketManager", "get_websocket_manager"]\n'
    )


_SPECIAL: dict[str, Callable[[FileSpec, random.Random], str]] = {
    CANONICAL_MODULE: _canonical,
    f"{WS_CORE.replace('.', '/')}/unified_manager.py": _unified,
    f"{WS_CORE.replace('.', '/')}/websocket_manager_factory.py": _factory,
    f"{WS_CORE.replace('.', '/')}/__init__.py": _package_init,
}

# --------------------------------------------------------------------------------------------
# Other files (docs, configs), the git repository, and the entry points.

_OTHER_EXT = (
    ("md", 0.3),
    ("json", 0.2),
    ("yaml", 0.15),
    ("txt", 0.1),
    ("sh", 0.08),
    ("ts", 0.12),
    ("toml", 0.05),
)


def _other_files(rng: random.Random, dirs: list[str], count: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    exts = [e for e, _ in _OTHER_EXT]
    weights = [w for _, w in _OTHER_EXT]
    for i in range(count):
        ext = rng.choices(exts, weights)[0]
        d = rng.choice(dirs)
        name = f"{d}/{rng.choice(NOUNS)}_{rng.choice(NOUNS)}_{i}.{ext}"
        if name in used:
            continue
        used.add(name)
        lines = [
            f"{rng.choice(NOUNS)} {rng.choice(VERBS)} {rng.choice(ADJS)} {rng.choice(NOUNS)}"
            for _ in range(rng.randint(5, 80))
        ]
        if ext == "json":
            text = json.dumps({f"k{j}": line for j, line in enumerate(lines)}, indent=2)
        elif ext == "yaml":
            text = "\n".join(f"key_{j}: {line}" for j, line in enumerate(lines))
        elif ext == "ts":
            text = "\n".join(f"export const c{j} = '{line}';" for j, line in enumerate(lines))
        else:
            text = "\n".join(lines)
        out.append((name, text + "\n"))
    return out


def _git(dest: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": GIT_DATE,
        "GIT_COMMITTER_DATE": GIT_DATE,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    done = subprocess.run(
        [
            "git",
            "-C",
            str(dest),
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
            *args,
        ],
        capture_output=True,
        check=True,
        env=env,
    )
    return done.stdout.decode().strip()


class _FastImport:
    """Streams the files into one commit with ``git fast-import`` while they are written.

    Ten thousand loose objects from ``git add`` take tens of seconds of file-system work on a
    small VM; fast-import writes one pack (as a clone has) at the speed of zlib.
    """

    def __init__(self, dest: Path, message: str) -> None:
        self.dest = dest
        _git(dest, "-c", "init.defaultBranch=main", "init", "-q")
        self.proc = subprocess.Popen(
            [
                "git",
                "-C",
                str(dest),
                "-c",
                "core.compression=1",
                "-c",
                "pack.compression=1",
                "fast-import",
                "--quiet",
                "--done",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
        )
        assert self.proc.stdin is not None
        self.stdin = self.proc.stdin
        stamp = int(datetime.fromisoformat(GIT_DATE).timestamp())
        msg = message.encode()
        self.stdin.write(
            b"commit refs/heads/main\n"
            + f"author bench <bench@example.com> {stamp} +0000\ncommitter bench <bench@example.com> {stamp} +0000\n".encode()
            + f"data {len(msg)}\n".encode()
            + msg
            + b"\n"
        )

    def add(self, path: str, data: bytes) -> None:
        self.stdin.write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")

    def finish(self) -> str:
        self.stdin.write(b"done\n")
        self.stdin.close()
        if self.proc.wait() != 0:
            raise RuntimeError("git fast-import failed")
        # The index, with the files' stat data, as a checkout has it.
        _git(self.dest, "read-tree", "HEAD")
        _git(self.dest, "update-index", "-q", "--refresh")
        return _git(self.dest, "rev-parse", "HEAD")


def git_commit(dest: Path, message: str) -> str:
    """Stage everything under ``dest`` and commit it (fixed author and dates); return the id."""
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "--no-verify", "-m", message)
    return _git(dest, "rev-parse", "HEAD")


def _percentile(sorted_sizes: list[int], p: float) -> int:
    if not sorted_sizes:
        return 0
    return sorted_sizes[min(len(sorted_sizes) - 1, int(p * len(sorted_sizes)))]


def generate(
    dest: Path,
    files: int = 10_000,
    seed: int = 0,
    target_mb: float = REFERENCE_MB,
    *,
    git: bool = True,
) -> CorpusStats:
    """Write a corpus of ``files`` Python files into ``dest`` and return its stats.

    ``dest`` must be missing, empty, or an earlier corpus (which is replaced).

    ``target_mb`` is the size the corpus would have at 10,000 files: sizes scale with it, so a
    small corpus keeps the real tree's file-size distribution instead of being padded to 180 MB.
    With ``git`` (the default) ``dest`` becomes a git repository with one commit.
    """
    started = time.perf_counter()
    if files < 20:
        raise ValueError("a corpus needs at least 20 files")
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        marker = dest / "README.md"
        if not (
            marker.is_file() and marker.read_text(errors="replace").startswith("# Benchmark corpus")
        ):
            raise FileExistsError(
                f"{dest} is not empty and not a benchmark corpus: refusing to delete it"
            )
        shutil.rmtree(dest)
    elif dest.exists():
        dest.rmdir()
    dest.mkdir(parents=True)
    rng = random.Random(f"ssot-corpus:{seed}")
    specs = _Planner(rng, files).plan()
    scale = target_mb * 1e6 / 10_000 / _quantile_mean()
    for spec in specs:
        spec.size = int(spec.size * scale)
    stats = CorpusStats()
    sizes: list[int] = []
    made_dirs: set[str] = set()
    importer = _FastImport(dest, f"Benchmark corpus (seed {seed})") if git else None

    # Creating a file costs about a millisecond of file-system latency on a small VM; a few
    # threads overlap that (the order of writes does not matter, the content is already fixed).
    pool = ThreadPoolExecutor(max_workers=8)
    pending: list[Future[int]] = []

    def write(path: str, data: bytes) -> None:
        parent = path.rpartition("/")[0]
        if parent and parent not in made_dirs:
            (dest / parent).mkdir(parents=True, exist_ok=True)
            made_dirs.add(parent)
        pending.append(pool.submit((dest / path).write_bytes, data))
        if importer is not None:
            importer.add(path, data)

    for index, spec in enumerate(specs):
        data = render_file(spec, seed, index).encode("utf-8")
        write(spec.path, data)
        _count(stats, spec, data)
        sizes.append(len(data))
    others = _other_files(
        random.Random(f"ssot-corpus-other:{seed}"), sorted(made_dirs), round(files * NON_PY_RATIO)
    )
    others += [
        (".gitignore", ".ssot_cache/\n.ruff_cache/\n__pycache__/\n"),
        (
            "README.md",
            f"# Benchmark corpus (seed {seed}, {files} Python files)\n\nGenerated by benchmarks/corpus.py; not a real project.\n",
        ),
    ]
    for name, text in others:
        write(name, text.encode("utf-8"))
    stats.other_files = len(others)
    pool.shutdown(wait=True)
    for future in pending:
        future.result()  # raise the first write error, if any
    sizes.sort()
    stats.size_percentiles = {
        f"p{int(p * 100)}": _percentile(sizes, p) for p in (0.1, 0.5, 0.9, 0.99)
    }
    stats.size_percentiles["max"] = sizes[-1]
    if importer is not None:
        stats.commit = importer.finish()
    stats.seconds = time.perf_counter() - started
    return stats


def _count(stats: CorpusStats, spec: FileSpec, data: bytes) -> None:
    stats.files += 1
    stats.bytes += len(data)
    top = spec.path.split("/", 1)[0]
    stats.top_folders[top] = stats.top_folders.get(top, 0) + 1
    if spec.is_test:
        stats.test_files += 1
    any_trigger = False
    lower = data.lower()
    if b"websocket" in lower:
        stats.websocket_files += 1
        stats.websocket_bytes += len(data)
    if (
        b"unified_manager" in data
        or b"websocket_manager_factory" in data
        or b"websocket_core import" in data
    ) and _DEPRECATED_RE.search(data):
        stats.deprecated_files += 1
        stats.deprecated_bytes += len(data)
        any_trigger = True
    stats.deprecated_imports_planted += spec.deprecated
    if (b"agent_" in data or b"tool_" in data) and _EVENT_RE.search(data):
        stats.event_files += 1
        any_trigger = True
        if _EVENT_QUOTED_RE.search(data):
            stats.event_quoted_files += 1
    if b"WebSocket" in data and _WS_CLASS_RE.search(data):
        stats.ws_class_files += 1
        any_trigger = True
    stats.any_trigger_files += any_trigger
    stats.legacy_payloads_planted += spec.legacy
    if not spec.is_test:
        stats.legacy_payloads_outside_tests += spec.legacy
    stats.manager_classes_planted += spec.manager
    if spec.syntax:
        stats.syntax_error_files += 1
        stats.syntax_error_paths.append(spec.path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate the SSOT guard benchmark corpus (a git repository)."
    )
    parser.add_argument(
        "dest", type=Path, help="folder to create (an earlier corpus there is replaced)"
    )
    parser.add_argument("--files", type=int, default=10_000, help="Python files (default: 10000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--target-mb", type=float, default=REFERENCE_MB, help="size at 10,000 files (default: 180)"
    )
    parser.add_argument("--no-git", action="store_true", help="do not make it a git repository")
    parser.add_argument("--json", action="store_true", help="print the stats as JSON")
    args = parser.parse_args(argv)
    stats = generate(args.dest, args.files, args.seed, args.target_mb, git=not args.no_git)
    print(json.dumps(stats.as_dict(), indent=2) if args.json else stats.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
