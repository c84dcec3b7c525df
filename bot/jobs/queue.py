"""Jobs on Huey: one task, ``process_delivery(delivery_id)``, and the sweeper that re-enqueues.

The backend comes from the settings: ``SqliteHuey`` at ``<data_dir>/jobs.db`` (embedded, the
default) or ``RedisHuey`` when ``SSOT_REDIS_URL`` is set; the task code is the same.

Huey forgets a task whose worker dies, so the queue is only a hint: the stored delivery is the
source of truth. A job claims its delivery with a lease, runs the handler, and records the
outcome; the sweeper (at start-up, then every ``SSOT_SWEEP_SECONDS`` in each consumer) enqueues again whatever
is queued but was not taken, and whatever is running with an expired lease. Enqueuing twice is
harmless: only one claim succeeds.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.campaigns import schedule as campaign_schedule
from bot.checks import pull_lock
from bot.events import dispatch
from bot.github import throttle
from bot.github.errors import NotConfigured, connection_error
from bot.github.errors import unreachable as describe_unreachable
from bot.jobs import early_stop, sweeper
from bot.ops import metrics
from bot.ops.logs import log_context, payload_context
from bot.ops.settings import Settings
from bot.progress import tick
from bot.store import db, deliveries, findings_cache, history, tables
from bot.work import JobContext, WebhookEvent

log = logging.getLogger(__name__)

RETRY_MAX_SECONDS = 3600
DELIVERY_RETENTION = dt.timedelta(days=7)  # GitHub redelivers for 3 days
# Pages list the newest decisions; half a year is the span of the history's backfill.
DECISION_RETENTION = dt.timedelta(days=183)


def build_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """The Huey instance of ``settings``: Redis when ``redis_url`` is set, else SQLite."""
    if settings.redis_url:
        return RedisHuey(
            settings.queue_name, url=settings.redis_url, results=False, immediate=immediate
        )
    if not immediate:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(
        settings.queue_name,
        filename=str(settings.data_dir / "jobs.db"),
        results=False,
        immediate=immediate,
        fsync=True,  # an enqueued job survives a power cut, like the stored delivery
    )


def retry_delay(attempt: int, base: float = 30.0) -> float:
    """Seconds before trying a failed delivery again: ``base``, doubling, at most an hour."""
    return float(min(base * 2 ** max(attempt - 1, 0), RETRY_MAX_SECONDS))


class JobQueue:
    """This App's queue: its Huey instance and tasks, bound to the settings and the database.

    The web process enqueues; the consumer process (``ssot worker``, or the one ``ssot serve``
    starts) builds the same queue from the same settings and runs the tasks. With
    ``immediate=True`` (tests) a task runs at once, in the caller's thread.
    """

    def __init__(self, settings: Settings, engine: Engine, *, immediate: bool = False) -> None:
        self.settings = settings
        self.engine = engine
        self.huey = build_huey(settings, immediate=immediate)
        self.context = JobContext(settings=settings, engine=engine)
        self._postponed = threading.local()  # set by _postpone: the job's metrics outcome
        self._process_task = self.huey.task(name="process_delivery")(self.process_delivery)
        self.huey.periodic_task(crontab(minute="17"), name="prune_deliveries")(self.prune)
        self.huey.periodic_task(crontab(minute="*/10"), name="redeliver_failed")(
            self.redeliver_failed
        )
        self.huey.periodic_task(crontab(minute="5-59/10"), name="reconcile_open_pulls")(
            self.reconcile_open_pulls
        )
        self.huey.periodic_task(crontab(minute="2-59/10"), name="campaign_sweep")(
            self.campaign_sweep
        )
        self.huey.periodic_task(crontab(minute="*"), name="progress")(self.progress_tick)

    # --- producing ---------------------------------------------------------------------

    def enqueue(self, delivery_id: str, *, delay: float | None = None) -> None:
        """Put a job for ``delivery_id`` on the queue (after ``delay`` seconds)."""
        if delay:
            self._process_task.schedule(args=(delivery_id,), delay=delay)
        else:
            self._process_task(delivery_id)

    def enqueue_many(self, delivery_ids: Sequence[str]) -> None:
        """Put a job for each delivery on the queue, in one write where the storage allows.

        SQLite: one transaction, so one fsync for the lot instead of one per job (the webhook
        route enqueues what concurrent requests stored together); Redis: one ``LPUSH``.
        Other storages, and immediate mode, enqueue one by one.
        """
        ids = list(delivery_ids)
        storage = self.huey.storage
        if (
            len(ids) < 2
            or self.huey.immediate
            or type(storage) not in (SqliteStorage, RedisStorage)
        ):
            for delivery_id in ids:
                self.enqueue(delivery_id)
            return
        messages = [self.huey.serialize_task(self._process_task.s(i)) for i in ids]
        if isinstance(storage, SqliteStorage):
            with storage.db(commit=True) as cursor:
                cursor.executemany(
                    "insert into task (queue, data, priority) values (?, ?, ?)",
                    [(storage.name, storage.to_blob(m), 0) for m in messages],
                )
        else:  # LPUSH a b c, BRPOP takes a first: the order is kept
            storage.conn.lpush(storage.queue_key, *messages)

    def requeue_due(self, *, all_queued: bool = False) -> int:
        """Enqueue again the deliveries no worker took or whose worker died; how many.

        ``all_queued`` (at start-up): every queued delivery, not only those overdue.
        """
        now = db.utcnow()
        due = deliveries.deliveries_due(self.engine, now=now, all_queued=all_queued)
        for delivery_id in due:
            # Postpone first: an immediate-mode job may run inside enqueue() and set its own.
            deliveries.postpone_requeue(
                self.engine,
                [delivery_id],
                until=now + dt.timedelta(seconds=self.settings.job_lease_seconds),
            )
            self.enqueue(delivery_id)
        if due:
            log.info("enqueued %d delivery(ies) again", len(due))
        return len(due)

    def prune(self) -> int:
        """Forget done and ignored deliveries older than a week (and old redelivery requests,
        pull-request decisions older than half a year, and what a previous release's workers
        left in the shared findings cache)."""
        deliveries.prune_redeliveries(
            self.engine, requested_before=db.utcnow() - DELIVERY_RETENTION
        )
        history.prune_decisions(self.engine, before=db.utcnow() - DECISION_RETENTION)
        findings_cache.empty_legacy_cache(self.engine)
        return deliveries.prune_deliveries(
            self.engine, received_before=db.utcnow() - DELIVERY_RETENTION
        )

    def redeliver_failed(self) -> int:
        """Every 10 minutes: ask GitHub to send again the failed deliveries we never stored."""
        with self._sweeping("redelivering failed deliveries"):
            return len(sweeper.redeliver_failed(self.settings, self.engine))
        return 0

    def reconcile_open_pulls(self) -> int:
        """Every 10 minutes: check open pull requests whose head has no completed check run."""
        with self._sweeping("reconciling open pull requests"):
            return len(sweeper.reconcile_open_pulls(self.settings, self.context))
        return 0

    @contextmanager
    def _sweeping(self, what: str) -> Iterator[None]:
        # A sweep needs GitHub; without credentials, or without GitHub, the next one retries.
        try:
            yield
        except NotConfigured:
            pass
        except Exception as exc:
            unreachable = connection_error(exc)
            if unreachable is None:
                raise
            log.warning(
                "%s: %s; trying again in 10 minutes",
                what,
                describe_unreachable(unreachable, self.settings.github_url),
            )

    def campaign_sweep(self) -> int:
        """Every 10 minutes: run the consolidation campaigns that are due (bot/campaigns/)."""
        try:
            return len(campaign_schedule.sweep(self.settings, self.context))
        except NotConfigured:
            return 0

    def progress_tick(self) -> tuple[int, int]:
        """Every minute: due dashboard issues, then backfills at low priority
        (:mod:`bot.progress.tick`); ``(issues looked at, samples taken)``."""
        try:
            return tick.run(self.context)
        except NotConfigured:
            return 0, 0

    # --- consuming ---------------------------------------------------------------------

    def process_delivery(self, delivery_id: str) -> str | None:
        """The task: claim the delivery, run its handler, record the outcome.

        Returns the delivery's new state, or None when it was not ours to run (done, ignored,
        failed, or held by another worker's live lease). A handler's error is recorded and the
        delivery retried later with back-off, until ``job_max_attempts``. Every log line of
        the job carries the delivery, installation, repository and pull request; its outcome
        and duration are counted (bot.ops.metrics).
        """
        started = time.perf_counter()
        self._postponed.value = False
        with log_context(delivery_id=delivery_id):
            try:
                claimed = deliveries.claim_delivery(
                    self.engine,
                    delivery_id,
                    now=db.utcnow(),
                    lease_seconds=self.settings.job_lease_seconds,
                    max_attempts=self.settings.job_max_attempts,
                )
            except SQLAlchemyError as exc:
                # The database is away: try again soon. Dropped, this task would leave the
                # delivery to the sweeper, which takes it only once its lease has passed.
                delay = self.settings.job_retry_seconds
                log.warning(
                    "delivery %s: database unavailable, retry in %.0f s: %s",
                    delivery_id,
                    delay,
                    type(exc).__name__,
                )
                self.enqueue(delivery_id, delay=delay)
                metrics.record_job(None, "retry", None)
                return None
            if claimed is None:
                log.debug("delivery %s: nothing to do", delivery_id)
                metrics.record_job(None, "skipped", None)
                return None
            fields: dict[str, Any] = {
                "installation_id": claimed.installation_id,
                "repository": claimed.repository,
            }
            event: WebhookEvent | None = None
            try:
                event = WebhookEvent.from_delivery(claimed)
                fields.update(
                    (k, v) for k, v in payload_context(claimed.event, event.payload).items() if v
                )
            except ValueError:
                pass  # the handler call below raises it again, as a failed attempt
            outcome = "error"
            try:
                with log_context(**fields):
                    try:
                        state = self._run(claimed, event)
                    except SQLAlchemyError:
                        self._retry_after_lease(delivery_id)
                        raise
                outcome = {
                    tables.DONE: "done",
                    tables.QUEUED: "retry",
                    tables.FAILED: "failed",
                }.get(state or "", "lost")
                if self._postponed.value:
                    outcome = "postponed"
                return state
            finally:
                metrics.record_job(claimed.event, outcome, time.perf_counter() - started)

    def _retry_after_lease(self, delivery_id: str) -> None:
        # The database went away mid-job, so the outcome is not recorded and the delivery is
        # still ours until its lease passes: come back then rather than at the next sweep.
        delay = self.settings.job_lease_seconds + 1.0
        log.warning("delivery %s: database unavailable, run again in %.0f s", delivery_id, delay)
        try:
            self.enqueue(delivery_id, delay=delay)
        except Exception:
            log.warning("delivery %s: not enqueued again; the sweeper will", delivery_id)

    def _run(self, claimed: deliveries.Delivery, event: WebhookEvent | None) -> str | None:
        delivery_id = claimed.id
        attempt = claimed.attempts
        handler = dispatch.find_handler(claimed.event, claimed.action)
        context = dataclasses.replace(self.context, delivery_id=delivery_id, attempt=attempt)
        try:
            if handler is not None:
                with _heartbeat(context, delivery_id):
                    handler(event or WebhookEvent.from_delivery(claimed), context)
        except Exception as exc:
            retry_at = throttle.told_wait(exc)
            if retry_at is not None:
                return self._postpone(claimed, attempt, exc, retry_at)
            return self._failed(claimed, attempt, exc)
        if not deliveries.mark_done(self.engine, delivery_id, attempt):
            log.warning(
                "delivery %s: lease lost before done (job longer than the lease?)", delivery_id
            )
            return None
        log.info("delivery %s done (%s.%s)", delivery_id, claimed.event, claimed.action)
        return tables.DONE

    def _failed(self, claimed: deliveries.Delivery, attempt: int, exc: Exception) -> str:
        """Record a failed attempt: retry with back-off, or fail for good after the last one.

        When GitHub could not be reached at all, the message names its host and
        ``SSOT_GITHUB_URL`` and the log has no traceback: it is the network, not a bug.
        """
        settings, delivery_id = self.settings, claimed.id
        unreachable = connection_error(exc)
        cause = (
            describe_unreachable(unreachable, settings.github_url)
            if unreachable is not None
            else f"{type(exc).__name__}: {exc}"
        )
        of = f"attempt {attempt} of {settings.job_max_attempts}"
        error = f"{of}: {cause}"
        if attempt >= settings.job_max_attempts:
            log.error(
                "delivery %s (%s) failed for good, %s: %s",
                delivery_id,
                claimed.event,
                of,
                cause,
                exc_info=unreachable is None,
            )
            deliveries.mark_failed(self.engine, delivery_id, attempt, error, retry_at=None)
            return tables.FAILED
        delay = retry_delay(attempt, settings.job_retry_seconds)
        log.warning(
            "delivery %s: %s; %s, retrying in %.0f s",
            delivery_id,
            cause,
            of,
            delay,
            exc_info=unreachable is None,
        )
        retry_at = db.utcnow() + dt.timedelta(seconds=delay)
        if deliveries.mark_failed(self.engine, delivery_id, attempt, error, retry_at=retry_at):
            self.enqueue(delivery_id, delay=delay)
        return tables.QUEUED

    def _postpone(
        self, claimed: deliveries.Delivery, attempt: int, exc: Exception, retry_at: dt.datetime
    ) -> str | None:
        # Spread the jobs that wait for one reset time over a few seconds.
        delay = (retry_at - db.utcnow()).total_seconds()
        delay = max(delay, 0.0) + random.uniform(0.0, min(5.0, 0.1 * delay + 0.5))
        self._postponed.value = True
        reason = f"{deliveries.POSTPONED_PREFIX} {type(exc).__name__}: {exc}"
        log.info("delivery %s %s (in %.1f s)", claimed.id, reason, delay)
        if not deliveries.postpone(
            self.engine,
            claimed.id,
            attempt,
            reason,
            retry_at=db.utcnow() + dt.timedelta(seconds=delay),
        ):
            return None
        self.enqueue(claimed.id, delay=delay)
        return tables.QUEUED

    def run_consumer(self, *, workers: int | None = None, parent_pid: int | None = None) -> None:
        """Run the Huey consumer here, in the main thread (it installs signal handlers).

        SIGINT stops it gracefully (running jobs finish), SIGTERM at once (their leases
        expire and the sweeper takes them again). ``parent_pid``: also stop when that
        process is gone, so a killed ``ssot serve`` leaves no orphan worker behind.
        """
        consumer = self.huey.create_consumer(
            workers=workers or self.settings.workers,
            worker_type="thread",
            periodic=True,
            initial_delay=0.1,
            backoff=1.15,
            max_delay=1.0,  # an idle queue is polled every second: a local SQLite read
            check_worker_health=True,
            shutdown_timeout=30.0,
        )
        # SIGINT is how this consumer is stopped gracefully (by `ssot serve`, by the orphan
        # watch, by a person). Until Huey installs its handler (in consumer.run) one is held
        # and then handed to it: a SIGINT while starting was lost (see early_stop), and so was
        # every one when a shell's `ssot serve &` left SIGINT ignored, children included.
        early_stop.hand_over_when_replaced()
        if parent_pid is not None:
            _stop_when_orphaned(parent_pid)
        # Not a Huey periodic task: those run at most once a minute, on the clock's minute,
        # and recovery from a lost queue should not wait for that.
        threading.Thread(target=self._sweep_forever, name="sweeper", daemon=True).start()
        consumer.run()

    def _sweep_forever(self, sleep: Callable[[float], None] = time.sleep) -> None:
        epoch: str | None = None
        while True:
            epoch = self.sweep_once(epoch)
            sleep(self.settings.sweep_seconds)

    def sweep_once(self, epoch: str | None) -> str | None:
        """One pass of the consumer's sweeper: enqueue again what no worker took.

        ``epoch`` is what :meth:`queue_epoch` said at the last pass; when it changed, the
        queue's server restarted and every queued delivery is enqueued at once. Returns the
        epoch to pass next time. Never raises: with the database or the queue down, the
        next pass tries again.
        """
        try:
            current = self.queue_epoch()
            # A Redis that restarted kept nothing: every queued delivery lost its task,
            # not only those whose lease has passed (up to SSOT_JOB_LEASE_SECONDS away).
            restarted = epoch is not None and current != epoch
            if restarted:
                log.warning("the job queue restarted: enqueuing every queued delivery again")
            self.requeue_due(all_queued=restarted)
            return current
        except Exception:
            log.exception("could not enqueue the pending deliveries; the sweeper will retry")
            return epoch

    def queue_epoch(self) -> str | None:
        """What changes when the queue's server restarts (Redis's ``run_id``); None when the
        queue is the embedded SQLite file, which keeps its tasks."""
        storage = self.huey.storage
        if isinstance(storage, RedisStorage):
            return str(storage.conn.info("server")["run_id"])
        return None


@contextmanager
def _heartbeat(context: JobContext, delivery_id: str) -> Iterator[None]:
    """Meanwhile, renew the job's lease and its pull-request locks every third of a lease.

    A check of a huge pull request, or one waiting for GitHub's rate limit, may outlive
    ``SSOT_JOB_LEASE_SECONDS``; without this another worker would take it over and both
    would report.
    """
    stop = threading.Event()
    every = max(context.settings.job_lease_seconds / 3, 0.5)

    def beat() -> None:
        while not stop.wait(every):
            try:
                if not context.renew_lease():
                    log.warning("delivery %s: lease lost to another worker", delivery_id)
                    return
                pull_lock.renew_held(context, delivery_id)
            except Exception:  # the database is away: the next beat tries again
                log.warning("delivery %s: lease not renewed", delivery_id, exc_info=True)

    # The job's log context (delivery, installation, PR) goes along with the thread.
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(beat,), name="lease", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _stop_when_orphaned(parent_pid: int) -> None:
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        log.warning("parent process %s is gone: stopping the worker", parent_pid)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def describe_backend(settings: Settings) -> dict[str, Any]:
    """Where jobs are queued (for the status page and logs), without secrets."""
    if settings.redis_url:
        return {"backend": "redis"}
    return {"backend": "sqlite", "path": str(settings.data_dir / "jobs.db")}
