"""Forecast runs over the shop's sales: demand per variant x warehouse, stock-outs as censored
demand, reorder suggestions drafted into purchase orders once, and a run interrupted mid-way
resumes after its cursor and finishes once."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import Stock, StockMovement
from inventory.services import stock_write_off
from purchasing.models import DemandForecast, ForecastRunStatus, PurchaseOrder
from purchasing.services import forecast_run_execute, forecast_run_start
from purchasing.services.forecasting import _history
from tests.factories import ProductVariantFactory
from tests.factories.inventory import stock_with
from tests.purchasing.conftest import sell


def test_sales_become_a_forecast_and_a_drafted_purchase_order(
    shop, settings, django_capture_on_commit_callbacks
):
    # 70 days of 4 units a day; 1000 on hand minus 280 sold -> 720 available, plenty
    for days_ago in range(70, 0, -1):
        sell(shop.stock, 4, days_ago=days_ago)
    run = forecast_run_start(seller=shop.seller)
    run = forecast_run_execute(run_id=run.pk)
    assert run.status == ForecastRunStatus.DONE and run.done == run.total == 1
    fc = DemandForecast.objects.get(stock=shop.stock)
    assert fc.mean_daily == Decimal("4.0000")
    assert fc.backtest_wape == Decimal("0")
    assert fc.available == 720 and fc.suggested_quantity == 0
    # lead time 5, review 7, sigma 0: ROP 20, up to 48
    assert (fc.safety_stock, fc.reorder_point, fc.order_up_to) == (0, 20, 48)

    # sell down to 10 available: below the reorder point -> a drafted order of up to 48 - 10
    # = 38 units, raised to the MOQ 50 and whole cases of 12 = 60
    stock_write_off(stock=Stock.objects.get(pk=shop.stock.pk), quantity=710, reason="damaged")
    with django_capture_on_commit_callbacks(execute=False):
        run = forecast_run_start(seller=shop.seller)
        run = forecast_run_execute(run_id=run.pk)
    fc.refresh_from_db()
    assert fc.suggested_quantity == 60 and "below the reorder point 20" in fc.reason
    assert run.drafted_orders == 1
    order = PurchaseOrder.objects.get(seller=shop.seller)
    assert list(order.lines.values_list("quantity", flat=True)) == [60]
    # the open order covers the item: the next run drafts nothing more
    run = forecast_run_start(seller=shop.seller)
    run = forecast_run_execute(run_id=run.pk)
    assert run.drafted_orders == 0 and PurchaseOrder.objects.count() == 1


def test_stock_out_days_are_censored_not_zero_demand(shop):
    """Two items sell 3 a day for ten days; one then runs dry for ten days, the other does
    not and sells nothing. The dry days are unknown demand, filled from the days before."""
    ran_dry, idle = (
        stock_with(
            variant=ProductVariantFactory(product__seller=shop.seller),
            warehouse=shop.warehouse,
            on_hand=on_hand,
        )
        for on_hand in (30, 100)
    )
    StockMovement.objects.filter(stock__in=[ran_dry, idle]).update(
        created_at=timezone.now() - datetime.timedelta(days=20)
    )
    for stock in (ran_dry, idle):
        for days_ago in range(20, 10, -1):
            sell(stock, 3, days_ago=days_ago)
    history = _history([ran_dry.pk, idle.pk], timezone.localdate())
    assert history[ran_dry.pk].censored == 10
    assert history[ran_dry.pk].units[-10:].tolist() == [3.0] * 10
    assert history[idle.pk].censored == 0
    assert history[idle.pk].units[-10:].tolist() == [0.0] * 10


@pytest.mark.django_db
def test_a_run_killed_mid_way_resumes_and_finishes_once(shop, settings):
    settings.FORECAST_CHUNK_SIZE = 2
    stocks = [shop.stock] + [
        stock_with(
            variant=ProductVariantFactory(product__seller=shop.seller),
            warehouse=shop.warehouse,
            on_hand=10,
        )
        for _ in range(4)
    ]
    for stock in stocks:
        sell(stock, 1, days_ago=3)
    run = forecast_run_start(seller=shop.seller)
    assert run.total == 5
    # the worker dies after its first chunk (2 of 5 rows stored)
    run = forecast_run_execute(run_id=run.pk, max_chunks=1)
    assert (run.status, run.done, run.cursor) == (ForecastRunStatus.RUNNING, 2, stocks[1].pk)
    assert DemandForecast.objects.count() == 2
    first_stored = set(DemandForecast.objects.values_list("pk", "updated_at"))
    # a second start while it runs returns the same run, not a new one
    assert forecast_run_start(seller=shop.seller).pk == run.pk
    run = forecast_run_execute(run_id=run.pk)
    assert (run.status, run.done, run.total) == (ForecastRunStatus.DONE, 5, 5)
    assert DemandForecast.objects.filter(run=run).count() == 5
    # the rows of the first chunk were not forecast again
    assert first_stored <= set(DemandForecast.objects.values_list("pk", "updated_at"))
    # running a finished run again does nothing
    again = forecast_run_execute(run_id=run.pk)
    assert again.done == 5 and again.finished_at == run.finished_at


def test_a_started_run_goes_through_the_outbox_to_celery_and_finishes(
    shop, celery_eager, django_capture_on_commit_callbacks
):
    sell(shop.stock, 2, days_ago=5)
    with django_capture_on_commit_callbacks(execute=True):
        run = forecast_run_start(seller=shop.seller)
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == (ForecastRunStatus.DONE, 1, 1)
    assert DemandForecast.objects.filter(stock=shop.stock, run=run).exists()


def test_beat_sends_a_stalled_run_to_a_worker_again(shop, settings):
    from purchasing.models import ForecastRun
    from purchasing.services import forecast_runs_resume
    from shop.core.outbox import OutboxMessage

    run = forecast_run_start(seller=shop.seller)
    run = forecast_run_execute(run_id=run.pk, max_chunks=0)
    ForecastRun.objects.filter(pk=run.pk).update(
        status=ForecastRunStatus.RUNNING,
        heartbeat_at=timezone.now()
        - datetime.timedelta(seconds=settings.FORECAST_STALE_SECONDS + 1),
    )
    before = OutboxMessage.objects.filter(task="purchasing.tasks.forecast_run_execute_task").count()
    assert forecast_runs_resume() == 1
    after = OutboxMessage.objects.filter(task="purchasing.tasks.forecast_run_execute_task").count()
    assert after == before + 1
    assert forecast_runs_resume() == 0  # its heartbeat was renewed: not sent twice


def test_the_nightly_run_covers_every_seller(shop, django_capture_on_commit_callbacks):
    from purchasing.models import ForecastRun
    from purchasing.tasks import forecast_nightly_task
    from tests.factories import SellerFactory
    from tests.factories.inventory import WarehouseFactory

    other = SellerFactory()
    theirs = stock_with(
        variant=ProductVariantFactory(product__seller=other),
        warehouse=WarehouseFactory(seller=other),
        on_hand=3,
    )
    with django_capture_on_commit_callbacks(execute=False):
        forecast_nightly_task()
    run = ForecastRun.objects.get(seller=None)
    run = forecast_run_execute(run_id=run.pk)
    assert run.done == 2
    assert set(DemandForecast.objects.values_list("seller_id", flat=True)) == {
        shop.seller.pk,
        other.pk,
    }
    assert DemandForecast.objects.get(stock=theirs).seller_id == other.pk
