"""Checkout holds and order allocations: reserve, extend, release, convert, cancel, ship, return
and expiry. Every function runs in one transaction, locks the stock rows it touches in pk order
(`inventory.locks`), re-reads the counters under the lock and moves them with guarded UPDATEs."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
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
    holder_validate,
    id_validate,
    movement_record,
    quantity_validate,
    reservation_units_return,
    reservations_insert,
    reservations_release,
    reservations_take,
    stock_counters_move,
    stock_get_or_create,
)
from inventory.services.contracts import (
    MAX_LINE_QUANTITY,
    AllocateLine,
    Destination,
    InsufficientStock,
    ReservationExpired,
    ReservationResult,
    ReservedLine,
    ReserveLine,
    WarehouseSplit,
)
from inventory.services.strategies import STRATEGIES, Candidate, Plan, Strategy
from shop.core import db
from shop.core.errors import Conflict, ErrorCode, NotFound, ValidationError

logger = logging.getLogger(__name__)

MAX_TTL_SECONDS = 24 * 3600
_LOCK_ATTEMPTS = 3


class _LockSetChanged(Exception):
    """The holder's rows changed between choosing and locking them (a concurrent call for the
    same holder); the transaction is rolled back and retried with the new set."""


def _ttl(ttl_seconds: int | None) -> timedelta:
    ttl = settings.INVENTORY_RESERVATION_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= MAX_TTL_SECONDS:
        raise ValidationError(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}.")
    return timedelta(seconds=ttl)


def _strategy(name: str | None) -> Strategy:
    key = str(name or getattr(settings, "INVENTORY_ALLOCATION_STRATEGY", "nearest"))
    try:
        return STRATEGIES[key]
    except KeyError as exc:
        raise ValidationError(
            f"Unknown allocation strategy {key!r}; use one of {', '.join(STRATEGIES)}."
        ) from exc


def _lines_merge(lines: Sequence[ReserveLine] | Sequence[AllocateLine]) -> dict[int, int]:
    """Quantities per variant; repeated variants are added together."""
    if not lines:
        raise ValidationError("Nothing to reserve: give at least one line.")
    wanted: dict[int, int] = defaultdict(int)
    for line in lines:
        variant_id = id_validate(line.variant_id, field="variant_id")
        wanted[variant_id] += quantity_validate(line.quantity)
    for variant_id, quantity in wanted.items():
        if quantity > MAX_LINE_QUANTITY:
            raise ValidationError(
                f"Variant {variant_id}: at most {MAX_LINE_QUANTITY} units per order.",
                fields={"quantity": [f"Enter at most {MAX_LINE_QUANTITY}."]},
            )
    return dict(wanted)


def _variants_check(
    wanted: Mapping[int, int], stocks: Sequence[Stock]
) -> dict[int, ProductVariant]:
    """The requested variants, each known and on sale; unknown ids are one clear error."""
    variants = {s.variant_id: s.variant for s in stocks if s.variant_id in wanted}
    missing = set(wanted) - set(variants)
    if missing:
        found = ProductVariant.objects.select_related("product").in_bulk(list(missing))
        unknown = sorted(missing - set(found))
        if unknown:
            raise ValidationError(
                f"Unknown product variant id(s): {', '.join(map(str, unknown))}.",
                fields={"variant_id": [f"Unknown variant {v}." for v in unknown]},
                details=[{"variant_id": v} for v in unknown],
            )
        variants.update(found)
    inactive = sorted(v.pk for v in variants.values() if v.pk in wanted and not v.is_active)
    if inactive:
        raise ValidationError(
            f"Variant(s) {', '.join(map(str, inactive))} are no longer sold.",
            fields={"variant_id": [f"Variant {v} is no longer sold." for v in inactive]},
        )
    return variants


def _candidates(
    wanted: Mapping[int, int],
    stocks: Sequence[Stock],
    variants: Mapping[int, ProductVariant],
    available: Mapping[int, int],
) -> dict[int, list[Candidate]]:
    """Stock rows each variant may draw from: active warehouses of the variant's own seller."""
    out: dict[int, list[Candidate]] = {v: [] for v in wanted}
    for s in stocks:
        variant = variants.get(s.variant_id)
        if variant is None or s.variant_id not in wanted:
            continue
        wh = s.warehouse
        if not wh.is_active or wh.seller_id != variant.product.seller_id:
            continue
        out[s.variant_id].append(
            Candidate(
                stock_id=s.pk,
                warehouse_id=wh.pk,
                available=available[s.pk],
                priority=wh.priority,
                latitude=wh.latitude,
                longitude=wh.longitude,
                country=wh.country,
            )
        )
    return out


