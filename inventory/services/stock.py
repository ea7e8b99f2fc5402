"""Warehouse management and on_hand changes made by people: receive, adjust, transfer, write
off; the backorder flag; reconciliation of counters against rows and the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import ProductVariant
from inventory import locks
from inventory.models import (
    Allocation,
    MovementReason,
    Reservation,
    Stock,
    StockMovement,
    Warehouse,
)
from inventory.services.common import (
    expired_reservations_release,
    movement_record,
    quantity_validate,
    stock_counters_move,
    stock_get_or_create,
)
from inventory.services.contracts import MAX_LINE_QUANTITY
from search.services import search_documents_mark_dirty
from sellers.models import Seller
from shop.core.countries import country_code_parse
from shop.core.errors import Conflict, NotFound, ValidationError
from shop.core.geocoding import geocode_offline, geocode_online, online_geocoder_configured
from shop.core.outbox import outbox_enqueue

WAREHOUSE_FIELDS = (
    "code",
    "name",
    "line1",
    "city",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "priority",
    "is_active",
)


def _warehouse_values_check(values: dict[str, Any]) -> None:
    unknown = set(values) - set(WAREHOUSE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown warehouse field(s): {', '.join(sorted(unknown))}.")
    if values.get("country"):
        values["country"] = country_code_parse(values["country"])
    for name, bound in (("latitude", 90), ("longitude", 180)):
        value = values.get(name)
        if value is not None and not -bound <= Decimal(value) <= bound:
            raise ValidationError(
                f"{name} must be between -{bound} and {bound}.",
                fields={name: [f"Enter a value between -{bound} and {bound}."]},
            )


def _warehouse_locate(warehouse: Warehouse) -> bool:
    """Coordinates are the seller's to give; left empty, they come from the warehouse's city
    and postal code (shop.core.geocoding, offline). Returns whether it was geocoded."""
    if warehouse.latitude is not None and warehouse.longitude is not None:
        return False
    point = geocode_offline(
        country=warehouse.country, city=warehouse.city, postal_code=warehouse.postal_code
    )
    warehouse.latitude = point.latitude if point else None
    warehouse.longitude = point.longitude if point else None
    return True


def _geocode_online_after_commit(warehouse: Warehouse) -> None:
    if online_geocoder_configured():
        outbox_enqueue(
            task="inventory.tasks.warehouse_geocode_task", kwargs={"warehouse_id": warehouse.pk}
        )


def warehouse_create(*, seller: Seller, code: str, name: str, **values: Any) -> Warehouse:
    _warehouse_values_check(values)
    warehouse = Warehouse(seller=seller, code=code, name=name, **values)
    geocoded = _warehouse_locate(warehouse)
    try:
        with transaction.atomic():
            warehouse.save()
            if geocoded:
                _geocode_online_after_commit(warehouse)
            return warehouse
    except IntegrityError as exc:
        raise ValidationError(
            f"You already have a warehouse with code {code!r}.",
            fields={"code": ["This code is already used by another of your warehouses."]},
        ) from exc


def warehouse_update(*, warehouse: Warehouse, **values: Any) -> Warehouse:
    _warehouse_values_check(values)
    for name, value in values.items():
        setattr(warehouse, name, value)
    geocoded = _warehouse_locate(warehouse)
    try:
        with transaction.atomic():
            warehouse.save()
            if geocoded:
                _geocode_online_after_commit(warehouse)
    except IntegrityError as exc:
        raise ValidationError(
            "You already have a warehouse with this code.",
            fields={"code": ["This code is already used by another of your warehouses."]},
        ) from exc
    return warehouse


def warehouse_geocode(*, warehouse_id: int) -> None:
    """Refine a geocoded warehouse's point with the online geocoder (a task: network, no lock).
    Coordinates the seller typed in are not touched: only ones the offline data gave."""
    warehouse = Warehouse.objects.filter(pk=warehouse_id).first()
    if warehouse is None:
        return
    offline = geocode_offline(
        country=warehouse.country, city=warehouse.city, postal_code=warehouse.postal_code
    )
    if offline is not None and (warehouse.latitude, warehouse.longitude) != (
        offline.latitude,
        offline.longitude,
    ):
        return
    point = geocode_online(
        country=warehouse.country,
        city=warehouse.city,
        postal_code=warehouse.postal_code,
        line1=warehouse.line1,
    )
    if point is not None:
        Warehouse.objects.filter(pk=warehouse.pk).update(
            latitude=point.latitude, longitude=point.longitude
        )


def warehouse_delete(*, warehouse: Warehouse) -> None:
    """Only a warehouse that never held stock can be deleted; others are deactivated instead, so
    the ledger keeps its history."""
    if warehouse.stocks.exists():
        raise Conflict(
            "This warehouse has stock history and cannot be deleted; deactivate it instead."
        )
    warehouse.delete()


def _locked(stock_ids: list[int]) -> dict[int, Stock]:
    """Lock rows about to lose units, releasing their expired holds first (lazy expiry) so those
    units count as free."""
    stocks_by_id = {s.pk: s for s in locks.stocks_lock(stock_ids=stock_ids)}
    expired_reservations_release(stocks_by_id=stocks_by_id, now=timezone.now())
    return stocks_by_id


def _search_in_stock_changed(*, variant_id: int) -> None:
    """OpenSearch documents carry `in_stock` (PostgreSQL search reads stock live): on_hand or
    the backorder policy moved, so the product is flagged, after commit."""
    search_documents_mark_dirty(condition=Q(variants__pk=variant_id), after_commit=True)


def _reason_require(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("Say why (reason).", fields={"reason": ["This field is required."]})
    return reason.strip()


def stock_receive(
    *,
    warehouse: Warehouse,
    variant: ProductVariant,
    quantity: int,
    actor=None,
    reason: str = "",
    reference: str = "",
) -> StockMovement:
    """Goods arrived: on_hand goes up (nothing is taken away, so expired holds can wait for the
    sweeper)."""
    quantity_validate(quantity)
    stock = stock_get_or_create(warehouse=warehouse, variant=variant)
    with transaction.atomic():
        stock = locks.stocks_lock(stock_ids=[stock.pk]).get()
        stock_counters_move(stock, on_hand=quantity)
        _search_in_stock_changed(variant_id=stock.variant_id)
        return movement_record(
            stock,
            reason=MovementReason.RECEIVE,
            delta=quantity,
            actor=actor,
            reference=reference,
            note=reason,
        )


def stock_adjust(
    *, stock: Stock, delta: int, actor=None, reason: str, reference: str = ""
) -> StockMovement:
    """A counted correction (+/-). Stock promised to orders and live checkouts cannot be
    adjusted away."""
    reason = _reason_require(reason)
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise ValidationError(
            "delta must be a non-zero whole number.", fields={"delta": ["Invalid."]}
        )
    quantity_validate(abs(delta), field="delta")
    with transaction.atomic():
        stock = _locked([stock.pk])[stock.pk]
        return _adjustment_book(stock, delta=delta, actor=actor, reason=reason, reference=reference)


def _adjustment_book(
    stock: Stock, *, delta: int, actor, reason: str, reference: str
) -> StockMovement:
    """Move on_hand of a locked row by `delta` and write its ledger row; promised units stay."""
    _removal_check(stock, -delta)
    stock_counters_move(stock, on_hand=delta)
    _search_in_stock_changed(variant_id=stock.variant_id)
    return movement_record(
        stock,
        reason=MovementReason.ADJUSTMENT,
        delta=delta,
        actor=actor,
        reference=reference,
        note=reason,
    )


def stock_count_set(
    *,
    warehouse: Warehouse,
    variant: ProductVariant,
    on_hand: int,
    actor=None,
    reason: str,
    reference: str = "",
) -> StockMovement | None:
    """A stock take: on_hand becomes the counted number and the difference is booked as an
    adjustment. Counting what is already there writes nothing (and creates no empty stock row);
    stock promised to orders and live checkouts cannot be counted away."""
    reason = _reason_require(reason)
    if isinstance(on_hand, bool) or not isinstance(on_hand, int) or on_hand < 0:
        raise ValidationError(
            "on_hand must be a whole number, 0 or more.", fields={"on_hand": ["Invalid."]}
        )
    if on_hand > MAX_LINE_QUANTITY:
        raise ValidationError(
            f"on_hand may be at most {MAX_LINE_QUANTITY}.",
            fields={"on_hand": [f"Enter at most {MAX_LINE_QUANTITY}."]},
        )
    existing = Stock.objects.filter(variant=variant, warehouse=warehouse).first()
    if existing is None and on_hand == 0:
        return None
    stock = existing or stock_get_or_create(warehouse=warehouse, variant=variant)
    with transaction.atomic():
        stock = _locked([stock.pk])[stock.pk]
        delta = on_hand - stock.on_hand
        if delta == 0:
            return None
        return _adjustment_book(stock, delta=delta, actor=actor, reason=reason, reference=reference)


def stock_rows_create(*, pairs: Sequence[tuple[Warehouse, ProductVariant]]) -> None:
    """Empty stock rows for many (warehouse, variant) pairs in one INSERT, for bulk writers
    about to count stock into them (the CSV import, for the variants it creates); a row that
    exists already is left as it is. No counter moves, so no lock or ledger row, and nothing
    for search (counting stock into them flags their products). A warehouse only stocks its
    own seller's variants."""
    if any(w.seller_id != v.product.seller_id for w, v in pairs):
        raise NotFound("No such warehouse for this product's seller.")
    Stock.objects.bulk_create(
        (Stock(variant=v, warehouse=w, backorder_allowed=v.allow_backorder) for w, v in pairs),
        ignore_conflicts=True,
    )


