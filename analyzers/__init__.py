"""SSOT guard's engine: policy in, findings out. Pure: no network, no GitHub, no bot.

The names below load on first use: a warm ``ssot scan`` answers from its cache and a pre-commit
hook runs on every commit, so importing the package must not import the whole engine.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported on a warm scan's path (mypy reads this)
if TYPE_CHECKING:
    from typing import Any

    from analyzers.engine import ENGINE_VERSION, FileResult, analyze
    from analyzers.findings import Finding, Fix
    from analyzers.policy import Concept, EventSchema, Policy
    from analyzers.policy_loader import LoadedPolicy, PolicyError, load_policy

_HOMES = {
    "ENGINE_VERSION": "analyzers.findings",
    "FileResult": "analyzers.engine",
    "analyze": "analyzers.engine",
    "Finding": "analyzers.findings",
    "Fix": "analyzers.findings",
    "Concept": "analyzers.policy",
    "EventSchema": "analyzers.policy",
    "Policy": "analyzers.policy",
    "LoadedPolicy": "analyzers.policy_loader",
    "PolicyError": "analyzers.policy_loader",
    "load_policy": "analyzers.policy_loader",
}

__all__ = [
    "ENGINE_VERSION",
    "Concept",
    "EventSchema",
    "FileResult",
    "Finding",
    "Fix",
    "LoadedPolicy",
    "Policy",
    "PolicyError",
    "analyze",
    "load_policy",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'analyzers' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(home), name)
    globals()[name] = value  # once
    return value
