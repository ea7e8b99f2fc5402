"""Every row lock inventory takes, in one place, so the locking order is visible.

Rule: stock rows are locked with `SELECT ... FOR UPDATE` ordered by primary key, all rows a
transaction needs in one statement. Two transactions that need overlapping rows therefore queue on
the lowest shared pk instead of each holding a row the other waits for (no deadlock). Reservation
and allocation rows are only changed while the lock on their stock row is held, so the stock lock
guards them too.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from inventory.models import Allocation, Reservation, Stock


def stocks_lock(*, stock_ids: Iterable[int]) -> QuerySet[Stock]:
    """Lock the given stock rows (pk order). Evaluate inside `transaction.atomic`."""
    return (
        Stock.objects.select_for_update(of=("self",)).filter(pk__in=list(stock_ids)).order_by("pk")
    )


def stocks_lock_for_reservation(
    *, holder: str, variant_ids: Iterable[int], extra_stock_ids: Iterable[int] = ()
) -> QuerySet[Stock]:
    """Lock, in one statement and pk order, the stock rows a reservation may touch: every stock of
    the requested variants in an active warehouse, the rows the holder already holds (they are
    replaced) and `extra_stock_ids`. Warehouses and variants are loaded but not locked."""
    held = Reservation.objects.filter(holder=holder).values("stock_id")
    condition = Q(variant_id__in=list(variant_ids), warehouse__is_active=True) | Q(pk__in=held)
    extra = list(extra_stock_ids)
    if extra:
        condition |= Q(pk__in=extra)
    return (
        Stock.objects.select_for_update(of=("self",))
        .select_related("warehouse", "variant")
        .filter(condition)
        .order_by("pk")
    )


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
