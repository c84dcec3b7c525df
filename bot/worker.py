"""``python -m bot.worker``: the job consumer, as ``ssot serve`` starts it (see bot.serve)."""

from __future__ import annotations

import sys

from bot.serve import worker_command

if __name__ == "__main__":
    sys.exit(worker_command(sys.argv[1:]))
