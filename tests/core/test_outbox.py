"""The transactional outbox: a task is started exactly when its transaction commits, a broker
outage delays it but never loses it, and relays never publish one row twice at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from shop.core.outbox import (
    OutboxMessage,
    outbox_backlog,
    outbox_enqueue,
    outbox_prune,
    outbox_relay,
)

PING = "shop.core.worker_ping"


@pytest.mark.django_db
def test_a_rolled_back_transaction_starts_nothing(django_capture_on_commit_callbacks, broker):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox_enqueue(task=PING, kwargs={"token": "never"})
        raise RuntimeError("the business change failed")
    assert not OutboxMessage.objects.exists()
    assert broker.queued() == []


@pytest.mark.django_db
def test_a_commit_publishes_the_task_once_and_marks_it_sent(
    django_capture_on_commit_callbacks, broker
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox_enqueue(task=PING, kwargs={"token": "t1"})
    message.refresh_from_db()
    assert message.sent_at is not None and message.last_error == ""
    queued = broker.queued()
    assert [m["headers"]["task"] for m in queued] == [PING]
    assert queued[0]["headers"]["id"] == f"outbox-{message.pk}"
    # the relay finds nothing left to do
    assert outbox_relay().claimed == 0
    assert len(broker.queued()) == 1


@pytest.mark.django_db
def test_broker_down_at_commit_keeps_the_row_and_the_relay_publishes_it_later(
    django_capture_on_commit_callbacks, broker
):
    broker.stop()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox_enqueue(task=PING, kwargs={"token": "t2"})
    message.refresh_from_db()
    assert message.sent_at is None
    assert "Error" in message.last_error
    assert message.available_at > timezone.now()  # backs off before the relay retries

    # the relay, while the broker is still down: the row stays, with its error
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    result = outbox_relay()
    assert (result.claimed, result.sent, result.failed) == (1, 0, 1)
    assert OutboxMessage.objects.get(pk=message.pk).sent_at is None

    broker.start()  # back, and empty: the row still carries the task
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert outbox_relay().sent == 1
    assert [m["headers"]["task"] for m in broker.queued()] == [PING]
    assert OutboxMessage.objects.get(pk=message.pk).sent_at is not None


@pytest.mark.django_db
def test_a_writer_that_died_before_publishing_is_taken_over_after_its_claim():
    # no on-commit callbacks run: as if the process died right after the commit
    message = outbox_enqueue(task=PING, kwargs={"token": "t3"})
    assert outbox_relay().claimed == 0  # still the writer's to publish
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert outbox_relay().sent == 1


@pytest.mark.django_db
def test_the_relay_stops_at_the_first_failure_without_counting_the_rest(broker):
    rows = [
        outbox_enqueue(task=PING, kwargs={"token": f"s{i}"}, delay=timedelta(0)) for i in (1, 2, 3)
    ]
    broker.stop()
    result = outbox_relay()
    assert (result.claimed, result.sent, result.failed) == (3, 0, 1)
    attempts = dict(OutboxMessage.objects.values_list("pk", "attempts"))
    assert attempts == {rows[0].pk: 1, rows[1].pk: 0, rows[2].pk: 0}
    assert OutboxMessage.objects.filter(claimed_until__isnull=False).count() == 0


@pytest.mark.django_db
def test_delayed_rows_wait_for_their_time():
    outbox_enqueue(task=PING, kwargs={"token": "later"}, delay=timedelta(minutes=5))
    assert outbox_relay().claimed == 0
    backlog = outbox_backlog()
    assert backlog.pending == 1 and backlog.failing == 0


@pytest.mark.django_db
def test_an_unknown_task_fails_in_the_writer_not_later():
    with pytest.raises(ValueError, match="No Celery task"):
        outbox_enqueue(task="orders.tasks.no_such_task", kwargs={})
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_prune_keeps_rows_whose_task_has_not_run_and_recent_ones():
    old_ran = outbox_enqueue(task=PING, kwargs={}, delay=timedelta(0))
    recent_ran = outbox_enqueue(task=PING, kwargs={}, delay=timedelta(0))
    never_ran = outbox_enqueue(task=PING, kwargs={}, delay=timedelta(0))
    now = timezone.now()
    month_ago = now - timedelta(days=30)
    OutboxMessage.objects.filter(pk=old_ran.pk).update(
        created_at=month_ago, sent_at=month_ago, ran_at=month_ago
    )
    OutboxMessage.objects.filter(pk=recent_ran.pk).update(sent_at=now, ran_at=now)
    OutboxMessage.objects.filter(pk=never_ran.pk).update(created_at=month_ago, sent_at=month_ago)
    assert outbox_prune(keep=timedelta(days=7)) == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent_ran.pk, never_ran.pk}


@pytest.mark.django_db(transaction=True)
def test_concurrent_relays_publish_each_row_once(broker):
    total = 60
    for i in range(total):
        outbox_enqueue(task=PING, kwargs={"token": f"c{i}"}, delay=timedelta(0))
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def relay() -> None:
        try:
            start.wait()
            while outbox_relay(limit=5).claimed:
                pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = [m["headers"]["id"] for m in broker.queued()]
    assert len(ids) == total and len(set(ids)) == total
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db
def test_the_worker_records_when_the_task_ran(django_capture_on_commit_callbacks, celery_eager):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox_enqueue(task=PING, kwargs={"token": "ran"})
    message.refresh_from_db()
    assert message.touched_at is not None and message.ran_at is not None
    # a task that ran is never published again, however old
    OutboxMessage.objects.filter(pk=message.pk).update(
        touched_at=timezone.now() - timedelta(days=1)
    )
    assert outbox_relay().claimed == 0


@pytest.mark.django_db
def test_a_task_the_broker_lost_is_published_again(
    django_capture_on_commit_callbacks, broker, settings
):
    """A broker without persistence that restarts empty drops what it held: the row knows its
    task never ran, and after OUTBOX_REDELIVER_AFTER_SECONDS the relay publishes it again."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox_enqueue(task=PING, kwargs={"token": "lost"})
    assert len(broker.queued()) == 1
    broker.stop()
    broker.start()  # empty
    assert broker.queued() == []
    assert outbox_relay().claimed == 0  # not yet: it may only be waiting in a busy queue
    OutboxMessage.objects.filter(pk=message.pk).update(
        touched_at=timezone.now() - timedelta(seconds=settings.OUTBOX_REDELIVER_AFTER_SECONDS + 1)
    )
    assert outbox_relay().sent == 1
    assert [m["headers"]["id"] for m in broker.queued()] == [f"outbox-{message.pk}"]
    assert outbox_backlog().in_flight == 1


