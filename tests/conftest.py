"""Shared fixtures: the example policy, policies from TOML text, and one-call analysis.

And one rule for the whole suite: under ``CI=true``, a test marked ``services`` (it needs the
real Redis or PostgreSQL) fails instead of skipping when the service is absent, so that a
green CI run means those tests ran. On a laptop they skip, saying why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from pathlib import Path
from textwrap import dedent

import pytest

from analyzers import Finding, Policy, analyze
from analyzers.policy_loader import load_policy

EXAMPLE_POLICY = Path(__file__).resolve().parent.parent / "examples" / "websocket-ssot.toml"

FindingsFn = Callable[..., list[Finding]]
PolicyFn = Callable[[str], Policy]


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The policy of examples/websocket-ssot.toml (the team of the SSOT failure report)."""
    text = EXAMPLE_POLICY.read_text(encoding="utf-8")
    return load_policy(text, "examples/websocket-ssot.toml").policy


@pytest.fixture(scope="session")
def make_policy() -> PolicyFn:
    """``make_policy(toml_text)``: a policy from (indented) TOML text."""

    def make(text: str) -> Policy:
        return load_policy(dedent(text), ".github/ssot.toml").policy

    return make


@pytest.fixture
def findings(policy: Policy) -> FindingsFn:
    """``findings(text, path="pkg/mod.py", policy=...)``: every finding of ``analyze``.

    ``text`` is dedented first; suppressed findings are included (they are marked).
    """
    example = policy

    def run(
        text: str,
        path: str = "pkg/mod.py",
        policy: Policy = example,
        *,
        full_parse: bool = False,
    ) -> list[Finding]:
        return analyze(path, dedent(text).encode("utf-8"), policy, full_parse=full_parse).findings

    return run


def running_in_ci() -> bool:
    """``CI=true`` (GitHub Actions, GitLab CI and most others set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    """Under CI, a skipped ``services`` test is reported as failed, with the skip's reason."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not (report.skipped and running_in_ci()) or hasattr(report, "wasxfail"):
        return
    if item.get_closest_marker("services") is None:
        return
    longrepr = report.longrepr
    reason = (longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)).removeprefix(
        "Skipped: "
    )
    report.outcome = "failed"
    report.longrepr = (
        f"CI=true, so this test may not skip: it needs Redis or PostgreSQL, and a green CI "
        f"must mean it ran. Skipped because: {reason}"
    )
