"""``python -m bot.worker``: the job consumer, as ``ssot serve`` starts it (see bot.serve)."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from bot.jobs import early_stop

    # First, before the imports that take most of the start: `ssot serve` may stop us already.
    early_stop.hold_sigint()

    from bot.serve import worker_command

    sys.exit(worker_command(sys.argv[1:]))
