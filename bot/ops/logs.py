"""Structured logs: one JSON object per line, with the delivery being handled, and no secret.

- Context: :func:`log_context` binds ``delivery_id``, ``installation_id``, ``repository`` and
  ``pull_request`` to the current thread or asyncio task (contextvars), and every record
  logged inside carries them. The webhook route binds them when a delivery arrives, the job
  when it runs the delivery, so one ``grep delivery_id`` follows a delivery end to end.
- Redaction: every record is scrubbed before a handler writes it: GitHub tokens
  (``ghs_...``, ``ghp_...``, ``github_pat_...``), ``token xxx`` and ``Bearer xxx`` values,
  ``Authorization`` headers, secrets in ``key=value`` form, passwords in URLs, PEM private key
  blocks, and the literal values of this process's own secrets (the webhook secret, the
  private key and each line of it, the client secret, database and Redis passwords).
  The message, its arguments, the exception text, the stack and any ``extra`` field are all
  scrubbed, so a secret inside an exception message does not slip through either.

:func:`configure_logging` installs this on the root logger; ``ssot serve`` and ``ssot worker``
call it at start.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import IO, Any, Literal
from urllib.parse import urlsplit

from bot.ops.settings import Settings

CONTEXT_FIELDS = ("delivery_id", "installation_id", "repository", "pull_request")
REDACTED = "[REDACTED]"
MIN_SECRET_CHARS = 4  # shorter "secrets" would blank out ordinary words
LogFormat = Literal["json", "text"]

_context: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "ssot_log_context", default=None
)

# Attributes every LogRecord has: anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName", "color_message", "_ssot_redacted"}
)


# --- context ----------------------------------------------------------------------------


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (those not None) to every record logged inside, in this thread or task.

    Nested contexts add to the outer one; leaving restores it.
    """
    # Redacted once here rather than on every record that carries them.
    values = {key: _scrub(value, REDACTOR) for key, value in fields.items() if value is not None}
    token = _context.set({**(_context.get() or {}), **values})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, Any]:
    """The fields :func:`log_context` bound here (a copy)."""
    return dict(_context.get() or {})


def pull_request_number(event: str | None, payload: Mapping[str, Any]) -> int | None:
    """The pull request a webhook payload is about, if any (for the logs' ``pull_request``)."""
    candidates: list[Any] = []
    pull = payload.get("pull_request")
    if isinstance(pull, dict):
        candidates.append(pull.get("number"))
    issue = payload.get("issue")
    if isinstance(issue, dict) and issue.get("pull_request"):
        candidates.append(issue.get("number"))
    for key in ("check_run", "check_suite"):
        item = payload.get(key)
        pulls = item.get("pull_requests") if isinstance(item, dict) else None
        if isinstance(pulls, list) and pulls and isinstance(pulls[0], dict):
            candidates.append(pulls[0].get("number"))
    if event == "pull_request" and isinstance(payload.get("number"), int):
        candidates.append(payload["number"])
    for number in candidates:
        if isinstance(number, int) and not isinstance(number, bool):
            return number
    return None


def payload_context(event: str | None, payload: Mapping[str, Any]) -> dict[str, Any]:
    """``installation_id``, ``repository`` and ``pull_request`` of a webhook payload."""
    installation = payload.get("installation")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    repository = payload.get("repository")
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    return {
        "installation_id": installation_id if isinstance(installation_id, int) else None,
        "repository": full_name if isinstance(full_name, str) else None,
        "pull_request": pull_request_number(event, payload),
    }


# --- redaction --------------------------------------------------------------------------

# (pattern, replacement, triggers): a pattern runs only on text that holds one of its
# triggers (lower case), so that an ordinary log line costs a few substring checks.
_PATTERNS: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = [
    # PEM private keys, whole blocks; a block cut short loses everything after BEGIN.
    (
        re.compile(
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY-----|.*)",
            re.DOTALL,
        ),
        "[REDACTED PRIVATE KEY]",
        ("private key",),
    ),
    # GitHub tokens: installation (ghs_), personal (ghp_), OAuth (gho_, ghu_), refresh (ghr_).
    (
        re.compile(r"\bgh[pousr]_[A-Za-z0-9_-]{16,}"),
        REDACTED,
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), REDACTED, ("github_pat_",)),
    # Authorization headers in any rendering: "Authorization: token x", {'authorization': 'x'}.
    (
        re.compile(
            r"""(?i)(\bauthorization["']?\s*[:=]\s*["']?)(?:(?:token|bearer|basic)\s+)?[^\s"',}]+"""
        ),
        r"\1" + REDACTED,
        ("authorization",),
    ),
    # "Bearer <jwt>" anywhere; "token <value>" when the value looks like one (has a digit, or
    # is long), so that "token expired" stays readable.
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=_-]{8,}"), r"\1" + REDACTED, ("bearer",)),
    (
        re.compile(
            r"""(?i)(\btoken["']?[\s:=]+["']?)(?:(?=[A-Za-z._~+/=_-]*\d)[A-Za-z0-9._~+/=_-]{8,}|[A-Za-z0-9._~+/=_-]{20,})"""
        ),
        r"\1" + REDACTED,
        ("token",),
    ),
    # key=value / "key": "value" for keys that hold secrets.
    (
        re.compile(
            r"""(?i)(\b(?:client_secret|webhook_secret|private_key|access_token|refresh_token|password|passwd|api_key)["']?\s*[:=]\s*["']?)[^\s"',}&]+"""
        ),
        r"\1" + REDACTED,
        ("secret", "private_key", "_token", "passw", "api_key"),
    ),
    # Passwords in URLs: scheme://user:password@host.
    (
        re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/?#\s@]*:)[^@/?#\s]+(@)"),
        r"\1" + REDACTED + r"\2",
        ("://",),
    ),
]


