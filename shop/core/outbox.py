"""The transactional outbox: every Celery task a business change starts is first written as a
row in the change's own transaction, then published to the broker.

Why: a task queued with `transaction.on_commit(task.delay)` is lost when the broker is down or
restarts empty, and an exception from `delay` after the commit used to undo committed work (a
paid order's payment voided). Here the row commits with the change or not at all; publishing is
a separate step that can fail and be retried without touching what was committed.

Two ways a row reaches the broker:
- right after the commit, from the process that wrote it (`_publish_after_commit`), with short
  timeouts and no retry, so a shopper's request never waits long on a sick broker;
- the relay (`outbox_relay`: the `outbox_relay` management command in a loop, and a beat task
  as a fallback), for every row not published yet: written by a process that died before
  publishing, or whose publish failed. It claims rows with `FOR UPDATE SKIP LOCKED`, so several
  relays never publish one row at the same time, and backs off per row on failure.

A published task can still be lost: a broker without persistence that restarts empty drops
what it held. So the row also learns what became of its task: the worker marks it `touched_at`
when the task starts (each try) and `ran_at` when it finished (succeeded, or failed for good),
through Celery's signals (`outbox_task_signals_connect`). A row published but not run, with no
sign of life for OUTBOX_REDELIVER_AFTER_SECONDS, is published again by the relay.

Delivery is at least once (a crash between publishing and marking the row sent publishes it
again after the claim expires; a task the broker was only slow to hand out may run twice):
every task started through here must be idempotent, which STYLE.md asks of every task anyway.
Delays are kept in the row (`available_at`), never as a broker ETA, so nothing waits in the
broker past its visibility timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Task
from celery.signals import task_failure, task_prerun, task_success
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from shop.celery import TIME_LIMIT_ERRORS, TRANSIENT_ERRORS, app
from shop.core.db import columns, hot_execute, hot_insert, instances

logger = logging.getLogger(__name__)

# A row published right after its commit is claimed by its writer for this long; the relay
# takes it over only when the writer died before marking it sent.
WRITER_CLAIM = timedelta(seconds=30)
RELAY_CLAIM = timedelta(seconds=60)
BACKOFF_MAX = timedelta(minutes=5)
PUBLISH_TIMEOUT_SECONDS = 2.0


class OutboxMessage(models.Model):
    """One Celery task to start: `task` (its registered name) with `kwargs`."""

    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    queue = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    available_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # the last sign of life of its task: published, or a try started in a worker
    touched_at = models.DateTimeField(null=True, blank=True)
    # its task finished: succeeded, or failed for good (then `last_error` says how)
    ran_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        app_label = "core"
        indexes = [
            # the relay's scan: only rows whose task has not run, few when all keeps up
            models.Index(
                fields=["available_at", "id"],
                name="core_outbox_not_run",
                condition=models.Q(ran_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"


def outbox_enqueue(
    *,
    task: str,
    kwargs: dict[str, Any] | None = None,
    queue: str = "",
    delay: timedelta | None = None,
) -> OutboxMessage:
    """Start Celery task `task` (its registered name) with `kwargs` once the caller's
    transaction commits; nothing is started if it rolls back. Outside a transaction the row
    commits at once. `kwargs` must be JSON (ids, not objects). With a `delay` (zero included)
    the relay publishes it when due, instead of this process right after the commit."""
    (message,) = outbox_enqueue_many(tasks=[(task, kwargs or {})], queue=queue, delay=delay)
    return message


def outbox_enqueue_many(
    *,
    tasks: Sequence[tuple[str, dict[str, Any]]],
    queue: str = "",
    delay: timedelta | None = None,
) -> list[OutboxMessage]:
    """`outbox_enqueue` for several tasks (name, kwargs) of one change: one INSERT, and after
    the commit one "sent" mark for all of them (placement starts two tasks on its hot path)."""
    for task, _ in tasks:
        _task_get(task)
    now = timezone.now()
    messages = [
        OutboxMessage(
            task=task,
            kwargs=kwargs,
            queue=queue,
            created_at=now,
            available_at=now if delay is None else now + delay,
            claimed_until=now + WRITER_CLAIM if delay is None else None,
            attempts=1 if delay is None else 0,
        )
        for task, kwargs in tasks
    ]
    hot_insert(messages)
    if delay is None:
        transaction.on_commit(lambda: _publish_after_commit(messages), robust=True)
    return messages


def _task_get(name: str) -> Task:
    """The registered task (every app's tasks module is imported when Django starts,
    `CoreConfig.ready`). A name no task has fails at once, in the writer's transaction, rather
    than in the relay later."""
    if name not in app.tasks:
        raise ValueError(f"No Celery task is registered as {name!r}.")
    return app.tasks[name]


def _publish_after_commit(messages: Sequence[OutboxMessage]) -> None:
    """Publish right away; on a failure leave that row and the rest to the relay (which
    retries them once this process's claim has expired): the broker is most likely down, and a
    shopper's request should not wait on it once per row. Never raises: the business change
    has committed."""
    sent: list[OutboxMessage] = []
    failure: Exception | None = None
    for message in messages:
        if failure is None:
            try:
                _publish(message, retry=False)
            except Exception as exc:  # noqa: BLE001 - whatever failed, the relay will publish it
                failure = exc
            else:
                sent.append(message)
                continue
        logger.warning(
            "Could not publish %s #%s after commit (%s: %s); the outbox relay will.",
            message.task,
            message.pk,
            type(failure).__name__,
            failure,
        )
        _failed_mark(message.pk, failure, attempts=message.attempts)
    if sent:
        _sent_mark(sent)


def _publish(message: OutboxMessage, *, retry: bool) -> None:
    options: dict[str, Any] = {
        "task_id": f"{TASK_ID_PREFIX}{message.pk}",
        "retry": retry,
    }
    if message.queue:
        options["queue"] = message.queue
    # apply_async on the registered task (not send_task) so eager mode runs it inline
    _task_get(message.task).apply_async(kwargs=message.kwargs, **options)


_SENT_SQL = (
    f"UPDATE {OutboxMessage._meta.db_table} "  # noqa: S608 - model names
    "SET sent_at = COALESCE(sent_at, clock_timestamp()), touched_at = clock_timestamp(), "
    "claimed_until = NULL, "
    # a task that already failed for good (it can finish before this mark) keeps its error
    "last_error = CASE WHEN ran_at IS NULL THEN '' ELSE last_error END "
    # the partition key bounds the rows' months (the table is partitioned by month)
    "WHERE id = ANY(%s) AND created_at >= %s"
)


def _sent_mark(messages: Sequence[OutboxMessage]) -> None:
    ids = [m.pk for m in messages]
    try:
        hot_execute(_SENT_SQL, [ids, min(m.created_at for m in messages)])
    except Exception:
        # the database went away after the publish: the relay publishes these again (tasks are
        # idempotent), which is the price of at-least-once
        logger.exception("Could not mark outbox rows %s sent.", ids)


def _backoff(attempts: int) -> timedelta:
    return min(BACKOFF_MAX, timedelta(seconds=2 ** min(attempts, 12)))


def _failed_mark(message_id: int, exc: BaseException, *, attempts: int) -> None:
    try:
        OutboxMessage.objects.filter(pk=message_id, ran_at__isnull=True).update(
            claimed_until=None,
            available_at=timezone.now() + _backoff(attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
    except Exception:
        logger.exception("Could not record the failed publish of outbox row %s.", message_id)


@dataclass(frozen=True)
class RelayResult:
    claimed: int
    sent: int
    failed: int


# clock_timestamp(), not now(): now() is the transaction's start, which in a long transaction
# (a test's) would hide rows written after it began. No bound on created_at (the partition key):
# a row not run is due however old it is, and partitions_maintain never detaches a month that
# holds one; each month's partial index of rows not run is empty once its tasks have run.
_CLAIM_SQL = f"""
    UPDATE {OutboxMessage._meta.db_table}
    SET claimed_until = clock_timestamp() + make_interval(secs => %s), attempts = attempts + 1
    WHERE id IN (
        SELECT id FROM {OutboxMessage._meta.db_table}
        WHERE ran_at IS NULL AND available_at <= clock_timestamp()
          AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
          AND (
            sent_at IS NULL
            OR touched_at < clock_timestamp() - make_interval(secs => %s)
          )
        ORDER BY available_at, id
        LIMIT %s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING {columns(OutboxMessage)}
"""  # noqa: S608 - model names


def outbox_relay(*, limit: int = 200) -> RelayResult:
    """Publish up to `limit` due rows: never published, or published and then lost (no sign of
    life for OUTBOX_REDELIVER_AFTER_SECONDS). The claim commits before publishing, so no lock
    is held while talking to the broker. Stops at the first failure: the broker is most likely
    down, and the rest keep their place (their attempt is not counted)."""
    redeliver_after = float(settings.OUTBOX_REDELIVER_AFTER_SECONDS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [RELAY_CLAIM.total_seconds(), redeliver_after, limit])
        messages = sorted(instances(OutboxMessage, cursor.fetchall()), key=lambda m: m.pk)
    sent: list[OutboxMessage] = []
    failed = 0
    for index, message in enumerate(messages):
        if message.sent_at is not None:
            logger.warning(
                "Outbox: %s #%s was published %s but its task never ran or gave no sign of "
                "life for %g s (a broker that lost it?); publishing it again.",
                message.task,
                message.pk,
                message.sent_at.isoformat(),
                redeliver_after,
            )
        try:
            _publish(message, retry=True)
        except Exception as exc:  # noqa: BLE001 - recorded on the row, retried with backoff
            failed = 1
            _failed_mark(message.pk, exc, attempts=message.attempts)
            logger.warning(
                "Outbox relay could not publish %s #%s (attempt %s): %s: %s",
                message.task,
                message.pk,
                message.attempts,
                type(exc).__name__,
                exc,
            )
            _unclaim([m.pk for m in messages[index + 1 :]])
            break
        sent.append(message)
    if sent:
        _sent_mark(sent)
    return RelayResult(claimed=len(messages), sent=len(sent), failed=failed)


def _unclaim(ids: list[int]) -> None:
    if ids:
        OutboxMessage.objects.filter(pk__in=ids, ran_at__isnull=True).update(
            claimed_until=None, attempts=models.F("attempts") - 1
        )


# --- what became of the task (worker side, Celery signals) -----------------------------------

TASK_ID_PREFIX = "outbox-"


def _outbox_id(task_id: str | None) -> int | None:
    if not task_id or not task_id.startswith(TASK_ID_PREFIX):
        return None  # not started through the outbox (beat, a task's own retry chain...)
    try:
        return int(task_id.removeprefix(TASK_ID_PREFIX))
    except ValueError:
        return None


def _task_mark(task_id: str | None, **fields: Any) -> None:
    message_id = _outbox_id(task_id)
    if message_id is None:
        return
    try:
        OutboxMessage.objects.filter(pk=message_id, ran_at__isnull=True).update(**fields)
    except Exception:
        # the database is away: the row is published again later and the (idempotent) task
        # runs once more, the price of at-least-once
        logger.exception("Could not record what became of outbox row %s.", message_id)


def _on_task_prerun(task_id: str | None = None, **kwargs: Any) -> None:
    _task_mark(task_id, touched_at=timezone.now())


def _on_task_success(sender: Task | None = None, **kwargs: Any) -> None:
    # a publish that timed out may still have reached the broker: its error no longer matters
    _task_mark(
        sender.request.id if sender is not None else None, ran_at=timezone.now(), last_error=""
    )


def _on_task_failure(
    task_id: str | None = None, exception: BaseException | None = None, **kwargs: Any
) -> None:
    error = f"{type(exception).__name__}: {exception}"
    if isinstance(exception, TIME_LIMIT_ERRORS):
        # stopped by its queue's time limit: a hung peer, not a verdict on the work; left not
        # run, so the relay publishes it again later (a refund is never dropped by a limit)
        _task_mark(task_id, last_error=f"the task ran out of time: {error}"[:2000])
        return
    if isinstance(exception, TRANSIENT_ERRORS):
        # not for good: its retries ran out during an outage, or the retry itself could not
        # reach the broker; left not run, so the relay publishes it again later
        _task_mark(task_id, last_error=f"the task failed while something was down: {error}"[:2000])
        return
    _task_mark(
        task_id, ran_at=timezone.now(), last_error=f"the task failed for good: {error}"[:2000]
    )


def outbox_task_signals_connect() -> None:
    """Have workers record on each outbox row when its task starts and when it has finished
    (called once at start-up, `CoreConfig.ready`)."""
    task_prerun.connect(_on_task_prerun, weak=False, dispatch_uid="outbox-prerun")
    task_success.connect(_on_task_success, weak=False, dispatch_uid="outbox-success")
    task_failure.connect(_on_task_failure, weak=False, dispatch_uid="outbox-failure")


# --- operators ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int  # not published yet
    in_flight: int  # published, task not finished
    oldest_seconds: float | None  # age of the oldest row not published yet
    failing: int  # rows whose last publish failed, or whose task failed for good


def outbox_backlog() -> OutboxBacklog:
    """What is waiting: for /readyz and the relay's alerts."""
    stats = OutboxMessage.objects.filter(ran_at__isnull=True).aggregate(
        pending=models.Count("id", filter=models.Q(sent_at__isnull=True)),
        in_flight=models.Count("id", filter=models.Q(sent_at__isnull=False)),
        oldest=models.Min("created_at", filter=models.Q(sent_at__isnull=True)),
    )
    failing = OutboxMessage.objects.exclude(last_error="").filter(
        models.Q(ran_at__isnull=True) | models.Q(ran_at__gte=timezone.now() - timedelta(days=1))
    )
    oldest = stats["oldest"]
    return OutboxBacklog(
        pending=stats["pending"],
        in_flight=stats["in_flight"],
        oldest_seconds=(timezone.now() - oldest).total_seconds() if oldest else None,
        failing=failing.count(),
    )


def outbox_prune(*, keep: timedelta | None = None, batch: int = 10_000) -> int:
    """Delete rows whose task finished more than `keep` ago (OUTBOX_KEEP_DAYS); rows whose
    task has not run are never deleted. A task runs after its row was written, so the bound on
    created_at (the partition key) only skips the months that cannot hold such rows."""
    keep = keep or timedelta(days=settings.OUTBOX_KEEP_DAYS)
    cutoff = timezone.now() - keep
    deleted = 0
    while True:
        ids = list(
            OutboxMessage.objects.filter(ran_at__lt=cutoff, created_at__lt=cutoff).values_list(
                "pk", flat=True
            )[:batch]
        )
        if not ids:
            return deleted
        deleted += OutboxMessage.objects.filter(pk__in=ids).delete()[0]