def _removal_check(stock: Stock, units: int) -> None:
    if units <= 0:
        return
    if units > stock.on_hand:
        raise Conflict(f"Only {stock.on_hand} on hand; cannot remove {units}.")
    if not stock.backorder_allowed and units > stock.available:
        raise Conflict(
            f"Only {max(stock.available, 0)} of {stock.on_hand} on hand are free; the rest is "
            "promised to orders or live checkouts and cannot be removed."
        )


def stock_write_off(
    *, stock: Stock, quantity: int, actor=None, reason: str, reference: str = ""
) -> StockMovement:
    """Damaged, lost or expired goods leave the books."""
    reason = _reason_require(reason)
    quantity_validate(quantity)
    with transaction.atomic():
        stock = _locked([stock.pk])[stock.pk]
        _removal_check(stock, quantity)
        stock_counters_move(stock, on_hand=-quantity)
        _search_in_stock_changed(variant_id=stock.variant_id)
        return movement_record(
            stock,
            reason=MovementReason.WRITE_OFF,
            delta=-quantity,
            actor=actor,
            reference=reference,
            note=reason,
        )


def stock_transfer(
    *,
    stock: Stock,
    to_warehouse: Warehouse,
    quantity: int,
    actor=None,
    reason: str = "",
) -> tuple[StockMovement, StockMovement]:
    """Move free units between two warehouses of the same seller (two ledger rows, one
    reference)."""
    quantity_validate(quantity)
    if to_warehouse.pk == stock.warehouse_id:
        raise ValidationError(
            "Choose a different warehouse to transfer to.",
            fields={"to_warehouse": ["Choose a warehouse other than the one the stock is in."]},
        )
    if to_warehouse.seller_id != stock.warehouse.seller_id:
        raise NotFound("No such warehouse.")
    with transaction.atomic():
        # Created inside the transaction so a refused transfer leaves no empty row behind.
        target = stock_get_or_create(warehouse=to_warehouse, variant=stock.variant)
        locked = _locked([stock.pk, target.pk])
        source, target = locked[stock.pk], locked[target.pk]
        _removal_check(source, quantity)
        reference = f"transfer:{source.pk}->{target.pk}:{timezone.now():%Y%m%dT%H%M%S%f}"
        stock_counters_move(source, on_hand=-quantity)
        out = movement_record(
            source,
            reason=MovementReason.TRANSFER_OUT,
            delta=-quantity,
            actor=actor,
            reference=reference,
            note=reason,
        )
        stock_counters_move(target, on_hand=quantity)
        into = movement_record(
            target,
            reason=MovementReason.TRANSFER_IN,
            delta=quantity,
            actor=actor,
            reference=reference,
            note=reason,
        )
        return out, into


