"""The import job runs in a real Celery worker (celery.contrib.testing's in-process worker),
fed through the Redis broker: the portal's "start" button publishes the task, the worker thread
consumes it with its own database connection, and the progress endpoint reports the result."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections, transaction
from django.urls import reverse

from inventory.models import StockMovement
from sellers.bulk.imports import _Heartbeat
from sellers.models import CatalogImportJob, ImportStatus
from sellers.tasks import catalog_import_run_task
from shop.celery import app
from tests.factories import ProductVariantFactory
from tests.factories.inventory import WarehouseFactory

TASK_TIMEOUT_SECONDS = 60


def _close_worker_connections(**kwargs) -> None:
    # The worker thread's database connections would outlive the test and block the test
    # database's teardown; Django's connections are per thread, so this closes only those.
    connections.close_all()


def _forget_broker_connections() -> None:
    # Publishing reuses pooled connections to the broker URL the app first saw; drop them so
    # the task goes to the broker this test's worker listens on.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_worker(redis_service, monkeypatch):
    """A worker thread consuming a queue of its own on the Redis broker (REDIS_URL's database,
    else an embedded Redis); the import task is routed to that queue for the test."""
    queue = f"test-csv-{uuid.uuid4().hex[:12]}"
    previous = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = redis_service.broker_url, False
    _forget_broker_connections()
    monkeypatch.setattr(catalog_import_run_task, "queue", queue, raising=False)
    monkeypatch.setattr(catalog_import_run_task, "_exec_options", None, raising=False)
    task_postrun.connect(_close_worker_connections, weak=False)
    # start_worker selects the test's queue on the app's (process-wide) queue table: remember
    # what was consumed so later tests see the configured queues again
    queues = app.amqp.queues
    consumed = queues._consume_from
    try:
        with start_worker(
            app,
            pool="solo",
            concurrency=1,
            perform_ping_check=False,
            queues=[queue],
            shutdown_timeout=30,
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_worker_connections)
        app.conf.broker_url, app.conf.task_always_eager = previous
        _forget_broker_connections()
        queues._consume_from = consumed
        queues.pop(queue, None)
        queues._default_consume_from.pop(queue, None)


@pytest.mark.django_db(transaction=True)
def test_import_job_runs_in_a_celery_worker_through_the_broker(owner, portal_client, celery_worker):
    warehouse = WarehouseFactory(seller=owner.seller, code="main")
    variant = ProductVariantFactory(product__seller=owner.seller, sku="W-1", price=Decimal("5"))
    client = portal_client(owner)
    data = b"sku,price,stock:main\nW-1,6.25,12\n"
    response = client.post(
        reverse("portal:catalog_csv"), {"file": SimpleUploadedFile("w.csv", data)}
    )
    assert response.status_code == 302
    job = CatalogImportJob.objects.get()

    assert client.post(reverse("portal:import_start", args=[job.pk])).status_code == 302

    deadline = time.monotonic() + TASK_TIMEOUT_SECONDS
    progress = client.get(reverse("portal:import_progress", args=[job.pk])).json()
    while not progress["finished"] and time.monotonic() < deadline:
        time.sleep(0.2)
        progress = client.get(reverse("portal:import_progress", args=[job.pk])).json()
    assert progress["status"] == ImportStatus.SUCCEEDED, progress
    assert (progress["processed_rows"], progress["percent"]) == (1, 100)
    variant.refresh_from_db()
    assert variant.price == Decimal("6.25")
    movement = StockMovement.objects.get(reference=f"import:{job.pk}")
    assert (movement.stock.warehouse, movement.delta) == (warehouse, 12)


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_transaction_is_open(owner):
    job = CatalogImportJob.objects.create(
        seller=owner.seller, status=ImportStatus.RUNNING, total_rows=10, attempt=1
    )
    with (
        pytest.raises(RuntimeError),
        _Heartbeat(job, attempt=1) as heartbeat,
        transaction.atomic(),
    ):
        heartbeat.progress(4)
        # Seen from inside the open transaction, so committed on its own...
        deadline = time.monotonic() + 10
        while CatalogImportJob.objects.get(pk=job.pk).processed_rows != 4:
            assert time.monotonic() < deadline, "progress never showed"
            time.sleep(0.05)
        raise RuntimeError("the import fails")
    # ...and it survives the import's rollback.
    job.refresh_from_db()
    assert job.processed_rows == 4
