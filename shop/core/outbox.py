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

Delivery is at least once (a crash between publishing and marking the row sent publishes it
again after the claim expires): every task started through here must be idempotent, which
STYLE.md asks of every task anyway. Delays are kept in the row (`available_at`), never as a
broker ETA, so nothing waits in the broker past its visibility timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from shop.celery import app
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
    last_error = models.TextField(blank=True)

    class Meta:
        app_label = "core"
        indexes = [
            # the relay's scan: only unsent rows, which stay few when the relay keeps up
            models.Index(
                fields=["available_at", "id"],
                name="core_outbox_unsent",
                condition=models.Q(sent_at__isnull=True),
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
    _task_get(task)
    now = timezone.now()
    message = OutboxMessage(
        task=task,
        kwargs=kwargs or {},
        queue=queue,
        created_at=now,
        available_at=now if delay is None else now + delay,
        claimed_until=now + WRITER_CLAIM if delay is None else None,
        attempts=1 if delay is None else 0,
    )
    hot_insert([message])
    if delay is None:
        transaction.on_commit(lambda: _publish_after_commit(message), robust=True)
    return message


def _task_get(name: str) -> Task:
    """The registered task; the apps' task modules are imported first if autodiscovery has not
    run in this process yet (web processes import them lazily). A name no task has fails at
    once, in the writer's transaction, rather than in the relay later."""
    if name not in app.tasks:
        app.loader.import_default_modules()
    if name not in app.tasks:
        raise ValueError(f"No Celery task is registered as {name!r}.")
    return app.tasks[name]


def _publish_after_commit(message: OutboxMessage) -> None:
    """Publish right away; on any failure leave the row to the relay (which retries it once
    this process's claim has expired). Never raises: the business change has committed."""
    try:
        _publish(message, retry=False)
    except Exception as exc:  # noqa: BLE001 - whatever failed, the relay will publish it
        logger.warning(
            "Could not publish %s #%s after commit (%s: %s); the outbox relay will.",
            message.task,
            message.pk,
            type(exc).__name__,
            exc,
        )
        _failed_mark(message.pk, exc, attempts=message.attempts)
        return
    _sent_mark([message.pk])


def _publish(message: OutboxMessage, *, retry: bool) -> None:
    options: dict[str, Any] = {
        "task_id": f"outbox-{message.pk}",
        "retry": retry,
    }
    if message.queue:
        options["queue"] = message.queue
    # apply_async on the registered task (not send_task) so eager mode runs it inline
    _task_get(message.task).apply_async(kwargs=message.kwargs, **options)


_SENT_SQL = (
    f"UPDATE {OutboxMessage._meta.db_table} "  # noqa: S608 - model names
    "SET sent_at = clock_timestamp(), claimed_until = NULL, last_error = '' WHERE id = ANY(%s)"
)


def _sent_mark(ids: Sequence[int]) -> None:
    try:
        hot_execute(_SENT_SQL, [list(ids)])
    except Exception:
        # the database went away after the publish: the relay publishes these again (tasks are
        # idempotent), which is the price of at-least-once
        logger.exception("Could not mark outbox rows %s sent.", list(ids))


def _backoff(attempts: int) -> timedelta:
    return min(BACKOFF_MAX, timedelta(seconds=2 ** min(attempts, 12)))


def _failed_mark(message_id: int, exc: BaseException, *, attempts: int) -> None:
    try:
        OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).update(
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
# (a test's) would hide rows written after it began
_CLAIM_SQL = f"""
    UPDATE {OutboxMessage._meta.db_table}
    SET claimed_until = clock_timestamp() + make_interval(secs => %s), attempts = attempts + 1
    WHERE id IN (
        SELECT id FROM {OutboxMessage._meta.db_table}
        WHERE sent_at IS NULL AND available_at <= clock_timestamp()
          AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
        ORDER BY available_at, id
        LIMIT %s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING {columns(OutboxMessage)}
"""  # noqa: S608 - model names


def outbox_relay(*, limit: int = 200) -> RelayResult:
    """Publish up to `limit` due rows. The claim commits before publishing, so no lock is held
    while talking to the broker. Stops at the first failure: the broker is most likely down,
    and the rest keep their place (their attempt is not counted)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [RELAY_CLAIM.total_seconds(), limit])
        messages = sorted(instances(OutboxMessage, cursor.fetchall()), key=lambda m: m.pk)
    sent: list[int] = []
    failed = 0
    for index, message in enumerate(messages):
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
        sent.append(message.pk)
    if sent:
        _sent_mark(sent)
    return RelayResult(claimed=len(messages), sent=len(sent), failed=failed)


def _unclaim(ids: list[int]) -> None:
    if ids:
        OutboxMessage.objects.filter(pk__in=ids, sent_at__isnull=True).update(
            claimed_until=None, attempts=models.F("attempts") - 1
        )


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int
    oldest_seconds: float | None
    failing: int


def outbox_backlog() -> OutboxBacklog:
    """What is waiting to be published: for /readyz and the relay's alerts."""
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True)
    stats = unsent.aggregate(
        pending=models.Count("id"),
        oldest=models.Min("created_at"),
        failing=models.Count("id", filter=~models.Q(last_error="")),
    )
    oldest = stats["oldest"]
    return OutboxBacklog(
        pending=stats["pending"],
        oldest_seconds=(timezone.now() - oldest).total_seconds() if oldest else None,
        failing=stats["failing"],
    )


def outbox_prune(*, keep: timedelta | None = None, batch: int = 10_000) -> int:
    """Delete rows published more than `keep` ago (OUTBOX_KEEP_DAYS); unsent rows are never
    deleted."""
    keep = keep or timedelta(days=settings.OUTBOX_KEEP_DAYS)
    cutoff = timezone.now() - keep
    deleted = 0
    while True:
        ids = list(
            OutboxMessage.objects.filter(sent_at__lt=cutoff).values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return deleted
        deleted += OutboxMessage.objects.filter(pk__in=ids).delete()[0]