def _plan_checked(
    wanted: Mapping[int, int],
    candidates: Mapping[int, list[Candidate]],
    stocks_by_id: Mapping[int, Stock],
    variants: Mapping[int, ProductVariant],
    plan: Plan,
    available: dict[int, int],
) -> dict[int, dict[int, int]]:
    """Validate a strategy's plan against the locked counters and fill backorders; collect every
    short line into one InsufficientStock. Returns variant -> {stock_id: units} and consumes
    `available`."""
    parts: dict[int, dict[int, int]] = {}
    shortages = []
    for variant_id, quantity in wanted.items():
        allowed = {c.stock_id for c in candidates[variant_id]}
        chosen: dict[int, int] = defaultdict(int)
        for stock_id, units in plan.get(variant_id, []):
            if stock_id not in allowed or units <= 0:
                raise ValidationError(f"Allocation strategy chose stock {stock_id} it may not use.")
            chosen[stock_id] += units
        free = {c.stock_id: max(available[c.stock_id], 0) for c in candidates[variant_id]}
        if any(units > free[stock_id] for stock_id, units in chosen.items()):
            raise ValidationError("Allocation strategy chose more units than a warehouse holds.")
        short = quantity - sum(chosen.values())
        if short > 0:
            backorder_rows = [
                c.stock_id
                for c in candidates[variant_id]
                if stocks_by_id[c.stock_id].backorder_allowed
            ]
            if backorder_rows:
                # the explicit exception: the rest waits for stock on the preferred backorder row
                target = next((s for s in chosen if s in backorder_rows), backorder_rows[0])
                chosen[target] += short
            else:
                shortages.append(
                    {
                        "variant_id": variant_id,
                        "sku": variants[variant_id].sku,
                        "requested": quantity,
                        "available": sum(free.values()),
                    }
                )
                continue
        for stock_id, units in chosen.items():
            available[stock_id] -= units
        parts[variant_id] = dict(chosen)
    if shortages:
        raise InsufficientStock(shortages)
    return parts


def stock_reserve(
    *,
    holder: str,
    lines: Sequence[ReserveLine],
    destination: Destination | None = None,
    ttl_seconds: int | None = None,
    strategy: str | None = None,
) -> ReservationResult:
    """Hold stock for every line, or for none: a short line raises InsufficientStock (with every
    short line in `details`) and nothing changes. A repeat call for the same holder replaces its
    previous hold (the old units are released first, in the same transaction)."""
    holder = holder_validate(holder)
    wanted = _lines_merge(lines)
    ttl = _ttl(ttl_seconds)
    choose = _strategy(strategy)
    for _attempt in range(_LOCK_ATTEMPTS):
        try:
            with transaction.atomic():
                return _reserve_locked(holder, wanted, destination, ttl, choose)
        except _LockSetChanged:
            continue
    raise Conflict("This checkout is being changed by another request; try again.")


