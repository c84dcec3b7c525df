"""GitHub's limits per installation, kept by every worker of every machine together.

GitHub asks integrators (docs/GITHUB.md, "Rate limits") to make the content-creating calls of
one installation one at a time, to stay under 80 of them a minute and 500 an hour, and, once
told to wait (``retry-after``, or ``x-ratelimit-remaining: 0`` with a reset time), to wait.
A worker process alone cannot keep these promises when several run, so the state lives in the
database they share:

- ``rate_limits``: until when GitHub asked an installation to wait. Every call of that
  installation, read or write, waits for it first: in place when the wait is short
  (:data:`MAX_INLINE_WAIT`), else the job is postponed to that time (:class:`RateLimited`).
- ``github_writes``: the content-creating calls of the last hour, counted against the
  budget of ``SSOT_GITHUB_WRITES_PER_MINUTE`` and ``SSOT_GITHUB_WRITES_PER_HOUR``.
- One content-creating call per installation at a time: a PostgreSQL advisory lock (held on
  its own connection, so a killed worker releases it), or, on the embedded SQLite database,
  an ``flock`` on a file beside it. Both are released by the operating system or the server
  when the process holding them dies.

The gate plugs into githubkit where it is meant to: a :class:`githubkit.throttling.
BaseThrottler` around each request's send, and the client's ``auto_retry`` decision, which
sees every rate-limit answer first.

Pull-request checks come first. A client made for a consolidation campaign (``priority =
"campaign"``) takes a write slot only when no check of the installation is waiting for budget
(a check that has to wait says so in ``write_waits``) and only within its share of the budget
(``SSOT_CAMPAIGN_WRITE_SHARE`` of each window, counting every write of the installation), so
the rest is left to checks; otherwise the campaign is deferred (:class:`CampaignDeferred`), it
never sleeps holding the slot. A rate limit met by a campaign write is never retried in place:
the campaign pauses (bot/campaigns/) while the checks only honour GitHub's told wait.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import re
import threading
import time
from collections.abc import AsyncGenerator, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import sqlalchemy as sa
from githubkit.exception import GitHubException, RateLimitExceeded, RequestFailed
from githubkit.retry import RetryOption
from githubkit.throttling import BaseThrottler
from sqlalchemy.engine import Connection, Engine

from bot.github.errors import GraphQLRateLimited
from bot.ops import metrics
from bot.store import campaigns as campaign_store
from bot.store import db, limits
from bot.work import RetryLater

log = logging.getLogger(__name__)

MAX_INLINE_WAIT = dt.timedelta(seconds=10)  # longer: the job is postponed, its worker freed
SERVER_ERROR_WAIT = dt.timedelta(seconds=1)
LOCK_WAIT = dt.timedelta(seconds=60)  # for the write lock; then the job is postponed
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# The App's own token exchange is not content: it has its own limit, per App.
_TOKEN_EXCHANGE = re.compile(r"/app/installations/\d+/access_tokens$")
_GRAPHQL_MUTATION = re.compile(r"^\s*mutation\b")
# pg_try_advisory_lock(bigint): our namespace in the high bits, the installation below.
_ADVISORY_NAMESPACE = 0x5350 << 48


Priority = Literal["check", "campaign"]


class RateLimited(RetryLater):
    """GitHub asked this installation to wait longer than a job should sleep."""


class CampaignDeferred(RetryLater):
    """A campaign write gives way: a check waits for budget, or the campaign's share is used."""


@dataclass(frozen=True)
class WriteBudget:
    """Content-creating calls allowed per installation: a minute's and an hour's worth."""

    per_minute: int = 80
    per_hour: int = 500

    def next_slot(self, recent: Sequence[dt.datetime], now: dt.datetime) -> dt.datetime:
        """The earliest time (``now`` or later) a new call fits, given the calls of the hour.

        ``recent``: the times of the installation's content-creating calls, oldest first.
        """
        slot = now
        for limit, window in ((self.per_minute, MINUTE), (self.per_hour, HOUR)):
            if limit <= 0:
                continue
            inside = [at for at in recent if at > now - window]
            if len(inside) >= limit:
                # The call that must leave the window before a new one fits.
                slot = max(slot, inside[len(inside) - limit] + window)
        return slot


def is_content_creating(request: httpx.Request) -> bool:
    """Whether GitHub counts ``request`` as creating content (a write, or a GraphQL mutation)."""
    if request.method not in WRITE_METHODS:
        return False
    path = request.url.path
    if _TOKEN_EXCHANGE.search(path):
        return False
    if path.endswith("/graphql"):
        try:
            query = json.loads(request.content or b"{}").get("query", "")
        except (ValueError, AttributeError):
            return True  # unknown: count it, erring on the side of GitHub's limit
        return isinstance(query, str) and bool(_GRAPHQL_MUTATION.match(query))
    return True