def stock_threshold_set(*, stock: Stock, threshold: int | None) -> Stock:
    """This row's own low-stock threshold; None falls back to the seller's default."""
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int)
        or not 0 <= threshold <= MAX_LINE_QUANTITY
    ):
        raise ValidationError(
            "The low-stock threshold must be a whole number of units or empty.",
            fields={"low_stock_threshold": [f"Enter 0 to {MAX_LINE_QUANTITY}, or leave empty."]},
        )
    # Not a counter: a plain UPDATE, no stock lock needed.
    Stock.objects.filter(pk=stock.pk).update(low_stock_threshold=threshold)
    stock.low_stock_threshold = threshold
    return stock


def stock_backorder_sync(*, variant: ProductVariant) -> int:
    """Copy the variant's backorder policy onto its stock rows. Turning it off is refused while a
    row is promised beyond what is on hand."""
    with transaction.atomic():
        stock_ids = list(Stock.objects.filter(variant=variant).values_list("pk", flat=True))
        stocks = list(locks.stocks_lock(stock_ids=stock_ids))
        if not variant.allow_backorder:
            over = [s for s in stocks if s.allocated + s.reserved > s.on_hand]
            if over:
                raise Conflict(
                    f"{len(over)} warehouse(s) have more promised than on hand; receive stock "
                    "before turning backorders off."
                )
        _search_in_stock_changed(variant_id=variant.pk)
        return Stock.objects.filter(pk__in=stock_ids).update(
            backorder_allowed=variant.allow_backorder
        )


