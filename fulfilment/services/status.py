"""Order and seller-order statuses follow what was shipped and delivered. Moves go through
`orders.services.transitions.order_transition` (one legal step at a time, each recorded)."""

from __future__ import annotations

from django.db.models import F, Sum

from inventory.models import Allocation
from orders.models import Order, OrderStatus, SellerOrder
from orders.services.transitions import ORDER_TRANSITIONS, order_transition

S = OrderStatus
# the forward path of fulfilment; a seller order or order elsewhere (refunded, cancelled) keeps
# its status: the refund statuses say more than a shipping status would
FORWARD = (S.PAID, S.PROCESSING, S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED)
SHIPPED_LIKE = (S.SHIPPED, S.DELIVERED)


def status_advance(
    *, order: Order, to: str, by=None, reason: str = "", seller_order: SellerOrder | None = None
) -> None:
    """Move forward to `to` through legal steps; a target behind (or off) the path is no move."""
    target = seller_order if seller_order is not None else order
    if target.status not in FORWARD or FORWARD.index(target.status) >= FORWARD.index(to):
        return
    while target.status != to:
        allowed = ORDER_TRANSITIONS[target.status]
        step = to if to in allowed else FORWARD[FORWARD.index(target.status) + 1]
        order_transition(order=order, seller_order=seller_order, to=step, actor=by, reason=reason)


def units_outstanding(*, seller_order: SellerOrder) -> int:
    """Units sold and still to ship (not shipped, not cancelled by a refund)."""
    line_ids = list(seller_order.lines.values_list("pk", flat=True))
    total = Allocation.objects.filter(order_line_id__in=line_ids).aggregate(
        t=Sum(F("quantity") - F("shipped_quantity") - F("cancelled_quantity"))
    )["t"]
    return total or 0


def seller_order_follow(*, order: Order, seller_order: SellerOrder, by=None, reason: str) -> None:
    """The seller order's status from its shipments, then the order's from its seller orders.
    Callers hold the seller order's and the order's row locks."""
    from fulfilment.models import ShipmentStatus

    shipments = list(seller_order.shipments.values_list("status", flat=True))
    if shipments:
        outstanding = units_outstanding(seller_order=seller_order)
        if outstanding:
            to = S.PARTIALLY_SHIPPED
        elif all(s == ShipmentStatus.DELIVERED for s in shipments):
            to = S.DELIVERED
        else:
            to = S.SHIPPED
        status_advance(order=order, seller_order=seller_order, to=to, by=by, reason=reason)
    order_follow(order=order, by=by, reason=reason)


def order_follow(*, order: Order, by=None, reason: str) -> None:
    statuses = [
        s
        for s in SellerOrder.objects.filter(order_id=order.pk).values_list("status", flat=True)
        if s in FORWARD
    ]
    if not statuses:
        return
    lowest = min(statuses, key=FORWARD.index)
    if lowest in SHIPPED_LIKE:
        to = lowest
    elif any(s in (S.PARTIALLY_SHIPPED, *SHIPPED_LIKE) for s in statuses):
        to = S.PARTIALLY_SHIPPED
    else:
        to = max(statuses, key=FORWARD.index)
    status_advance(order=order, to=to, by=by, reason=reason)
