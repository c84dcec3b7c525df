"""Totals per concept and rule, and progress toward each concept's target."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from analyzers.findings import Finding
from analyzers.policy import Policy


@dataclass(frozen=True)
class ConceptTotal:
    """How many findings of ``rule`` a repository has for ``concept``, and the goal."""

    concept: str
    rule: str
    count: int
    target: int | None

    @property
    def progress(self) -> str:
        """``1,058 -> 1`` style text (``1,058`` alone when no target is set)."""
        return f"{self.count:,}" if self.target is None else f"{self.count:,} -> {self.target:,}"


def totals(findings: Iterable[Finding], policy: Policy) -> list[ConceptTotal]:
    """Repository totals, suppressed findings excluded.

    For SSOT002 the count is of implementations, the canonical one included, so a concept
    whose ``target`` is 1 reads "1,058 -> 1" like the team's own report; the other rules count
    findings and aim at zero.
    """
    return totals_from_counts(count_findings(findings), policy)


def count_findings(findings: Iterable[Finding]) -> Counter[tuple[str, str]]:
    """Unsuppressed findings counted per ``(concept, rule)``: what :func:`totals_from_counts`
    adds up (``ssot history`` keeps one such count per file and adds the changed ones)."""
    return Counter((f.concept, f.rule) for f in findings if f.suppressed is None)


def totals_from_counts(counts: Mapping[tuple[str, str], int], policy: Policy) -> list[ConceptTotal]:
    """:func:`totals` from findings already counted per ``(concept, rule)``."""
    counts = Counter(counts)
    out: list[ConceptTotal] = []
    for concept in policy.concepts:
        if concept.deprecated:
            out.append(ConceptTotal(concept.name, "SSOT001", counts[(concept.name, "SSOT001")], 0))
        if concept.implementation is not None:
            implementations = counts[(concept.name, "SSOT002")] + 1
            out.append(
                ConceptTotal(
                    concept.name,
                    "SSOT002",
                    implementations,
                    concept.target if concept.target is not None else 1,
                )
            )
    for schema in policy.event_schemas:
        out.append(ConceptTotal(schema.name, "SSOT003", counts[(schema.name, "SSOT003")], 0))
    if counts[("", "SSOT900")]:
        out.append(ConceptTotal("", "SSOT900", counts[("", "SSOT900")], None))
    return out