@pytest.mark.django_db
def test_a_task_that_failed_for_good_is_recorded_and_not_sent_again(
    django_capture_on_commit_callbacks, celery_eager
):
    from shop.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            # a cart reminder for a cart id that is no number: fails, and not transiently
            message = outbox_enqueue(
                task="cart.tasks.cart_reminder_send_task", kwargs={"cart_id": "x"}
            )
    finally:
        app.conf.task_eager_propagates = previous
    message.refresh_from_db()
    assert message.ran_at is not None
    assert message.last_error.startswith("the task failed for good: ValueError")
    assert outbox_backlog().failing == 1


@pytest.mark.django_db
def test_a_task_that_failed_while_something_was_down_is_sent_again_later():
    """Its retries ran out during an outage (or the retry could not reach the broker): not a
    failure for good, so it stays to be published again."""
    from celery.signals import task_failure
    from django.db import OperationalError

    message = outbox_enqueue(task=PING, kwargs={"token": "x"}, delay=timedelta(0))
    # what a worker sends when the task's last try raised
    task_failure.send(
        sender=None, task_id=f"outbox-{message.pk}", exception=OperationalError("db down")
    )
    message.refresh_from_db()
    assert message.ran_at is None
    assert "while something was down" in message.last_error


@pytest.mark.django_db
@pytest.mark.parametrize("soft", [True, False])
def test_a_task_stopped_by_its_time_limit_is_sent_again_later(soft):
    """A refund stopped by its queue's time limit (a hung gateway call) is not a verdict on
    the refund: the row stays not run, and the relay publishes it again."""
    from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
    from celery.signals import task_failure

    message = outbox_enqueue(task=PING, kwargs={"token": "x"}, delay=timedelta(0))
    exception = SoftTimeLimitExceeded() if soft else TimeLimitExceeded(150)
    task_failure.send(sender=None, task_id=f"outbox-{message.pk}", exception=exception)
    message.refresh_from_db()
    assert message.ran_at is None
    assert message.last_error.startswith("the task ran out of time")