def _reserve_locked(
    holder: str,
    wanted: Mapping[int, int],
    destination: Destination | None,
    ttl: timedelta,
    choose: Strategy,
) -> ReservationResult:
    stocks = list(locks.stocks_lock_for_reservation(holder=holder, variant_ids=wanted))
    stocks_by_id = {s.pk: s for s in stocks}
    now = timezone.now()
    # the holder's previous hold and everyone's expired holds on these rows go first
    stale = reservations_take(holder=holder, stocks_by_id=stocks_by_id, now=now)
    if any(r.stock_id not in stocks_by_id for r in stale):
        raise _LockSetChanged
    reservation_units_return(stale, stocks_by_id=stocks_by_id)

    variants = _variants_check(wanted, stocks)
    available = {s.pk: s.available for s in stocks}
    candidates = _candidates(wanted, stocks, variants, available)
    plan = choose(wanted, candidates, destination)
    parts = _plan_checked(wanted, candidates, stocks_by_id, variants, plan, available)

    expires_at = now + ttl
    per_stock: dict[int, int] = defaultdict(int)
    for chosen in parts.values():
        for stock_id, units in chosen.items():
            per_stock[stock_id] += units
    for stock_id in sorted(per_stock):
        stock_counters_move(stocks_by_id[stock_id], reserved=per_stock[stock_id])
    reservations_insert(holder=holder, units_by_stock=per_stock, expires_at=expires_at)
    return ReservationResult(
        holder=holder,
        expires_at=expires_at,
        lines=tuple(
            ReservedLine(
                variant_id=variant_id,
                quantity=wanted[variant_id],
                splits=tuple(
                    WarehouseSplit(
                        warehouse_id=stocks_by_id[stock_id].warehouse_id,
                        stock_id=stock_id,
                        quantity=units,
                    )
                    for stock_id, units in chosen.items()
                ),
            )
            for variant_id, chosen in parts.items()
        ),
    )


def stock_reservation_extend(*, holder: str, ttl_seconds: int | None = None) -> datetime:
    """Push back the expiry of the holder's live hold. Raises ReservationExpired when nothing of
    it is live any more (the units may already be someone else's)."""
    holder = holder_validate(holder)
    ttl = _ttl(ttl_seconds)
    with transaction.atomic():
        stock_ids = list(locks.stocks_lock_for_holder(holder=holder).values_list("pk", flat=True))
        now = timezone.now()
        expires_at = now + ttl
        extended = Reservation.objects.filter(
            holder=holder, stock_id__in=stock_ids, expires_at__gt=now
        ).update(expires_at=expires_at, updated_at=now)
    if not extended:
        raise ReservationExpired(
            "Your reservation has expired. Review your cart: the items are re-checked when you "
            "continue to checkout."
        )
    return expires_at


def stock_release(*, holder: str) -> int:
    """Give back everything the holder holds. Idempotent: a second call releases 0."""
    holder = holder_validate(holder)
    with transaction.atomic():
        stocks_by_id = {s.pk: s for s in locks.stocks_lock_for_holder(holder=holder)}
        held = Reservation.objects.filter(holder=holder, stock_id__in=list(stocks_by_id))
        return reservations_release(held, stocks_by_id=stocks_by_id)


def _allocate_lines_validate(order_lines: Sequence[AllocateLine]) -> list[AllocateLine]:
    if not order_lines:
        raise ValidationError("Nothing to allocate: give at least one order line.")
    seen: set[int] = set()
    for line in order_lines:
        id_validate(line.order_line_id, field="order_line_id")
        id_validate(line.variant_id, field="variant_id")
        quantity_validate(line.quantity)
        if line.order_line_id in seen:
            raise ValidationError(f"Order line {line.order_line_id} is listed twice.")
        seen.add(line.order_line_id)
    return list(order_lines)


