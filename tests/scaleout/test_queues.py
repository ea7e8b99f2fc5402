"""Celery queues per kind of work (CELERY_TASK_ROUTES): every task has a queue that `make run`'s
worker serves, and a flood of catalog imports never sits in front of a payment webhook."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from shop.celery import app
from shop.core.management.commands.runall import _worker_queues
from tests.core.test_celery_worker import _database_url

ROOT = Path(__file__).resolve().parents[2]
WORKER_READY_TIMEOUT_SECONDS = 60


def _queue_of(name: str) -> str:
    route = app.amqp.router.route({}, name)
    return route["queue"].name


def _project_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_every_task_has_a_queue_the_local_worker_serves():
    queues = {name: _queue_of(name) for name in _project_tasks()}
    assert set(queues.values()) <= set(settings.CELERY_QUEUES_ALL)
    assert sorted(settings.CELERY_QUEUES_ALL) == _worker_queues()


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("orders.tasks.payment_webhook_process_task", "money"),
        ("payments.tasks.refund_execute_task", "money"),
        ("payments.tasks.payment_void_task", "money"),
        ("orders.tasks.orders_expire_unpaid_task", "money"),
        ("orders.tasks.order_email_send_task", "email"),
        ("accounts.tasks.password_reset_email_send_task", "email"),
        ("sellers.tasks.invitation_email_send_task", "email"),
        ("search.tasks.search_index_refresh_task", "search"),
        ("sellers.tasks.catalog_import_run_task", "imports"),
        ("shop.core.outbox_relay", "default"),
        ("inventory.tasks.inventory_sweep_expired_task", "default"),
        ("purchasing.tasks.forecast_run_execute_task", "forecast"),
        ("purchasing.tasks.forecast_nightly_task", "forecast"),
        ("purchasing.tasks.purchase_order_email_task", "email"),
    ],
)
def test_tasks_route_by_kind(task, queue):
    assert _queue_of(task) == queue


def test_every_mail_task_is_rate_limited():
    """What the SMTP relay accepts, per worker of the email queue."""
    mail_tasks = [name for name in _project_tasks() if _queue_of(name) == "email"]
    assert len(mail_tasks) == 8
    for name in mail_tasks:
        assert app.tasks[name].rate_limit == settings.EMAIL_TASK_RATE_LIMIT, name


def test_every_task_has_the_time_limits_of_its_queue():
    """Soft limit from CELERY_QUEUE_SOFT_TIME_LIMITS by the queue Celery's own router picks, the
    hard one HARD_LIMIT_GRACE_SECONDS later; a task retries its soft limit like an outage."""
    from celery.exceptions import SoftTimeLimitExceeded

    from shop.queues import HARD_LIMIT_GRACE_SECONDS

    limits = settings.CELERY_QUEUE_SOFT_TIME_LIMITS
    assert set(limits) == set(settings.CELERY_QUEUES_ALL)
    for name in _project_tasks():
        task = app.tasks[name]
        soft = settings.CELERY_TASK_SOFT_TIME_LIMITS.get(name) or limits[_queue_of(name)]
        assert (task.soft_time_limit, task.time_limit) == (soft, soft + HARD_LIMIT_GRACE_SECONDS)
        assert issubclass(SoftTimeLimitExceeded, tuple(task.autoretry_for)), name
    assert app.tasks["payments.tasks.refund_execute_task"].soft_time_limit == limits["money"]
    assert limits["money"] < limits["imports"]
    assert app.tasks["shop.core.partitions_maintain"].soft_time_limit == 3600


def test_short_queues_finish_inside_the_broker_visibility_timeout():
    """A task still running when Redis's visibility timeout passes is handed to a second
    worker: every queue whose work is not resumable stops before that."""
    for queue in ("money", "email", "search", "default"):
        hard = settings.CELERY_QUEUE_SOFT_TIME_LIMITS[queue] + 30
        assert hard < settings.CELERY_VISIBILITY_TIMEOUT_SECONDS, queue


@pytest.mark.django_db(transaction=True)
def test_an_import_flood_does_not_delay_a_payment_webhook(broker, tmp_path):
    """200 imports queued, then one webhook: a worker of the money queue takes the webhook at
    once, and the imports wait in their own queue for their own workers."""
    from orders.tasks import payment_webhook_process_task
    from sellers.tasks import catalog_import_run_task

    for job_id in range(200):
        catalog_import_run_task.apply_async(args=[10_000_000 + job_id])
    payment_webhook_process_task.apply_async(kwargs={"event_id": 0})
    assert len(broker.queued("imports")) == 200
    assert [m["headers"]["task"] for m in broker.queued("money")] == [
        "orders.tasks.payment_webhook_process_task"
    ]

    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker.server.url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool", "solo",
                "--queues", "money", "--without-gossip", "--without-mingle",
                "--without-heartbeat", "--loglevel", "INFO",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + WORKER_READY_TIMEOUT_SECONDS
        marker = b"orders.tasks.payment_webhook_process_task["
        while marker not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the money worker did not take the webhook:\n{log_path.read_text()}")
            time.sleep(0.2)
        assert broker.queued("money") == []
        assert len(broker.queued("imports")) == 200
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_worker_started_without_queues_consumes_every_queue():
    """`celery -A shop worker` with no --queues (the fault suite, a quick local run) serves
    every kind of work, not only "default"."""
    assert sorted(q.name for q in app.amqp.queues.consume_from.values()) == sorted(
        settings.CELERY_QUEUES_ALL
    )
