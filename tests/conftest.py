"""Shared fixtures: the example policy, policies from TOML text, and one-call analysis."""

from __future__ import annotations

from collections.abc import Callable
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