def _allocations_replayed(
    existing: list[Allocation], order_lines: Sequence[AllocateLine]
) -> list[Allocation]:
    """A repeated conversion returns what the first one made, if it asked for the same thing."""
    totals: dict[int, int] = defaultdict(int)
    variant_of: dict[int, int] = {}
    for a in existing:
        totals[a.order_line_id] += a.quantity
        variant_of[a.order_line_id] = a.stock.variant_id
    asked = {line.order_line_id: (line.variant_id, line.quantity) for line in order_lines}
    made = {line_id: (variant_of[line_id], totals[line_id]) for line_id in totals}
    if asked != made:
        raise Conflict(
            "These order lines were already allocated with different quantities.",
            code=ErrorCode.IDEMPOTENCY_CONFLICT,
        )
    return existing


# prepared (shop.core.db): every placement asks it, under the stock locks
_ALLOCATIONS_EXISTING_SQL = f"""
SELECT {db.columns(Allocation, "a")}, {db.columns(Stock, "s")}
FROM {Allocation._meta.db_table} a JOIN {Stock._meta.db_table} s ON s.id = a.stock_id
WHERE a.order_line_id = ANY(%s::bigint[])
ORDER BY a.order_line_id, a.stock_id
"""  # noqa: S608 - model names


def _allocations_existing(order_line_ids: Sequence[int]) -> list[Allocation]:
    """The allocations already made for these order lines, each with its stock row."""
    with db.hot_cursor() as cursor:
        cursor.execute(_ALLOCATIONS_EXISTING_SQL, [list(order_line_ids)])
        rows = cursor.fetchall()
    allocations = db.instances(Allocation, rows)
    stocks = db.instances(Stock, rows, start=len(Allocation._meta.concrete_fields))
    for allocation, stock in zip(allocations, stocks, strict=True):
        allocation.stock = stock
    return allocations


def stock_allocate_reserved(
    *, holder: str, order_lines: Sequence[AllocateLine]
) -> list[Allocation]:
    """Turn the holder's hold into allocations for the placed order lines. Idempotent: calling
    again for the same lines returns the existing allocations. A hold that lapsed is re-made
    under the lock if the stock is still there; otherwise ReservationExpired (nothing held any
    more) or InsufficientStock (part of it gone), with the short lines in `details`. Whatever the
    hold had beyond the order is released."""
    holder = holder_validate(holder)
    order_lines = _allocate_lines_validate(order_lines)
    # a repeat is recognised under the lock (in `_allocate_locked`), where the answer is final
    wanted = _lines_merge(order_lines)
    for _attempt in range(_LOCK_ATTEMPTS):
        try:
            with transaction.atomic():
                return _allocate_locked(holder, order_lines, wanted)
        except _LockSetChanged:
            continue
    raise Conflict("This checkout is being changed by another request; try again.")


