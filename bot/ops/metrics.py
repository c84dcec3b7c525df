"""Prometheus metrics: what ``GET /metrics`` exposes, and the functions that count.

Counted where it happens:

- ``ssot_webhook_deliveries_total{event,outcome}`` and ``ssot_webhook_response_seconds``:
  the webhook route, per delivery (``outcome``: queued, duplicate, ignored, redelivered,
  unauthorized, bad_request, too_large, not_configured, unavailable (503: the database could
  not store it; GitHub redelivers), error).
- ``ssot_jobs_run_total{event,outcome}`` and ``ssot_job_duration_seconds{event,outcome}``: each
  job (``outcome``: done, retry, failed, lost, skipped).
- ``ssot_github_requests_total{method,status}``, ``ssot_github_request_seconds`` and
  ``ssot_github_rate_limit_remaining{resource}``: every GitHub API response, through
  :func:`github_event_hooks` on the githubkit client (or :func:`record_github_call`).
- ``ssot_github_waits_total{kind}``: each wait GitHub asked an installation for (bot.github.throttle).
- ``ssot_findings_posted_total{kind}``: :func:`record_findings_posted` after a report is
  posted (``kind``: annotation, review_comment).

Read at scrape time (not counted): ``ssot_jobs{state}``, the deliveries of the durable store
per job state, and ``ssot_queue_pending``, the tasks waiting in the job queue. Every web
replica reports the same totals: aggregate them with ``max``, not ``sum``.

Processes: ``ssot serve --role web`` exposes its own counters; ``ssot worker --metrics-port``
serves the worker's. ``ssot serve`` (web and worker in one container) shares the worker's
counters with the web process through ``PROMETHEUS_MULTIPROC_DIR``, which must be set before
prometheus_client is first imported (``bot.serve`` does it), so that one ``/metrics`` shows
both.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import httpx
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
STATE_CACHE_SECONDS = 5.0  # a scrape storm must not turn into a query storm

# No `*_created` series: they double the series count and no dashboard here uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Events the App subscribes to (bot/web/app.yml) and "ping": anything else is counted as "other",
# so that a sender cannot create unbounded label values.
KNOWN_EVENTS = frozenset(
    {
        "check_run",
        "check_suite",
        "installation",
        "installation_repositories",
        "issue_comment",
        "issues",
        "ping",
        "pull_request",
        "push",
    }
)
_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"})
_RESOURCE = re.compile(r"^[a-z_]{1,40}$")

WEBHOOK_DELIVERIES = Counter(
    "ssot_webhook_deliveries",
    "Webhook deliveries answered, by event and outcome.",
    ["event", "outcome"],
)
WEBHOOK_SECONDS = Histogram(
    "ssot_webhook_response_seconds",
    "Time from a webhook request to its answer (GitHub gives up after 10 s).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
JOBS_RUN = Counter(
    "ssot_jobs_run", "Jobs run by the workers, by event and outcome.", ["event", "outcome"]
)
JOB_SECONDS = Histogram(
    "ssot_job_duration_seconds",
    "Time a job took, from its claim to its outcome.",
    ["event", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
)
GITHUB_REQUESTS = Counter(
    "ssot_github_requests", "GitHub API responses, by method and status.", ["method", "status"]
)
GITHUB_SECONDS = Histogram(
    "ssot_github_request_seconds",
    "Time of a GitHub API request.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
GITHUB_RATE_LIMIT_REMAINING = Gauge(
    "ssot_github_rate_limit_remaining",
    "Requests left in the rate-limit window, as the last GitHub response said.",
    ["resource"],
    multiprocess_mode="mostrecent",
)
FINDINGS_POSTED = Counter("ssot_findings_posted", "Findings posted to GitHub, by kind.", ["kind"])
GITHUB_WAITS = Counter(
    "ssot_github_waits",
    "Waits GitHub asked an installation for, by kind (retry_after, reset, secondary, graphql).",
    ["kind"],
)
WAIT_KINDS = frozenset({"retry_after", "reset", "secondary", "graphql"})


def event_label(event: str | None) -> str:
    """The ``event`` label of an X-GitHub-Event value (bounded: unknown ones are "other")."""
    if not event:
        return "none"
    return event if event in KNOWN_EVENTS else "other"


# --- counting ---------------------------------------------------------------------------


def record_delivery(event: str | None, outcome: str, seconds: float) -> None:
    """Count one webhook request and the time it took to answer."""
    WEBHOOK_DELIVERIES.labels(event_label(event), outcome).inc()
    WEBHOOK_SECONDS.observe(seconds)


def record_job(event: str | None, outcome: str, seconds: float | None) -> None:
    """Count one job; ``seconds`` None for a job that had nothing to do."""
    label = event_label(event)
    JOBS_RUN.labels(label, outcome).inc()
    if seconds is not None:
        JOB_SECONDS.labels(label, outcome).observe(seconds)


def record_github_wait(kind: str) -> None:
    """Count one wait GitHub asked for (bot.github.throttle records it for every worker)."""
    GITHUB_WAITS.labels(kind if kind in WAIT_KINDS else "other").inc()


def record_github_call(
    status: int,
    rate_limit_remaining: int | None = None,
    *,
    method: str = "GET",
    resource: str | None = None,
    seconds: float | None = None,
) -> None:
    """Count one GitHub API response (and the rate limit it reported, if any)."""
    method = method.upper()
    GITHUB_REQUESTS.labels(method if method in _METHODS else "other", str(status)).inc()
    if seconds is not None:
        GITHUB_SECONDS.observe(seconds)
    if rate_limit_remaining is not None:
        name = resource if resource and _RESOURCE.match(resource) else "core"
        GITHUB_RATE_LIMIT_REMAINING.labels(name).set(rate_limit_remaining)


def record_findings_posted(count: int, kind: str = "annotation") -> None:
    """Count findings posted to GitHub (``kind``: annotation or review_comment)."""
    if count > 0:
        FINDINGS_POSTED.labels(kind).inc(count)


def record_github_response(response: httpx.Response) -> None:
    """Count an httpx response from GitHub (status, rate limit headers, elapsed time)."""
    remaining_header = response.headers.get("x-ratelimit-remaining")
    remaining = int(remaining_header) if remaining_header and remaining_header.isdigit() else None
    try:
        seconds: float | None = response.elapsed.total_seconds()
    except RuntimeError:  # a response not read yet has no elapsed time
        seconds = None
    record_github_call(
        response.status_code,
        remaining,
        method=response.request.method,
        resource=response.headers.get("x-ratelimit-resource"),
        seconds=seconds,
    )


def _on_response(response: httpx.Response) -> None:
    record_github_response(response)


async def _on_response_async(response: httpx.Response) -> None:
    record_github_response(response)


def github_event_hooks() -> dict[str, list[Callable[..., Any]]]:
    """httpx ``event_hooks`` that count every response: ``GitHub(..., event_hooks=...)``."""
    return {"response": [_on_response]}


def github_async_event_hooks() -> dict[str, list[Callable[..., Any]]]:
    """The same for githubkit's async client: ``GitHub(..., async_event_hooks=...)``."""
    return {"response": [_on_response_async]}