_ANY_TRIGGER = re.compile("|".join(re.escape(t) for _, _, triggers in _PATTERNS for t in triggers))


class Redactor:
    """Removes secrets from text: the patterns above and the literal values registered."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *values: str | None) -> None:
        """Redact these literal values from now on (None, empty and very short ones skipped).

        A multi-line value (a PEM key) is also registered line by line, so that one line of
        it quoted alone is redacted too.
        """
        found: set[str] = set()
        for value in values:
            if not value:
                continue
            for candidate in (value, value.strip(), *value.splitlines()):
                candidate = candidate.strip()
                if len(candidate) >= MIN_SECRET_CHARS and not candidate.startswith("-----"):
                    found.add(candidate)
                    # Logged through repr() or json.dumps(), a value may come escaped.
                    for escaped in (json.dumps(candidate)[1:-1], repr(candidate)[1:-1]):
                        if escaped != candidate:
                            found.add(escaped)
        with self._lock:
            # Longest first: a secret that contains another is replaced whole.
            merged = set(self._secrets) | found
            self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def clear(self) -> None:
        """Forget the literal values (the patterns stay)."""
        with self._lock:
            self._secrets = ()

    def __call__(self, text: str) -> str:
        """``text`` without any secret."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        lowered = text.lower()
        if _ANY_TRIGGER.search(lowered) is None:  # the common case: nothing looks secret
            return text
        for pattern, replacement, triggers in _PATTERNS:
            if any(trigger in lowered for trigger in triggers):
                text = pattern.sub(replacement, text)
        return text


REDACTOR = Redactor()
"""The process's redactor, used by every handler that :func:`configure_logging` installs."""


def register_secret(*values: str | None) -> None:
    """Never log these values (for secrets that are not in the settings)."""
    REDACTOR.add(*values)


def secrets_of(settings: Settings) -> list[str]:
    """The literal secret values in ``settings``: webhook and client secrets, the private
    key, and the passwords inside the database and Redis URLs."""
    values: list[str] = []
    for secret in (settings.webhook_secret, settings.client_secret, settings.private_key):
        if secret is not None:
            values.append(secret.get_secret_value())
    if settings.private_key_path is not None:
        with suppress(OSError):
            values.append(settings.private_key_path.read_text(encoding="utf-8"))
    for url in (settings.database_url, settings.redis_url):
        if url:
            try:
                password = urlsplit(url).password
            except ValueError:
                password = None
            if password:
                values.append(password)
    return values


def _scrub(value: Any, redact: Redactor) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(repr(value))


class RedactionFilter(logging.Filter):
    """Rewrites each record without secrets (message, arguments, exception, stack, extras)
    and adds the context fields of :func:`log_context`. Never drops a record."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or REDACTOR

    def filter(self, record: logging.LogRecord) -> bool:
        prepare_record(record, self.redactor)
        return True


def prepare_record(record: logging.LogRecord, redactor: Redactor | None = None) -> None:
    """Redact ``record`` in place (once) and attach the current log context to it."""
    if getattr(record, "_ssot_redacted", False):
        return
    redact = redactor or REDACTOR
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what there is
        message = f"{record.msg!r} {record.args!r}"
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
        record.exc_info = None  # nothing may format the raw exception again
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    for key, value in list(vars(record).items()):
        if key not in _RECORD_ATTRIBUTES:
            setattr(record, key, _scrub(value, redact))
    for key, value in (_context.get() or {}).items():  # redacted by log_context
        if not hasattr(record, key):
            setattr(record, key, value)
    record._ssot_redacted = True


# --- formats ----------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context fields, extras,
    and the exception text. Records are redacted here too, whatever filters the handler has."""

    def format(self, record: logging.LogRecord) -> str:
        prepare_record(record)
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.msg,
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        entry["process"] = record.process
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [delivery_id=... repository=...]``, redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prepare_record(record)
        text = super().format(record)
        fields = " ".join(
            f"{key}={getattr(record, key)}"
            for key in CONTEXT_FIELDS
            if getattr(record, key, None) is not None
        )
        if fields:
            first, newline, rest = text.partition("\n")
            text = f"{first} [{fields}]{newline}{rest}"
        return text


def configure_logging(
    level: str | int = "info",
    *,
    log_format: LogFormat = "json",
    stream: IO[str] | None = None,
    settings: Settings | None = None,
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) in ``log_format``, redacted.

    Replaces the handler an earlier call installed (other handlers, such as a test's log
    capture, stay). ``settings``: register its secrets with the redactor. Returns the handler.
    """
    if settings is not None:
        REDACTOR.add(*secrets_of(settings))
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactionFilter())
    handler._ssot_handler = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_ssot_handler", False):
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    numeric = level if isinstance(level, int) else logging.getLevelName(level.upper())
    root.setLevel(numeric)
    # httpx logs every request at INFO (the GitHub metrics count them instead); Alembic logs
    # its plugins and dialect each time /readyz looks at the schema.
    quiet = logging.NOTSET if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(quiet)
    logging.captureWarnings(True)
    return handler
