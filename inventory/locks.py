"""Every row lock inventory takes, in one place, so the locking order is visible.

Rule: stock rows are locked with `SELECT ... FOR UPDATE` ordered by primary key, all rows a
transaction needs in one statement. Two transactions that need overlapping rows therefore queue on
the lowest shared pk instead of each holding a row the other waits for (no deadlock). Reservation
and allocation rows are only changed while the lock on their stock row is held, so the stock lock
guards them too.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from catalog.models import Product, ProductVariant
from inventory.models import Allocation, InboundShipment, Reservation, Stock, Warehouse
from shop.core.db import hot_cursor


def stocks_lock(*, stock_ids: Iterable[int]) -> QuerySet[Stock]:
    """Lock the given stock rows (pk order). Evaluate inside `transaction.atomic`."""
    return (
        Stock.objects.select_for_update(of=("self",)).filter(pk__in=list(stock_ids)).order_by("pk")
    )


# Raw SQL because this is the hottest statement of checkout: building and compiling the
# equivalent ORM query (a UNION subquery, three joins) cost more CPU than the database spends on
# the whole transaction. The row set is a UNION in a subquery: an OR of the two conditions would
# make PostgreSQL scan the whole stock table. The stock columns are listed, not `s.*`: the
# statement is prepared (shop.core.db), and a prepared `s.*` fails with "cached plan must not
# change result type" on long-lived connections once a migration adds a column.
_STOCK_ATTNAMES = [f.attname for f in Stock._meta.concrete_fields]
_STOCK_COLUMNS = ", ".join(f"s.{f.column}" for f in Stock._meta.concrete_fields)
_RESERVATION_LOCK_SQL = f"""
SELECT {_STOCK_COLUMNS},
       w.seller_id AS wh_seller_id, w.priority AS wh_priority, w.latitude AS wh_latitude,
       w.longitude AS wh_longitude, w.country AS wh_country, w.is_active AS wh_is_active,
       v.sku AS v_sku, v.is_active AS v_is_active, v.product_id AS v_product_id,
       p.seller_id AS v_seller_id
FROM inventory_stock s
JOIN inventory_warehouse w ON w.id = s.warehouse_id
JOIN catalog_productvariant v ON v.id = s.variant_id
JOIN catalog_product p ON p.id = v.product_id
WHERE s.id IN (
    SELECT s2.id FROM inventory_stock s2
    JOIN inventory_warehouse w2 ON w2.id = s2.warehouse_id
    WHERE s2.variant_id = ANY(%s::bigint[]) AND w2.is_active
    UNION
    SELECT r.stock_id FROM inventory_reservation r WHERE r.holder = %s
)
ORDER BY s.id
FOR UPDATE OF s
"""  # noqa: S608 - the column names come from the model, not from input


def stocks_lock_for_reservation(*, holder: str, variant_ids: Iterable[int]) -> list[Stock]:
    """Lock, in one statement and pk order, the stock rows a reservation may touch: every stock of
    the requested variants in an active warehouse and the rows the holder already holds (they are
    replaced). Each row comes with the warehouse and variant fields the strategies and checks
    read (not locked). The caller re-checks the holder's rows after locking, since they may
    change until then. Evaluate inside `transaction.atomic`."""
    with hot_cursor() as cursor:
        cursor.execute(_RESERVATION_LOCK_SQL, [list(variant_ids), holder])
        names = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    stocks = []
    for row in rows:
        extra = dict(zip(names, row, strict=True))
        s = Stock.from_db("default", _STOCK_ATTNAMES, [extra[name] for name in _STOCK_ATTNAMES])
        s.warehouse = Warehouse(
            id=s.warehouse_id,
            seller_id=extra["wh_seller_id"],
            priority=extra["wh_priority"],
            latitude=extra["wh_latitude"],
            longitude=extra["wh_longitude"],
            country=extra["wh_country"],
            is_active=extra["wh_is_active"],
        )
        s.variant = ProductVariant(
            id=s.variant_id,
            sku=extra["v_sku"],
            is_active=extra["v_is_active"],
            product=Product(id=extra["v_product_id"], seller_id=extra["v_seller_id"]),
        )
        stocks.append(s)
    return stocks


def stocks_lock_for_holder(*, holder: str) -> QuerySet[Stock]:
    """Lock the stock rows the holder has reservations on (pk order)."""
    held = Reservation.objects.filter(holder=holder).values("stock_id")
    return Stock.objects.select_for_update(of=("self",)).filter(pk__in=held).order_by("pk")


def stocks_lock_for_order_lines(*, order_line_ids: Iterable[int]) -> QuerySet[Stock]:
    """Lock the stock rows allocated to the given order lines (pk order)."""
    allocated = Allocation.objects.filter(order_line_id__in=list(order_line_ids)).values("stock_id")
    return Stock.objects.select_for_update(of=("self",)).filter(pk__in=allocated).order_by("pk")


def stocks_lock_expired_skip_locked(*, now, limit: int) -> QuerySet[Stock]:
    """Stock rows with expired reservations that nobody else holds right now (SKIP LOCKED): the
    sweeper never waits behind a checkout; a skipped row is released lazily by whoever holds it,
    or by the next sweep."""
    expired = Reservation.objects.filter(expires_at__lte=now).values("stock_id")
    return (
        Stock.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(pk__in=expired)
        .order_by("pk")[:limit]
    )


def inbound_shipment_lock(*, pk: int) -> InboundShipment:
    """Lock one inbound shipment (with its warehouse loaded, not locked) before receiving or
    cancelling it, so two people cannot book the same delivery twice. Taken before any stock
    row lock. Evaluate inside `transaction.atomic`."""
    return (
        InboundShipment.objects.select_for_update(of=("self",))
        .select_related("warehouse")
        .get(pk=pk)
    )
