"""The order state machine. Every status change of an Order or a SellerOrder goes through
`order_transition`, which refuses illegal moves and records an OrderEvent (who, when, why)."""

from __future__ import annotations

from django.db import transaction

from orders.models import Order, OrderEvent, OrderStatus, SellerOrder
from shop.core.errors import Conflict, ErrorCode, ServiceError

S = OrderStatus
_REFUNDS = {S.REFUNDED, S.PARTIALLY_REFUNDED}

ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PROCESSING, S.CANCELLED, *_REFUNDS}),
    S.PROCESSING: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED, *_REFUNDS}),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED, *_REFUNDS}),
    S.SHIPPED: frozenset({S.DELIVERED, *_REFUNDS}),
    S.DELIVERED: frozenset({S.COMPLETED, *_REFUNDS}),
    S.COMPLETED: frozenset(_REFUNDS),
    S.PARTIALLY_REFUNDED: frozenset(_REFUNDS),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

CANCELLABLE = frozenset({S.PENDING_PAYMENT, S.PAID, S.PROCESSING})


class IllegalTransition(ServiceError):
    code = ErrorCode.ILLEGAL_TRANSITION
    http_status = 409


def order_transition(
    *,
    order: Order,
    to: str,
    actor=None,
    reason: str = "",
    seller_order: SellerOrder | None = None,
) -> Order | SellerOrder:
    """Move `seller_order` (when given) or `order` to status `to`.

    The UPDATE is guarded by the status we read, so two concurrent moves cannot both win:
    the loser gets a Conflict and nothing is recorded for it."""
    target = seller_order if seller_order is not None else order
    current = target.status
    if to not in ORDER_TRANSITIONS.get(current, frozenset()) and not (
        to == S.PARTIALLY_REFUNDED and current == S.PARTIALLY_REFUNDED
    ):
        raise IllegalTransition(
            f"{type(target).__name__} {order.number} cannot go from "
            f"{S(current).label.lower()} to {S(to).label.lower()}."
        )
    with transaction.atomic():
        moved = type(target).objects.filter(pk=target.pk, status=current).update(status=to)
        if not moved:
            raise Conflict(f"Order {order.number} was changed meanwhile; reload and try again.")
        OrderEvent.objects.create(
            order=order,
            seller_order=seller_order,
            actor=actor if actor is not None and actor.is_authenticated else None,
            from_status=current,
            to_status=to,
            reason=reason[:255],
        )
    target.status = to
    return target
