"""Readiness: can this process do its work right now?

``/readyz`` answers 200 when every check passes and 503 otherwise, with each check's result,
so that a load balancer sends webhooks only to replicas that can store them:

- ``database``: ``SELECT 1`` on the App's engine;
- ``schema``: on a server database, the migrations are applied (``ssot migrate``);
- ``broker``: the job queue's storage answers (Redis ``PING``, and Huey's pending count,
  which works for every storage and is reported as ``pending``).

Each check runs in a thread with a deadline: a database that hangs makes the check fail
after ``timeout`` seconds instead of holding the probe. ``/healthz`` (liveness) checks none
of this: an unreachable database must not make an orchestrator restart every replica.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.ops.logs import REDACTOR
from bot.store import migrate

CHECK_TIMEOUT_SECONDS = 3.0
MAX_DETAIL_CHARS = 300


@dataclass(frozen=True)
class CheckResult:
    """One check: whether it passed, what it found, how long it took."""

    name: str
    ok: bool
    detail: str
    seconds: float
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form shown by ``/readyz``."""
        return {
            "ok": self.ok,
            "detail": self.detail,
            "ms": round(self.seconds * 1000, 1),
            **self.data,
        }


def describe_error(exc: BaseException) -> str:
    """``Type: first line`` of an error (the driver's own for SQLAlchemy's), secrets redacted,
    short enough for a probe's answer or a log line."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = text[0] if text else ""
    return REDACTOR(f"{type(exc).__name__}: {first}")[:MAX_DETAIL_CHARS]


def check_database(engine: Engine) -> str:
    """``SELECT 1`` on ``engine``; raises when the database does not answer."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1")).scalar_one()
    return f"{engine.dialect.name} answers"


def check_schema(engine: Engine) -> str:
    """The migrations are applied (server databases; SQLite is migrated at start)."""
    if engine.dialect.name == "sqlite":
        return "embedded database (migrated at start)"
    status = migrate.schema_status(engine)
    if not status.usable:
        raise migrate.SchemaNotCurrent(status.describe())
    return status.describe()


def check_broker(huey: Any) -> tuple[str, dict[str, Any]]:
    """The job queue's storage answers: Redis ``PING``, then the number of pending tasks."""
    storage = huey.storage
    conn = getattr(storage, "conn", None)
    if conn is not None and hasattr(conn, "ping"):
        conn.ping()
        kind = "redis"
    else:
        kind = type(storage).__name__.removesuffix("Storage").lower() or "huey"
    pending = int(huey.pending_count())
    return f"{kind} answers", {"pending": pending}


async def run_check(
    name: str, check: Callable[[], Any], *, timeout: float = CHECK_TIMEOUT_SECONDS
) -> CheckResult:
    """Run a blocking ``check`` in a worker thread, failing it after ``timeout`` seconds.

    A check that times out is abandoned (its thread finishes on its own), not waited for.
    """
    started = time.perf_counter()
    try:
        with anyio.fail_after(timeout):
            value = await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
    except TimeoutError:
        return CheckResult(name, False, f"no answer within {timeout:g} s", timeout)
    except Exception as exc:
        return CheckResult(name, False, describe_error(exc), time.perf_counter() - started)
    detail, data = value if isinstance(value, tuple) else (str(value), {})
    return CheckResult(name, True, detail, time.perf_counter() - started, data)


async def readiness(
    engine: Engine, huey: Any, *, timeout: float = CHECK_TIMEOUT_SECONDS
) -> tuple[bool, dict[str, Any]]:
    """Run every check at once; ``(ready, {"status": ..., "checks": {...}})``."""
    results: dict[str, CheckResult] = {}

    async def one(name: str, check: Callable[[], Any]) -> None:
        results[name] = await run_check(name, check, timeout=timeout)

    async with anyio.create_task_group() as group:
        group.start_soon(one, "database", lambda: check_database(engine))
        group.start_soon(one, "broker", lambda: check_broker(huey))
    if results["database"].ok:
        results["schema"] = await run_check("schema", lambda: check_schema(engine), timeout=timeout)
    ready = all(result.ok for result in results.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: results[name].as_dict() for name in sorted(results)},
    }
    return ready, body
