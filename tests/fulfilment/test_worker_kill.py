"""A real Celery worker killed in the middle of a fulfilment task leaves nothing half done, and
the task, delivered again (`acks_late`) to a restarted worker, finishes it once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from fulfilment.models import Shipment, ShipmentStatus, TrackingEvent
from fulfilment.services import ShipLine, shipment_create
from fulfilment.tasks import shipments_track_task
from orders.models import SellerOrder
from shop.celery import app
from shop.core.outbox import OutboxMessage
from tests.core.test_celery_worker import _database_url
from tests.fulfilment.conftest import Placed, key
from tests.orders.conftest import Market

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 90


def _start_worker(queue: str, redis_service, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_service.cache_url,
        "CELERY_BROKER_URL": redis_service.broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        # a message taken by a worker that died is handed out again after this
        "CELERY_VISIBILITY_TIMEOUT_SECONDS": "3",
        "FULFILMENT_SIMULATED_STEP_SECONDS": "1",
    }
    ready_before = log_path.read_bytes().count(b"ready.") if log_path.exists() else 0
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "shop",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while log_path.read_bytes().count(b"ready.") <= ready_before:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        # statistics views keep one snapshot per transaction; the caller is inside one
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_tracking_leaves_nothing_half_done_and_the_rerun_finishes(
    redis_service, tmp_path
):
    placed = Placed(Market())
    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 2)],
        carrier="sim",
        tracking_number="SIM000001",
        key=key(),
    )
    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a2.pk,
        lines=[ShipLine(placed.a2_line.pk, 1)],
        carrier="sim",
        tracking_number="SIM000002",
        key=key(),
    )
    Shipment.objects.update(shipped_at=timezone.now() - timedelta(minutes=5))
    queue = f"test-fulfilment-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "worker.log"
    first = _start_worker(queue, redis_service, log_path)
    second = None
    try:
        with transaction.atomic():
            # hold the seller order: the worker's task blocks inside its transaction
            SellerOrder.objects.select_for_update().get(pk=placed.alpha_order.pk)
            with app.connection_for_write(redis_service.broker_url) as conn:
                shipments_track_task.apply_async(queue=queue, connection=conn)
            deadline = time.monotonic() + TIMEOUT_SECONDS
            while not _waiting_on_a_lock():
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=20)
        # nothing of the killed run is left: no event, no status moved
        assert not TrackingEvent.objects.exists()
        assert set(Shipment.objects.values_list("status", flat=True)) == {"shipped"}
        second = _start_worker(queue, redis_service, log_path)
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while SellerOrder.objects.get(pk=placed.alpha_order.pk).delivered_at is None:
            assert time.monotonic() < deadline, f"never re-run:\n{log_path.read_text()}"
            time.sleep(0.3)
    finally:
        _stop(first)
        if second is not None:
            _stop(second)
    assert TrackingEvent.objects.count() == 6  # three steps per parcel, each once
    assert set(Shipment.objects.values_list("status", flat=True)) == {ShipmentStatus.DELIVERED}
    delivered_emails = [
        m for m in OutboxMessage.objects.all() if m.kwargs.get("kind") == "delivered"
    ]
    assert len(delivered_emails) == 2
