"""Building blocks every inventory service shares: input checks, guarded counter updates,
reservation release and ledger rows. Callers hold the stock row locks (`inventory.locks`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction

from catalog.models import ProductVariant
from inventory.models import MovementReason, Reservation, Stock, StockMovement, Warehouse
from inventory.services.contracts import MAX_LINE_QUANTITY
from shop.core.db import hot_cursor
from shop.core.errors import Conflict, NotFound, ValidationError


def quantity_validate(value: object, *, field: str = "quantity") -> int:
    """A whole number of units, 1..MAX_LINE_QUANTITY; anything else is refused with a message."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{field} must be a whole number of units.", fields={field: ["Enter a whole number."]}
        )
    if value <= 0:
        raise ValidationError(
            f"{field} must be at least 1.", fields={field: ["Enter a quantity of at least 1."]}
        )
    if value > MAX_LINE_QUANTITY:
        raise ValidationError(
            f"{field} may be at most {MAX_LINE_QUANTITY}.",
            fields={field: [f"Enter at most {MAX_LINE_QUANTITY}."]},
        )
    return value


def id_validate(value: object, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(
            f"{field} must be a positive integer id.", fields={field: ["Invalid id."]}
        )
    return value


def stock_get_or_create(*, warehouse: Warehouse, variant: ProductVariant) -> Stock:
    """The stock row of a variant in a warehouse, created on first use. A warehouse only stocks
    its own seller's variants."""
    if warehouse.seller_id != variant.product.seller_id:
        raise NotFound("No such warehouse for this product's seller.")
    try:
        with transaction.atomic():
            stock, _ = Stock.objects.get_or_create(
                variant=variant,
                warehouse=warehouse,
                defaults={"backorder_allowed": variant.allow_backorder},
            )
    except IntegrityError:
        stock = Stock.objects.get(variant=variant, warehouse=warehouse)
    return stock


def holder_validate(holder: object) -> str:
    if not isinstance(holder, str) or not holder.strip() or len(holder) > 100:
        raise ValidationError(
            "holder must be a non-empty string of at most 100 characters.",
            fields={"holder": ["Invalid holder."]},
        )
    return holder


# DELETE ... RETURNING for `reservations_take` (the table name is fixed by the model's Meta)
_TAKE_SQL = (
    "DELETE FROM inventory_reservation WHERE id IN ("
    "SELECT id FROM inventory_reservation WHERE holder = %s UNION ALL "
    "SELECT id FROM inventory_reservation WHERE stock_id = ANY(%s::bigint[]) AND expires_at <= %s) "
    "RETURNING id, holder, stock_id, quantity, expires_at"
)


class CounterGuardFailed(Conflict):
    """A guarded UPDATE matched no row: the counters are not what the locked read said. Under the
    locking protocol this cannot happen; if it does, nothing is written and the drift is
    reported."""


# The guarded UPDATE of `stock_counters_move`. Raw SQL: it runs several times per checkout and
# the ORM spent more CPU composing it than PostgreSQL spends running it.
_COUNTERS_MOVE_SQL = """
UPDATE inventory_stock
SET on_hand = on_hand + %(on_hand)s, allocated = allocated + %(allocated)s,
    reserved = reserved + %(reserved)s, updated_at = now()
WHERE id = %(id)s
  AND on_hand + %(on_hand)s >= 0 AND allocated + %(allocated)s >= 0
  AND reserved + %(reserved)s >= 0
  AND (%(claims_grow)s = false OR backorder_allowed
       OR on_hand + %(on_hand)s >= allocated + %(allocated)s + reserved + %(reserved)s)
"""


def stock_counters_move(
    stock: Stock, *, on_hand: int = 0, allocated: int = 0, reserved: int = 0
) -> None:
    """Move the counters of a locked stock row with one guarded UPDATE and mirror the change on
    the in-memory row. The WHERE clause re-states the invariant for the new values: every counter
    stays >= 0 and, when claims grow relative to on_hand, the units must be free right now
    (unless the row allows backorders). A rowcount of 0 raises and the transaction rolls back."""
    params = {
        "id": stock.pk,
        "on_hand": on_hand,
        "allocated": allocated,
        "reserved": reserved,
        "claims_grow": allocated + reserved - on_hand > 0,
    }
    with hot_cursor() as cursor:
        cursor.execute(_COUNTERS_MOVE_SQL, params)
        updated = cursor.rowcount
    if updated != 1:
        raise CounterGuardFailed(
            f"Stock {stock.pk} changed unexpectedly; nothing was written. "
            "Run `manage.py inventory_check` and retry."
        )
    stock.on_hand += on_hand
    stock.allocated += allocated
    stock.reserved += reserved


def reservations_release(
    reservations: Iterable[Reservation], *, stocks_by_id: dict[int, Stock]
) -> int:
    """Delete reservation rows and give their units back, one guarded UPDATE per stock row (in
    pk order). Every stock row must be locked by the caller. Returns the units released."""
    rows = list(reservations)
    if not rows:
        return 0
    Reservation.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return reservation_units_return(rows, stocks_by_id=stocks_by_id)


def reservations_take(
    *, holder: str, stocks_by_id: dict[int, Stock], now: datetime
) -> list[Reservation]:
    """Delete, in one round trip, the holder's reservations and the expired ones on the locked
    rows, and return them (pk order) so the caller gives their units back with
    `reservation_units_return` or converts them. Raw SQL for DELETE ... RETURNING, which the ORM
    lacks; each UNION half uses its own index (holder; stock + expires_at)."""
    with hot_cursor() as cursor:
        cursor.execute(_TAKE_SQL, [holder, list(stocks_by_id), now])
        rows = cursor.fetchall()
    return sorted(
        (
            Reservation(id=pk, holder=h, stock_id=stock_id, quantity=q, expires_at=exp)
            for pk, h, stock_id, q, exp in rows
        ),
        key=lambda r: r.pk,
    )


# One statement whatever the number of rows (arrays unnested), so it is prepared once.
_RESERVATIONS_INSERT_SQL = """
INSERT INTO inventory_reservation (holder, stock_id, quantity, expires_at, created_at, updated_at)
SELECT %s, stock_id, quantity, %s, now(), now()
FROM unnest(%s::bigint[], %s::integer[]) AS t(stock_id, quantity)
"""


def reservations_insert(
    *, holder: str, units_by_stock: dict[int, int], expires_at: datetime
) -> None:
    """Write the holder's reservation rows (stock pk order). The caller holds the stock locks and
    has already moved the `reserved` counters."""
    stock_ids = sorted(units_by_stock)
    with hot_cursor() as cursor:
        cursor.execute(
            _RESERVATIONS_INSERT_SQL,
            [holder, expires_at, stock_ids, [units_by_stock[s] for s in stock_ids]],
        )


def reservation_units_return(
    reservations: Iterable[Reservation], *, stocks_by_id: dict[int, Stock]
) -> int:
    """Give back the units of reservations already deleted: one guarded UPDATE per stock row,
    in pk order. Returns the units."""
    per_stock: dict[int, int] = defaultdict(int)
    for r in reservations:
        per_stock[r.stock_id] += r.quantity
    for stock_id in sorted(per_stock):
        stock_counters_move(stocks_by_id[stock_id], reserved=-per_stock[stock_id])
    return sum(per_stock.values())


def expired_reservations_release(*, stocks_by_id: dict[int, Stock], now: datetime) -> int:
    """Lazy expiry: release expired reservations on rows the caller has locked anyway."""
    expired = Reservation.objects.filter(stock_id__in=list(stocks_by_id), expires_at__lte=now)
    return reservations_release(expired, stocks_by_id=stocks_by_id)


def movement_record(
    stock: Stock,
    *,
    reason: MovementReason,
    delta: int,
    actor=None,
    reference: str = "",
    note: str = "",
) -> StockMovement:
    """Write the ledger row for an on_hand change already applied to `stock` (in memory too)."""
    return StockMovement.objects.create(
        stock=stock,
        reason=reason,
        delta=delta,
        on_hand_after=stock.on_hand,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reference=reference[:100],
        note=note[:500],
    )
