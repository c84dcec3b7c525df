"""SSOT guard's engine: policy in, findings out. Pure: no network, no GitHub, no bot."""

from analyzers.engine import ENGINE_VERSION, FileResult, analyze
from analyzers.findings import Finding, Fix
from analyzers.policy import Concept, EventSchema, Policy
from analyzers.policy_loader import LoadedPolicy, PolicyError, load_policy

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
