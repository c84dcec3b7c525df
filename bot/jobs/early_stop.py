"""A stop asked for while the job consumer is still starting, kept until it can act on it.

``ssot serve`` stops its consumer with SIGINT, and may do so a moment after starting it, while
the child is still importing. Python's default SIGINT handler raises KeyboardInterrupt
wherever the interpreter happens to be; raised inside a weakref callback (the import system
runs some on every import) it is printed as "Exception ignored" and dropped, the child starts
anyway and then waits for a stop that never comes: ``ssot serve`` hung 40 s before SIGTERM.

:func:`hold_sigint` replaces that handler, as early as possible, by one that only records the
signal; :func:`hand_over_when_replaced` gives a recorded signal to whichever handler takes
over next (Huey's consumer installs its own when it starts). Before that, while Python itself
starts, ``ssot serve`` keeps the signal blocked in the child (bot.serve.WorkerProcess), so it
waits, pending, for :func:`hold_sigint`. Imports nothing heavy: it runs before the rest of the
worker is imported.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from types import FrameType

_requested = threading.Event()


def _record(signum: int, frame: FrameType | None) -> None:
    _requested.set()


def hold_sigint() -> None:
    """From now on a SIGINT is recorded, not raised (also when it was ignored: a shell's
    background job inherits SIGINT ignored, and the consumer is stopped with it).

    Also unblocks SIGINT, which ``ssot serve`` blocks in the child it starts so that a stop
    sent before this waits here, pending, instead of raising during Python's start.
    """
    signal.signal(signal.SIGINT, _record)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def stop_requested() -> bool:
    """Whether a SIGINT arrived while it was held."""
    return _requested.is_set()


def hand_over_when_replaced(poll_seconds: float = 0.02) -> threading.Thread:
    """Watch, in a daemon thread, for another SIGINT handler to replace the holding one; then
    send ourselves the SIGINT it recorded, if any, so the new handler acts on it.

    Call :func:`hold_sigint` first (it is installed here if it was not). Returns the thread,
    which ends once the handler was replaced.
    """
    if signal.getsignal(signal.SIGINT) is not _record:
        hold_sigint()

    def watch() -> None:
        while signal.getsignal(signal.SIGINT) is _record:
            time.sleep(poll_seconds)
        if _requested.is_set():
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=watch, name="sigint-hand-over", daemon=True)
    thread.start()
    return thread