# --- reading state at scrape time --------------------------------------------------------


class CachedGauges:
    """A collector whose values come from ``read()`` (at most every ``ttl`` seconds).

    ``read`` returns ``{label value: number}``; when it raises, the metric is left out of
    the scrape (``/readyz`` tells why) rather than reported as zero.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        label: str | None,
        read: Callable[[], Mapping[str, float]],
        *,
        ttl: float = STATE_CACHE_SECONDS,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.label = label
        self._read = read
        self._ttl = ttl
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._values: Mapping[str, float] | None = None

    def _current(self) -> Mapping[str, float] | None:
        with self._lock:
            now = time.monotonic()
            if now - self._at >= self._ttl:
                try:
                    self._values = dict(self._read())
                except Exception:
                    self._values = None
                self._at = now
            return self._values

    def collect(self) -> Iterator[Metric]:
        """The metric family (Prometheus calls this at each scrape)."""
        values = self._current()
        if values is None:
            return
        labels = [self.label] if self.label else []
        family = GaugeMetricFamily(self.name, self.documentation, labels=labels)
        for key, value in sorted(values.items()):
            family.add_metric([key] if self.label else [], value)
        yield family


class _DefaultRegistry:
    """The process's own metrics (prometheus_client's default registry) as one collector."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def multiprocess_enabled() -> bool:
    """Whether counters are shared between processes through files (see module doc)."""
    return bool(os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower()))


def exposition(collectors: Iterable[Collector] = ()) -> bytes:
    """The text of ``/metrics``: this process's (or all processes') metrics plus ``collectors``."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_enabled():
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_DefaultRegistry())
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:
    """Serve this process's metrics on ``host:port`` from a background thread (workers)."""
    start_http_server(port, addr=host)
