"""Forecast runs: daily demand per stock row (variant x warehouse) from the sales history,
forecast by `purchasing.engine`, turned into reorder advice by `purchasing.policy`.

Sales are the units allocated to order lines (`inventory.Allocation`, less what was cancelled)
on the day of allocation, in the warehouse that serves them. A day that ended with nothing free
to sell (on hand per the ledger, less units sold and not yet shipped) and sold nothing is a
stock-out: its demand is unknown (censored), not zero, so it is
filled with the mean of the uncensored days before it.

A run walks stock ids in ascending order in chunks; each chunk's forecasts and the run's
`cursor`/`done` are written in one transaction under the run's row lock. A worker killed
mid-chunk loses only that chunk's work; the next execution (the redelivered task, or beat's
`forecast_runs_resume_task`) continues after the cursor.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from inventory.models import Allocation, MovementReason, Stock, StockMovement
from inventory.selectors import stock_available_expression, stock_incoming_subquery
from purchasing.models import (
    DemandForecast,
    ForecastRun,
    ForecastRunStatus,
    PurchasingSettings,
    SupplierItem,
)
from purchasing.policy import reorder_advise
from sellers.models import Seller
from shop.core.errors import NotFound
from shop.core.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

HISTORY_DAYS = 365
CHART_HISTORY_DAYS = 56
DEFAULT_SETTINGS = PurchasingSettings(service_level=Decimal("0.95"), review_days=7)


def _stocks(run: ForecastRun):
    condition = Q(warehouse__is_active=True, warehouse__seller_id=F("variant__product__seller_id"))
    if run.seller_id is not None:
        condition &= Q(warehouse__seller_id=run.seller_id)
    return Stock.objects.filter(condition)


def forecast_run_start(*, seller: Seller | None, horizon_days: int = 28) -> ForecastRun:
    """Queue a run over `seller`'s stock rows (None: every seller's). A run of the same scope
    already queued or running is returned instead of starting a second one."""
    with transaction.atomic():
        existing = (
            ForecastRun.objects.select_for_update()
            .filter(seller=seller, status__in=[ForecastRunStatus.QUEUED, ForecastRunStatus.RUNNING])
            .first()
        )
        if existing is not None:
            return existing
        run = ForecastRun.objects.create(seller=seller, horizon_days=horizon_days)
        run.total = _stocks(run).count()
        run.save(update_fields=["total"])
        outbox_enqueue(
            task="purchasing.tasks.forecast_run_execute_task",
            kwargs={"run_id": run.pk},
        )
    return run


@dataclass(frozen=True)
class StockHistory:
    stock_id: int
    days: list[datetime.date]
    units: np.ndarray  # demand per day, censored days filled
    censored: int


def _history(stock_ids: list[int], today: datetime.date) -> dict[int, StockHistory]:
    """Daily demand per stock row over the last HISTORY_DAYS, from its first activity on."""
    from purchasing.engine import censored_fill

    since = today - datetime.timedelta(days=HISTORY_DAYS)
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time()))
    sales: dict[int, dict[datetime.date, int]] = defaultdict(dict)
    for row in (
        Allocation.objects.filter(stock_id__in=stock_ids, created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("stock_id", "day")
        .annotate(units=Sum(F("quantity") - F("cancelled_quantity")))
        .order_by()
    ):
        sales[row["stock_id"]][row["day"]] = row["units"]
    moves: dict[int, list[tuple[datetime.date, int]]] = defaultdict(list)
    shipped: dict[int, dict[datetime.date, int]] = defaultdict(lambda: defaultdict(int))
    # of the ledger before the window only its last row matters (the on_hand it left, and that
    # there was activity): one row per stock, so the read is bounded by the window's months
    # (the partition key) rather than the whole history
    before = StockMovement.objects.filter(stock=OuterRef("pk"), created_at__lt=start).order_by(
        "-created_at", "-id"
    )
    for stock_id, at, after in (
        Stock.objects.filter(pk__in=stock_ids)
        .annotate(
            at=Subquery(before.values("created_at")[:1]),
            after=Subquery(before.values("on_hand_after")[:1]),
        )
        .filter(at__isnull=False)
        .values_list("pk", "at", "after")
    ):
        moves[stock_id].append((timezone.localdate(at), after))
    for stock_id, at, after, reason, delta in (
        StockMovement.objects.filter(stock_id__in=stock_ids, created_at__gte=start)
        .order_by("stock_id", "created_at", "id")
        .values_list("stock_id", "created_at", "on_hand_after", "reason", "delta")
    ):
        day = timezone.localdate(at)
        moves[stock_id].append((day, after))
        if reason == MovementReason.SALE:
            shipped[stock_id][day] -= delta
    out = {}
    for stock_id in stock_ids:
        firsts = list(sales[stock_id]) + [d for d, _ in moves[stock_id][:1]]
        if not firsts:
            continue
        first = max(min(firsts), since)
        days = [first + datetime.timedelta(days=i) for i in range((today - first).days)]
        if not days:
            continue
        units = np.array([float(sales[stock_id].get(day, 0)) for day in days])
        # units free to sell at the end of each day: on hand (the ledger) less what was sold
        # and not yet shipped
        free_at_end = []
        ledger, pos, on_hand, owed = moves[stock_id], 0, 0, 0.0
        for day, sold in zip(days, units, strict=True):
            while pos < len(ledger) and ledger[pos][0] <= day:
                on_hand = ledger[pos][1]
                pos += 1
            owed += sold - shipped[stock_id].get(day, 0)
            free_at_end.append(on_hand - owed)
        censored_mask = (np.array(free_at_end) <= 0) & (units == 0)
        filled = censored_fill(units, censored_mask)
        out[stock_id] = StockHistory(stock_id, days, filled, int(censored_mask.sum()))
    return out


def _chunk_forecast(run: ForecastRun, stocks: list[Stock], today: datetime.date) -> list:
    # statsforecast and pandas take seconds to import: only processes that forecast load them
    import pandas as pd

    from purchasing import engine

    histories = _history([s.pk for s in stocks], today)
    frames = [
        pd.DataFrame({"unique_id": h.stock_id, "ds": pd.to_datetime(h.days), "y": h.units})
        for h in histories.values()
    ]
    forecasts = engine.forecast_panel(pd.concat(frames), horizon=run.horizon_days) if frames else {}
    seller_ids = {s.warehouse.seller_id for s in stocks}
    targets = {p.seller_id: p for p in PurchasingSettings.objects.filter(seller_id__in=seller_ids)}
    items: dict[int, SupplierItem] = {}
    for supplier_item in (
        SupplierItem.objects.filter(
            variant_id__in=[s.variant_id for s in stocks], supplier__is_active=True
        )
        .select_related("supplier")
        .order_by("-id")
    ):
        # lowest id last: the supplier listed first wins
        items[supplier_item.variant_id] = supplier_item
    rows = []
    horizon_days = [today + datetime.timedelta(days=i) for i in range(run.horizon_days)]
    for stock in stocks:
        fc = forecasts.get(stock.pk)
        history = histories.get(stock.pk)
        target = targets.get(stock.warehouse.seller_id, DEFAULT_SETTINGS)
        item: SupplierItem | None = items.get(stock.variant_id)
        available, incoming = stock.available_now, stock.incoming  # type: ignore[attr-defined]
        mean, sigma = (fc.mean_daily, fc.sigma) if fc else (0.0, 0.0)
        advice = reorder_advise(
            mean_daily=mean,
            sigma_daily=sigma,
            lead_time_days=item.supplier.lead_time_days if item else 0,
            lead_time_sd_days=float(item.supplier.lead_time_sd_days) if item else 0.0,
            service_level=float(target.service_level),
            review_days=target.review_days,
            available=available,
            incoming=incoming,
            min_order_quantity=item.min_order_quantity if item else 1,
            case_pack=item.case_pack if item else 1,
            today=today,
        )
        reason = advice.reason
        if advice.quantity and item is None:
            reason += " No supplier sells this variant yet: add one to order it."
        rows.append(
            DemandForecast(
                stock=stock,
                seller_id=stock.warehouse.seller_id,
                run=run,
                model=fc.model if fc else "none (no history)",
                backtest_wape=(
                    Decimal(str(round(fc.wape, 4))) if fc and fc.wape is not None else None
                ),
                history_days=len(history.days) if history else 0,
                censored_days=history.censored if history else 0,
                mean_daily=Decimal(str(round(mean, 4))),
                sigma_daily=Decimal(str(round(sigma, 4))),
                points=(
                    [
                        [
                            d.isoformat(),
                            round(float(m), 3),
                            round(float(lo), 3),
                            round(float(hi), 3),
                        ]
                        for d, m, lo, hi in zip(horizon_days, fc.mean, fc.lo, fc.hi, strict=True)
                    ]
                    if fc
                    else []
                ),
                history=(
                    [
                        [d.isoformat(), round(float(u), 3)]
                        for d, u in zip(
                            history.days[-CHART_HISTORY_DAYS:],
                            history.units[-CHART_HISTORY_DAYS:],
                            strict=True,
                        )
                    ]
                    if history
                    else []
                ),
                available=available,
                incoming=incoming,
                safety_stock=advice.safety_stock,
                reorder_point=advice.reorder_point,
                order_up_to=advice.order_up_to,
                suggested_quantity=advice.quantity if item else 0,
                reorder_by=advice.reorder_by,
                supplier=item.supplier if item else None,
                reason=reason[:300],
            )
        )
    return rows


FORECAST_FIELDS = [
    f.name
    for f in DemandForecast._meta.concrete_fields
    if f.name not in ("id", "stock", "created_at")
]


def forecast_run_execute(*, run_id: int, max_chunks: int | None = None) -> ForecastRun:
    """Forecast the run's stock rows after its cursor, chunk by chunk, until done (or
    `max_chunks` chunks, for callers that want to hand back). Safe to call again and
    concurrently: each chunk holds the run's row lock and starts from the stored cursor."""
    chunks = 0
    chunk_size = settings.FORECAST_CHUNK_SIZE
    while max_chunks is None or chunks < max_chunks:
        with transaction.atomic():
            run = ForecastRun.objects.select_for_update().filter(pk=run_id).first()
            if run is None:
                raise NotFound("No such forecast run.")
            if run.status == ForecastRunStatus.DONE:
                return run
            now = timezone.now()
            stocks = list(
                _stocks(run)
                .filter(pk__gt=run.cursor)
                .select_related("warehouse")
                .annotate(
                    available_now=stock_available_expression(), incoming=stock_incoming_subquery()
                )
                .order_by("pk")[:chunk_size]
            )
            run.status = ForecastRunStatus.RUNNING
            run.heartbeat_at = now
            if not stocks:
                # drafting belongs to the same transaction as DONE: it happens once per run
                from purchasing.services.orders import purchase_orders_draft_from_suggestions

                run.status = ForecastRunStatus.DONE
                run.finished_at = now
                run.total = run.done
                run.drafted_orders = purchase_orders_draft_from_suggestions(run=run)
                run.save()
                return run
            rows = _chunk_forecast(run, stocks, timezone.localdate(now))
            DemandForecast.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["stock"],
                update_fields=FORECAST_FIELDS,
            )
            run.cursor = stocks[-1].pk
            run.done += len(stocks)
            run.total = max(run.total, run.done)
            run.save(update_fields=["status", "heartbeat_at", "cursor", "done", "total"])
        chunks += 1
    return ForecastRun.objects.get(pk=run_id)


def forecast_runs_resume() -> int:
    """Beat: runs whose worker went silent (no heartbeat for FORECAST_STALE_SECONDS) or that
    were queued that long without starting get their task again. Returns how many."""
    stale = timezone.now() - datetime.timedelta(seconds=settings.FORECAST_STALE_SECONDS)
    runs = list(
        ForecastRun.objects.filter(
            Q(status=ForecastRunStatus.RUNNING, heartbeat_at__lt=stale)
            | Q(status=ForecastRunStatus.QUEUED, created_at__lt=stale, heartbeat_at__isnull=True)
        ).values_list("pk", flat=True)
    )
    for run_id in runs:
        ForecastRun.objects.filter(pk=run_id).update(heartbeat_at=timezone.now())
        outbox_enqueue(
            task="purchasing.tasks.forecast_run_execute_task",
            kwargs={"run_id": run_id},
        )
    return len(runs)