def retry_in_place(exc: GitHubException, count: int) -> RetryOption:
    """githubkit's retry decision: once, and only when the wait is short."""
    if count >= 1:
        return RetryOption(False)
    if isinstance(exc, RateLimitExceeded):
        wait = max(exc.retry_after, dt.timedelta(milliseconds=100))
        return RetryOption(wait <= MAX_INLINE_WAIT, wait)
    if isinstance(exc, RequestFailed) and exc.response.status_code >= 500:
        return RetryOption(True, SERVER_ERROR_WAIT)
    return RetryOption(False)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    # githubkit wraps what fails inside a send (the token exchange of the auth flow) in a
    # RequestError: the rate limit is its cause.
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def told_wait(exc: BaseException) -> dt.datetime | None:
    """Until when a failed job should wait, when what failed it was "not now"; else None."""
    now = db.utcnow()
    for cause in _causes(exc):
        if isinstance(cause, RetryLater):
            return cause.at
        if isinstance(cause, RateLimitExceeded):
            return now + max(cause.retry_after, dt.timedelta(seconds=1))
        if isinstance(cause, GraphQLRateLimited):
            return now + MINUTE  # GraphQL's limit says no time: GitHub asks for a minute
    return None


def _told(response: httpx.Response) -> tuple[dt.datetime, str, str] | None:
    """Until when ``response`` asks the installation to wait, why, and which kind of wait
    (a metrics label); None: it does not."""
    now = db.utcnow()
    remaining = response.headers.get("x-ratelimit-remaining")
    reset = response.headers.get("x-ratelimit-reset", "")
    if response.status_code in (403, 429):
        retry_after = response.headers.get("retry-after", "")
        if retry_after.isdigit():
            wait = dt.timedelta(seconds=max(int(retry_after), 1))
            reason = f"{response.status_code} with retry-after {retry_after}"
            return now + wait, reason, "retry_after"
        if remaining == "0" and reset.isdigit():
            reason = f"{response.status_code}: no requests left until the reset"
            return _epoch(reset), reason, "reset"
        response.read()
        if "secondary rate limit" in response.text.lower():
            reason = f"{response.status_code}: secondary rate limit, no time given"
            return now + MINUTE, reason, "secondary"
        return None
    if remaining == "0" and reset.isdigit():
        resource = response.headers.get("x-ratelimit-resource", "core")
        return _epoch(reset), f"no {resource} requests left until the reset", "reset"
    return None


def _epoch(seconds: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC)


class InstallationGate:
    """The limits of one installation, as seen by one githubkit client (one per job)."""

    def __init__(
        self,
        engine: Engine,
        installation_id: int,
        budget: WriteBudget,
        priority: Priority = "check",
        campaign_share: float = 0.5,
    ) -> None:
        self.engine = engine
        self.installation_id = installation_id
        self.budget = budget
        self.priority = priority
        self.campaign_budget = WriteBudget(
            _share(budget.per_minute, campaign_share), _share(budget.per_hour, campaign_share)
        )
        self.throttler = _Throttler(self)

    # --- told limits ------------------------------------------------------------------------

    def wait_until_allowed(self) -> None:
        """Sleep until GitHub's last "wait" for this installation has passed.

        Raises :class:`RateLimited` when that is further away than :data:`MAX_INLINE_WAIT`.
        """
        # Read again after each sleep: another worker may have been told a longer wait since.
        while True:
            until = limits.blocked_until(self.engine, self.installation_id)
            if until is None or until <= db.utcnow():
                return
            _sleep_until(until, f"GitHub asked installation {self.installation_id} to wait")

    def block(self, until: dt.datetime, reason: str, kind: str) -> None:
        """Remember that GitHub asked this installation to wait until ``until``; ``kind``:
        ``retry_after``, ``reset``, ``secondary`` or ``graphql`` (counted in metrics)."""
        limits.block_installation(self.engine, self.installation_id, until=until, reason=reason)
        metrics.record_github_wait(kind)
        log.warning(
            "GitHub asked installation %s to wait until %s (%s)",
            self.installation_id,
            until.isoformat(timespec="seconds"),
            reason,
        )

    def retry_decision(self, exc: GitHubException, count: int) -> RetryOption:
        """githubkit's ``auto_retry``, also for a rate limit met by the token exchange; a
        campaign's rate limit is not retried (the campaign pauses instead)."""
        limited = next((c for c in _causes(exc) if isinstance(c, RateLimitExceeded)), None)
        if limited is not None and self.priority == "campaign":
            return RetryOption(False)
        return retry_in_place(limited or exc, count)

    def on_response(self, response: httpx.Response) -> None:
        """An httpx response hook (every response, the token exchange's too): remember for
        every worker what GitHub told, a wait or the last call before the reset."""
        told = _told(response)
        if told is not None:
            self.block(*told)

    # --- content-creating calls ----------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold this installation's write slot: alone, within budget, and counted."""
        with _installation_mutex(self.engine, self.installation_id):
            now = db.utcnow()
            recent = limits.recent_writes(self.engine, self.installation_id, since=now - HOUR)
            if self.priority == "campaign":
                self._give_way(recent, now)
            slot = self.budget.next_slot(recent, now)
            if slot > now:
                if self.priority == "check":
                    campaign_store.note_checks_waiting(self.engine, self.installation_id, slot)
                _sleep_until(
                    slot, f"installation {self.installation_id} used its content-creation budget"
                )
            # Again: GitHub may have said "wait" while this call waited for its turn.
            self.wait_until_allowed()
            now = db.utcnow()
            limits.record_write(self.engine, self.installation_id, at=now, forget_before=now - HOUR)
            yield

    def _give_way(self, recent: Sequence[dt.datetime], now: dt.datetime) -> None:
        """Raise :class:`CampaignDeferred` unless a campaign write may take budget now."""
        waiting = campaign_store.checks_waiting_until(self.engine, self.installation_id)
        if waiting is not None and waiting > now:
            raise CampaignDeferred(
                f"a pull-request check of installation {self.installation_id} waits for write "
                "budget: the campaign writes after it",
                at=waiting,
            )
        slot = self.campaign_budget.next_slot(recent, now)
        if slot > now:
            raise CampaignDeferred(
                f"installation {self.installation_id}'s campaign used its share of the write "
                "budget (the rest is kept for checks)",
                at=slot,
            )


