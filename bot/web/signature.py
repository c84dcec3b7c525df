"""Webhook signatures (``X-Hub-Signature-256``): pure functions, no I/O."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(secret: str | bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``: ``sha256=<hex hmac>``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(secret: str | bytes, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` is ``body``'s signature with ``secret``, compared in constant time.

    A missing header, another algorithm or a malformed value is simply not valid.
    """
    if not signature or not signature.startswith(PREFIX):
        return False
    expected = sign(secret, body).encode("ascii")
    try:
        given = signature.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)