def _allocate_locked(
    holder: str, order_lines: Sequence[AllocateLine], wanted: Mapping[int, int]
) -> list[Allocation]:
    stocks = list(locks.stocks_lock_for_reservation(holder=holder, variant_ids=wanted))
    # re-check under the lock: a concurrent conversion of the same order may have just committed
    existing = _allocations_existing([line.order_line_id for line in order_lines])
    if existing:
        return _allocations_replayed(existing, order_lines)
    stocks_by_id = {s.pk: s for s in stocks}
    now = timezone.now()
    rows = reservations_take(holder=holder, stocks_by_id=stocks_by_id, now=now)
    if any(r.stock_id not in stocks_by_id for r in rows):
        raise _LockSetChanged
    own = [r for r in rows if r.holder == holder]
    # the holder's units are still counted even if its hold expired: while we hold the lock they
    # are still ours, so convert them; other holders' expired units become free
    held: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for r in own:
        held[stocks_by_id[r.stock_id].variant_id][r.stock_id] += r.quantity
    # the taken reservations' units are given back in the same guarded UPDATE that allocates
    # (one statement per stock row instead of two)
    returned: dict[int, int] = defaultdict(int)
    for r in rows:
        returned[r.stock_id] += r.quantity

    variants = _variants_check(wanted, stocks)
    available = {s.pk: s.available + returned[s.pk] for s in stocks}
    parts_per_line: list[tuple[AllocateLine, dict[int, int]]] = []
    missing: dict[int, int] = defaultdict(int)
    for line in order_lines:
        chosen: dict[int, int] = {}
        need = line.quantity
        for stock_id in sorted(held[line.variant_id]):
            take = min(need, held[line.variant_id][stock_id])
            if take:
                chosen[stock_id] = take
                held[line.variant_id][stock_id] -= take
                available[stock_id] -= take
                need -= take
        parts_per_line.append((line, chosen))
        missing[line.variant_id] += need
    missing = {v: q for v, q in missing.items() if q > 0}
    if missing:
        candidates = _candidates(missing, stocks, variants, available)
        plan = STRATEGIES["priority"](missing, candidates, None)
        try:
            extra = _plan_checked(missing, candidates, stocks_by_id, variants, plan, available)
        except InsufficientStock as exc:
            if not own:
                raise ReservationExpired(
                    "Your reservation expired and the stock is no longer available. " + exc.message,
                    details=exc.shortages,
                ) from exc
            raise
        for line, chosen in parts_per_line:
            for stock_id in list(extra.get(line.variant_id, {})):
                need = line.quantity - sum(chosen.values())
                take = min(need, extra[line.variant_id][stock_id])
                if take:
                    chosen[stock_id] = chosen.get(stock_id, 0) + take
                    extra[line.variant_id][stock_id] -= take
                    if not extra[line.variant_id][stock_id]:
                        del extra[line.variant_id][stock_id]

    per_stock: dict[int, int] = defaultdict(int)
    allocations = []
    for line, chosen in parts_per_line:
        for stock_id, units in sorted(chosen.items()):
            per_stock[stock_id] += units
            allocations.append(
                Allocation(order_line_id=line.order_line_id, stock_id=stock_id, quantity=units)
            )
    for stock_id in sorted(set(per_stock) | set(returned)):
        stock_counters_move(
            stocks_by_id[stock_id], allocated=per_stock[stock_id], reserved=-returned[stock_id]
        )
    db.hot_insert(allocations)
    for allocation in allocations:
        allocation.stock = stocks_by_id[allocation.stock_id]
    return allocations


def stock_deallocate(*, order_line_ids: Sequence[int]) -> int:
    """Cancel: give back the unshipped units of these order lines. Idempotent; returns units."""
    ids = [id_validate(i, field="order_line_id") for i in order_line_ids]
    if not ids:
        return 0
    with transaction.atomic():
        stocks_by_id = {s.pk: s for s in locks.stocks_lock_for_order_lines(order_line_ids=ids)}
        released = 0
        for allocation in Allocation.objects.filter(order_line_id__in=ids).order_by(
            "stock_id", "pk"
        ):
            units = allocation.outstanding
            if units <= 0:
                continue
            stock_counters_move(stocks_by_id[allocation.stock_id], allocated=-units)
            allocation.cancelled_quantity += units
            allocation.save(update_fields=["cancelled_quantity", "updated_at"])
            released += units
        return released


def stock_deallocate_units(*, order_line_id: int, quantity: int) -> int:
    """Give back up to `quantity` unshipped units of one order line (a line refunded in part
    before it shipped). Returns the units released (fewer when fewer are still allocated)."""
    id_validate(order_line_id, field="order_line_id")
    quantity_validate(quantity)
    with transaction.atomic():
        stocks_by_id = {
            s.pk: s for s in locks.stocks_lock_for_order_lines(order_line_ids=[order_line_id])
        }
        released = 0
        for allocation in Allocation.objects.filter(order_line_id=order_line_id).order_by(
            "stock_id", "pk"
        ):
            take = min(allocation.outstanding, quantity - released)
            if take <= 0:
                continue
            stock_counters_move(stocks_by_id[allocation.stock_id], allocated=-take)
            allocation.cancelled_quantity += take
            allocation.save(update_fields=["cancelled_quantity", "updated_at"])
            released += take
        return released