@dataclass(frozen=True)
class StockDrift:
    stock_id: int
    field: str
    counter: int
    expected: int
    repaired: bool = False

    def describe(self) -> str:
        state = "repaired" if self.repaired else "not repaired"
        return (
            f"stock {self.stock_id}: {self.field} is {self.counter}, rows say {self.expected} "
            f"({state})"
        )


def stock_reconcile(*, repair: bool = False) -> list[StockDrift]:
    """Compare each stock row's counters with the rows behind them: reserved with reservations,
    allocated with outstanding allocations, on_hand with the ledger. With `repair`, counters are
    set from the rows (reserved, allocated) and on_hand drift is booked as an adjustment so the
    ledger matches the counted stock; each repair locks its row and re-checks first."""
    drifts = _drifts_find(Stock.objects.all())
    if not repair or not drifts:
        return drifts
    repaired: list[StockDrift] = []
    for stock_id in sorted({d.stock_id for d in drifts}):
        with transaction.atomic():
            locked = list(locks.stocks_lock(stock_ids=[stock_id]))
            for drift in _drifts_find(Stock.objects.filter(pk__in=[s.pk for s in locked])):
                stock = locked[0]
                if drift.field == "on_hand":
                    StockMovement.objects.create(
                        stock=stock,
                        reason=MovementReason.ADJUSTMENT,
                        delta=drift.counter - drift.expected,
                        on_hand_after=stock.on_hand,
                        note="inventory_check --repair: ledger brought in line with on_hand",
                    )
                else:
                    try:
                        with transaction.atomic():
                            Stock.objects.filter(pk=stock.pk).update(
                                **{drift.field: drift.expected}
                            )
                    except IntegrityError:
                        repaired.append(drift)
                        continue
                repaired.append(
                    StockDrift(drift.stock_id, drift.field, drift.counter, drift.expected, True)
                )
    return repaired


def _drifts_find(stocks) -> list[StockDrift]:
    def total(qs, expr) -> Coalesce:
        return Coalesce(
            Subquery(
                qs.filter(stock=OuterRef("pk")).values("stock").annotate(t=Sum(expr)).values("t")
            ),
            0,
        )

    rows = stocks.annotate(
        rows_reserved=total(Reservation.objects.all(), "quantity"),
        rows_allocated=total(
            Allocation.objects.all(),
            F("quantity") - F("shipped_quantity") - F("cancelled_quantity"),
        ),
        rows_on_hand=total(StockMovement.objects.order_by(), "delta"),
    ).filter(
        ~Q(reserved=F("rows_reserved"))
        | ~Q(allocated=F("rows_allocated"))
        | ~Q(on_hand=F("rows_on_hand"))
    )
    drifts = []
    for s in rows.order_by("pk"):
        for name in ("reserved", "allocated", "on_hand"):
            counter, expected = getattr(s, name), getattr(s, f"rows_{name}")
            if counter != expected:
                drifts.append(StockDrift(s.pk, name, counter, expected))
    return drifts


def stock_movements_carry_forward(
    *, cursor: CursorWrapper, table: str, archived: str, at: datetime
) -> int:
    """Before a month of movements leaves the ledger (partitions_maintain detaches and archives
    its partition `archived`), book per stock row one CARRIED_FORWARD movement of that month's
    sum, dated `at` (the first instant after the month), so `stock_reconcile`'s on_hand ==
    sum(delta) still holds over the rows kept. Runs in the detaching transaction."""
    cursor.execute(
        f"""
        INSERT INTO {table} (created_at, stock_id, reason, delta, on_hand_after, reference, note)
        SELECT %s, stock_id, %s, sum(delta),
               (array_agg(on_hand_after ORDER BY created_at DESC, id DESC))[1], %s, %s
        FROM {archived} GROUP BY stock_id HAVING sum(delta) <> 0
        """,  # noqa: S608 - table names from settings.PARTITIONED_TABLES
        [
            at,
            MovementReason.CARRIED_FORWARD,
            archived[:100],
            f"Sum of the movements archived with {archived}",
        ],
    )
    return cursor.rowcount
