"""Giving a voucher use back when its order is cancelled."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from orders.models import Order, VoucherRedemption
from pricing.models import Voucher


def voucher_release(*, order: Order) -> bool:
    """The order's voucher use no longer counts: the redemption is marked released (kept, as a
    record) and the voucher's `times_used` goes down by one with a guarded UPDATE, so the code
    can be used again within its limits (overall and per customer). Called by cancellation
    inside its transaction, under the order's row lock, so a second cancel finds it released.
    Returns whether a use was given back."""
    released = VoucherRedemption.objects.filter(order=order, released_at__isnull=True).update(
        released_at=timezone.now()
    )
    if not released:
        return False
    voucher_id = VoucherRedemption.objects.filter(order=order).values_list("voucher_id", flat=True)
    Voucher.objects.filter(pk__in=voucher_id, times_used__gt=0).update(
        times_used=F("times_used") - 1
    )
    return True