def _share(limit: int, share: float) -> int:
    # 0 is "no budget" (unlimited): keep it; a real limit keeps at least one call.
    return 0 if limit <= 0 else max(1, int(limit * share))


class _Throttler(BaseThrottler):
    """githubkit's throttling hook: every send waits for the gate; writes take the slot."""

    def __init__(self, gate: InstallationGate) -> None:
        self.gate = gate

    @contextlib.contextmanager
    def acquire(self, request: httpx.Request) -> Generator[None, Any, Any]:
        self.gate.wait_until_allowed()
        if not is_content_creating(request):
            yield
            return
        with self.gate.writing():
            yield

    @contextlib.asynccontextmanager
    async def async_acquire(self, request: httpx.Request) -> AsyncGenerator[None, Any]:
        raise TypeError("the App's GitHub clients are synchronous (they run in job threads)")
        yield  # pragma: no cover


def _sleep_until(until: dt.datetime, why: str) -> None:
    wait = until - db.utcnow()
    if wait <= dt.timedelta(0):
        return
    if wait > MAX_INLINE_WAIT:
        raise RateLimited(f"{why}: retry at {until.isoformat(timespec='seconds')}", at=until)
    time.sleep(wait.total_seconds())


# --- one content-creating call per installation, across processes -----------------------------

_local_locks: dict[tuple[str, int], threading.Lock] = {}
_local_locks_guard = threading.Lock()


@contextlib.contextmanager
def _installation_mutex(engine: Engine, installation_id: int) -> Iterator[None]:
    """Exclusive per installation, for the threads of this process and every other process."""
    key = (engine.url.render_as_string(hide_password=True), installation_id)
    with _local_locks_guard:
        local = _local_locks.setdefault(key, threading.Lock())
    deadline = time.monotonic() + LOCK_WAIT.total_seconds()
    if not local.acquire(timeout=LOCK_WAIT.total_seconds()):
        raise _busy(installation_id)
    try:
        if engine.dialect.name == "postgresql":
            with _advisory_lock(engine, installation_id, deadline):
                yield
        else:
            with _file_lock(engine, installation_id, deadline):
                yield
    finally:
        local.release()


def _busy(installation_id: int) -> RetryLater:
    return RetryLater(
        f"another worker has been writing to GitHub for installation {installation_id} for "
        f"{LOCK_WAIT.total_seconds():.0f} s",
        at=db.utcnow() + dt.timedelta(seconds=5),
    )


def _poll(try_once: Any, deadline: float, installation_id: int) -> None:
    pause = 0.005
    while not try_once():
        if time.monotonic() > deadline:
            raise _busy(installation_id)
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


@contextlib.contextmanager
def _advisory_lock(engine: Engine, installation_id: int, deadline: float) -> Iterator[None]:
    # A session lock on a connection of its own: it outlives the statement's transaction,
    # and the server drops it if the worker dies with the connection.
    key = _ADVISORY_NAMESPACE | (installation_id & ((1 << 48) - 1))
    with engine.connect() as conn:

        def take() -> bool:
            return bool(_scalar(conn, "SELECT pg_try_advisory_lock(:key)", key))

        _poll(take, deadline, installation_id)
        conn.commit()
        try:
            yield
        finally:
            _scalar(conn, "SELECT pg_advisory_unlock(:key)", key)
            conn.commit()


def _scalar(conn: Connection, sql: str, key: int) -> Any:
    return conn.execute(sa.text(sql), {"key": key}).scalar()


@contextlib.contextmanager
def _file_lock(engine: Engine, installation_id: int, deadline: float) -> Iterator[None]:
    # The embedded database is a local file: every process using it shares this folder.
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # one process, already serialised by the thread lock
        return
    folder = Path(database).resolve().parent / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"installation-{installation_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:

        def take() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        _poll(take, deadline, installation_id)
        yield
    finally:
        os.close(fd)  # closing the only descriptor of the open file releases its flock
