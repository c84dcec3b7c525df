"""Fault injection for the fake GitHub: latency, 5xx, rate limits, burst detection.

A ``Faults`` object is shared between the test (which arms it, from its own thread, at any
time) and the server (which consumes it on every request). Example::

    faults = Faults(latency=0.05)
    faults.server_error(2)                    # the next 2 calls answer 500
    faults.rate_limit(1, retry_after=1)       # then one 429 with retry-after: 1
    faults.secondary_rate_limit(1, path="/check-runs")
    faults.content_creation_limit_per_minute = 80   # 403 past 80 writes/min/installation
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["error", "rate_limit", "secondary_rate_limit", "graphql_rate_limit"]

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID."
)
SECONDARY_DOCS = (
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)
PRIMARY_DOCS = (
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
    "#exceeding-the-rate-limit"
)


@dataclass
class InjectedFault:
    """A queued fault: answers the next ``remaining`` matching calls."""

    kind: FaultKind
    status: int
    remaining: int
    retry_after: int | None = None
    path: re.Pattern[str] | None = None
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self.path.search(path) is not None


@dataclass(frozen=True)
class FaultAnswer:
    """What the server answers instead of handling a call."""

    status: int
    body: dict[str, object]
    headers: dict[str, str]
    label: str  # goes to ApiCall.fault


@dataclass
class _Window:
    """Timestamps of accepted content-creating calls of one installation."""

    times: deque[float] = field(default_factory=deque)
    peak_per_minute: int = 0

    def count_since(self, since: float) -> int:
        return sum(1 for t in self.times if t > since)


class Faults:
    """Faults to inject, mutable at runtime; thread-safe."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        content_creation_limit_per_minute: int | None = None,
        content_creation_limit_per_hour: int | None = None,
        serial_content_creation: bool = False,
        primary_limit_per_hour: int | None = None,
    ) -> None:
        self._lock = threading.Lock()
        #: Seconds every call waits before it is handled (``await asyncio.sleep``).
        self.latency = latency
        #: Secondary limits GitHub documents (80/min, 500/h); None: counted, not enforced.
        self.content_creation_limit_per_minute = content_creation_limit_per_minute
        self.content_creation_limit_per_hour = content_creation_limit_per_hour
        #: Answer a content-creating call with a secondary limit while another one of the
        #: same installation is in flight (GitHub asks for them to be serial).
        self.serial_content_creation = serial_content_creation
        #: Primary limit per installation and hour (GitHub: 5,000); None: not enforced.
        self.primary_limit_per_hour = primary_limit_per_hour
        self._queue: list[InjectedFault] = []
        self._windows: dict[int | None, _Window] = defaultdict(_Window)
        self._hourly: dict[int | None, deque[float]] = defaultdict(deque)
        self._in_flight: dict[int | None, int] = defaultdict(int)
        self.peak_concurrent_content_creating: dict[int | None, int] = defaultdict(int)
        #: Content-creating calls refused by the burst limits, per installation.
        self.burst_rejections: dict[int | None, int] = defaultdict(int)

    # --- arming ---------------------------------------------------------------------------

    def _add(self, fault: InjectedFault) -> None:
        with self._lock:
            self._queue.append(fault)

    @staticmethod
    def _pattern(path: str | None) -> re.Pattern[str] | None:
        return None if path is None else re.compile(path)

    def server_error(
        self,
        count: int = 1,
        status: int = 500,
        *,
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """The next ``count`` calls (matching ``path`` regex / ``method``) answer ``status``."""
        self._add(InjectedFault("error", status, count, None, self._pattern(path), method))

    def rate_limit(
        self,
        count: int = 1,
        retry_after: int = 1,
        *,
        status: int = 429,
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """The next ``count`` calls answer a primary rate limit with ``retry-after``."""
        self._add(
            InjectedFault("rate_limit", status, count, retry_after, self._pattern(path), method)
        )

    def secondary_rate_limit(
        self,
        count: int = 1,
        retry_after: int = 1,
        *,
        status: int = 403,
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """The next ``count`` calls answer "You have exceeded a secondary rate limit"."""
        self._add(
            InjectedFault(
                "secondary_rate_limit", status, count, retry_after, self._pattern(path), method
            )
        )

    def graphql_rate_limit(self, count: int = 1) -> None:
        """The next ``count`` GraphQL calls answer 200 with a ``RATE_LIMITED`` error and no data
        (GraphQL's own points limit: no header says how long to wait)."""
        self._add(
            InjectedFault("graphql_rate_limit", 200, count, None, re.compile(r"graphql$"), "POST")
        )

    def reset(self) -> None:
        """Drop queued faults, latency, limits and counters."""
        with self._lock:
            self._queue.clear()
            self._windows.clear()
            self._hourly.clear()
            self._in_flight.clear()
            self.peak_concurrent_content_creating.clear()
            self.burst_rejections.clear()
        self.latency = 0.0
        self.content_creation_limit_per_minute = None
        self.content_creation_limit_per_hour = None
        self.serial_content_creation = False
        self.primary_limit_per_hour = None

    @property
    def pending(self) -> int:
        """Calls still to be answered by queued faults."""
        with self._lock:
            return sum(f.remaining for f in self._queue)

    # --- consumed by the server -------------------------------------------------------------

    def take(self, method: str, path: str, installation_id: int | None) -> FaultAnswer | None:
        """The queued fault this call meets, if any (consumes one use of it)."""
        with self._lock:
            for fault in self._queue:
                if fault.remaining > 0 and fault.matches(method, path):
                    fault.remaining -= 1
                    break
            else:
                return None
            self._queue = [f for f in self._queue if f.remaining > 0]
        if fault.kind == "error":
            return FaultAnswer(
                fault.status,
                {"message": "Server Error" if fault.status == 500 else "Bad Gateway"},
                {},
                str(fault.status),
            )
        if fault.kind == "graphql_rate_limit":
            message = f"API rate limit exceeded for installation ID {installation_id}."
            return FaultAnswer(
                200,
                {"data": None, "errors": [{"type": "RATE_LIMITED", "message": message}]},
                {},
                "graphql_rate_limit",
            )
        retry_after = str(fault.retry_after or 1)
        if fault.kind == "rate_limit":
            reset = str(int(time.time()) + (fault.retry_after or 1))
            return FaultAnswer(
                fault.status,
                {
                    "message": f"API rate limit exceeded for installation ID {installation_id}.",
                    "documentation_url": PRIMARY_DOCS,
                    "status": str(fault.status),
                },
                {
                    "retry-after": retry_after,
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": reset,
                },
                str(fault.status),
            )
        return secondary_answer(fault.status, fault.retry_after or 1, "secondary")

    def admit_content_creation(self, installation_id: int | None, now: float) -> FaultAnswer | None:
        """Count a content-creating call; refuse it when it breaks an armed burst limit."""
        with self._lock:
            window = self._windows[installation_id]
            while window.times and window.times[0] <= now - 3600:
                window.times.popleft()
            per_minute = window.count_since(now - 60)
            per_hour = len(window.times)
            refuse = (
                self.content_creation_limit_per_minute is not None
                and per_minute >= self.content_creation_limit_per_minute
            ) or (
                self.content_creation_limit_per_hour is not None
                and per_hour >= self.content_creation_limit_per_hour
            )
            if not refuse and self.serial_content_creation:
                refuse = self._in_flight[installation_id] > 0
            if refuse:
                self.burst_rejections[installation_id] += 1
                return secondary_answer(403, 60, "burst")
            window.times.append(now)
            window.peak_per_minute = max(window.peak_per_minute, per_minute + 1)
            return None

    def admit_primary(
        self, installation_id: int | None, now: float
    ) -> tuple[int, int, FaultAnswer | None]:
        """Count a call against the hourly primary limit: (limit, remaining, refusal)."""
        limit = self.primary_limit_per_hour
        with self._lock:
            calls = self._hourly[installation_id]
            while calls and calls[0] <= now - 3600:
                calls.popleft()
            shown_limit = limit if limit is not None else 5000
            reset = int((calls[0] if calls else now) + 3600)
            if limit is not None and len(calls) >= limit:
                answer = FaultAnswer(
                    403,
                    {
                        "message": f"API rate limit exceeded for installation ID {installation_id}.",
                        "documentation_url": PRIMARY_DOCS,
                        "status": "403",
                    },
                    {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                    "primary",
                )
                return shown_limit, 0, answer
            calls.append(now)
            return shown_limit, max(shown_limit - len(calls), 0), None

    def enter_content_creation(self, installation_id: int | None) -> None:
        with self._lock:
            self._in_flight[installation_id] += 1
            peak = self.peak_concurrent_content_creating
            peak[installation_id] = max(peak[installation_id], self._in_flight[installation_id])

    def leave_content_creation(self, installation_id: int | None) -> None:
        with self._lock:
            self._in_flight[installation_id] -= 1

    def peak_content_creation_per_minute(self, installation_id: int | None) -> int:
        """The most content-creating calls accepted within any 60 s for one installation."""
        with self._lock:
            return self._windows[installation_id].peak_per_minute


def secondary_answer(status: int, retry_after: int, label: str) -> FaultAnswer:
    return FaultAnswer(
        status,
        {"message": SECONDARY_MESSAGE, "documentation_url": SECONDARY_DOCS, "status": str(status)},
        {"retry-after": str(retry_after)},
        label,
    )
