from __future__ import annotations

import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from inventory import locks
from inventory.models import Reservation, Stock
from inventory.services import ReserveLine, stock_reserve
from inventory.tasks import inventory_sweep_expired_task
from tests.factories.inventory import stock_with


def _expire_all():
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))


def test_sweeper_runs_every_minute_on_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["inventory-sweep-expired"]
    assert entry["task"] == inventory_sweep_expired_task.name
    assert entry["schedule"] == 60.0


@pytest.mark.django_db
def test_sweeper_task_releases_expired_units(assert_consistent):
    stock = stock_with(on_hand=3)
    stock_reserve(holder="c", lines=[ReserveLine(stock.variant_id, 2)])
    _expire_all()
    assert inventory_sweep_expired_task.apply().get() == 2
    stock.refresh_from_db()
    assert stock.reserved == 0
    assert_consistent()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_sweeper_skips_rows_a_checkout_holds_and_does_not_wait():
    busy, free = stock_with(on_hand=2), stock_with(on_hand=2)
    for i, stock in enumerate((busy, free)):
        stock_reserve(holder=f"c{i}", lines=[ReserveLine(stock.variant_id, 1)])
    _expire_all()
    locked, done = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                list(locks.stocks_lock(stock_ids=[busy.pk]))
                locked.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        started = time.monotonic()
        released = inventory_sweep_expired_task.apply().get()
        assert time.monotonic() - started < 5  # did not queue behind the lock
    finally:
        done.set()
        holder.join()
    assert released == 1
    assert Stock.objects.get(pk=busy.pk).reserved == 1
    assert Stock.objects.get(pk=free.pk).reserved == 0
    assert inventory_sweep_expired_task.apply().get() == 1  # the next run gets the other


@pytest.mark.django_db
def test_inventory_check_reports_and_repairs_drift():
    stock = stock_with(on_hand=5)
    out = StringIO()
    call_command("inventory_check", stdout=out)
    assert "All stock counters agree" in out.getvalue()

    Stock.objects.filter(pk=stock.pk).update(allocated=2)
    out = StringIO()
    with pytest.raises(CommandError, match="Run with --repair"):
        call_command("inventory_check", stdout=out)
    assert f"stock {stock.pk}: allocated is 2, rows say 0 (not repaired)" in out.getvalue()

    out = StringIO()
    call_command("inventory_check", "--repair", stdout=out)
    assert "Repaired 1 counter(s)." in out.getvalue()
    stock.refresh_from_db()
    assert stock.allocated == 0


@pytest.mark.django_db
def test_beat_proves_the_counters_and_reports_drift_without_repairing(caplog):
    from inventory.tasks import inventory_reconcile_task

    entry = settings.CELERY_BEAT_SCHEDULE["inventory-reconcile"]
    assert entry["task"] == inventory_reconcile_task.name
    stock = stock_with(on_hand=5)
    assert inventory_reconcile_task.apply().get() == 0
    Stock.objects.filter(pk=stock.pk).update(reserved=2)  # no reservation behind it
    assert inventory_reconcile_task.apply().get() == 1
    assert any(
        r.levelname == "ERROR" and "Inventory drift" in r.getMessage() for r in caplog.records
    )
    assert Stock.objects.get(pk=stock.pk).reserved == 2  # reported, not repaired
