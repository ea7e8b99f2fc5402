"""Building blocks every inventory service shares: input checks, guarded counter updates,
reservation release and ledger rows. Callers hold the stock row locks (`inventory.locks`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import F, Q
from django.utils import timezone

from inventory.models import MovementReason, Reservation, Stock, StockMovement
from inventory.services.contracts import MAX_LINE_QUANTITY
from shop.core.errors import Conflict, ValidationError


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


def holder_validate(holder: object) -> str:
    if not isinstance(holder, str) or not holder.strip() or len(holder) > 100:
        raise ValidationError(
            "holder must be a non-empty string of at most 100 characters.",
            fields={"holder": ["Invalid holder."]},
        )
    return holder


class CounterGuardFailed(Conflict):
    """A guarded UPDATE matched no row: the counters are not what the locked read said. Under the
    locking protocol this cannot happen; if it does, nothing is written and the drift is
    reported."""


def stock_counters_move(
    stock: Stock, *, on_hand: int = 0, allocated: int = 0, reserved: int = 0
) -> None:
    """Move the counters of a locked stock row with one guarded UPDATE and mirror the change on
    the in-memory row. The WHERE clause re-states the invariant for the new values, so the update
    applies only if it keeps every counter >= 0 and, unless the row allows backorders,
    allocated + reserved <= on_hand; a rowcount of 0 raises and the transaction rolls back."""
    guard = Q(pk=stock.pk)
    if on_hand < 0:
        guard &= Q(on_hand__gte=-on_hand)
    if allocated < 0:
        guard &= Q(allocated__gte=-allocated)
    if reserved < 0:
        guard &= Q(reserved__gte=-reserved)
    if allocated + reserved - on_hand > 0:
        # claims grow relative to on_hand: the units must be available right now
        guard &= Q(backorder_allowed=True) | Q(
            on_hand__gte=F("allocated") + F("reserved") + (allocated + reserved - on_hand)
        )
    changes: dict[str, object] = {"updated_at": timezone.now()}
    for name, delta in (("on_hand", on_hand), ("allocated", allocated), ("reserved", reserved)):
        if delta:
            changes[name] = F(name) + delta
    if Stock.objects.filter(guard).update(**changes) != 1:
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
    per_stock: dict[int, int] = defaultdict(int)
    for r in rows:
        per_stock[r.stock_id] += r.quantity
    Reservation.objects.filter(pk__in=[r.pk for r in rows]).delete()
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
