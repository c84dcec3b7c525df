"""Wider pipes, where the system allows it.

A pipe holds 64 KiB on Linux by default, and a writer that fills it waits for its reader.
Two writers here must not wait for a reader that is busy elsewhere: git listing a tree for a
scan whose process is still importing and reading its policy (6,454 paths were 301 KB of
output), and a forked worker sending results to the process that is analysing its own chunk.
"""

from __future__ import annotations

# The most an unprivileged process may ask for on Linux by default (/proc/sys/fs/pipe-max-size).
WIDE = 1 << 20


def widen(fd: int, size: int = WIDE) -> None:
    """Let the pipe of ``fd`` hold ``size`` bytes; where the system cannot (not Linux, or over
    the user's limit), it stays as it is and its writer waits a little more."""
    try:
        import fcntl  # a built-in extension; not at the top: the replay's path imports this

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (ImportError, AttributeError, OSError):
        pass
