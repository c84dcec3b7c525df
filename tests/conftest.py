"""Shared fixtures: the example policy and a one-call way to analyse a snippet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest

from analyzers import Finding, Policy, analyze
from analyzers.policy_loader import load_policy

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_POLICY = ROOT / "examples" / "websocket-ssot.toml"

FindingsFn = Callable[..., list[Finding]]


def load_example_policy() -> Policy:
    """The policy of examples/websocket-ssot.toml (the team of the SSOT failure report)."""
    text = EXAMPLE_POLICY.read_text(encoding="utf-8")
    return load_policy(text, "examples/websocket-ssot.toml").policy


def policy_from(text: str, source: str = ".github/ssot.toml") -> Policy:
    """A policy from TOML text (dedented, so tests can indent it)."""
    return load_policy(dedent(text), source).policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_example_policy()


@pytest.fixture
def findings(policy: Policy) -> FindingsFn:
    """``findings(text, path="pkg/mod.py", policy=...)``: every finding of ``analyze``.

    ``text`` is dedented first; suppressed findings are included (they are marked).
    """

    def run(
        text: str,
        path: str = "pkg/mod.py",
        policy: Policy = policy,
        *,
        full_parse: bool = False,
    ) -> list[Finding]:
        return analyze(path, dedent(text).encode("utf-8"), policy, full_parse=full_parse).findings

    return run
