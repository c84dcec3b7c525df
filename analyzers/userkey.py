"""This user's secret key, which signs what SSOT guard caches inside a checkout.

It lives outside every repository (``$XDG_CACHE_HOME/ssot-guard/cache.key``, created on first
use, mode 0600), so a cache file committed to or planted in a checkout is never trusted: it
could otherwise mark a file clean and get a change past the gate.

Imports only :mod:`os`: a warm scan's replayed report (:mod:`analyzers.report_replay`) checks
its signature before anything else is imported.
"""

from __future__ import annotations

import os

KEY_BYTES = 32


def key_path() -> str:
    """Where this user's key is kept."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(home, "ssot-guard", "cache.key")


def read_key() -> bytes | None:
    """The key if it exists (None: nothing was ever signed with one here)."""
    try:
        with open(key_path(), "rb") as fh:
            key = fh.read()
    except OSError:
        return None
    return key if len(key) >= KEY_BYTES else None


_known: bytes | None = None  # read once per process


def user_key() -> bytes:
    """The key, created on first use; without a writable home, one for this process only
    (its caches then never verify in a later run, which only costs their speed)."""
    global _known
    if _known is None:
        _known = read_key() or _new_key()
    return _known


def _new_key() -> bytes:
    key = os.urandom(KEY_BYTES)  # what secrets.token_bytes does, without importing random
    path = key_path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
    except OSError:
        pass
    return key