def stock_ship(
    *, order_line_id: int, quantity: int | None = None, warehouse_id: int | None = None
) -> list[StockMovement]:
    """Ship units of an order line: on_hand and allocated go down together, one ledger row per
    warehouse. Without `quantity`, ships everything outstanding (shipping again ships nothing).
    With `warehouse_id`, only that warehouse's allocations ship (a parcel leaves one place)."""
    id_validate(order_line_id, field="order_line_id")
    if quantity is not None:
        quantity_validate(quantity)
    with transaction.atomic():
        stocks_by_id = {
            s.pk: s for s in locks.stocks_lock_for_order_lines(order_line_ids=[order_line_id])
        }
        rows = Allocation.objects.filter(order_line_id=order_line_id).order_by("pk")
        if warehouse_id is not None:
            rows = rows.filter(stock__warehouse_id=warehouse_id)
        allocations = list(rows)
        if not allocations:
            where = "" if warehouse_id is None else f" in warehouse {warehouse_id}"
            raise ValidationError(f"Order line {order_line_id} has no stock allocated{where}.")
        outstanding = sum(a.outstanding for a in allocations)
        remaining = outstanding if quantity is None else quantity
        if remaining > outstanding:
            raise ValidationError(
                f"Order line {order_line_id}: {remaining} to ship but only {outstanding} "
                "allocated and not yet shipped."
            )
        movements = []
        for allocation in allocations:
            take = min(remaining, allocation.outstanding)
            if take <= 0:
                continue
            stock = stocks_by_id[allocation.stock_id]
            if stock.on_hand < take:
                raise InsufficientStock(
                    [
                        {
                            "variant_id": stock.variant_id,
                            "sku": stock.variant.sku,
                            "requested": take,
                            "available": stock.on_hand,
                        }
                    ],
                    message=f"Cannot ship {take}: only {stock.on_hand} on hand in warehouse "
                    f"{stock.warehouse_id} (backordered). Receive stock first.",
                )
            stock_counters_move(stock, on_hand=-take, allocated=-take)
            allocation.shipped_quantity += take
            allocation.save(update_fields=["shipped_quantity", "updated_at"])
            movements.append(
                movement_record(
                    stock,
                    reason=MovementReason.SALE,
                    delta=-take,
                    reference=f"order_line:{order_line_id}",
                )
            )
            remaining -= take
        return movements


def stock_return(
    *, order_line_id: int, quantity: int, restock: bool = True, actor=None
) -> StockMovement:
    """Take back shipped units of an order line. They come back to the warehouse that shipped
    them; with `restock` they are sellable again (on_hand up), otherwise they are booked in and
    written off at once (two ledger rows, on_hand unchanged) and the write-off row is returned."""
    id_validate(order_line_id, field="order_line_id")
    quantity_validate(quantity)
    with transaction.atomic():
        stocks_by_id = {
            s.pk: s for s in locks.stocks_lock_for_order_lines(order_line_ids=[order_line_id])
        }
        allocations = [
            a
            for a in Allocation.objects.filter(order_line_id=order_line_id).order_by("pk")
            if a.shipped_quantity > a.returned_quantity
        ]
        returnable = sum(a.shipped_quantity - a.returned_quantity for a in allocations)
        if quantity > returnable:
            raise ValidationError(
                f"Order line {order_line_id}: {quantity} to return but only {returnable} "
                "shipped and not yet returned."
            )
        stock = stocks_by_id[allocations[0].stock_id]
        remaining = quantity
        for allocation in allocations:
            take = min(remaining, allocation.shipped_quantity - allocation.returned_quantity)
            allocation.returned_quantity += take
            allocation.save(update_fields=["returned_quantity", "updated_at"])
            remaining -= take
            if not remaining:
                break
        reference = f"order_line:{order_line_id}"
        stock_counters_move(stock, on_hand=quantity)
        movement = movement_record(
            stock, reason=MovementReason.RETURN, delta=quantity, actor=actor, reference=reference
        )
        if restock:
            return movement
        stock_counters_move(stock, on_hand=-quantity)
        return movement_record(
            stock,
            reason=MovementReason.WRITE_OFF,
            delta=-quantity,
            actor=actor,
            reference=reference,
            note="Returned unsellable.",
        )


