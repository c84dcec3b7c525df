"""The ``ssot`` command's exit codes, and the error that ends a command with code 2.

Shared by the argument parsing (:mod:`analyzers.cli`) and the commands it runs
(:mod:`analyzers.commands`), so that neither has to import the other to agree on them.
"""

from __future__ import annotations

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A problem the user can fix by changing the command line or the policy."""
