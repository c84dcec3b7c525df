"""Who is signed in to the dashboard: sealed cookies, and the secret that seals them.

A session is a cookie the server wrote and nobody else can read or forge: Fernet (from the
``cryptography`` package) encrypts and signs it, with its creation time, so the person's
GitHub token in it is unreadable in the browser, a changed byte makes it invalid and an old
one expires (``SSOT_SESSION_HOURS``). No server-side store: every web replica with the same
secret reads it. The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (not sent
on cross-site posts) and ``Secure`` when the App is served over HTTPS.

The OAuth ``state`` of a sign-in in progress is a second, short-lived sealed cookie, so the
callback accepts only the flow this browser started (no login CSRF).

The secret is ``SSOT_SESSION_SECRET``, else one generated at first start and kept in
``<data_dir>/session.key`` (mode 0600).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.ops.settings import Settings

SESSION_COOKIE = "ssot_session"
STATE_COOKIE = "ssot_signin"
STATE_SECONDS = 600  # a sign-in at GitHub must come back within ten minutes
SECRET_FILE = "session.key"


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request: their GitHub login and user access token."""

    login: str
    user_id: int
    token: str
    session_id: str  # random per sign-in: keys the cache of what this person can read
    expires_at: float  # Unix time the token (so the session) stops working


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in sent to GitHub: the ``state`` it must come back with, and where to go next."""

    state: str
    next: str


def session_secret(settings: Settings) -> bytes:
    """``SSOT_SESSION_SECRET``, else the data directory's generated one (created once)."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    path = Path(settings.data_dir) / SECRET_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of this App wrote it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(value + b"\n")
    return value


class CookieSeal:
    """Seals and opens the dashboard's cookies with keys derived from the session secret."""

    def __init__(self, secret: bytes, *, session_seconds: float) -> None:
        self.session_seconds = session_seconds
        self._session = Fernet(_derive(secret, b"ssot-guard dashboard session"))
        self._state = Fernet(_derive(secret, b"ssot-guard sign-in state"))

    def seal_session(self, session: SignedIn) -> str:
        return self._seal(self._session, asdict(session))

    def open_session(self, value: str | None, *, now: float) -> SignedIn | None:
        """The session in a cookie; None when absent, forged, too old or its token expired."""
        data = self._open(self._session, value, int(self.session_seconds))
        if data is None:
            return None
        try:
            session = SignedIn(
                login=str(data["login"]),
                user_id=int(data["user_id"]),
                token=str(data["token"]),
                session_id=str(data["session_id"]),
                expires_at=float(data["expires_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return session if session.expires_at > now else None

    def seal_state(self, pending: PendingSignIn) -> str:
        return self._seal(self._state, asdict(pending))

    def open_state(self, value: str | None) -> PendingSignIn | None:
        data = self._open(self._state, value, STATE_SECONDS)
        if data is None or not isinstance(data.get("state"), str):
            return None
        return PendingSignIn(state=data["state"], next=str(data.get("next") or "/dashboard"))

    @staticmethod
    def _seal(fernet: Fernet, data: dict[str, Any]) -> str:
        return fernet.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode("ascii")

    @staticmethod
    def _open(fernet: Fernet, value: str | None, ttl: int) -> dict[str, Any] | None:
        if not value:
            return None
        try:
            data = json.loads(fernet.decrypt(value.encode("ascii"), ttl=ttl))
        except (InvalidToken, UnicodeError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def _derive(secret: bytes, purpose: bytes) -> bytes:
    """A Fernet key for one purpose (a session cookie is never a valid state cookie)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)
    return base64.urlsafe_b64encode(key)


def new_session_id() -> str:
    return secrets.token_urlsafe(16)
