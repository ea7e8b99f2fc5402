"""Cancelling what will not ship: a line (or part of it) by the seller, and, through the beat,
a seller order with nothing shipped FULFILMENT_CANCEL_UNSHIPPED_AFTER_DAYS after placement.
Both refund through `orders.services.payments.order_refund`, which releases the units' stock
allocation and queues the shopper's refund email. Safe to run again: what was refunded is not
refundable twice, and a seller order already refunded is left alone."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fulfilment.models import Shipment
from inventory.models import Allocation
from orders.models import OrderStatus, SellerOrder
from orders.services.payments import RefundRequest, order_refund
from shop.core.errors import NotFound, ServiceError, ValidationError

logger = logging.getLogger(__name__)
UNSHIPPED = (OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.PARTIALLY_SHIPPED)


def _outstanding(order_line_id: int) -> int:
    return sum(a.outstanding for a in Allocation.objects.filter(order_line_id=order_line_id))


def seller_order_line_cancel(
    *, seller_order: SellerOrder, order_line_id: int, quantity: int, by=None, reason: str = ""
) -> SellerOrder:
    """The seller cannot ship `quantity` units of a line: they are refunded and their stock
    allocation released. Only units not shipped yet."""
    with transaction.atomic():
        locked = SellerOrder.objects.select_for_update().get(pk=seller_order.pk)
        if not locked.lines.filter(pk=order_line_id).exists():
            raise NotFound("That line is not part of this order.")
        left = _outstanding(order_line_id)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= left:
            raise ValidationError(
                f"At most {left} unshipped unit(s) of this line can be cancelled.",
                fields={"quantity": [f"At most {left}."]},
            )
        order_refund(
            seller_order=locked,
            lines=[RefundRequest(order_line_id=order_line_id, quantity=quantity, restock=True)],
            reason=reason or "Cancelled by the seller: cannot be shipped.",
            by=by,
        )
    locked.refresh_from_db()
    return locked


def seller_orders_cancel_unshipped(*, now: datetime | None = None, limit: int = 100) -> int:
    """Beat: cancel seller orders with nothing shipped past the limit: every unit and the
    shipping refunded, the stock released. Returns how many were cancelled."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.FULFILMENT_CANCEL_UNSHIPPED_AFTER_DAYS)
    due = list(
        SellerOrder.objects.filter(
            status__in=(OrderStatus.PAID, OrderStatus.PROCESSING), order__placed_at__lt=cutoff
        )
        .exclude(pk__in=Shipment.objects.values("seller_order_id"))
        .order_by("order__placed_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    cancelled = 0
    for seller_order_id in due:
        try:
            with transaction.atomic():
                locked = SellerOrder.objects.select_for_update().get(pk=seller_order_id)
                if locked.status not in (OrderStatus.PAID, OrderStatus.PROCESSING):
                    continue
                if Shipment.objects.filter(seller_order_id=locked.pk).exists():
                    continue
                days = settings.FULFILMENT_CANCEL_UNSHIPPED_AFTER_DAYS
                order_refund(
                    seller_order=locked,
                    lines=[
                        RefundRequest(order_line_id=line.pk, quantity=units)
                        for line in locked.lines.all()
                        if (units := _outstanding(line.pk))
                    ],
                    shipping_amount=locked.shipping_total,
                    reason=f"Not shipped within {days} days: cancelled and refunded.",
                )
        except ServiceError as exc:
            logger.warning("Could not cancel unshipped seller order %s: %s", seller_order_id, exc)
            continue
        cancelled += 1
    return cancelled
