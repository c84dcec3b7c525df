"""The rule table: one module per rule, registered here and nowhere else."""

from __future__ import annotations

from analyzers.rules import (
    ssot001_noncanonical_import,
    ssot002_extra_implementation,
    ssot003_legacy_event_payload,
    ssot900_unanalysable,
)
from analyzers.rules.base import Rule

RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        ssot001_noncanonical_import.RULE,
        ssot002_extra_implementation.RULE,
        ssot003_legacy_event_payload.RULE,
        ssot900_unanalysable.RULE,
    )
}


def get_rule(code: str) -> Rule:
    """The rule with ``code`` (case-insensitive); KeyError naming the known codes."""
    try:
        return RULES[code.upper()]
    except KeyError:
        raise KeyError(f"unknown rule {code!r}; known: {', '.join(RULES)}") from None
