"""SHA-256 and BLAKE2b from the interpreter's own modules, without importing :mod:`hashlib`.

Importing hashlib loads OpenSSL: 3-4.5 ms of every cold command's start on the AMD EPYC VM of
benchmarks/README.md (``python -X importtime``), where these modules take 0.3-0.7 ms. The
digests are the same bytes; hashlib is the fallback of an interpreter built without them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported on the replay's path (mypy reads this)
if TYPE_CHECKING:
    from hashlib import blake2b, sha256
else:
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - an interpreter built without it
        from hashlib import blake2b
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:  # pragma: no cover - Python 3.12 renamed it
        try:
            from _sha2 import sha256
        except ImportError:
            from hashlib import sha256

__all__ = ["blake2b", "sha256"]
