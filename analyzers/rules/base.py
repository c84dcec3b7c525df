"""What every rule module provides."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from analyzers.context import ModuleContext
from analyzers.findings import Finding


class Check(Protocol):
    def __call__(self, ctx: ModuleContext) -> Iterable[Finding]: ...


@dataclass(frozen=True)
class Rule:
    """A rule: its code, a one-line summary, its documentation and its check."""

    code: str
    name: str
    summary: str
    doc: str
    check: Check | None
