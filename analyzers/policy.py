"""The policy model: what is canonical, what is deprecated, what counts as another copy.

The model is made of plain frozen dataclasses so that importing it costs nothing (the CLI
must start fast enough for a pre-commit hook); :mod:`analyzers.policy_loader` validates TOML
into these classes with pydantic and turns every error into one that names file, line and key.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Literal

from analyzers.digests import sha256
from analyzers.findings import Scope, Severity
from analyzers.globs import GlobSet
from analyzers.patterns import LinearPattern, compiled

RULE_CODES = ("SSOT001", "SSOT002", "SSOT003", "SSOT900")
# Rules whose automatic fixes are safe to apply unattended (see analyzers.fix): only these
# may be named in [campaign] rules.
SAFE_FIX_RULES = ("SSOT001",)
BatchBy = Literal["directory", "owner"]
DEFAULT_TEST_PATHS = (
    "tests/**",
    "test/**",
    "**/tests/**",
    "**/test_*.py",
    "**/*_test.py",
    "**/conftest.py",
)
DEFAULT_TEST_CLASS_PATTERN = r"^(Test|Mock|Fake|Stub|Dummy|Spy)|(Mock|Fake|Stub|Dummy|Spy|Test)$"
# Extra fields in any table are a typo until proven otherwise.
_STRICT = {"extra": "forbid"}


@dataclass(frozen=True)
class Implementation:
    """What makes a class another implementation of a concept.

    A class matches when its name matches ``name``, or one of its bases is in ``bases``, or it
    defines at least ``min_methods`` of the signature ``methods``.
    """

    __pydantic_config__ = _STRICT

    name: str | None = None
    bases: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    min_methods: int = 2


@dataclass(frozen=True)
class Concept:
    """One thing that must have a single source of truth."""

    __pydantic_config__ = _STRICT

    name: str
    canonical: str
    deprecated: tuple[str, ...] = ()
    implementation: Implementation | None = None
    allowed_in: tuple[str, ...] = ()
    target: int | None = None

    @property
    def canonical_module(self) -> str:
        return self.canonical.rpartition(".")[0]

    @property
    def canonical_name(self) -> str:
        return self.canonical.rpartition(".")[2]


@dataclass(frozen=True)
class EventSchema:
    """The canonical shape of a family of event payloads."""

    __pydantic_config__ = _STRICT

    name: str
    events: tuple[str, ...]
    event_key: str = "event_type"
    legacy_keys: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    data_key: str = "data"
    timestamp_key: str = "timestamp"
    timestamp: Literal["number", "string", "any"] = "number"

    @property
    def event_keys(self) -> tuple[str, ...]:
        """The keys under which a payload names its event: the event key, then its legacy
        aliases (``type`` for ``event_type``)."""
        aliases = (old for old, new in self.legacy_keys.items() if new == self.event_key)
        return (self.event_key, *aliases)

    @property
    def canonical_keys(self) -> frozenset[str]:
        return frozenset(
            (self.event_key, self.data_key, self.timestamp_key, *self.required, *self.optional)
        )


@dataclass(frozen=True)
class RuleSettings:
    """How a rule gates: ``severity`` for source code, ``tests`` for test code."""

    __pydantic_config__ = _STRICT

    severity: Severity = "block"
    tests: Severity | None = None

    def for_scope(self, scope: Scope) -> Severity:
        if scope == "test" and self.tests is not None:
            return self.tests
        return self.severity


@dataclass(frozen=True)
class Campaign:
    """Consolidation pull requests: the App applies safe fixes in reviewable batches.

    ``batch``: one batch per folder (the first ``depth`` folders of a file's path) or per
    CODEOWNERS owner, split into parts of at most ``max_files`` files. ``schedule``: a cron
    expression in UTC (``"0 9 * * 1"``, ``"@weekly"``) or ``"off"`` (only when asked).
    """

    __pydantic_config__ = _STRICT

    enabled: bool = False
    batch: BatchBy = "directory"
    depth: int = 2
    max_files: int = 20
    max_open: int = 3
    max_per_hour: int = 2
    schedule: str = "@weekly"
    labels: tuple[str, ...] = ("ssot-consolidation",)
    draft: bool = False
    rules: tuple[str, ...] = SAFE_FIX_RULES


@dataclass(frozen=True)
class Dashboard:
    """How the App shows progress: the dashboard issue (opt-in) and the breakdown's depth.

    Changes nothing of what is found, so it is left out of the policy's digest.
    """

    __pydantic_config__ = _STRICT

    issue: bool = False  # keep one dashboard issue in the repository, edited in place
    depth: int = 2  # directories are counted by their first `depth` components


@dataclass(frozen=True)
class Policy:
    """A whole validated policy (``.github/ssot.toml`` or ``[tool.ssot]``)."""

    __pydantic_config__ = _STRICT

    version: int = 1
    extends: str | None = None
    exclude: tuple[str, ...] = ()
    source_roots: tuple[str, ...] = ()
    test_paths: tuple[str, ...] = DEFAULT_TEST_PATHS
    test_classes: str = DEFAULT_TEST_CLASS_PATTERN
    max_file_size: int = 2_000_000
    concept: tuple[Concept, ...] = ()
    event_schema: tuple[EventSchema, ...] = ()
    rules: dict[str, RuleSettings] = field(default_factory=dict)
    campaign: Campaign = field(default_factory=Campaign)
    dashboard: Dashboard = field(default_factory=Dashboard)

    @property
    def concepts(self) -> tuple[Concept, ...]:
        return self.concept

    @property
    def event_schemas(self) -> tuple[EventSchema, ...]:
        return self.event_schema

    def severity(self, rule: str, scope: Scope) -> Severity:
        """The severity of ``rule`` for a finding in ``scope`` (block unless configured)."""
        settings = self.rules.get(rule)
        return "block" if settings is None else settings.for_scope(scope)

    @cached_property
    def digest(self) -> str:
        """Stable hash of the policy's meaning; part of every cache key.

        ``campaign`` and ``dashboard`` are left out: how consolidation pull requests are
        batched and how progress is shown change no finding, and must not empty the findings
        caches.
        """
        meaning = {k: v for k, v in asdict(self).items() if k not in ("campaign", "dashboard")}
        blob = json.dumps(meaning, sort_keys=True, default=str)
        return sha256(blob.encode()).hexdigest()[:20]

    @cached_property
    def excluded(self) -> GlobSet:
        return GlobSet(self.exclude)

    @cached_property
    def test_globs(self) -> GlobSet:
        return GlobSet(self.test_paths)

    @cached_property
    def test_class_re(self) -> LinearPattern:
        return compiled(self.test_classes)

    def path_scope(self, path: str) -> Scope:
        """``test`` for files under the policy's test paths, ``source`` otherwise."""
        return "test" if self.test_globs.match(path) else "source"
