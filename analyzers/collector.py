"""How often Python's cyclic garbage collector runs in an ``ssot`` process.

A command of the command line collects every :data:`COMMAND_THRESHOLD` net allocations of
container objects instead of every 700. Nearly everything such a command makes while it
starts (modules, classes, the policy) lives until it exits, so the collector's passes over
it free nothing: 28 young and 3 middle-generation passes, 7.5 ms, before the workers of a
cold scan of a 6,454-file tree forked (counted with ``gc.callbacks``; benchmarks/README.md).
mypy's command line sets the same first threshold. Cycles are still collected, only in larger
batches: a long ``ssot history`` stays bounded.

An App command (``ssot serve``, ``ssot worker``) runs as long as the App does and keeps
Python's own pace.
"""

from __future__ import annotations

import gc

COMMAND_THRESHOLD = 200_000
_PYTHONS = gc.get_threshold()  # read at import, before a command changes it


def for_a_command() -> None:
    """Collect at the command line's pace (first thing in the process: the imports count)."""
    gc.set_threshold(COMMAND_THRESHOLD)


def as_python_sets_it() -> None:
    """Collect at Python's own pace again (a long-running App command)."""
    gc.set_threshold(*_PYTHONS)
