"""Where each concept's debt sits: per directory and per CODEOWNERS owner.

A finding counts for the directory of its file, cut to the policy's ``[dashboard] depth``
components (``netra_backend/app`` at depth 2; a file at the root counts for ``.``), and for
each owner CODEOWNERS gives its file (:mod:`analyzers.codeowners`: GitHub's three places,
last match wins; a file with two owners counts for both; an unowned file for
``(no owner)``). Suppressed findings do not count, as in the totals. Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from analyzers.codeowners import Owners
from analyzers.findings import Finding
from bot.store.history import Breakdown

KEEP = 20  # stored per concept (the dashboard shows ten)
UNOWNED = "(no owner)"


def directory_of(path: str, depth: int) -> str:
    """The first ``depth`` directories of ``path`` (``.`` for a file at the root)."""
    parts = path.split("/")[:-1]
    return "/".join(parts[: max(depth, 1)]) or "."


def breakdown(
    findings: Iterable[Finding],
    *,
    owners: Owners | None,
    depth: int,
    keep: int = KEEP,
) -> dict[str, Breakdown]:
    """Per concept, the ``keep`` directories and owners holding most of its findings."""
    directories: dict[str, Counter[str]] = {}
    people: dict[str, Counter[str]] = {}
    for finding in findings:
        if finding.suppressed is not None or not finding.concept:
            continue
        concept = finding.concept
        directories.setdefault(concept, Counter())[directory_of(finding.path, depth)] += 1
        if owners is not None:
            for owner in owners.of(finding.path) or (UNOWNED,):
                people.setdefault(concept, Counter())[owner] += 1
    return {
        concept: Breakdown(
            directories=_top(counts, keep),
            owners=_top(people.get(concept, Counter()), keep),
        )
        for concept, counts in sorted(directories.items())
    }


def _top(counts: Counter[str], keep: int) -> tuple[tuple[str, int], ...]:
    # Most first; ties by name, so the order is the same from one sample to the next.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(ranked[:keep])