def stock_reservations_expire(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """The sweeper: release expired reservations, a batch of stock rows per transaction, skipping
    rows another transaction holds (that one releases them lazily). Returns units released."""
    released = 0
    while True:
        with transaction.atomic():
            at = now or timezone.now()
            stocks_by_id = {
                s.pk: s for s in locks.stocks_lock_expired_skip_locked(now=at, limit=batch_size)
            }
            if not stocks_by_id:
                return released
            released += expired_reservations_release(stocks_by_id=stocks_by_id, now=at)
        if len(stocks_by_id) < batch_size:
            return released


def stock_reallocate(
    *, order_line_id: int, from_warehouse_id: int, to_warehouse_id: int, quantity: int
) -> Allocation:
    """Re-route unshipped units of an order line to another warehouse of the same seller: the
    allocation moves (allocated down in one row, up in the other) with both rows locked in pk
    order and the target's free units re-checked under the lock, so nothing is oversold. No
    on_hand changes, so no ledger row. Returns the target's allocation."""
    id_validate(order_line_id, field="order_line_id")
    quantity_validate(quantity)
    if from_warehouse_id == to_warehouse_id:
        raise ValidationError(
            "Choose another warehouse.", fields={"warehouse": ["Choose another warehouse."]}
        )
    source = (
        Allocation.objects.filter(
            order_line_id=order_line_id, stock__warehouse_id=from_warehouse_id
        )
        .select_related("stock__variant__product", "stock__warehouse")
        .first()
    )
    if source is None:
        raise ValidationError(
            f"Nothing of this line is allocated in warehouse {from_warehouse_id}."
        )
    target_warehouse = Warehouse.objects.filter(
        pk=to_warehouse_id, seller_id=source.stock.warehouse.seller_id, is_active=True
    ).first()
    if target_warehouse is None:
        raise NotFound("No such warehouse.")
    with transaction.atomic():
        target_stock = stock_get_or_create(warehouse=target_warehouse, variant=source.stock.variant)
        stocks = {s.pk: s for s in locks.stocks_lock(stock_ids=[source.stock_id, target_stock.pk])}
        source = Allocation.objects.get(pk=source.pk)
        if quantity > source.outstanding:
            raise ValidationError(
                f"Only {source.outstanding} unit(s) of this line wait in that warehouse.",
                fields={"quantity": [f"At most {source.outstanding}."]},
            )
        target = stocks[target_stock.pk]
        if not target.backorder_allowed and target.available < quantity:
            raise InsufficientStock(
                [
                    {
                        "variant_id": target.variant_id,
                        "sku": source.stock.variant.sku,
                        "requested": quantity,
                        "available": max(target.available, 0),
                    }
                ],
                message=f"Only {max(target.available, 0)} free in {target_warehouse.name}.",
            )
        stock_counters_move(stocks[source.stock_id], allocated=-quantity)
        stock_counters_move(target, allocated=quantity)
        if source.quantity == quantity:  # nothing shipped or cancelled from it: the row goes
            source.delete()
        else:
            source.quantity -= quantity
            source.save(update_fields=["quantity", "updated_at"])
        moved, created = Allocation.objects.get_or_create(
            order_line_id=order_line_id, stock=target, defaults={"quantity": quantity}
        )
        if not created:
            moved.quantity += quantity
            moved.save(update_fields=["quantity", "updated_at"])
        return moved
