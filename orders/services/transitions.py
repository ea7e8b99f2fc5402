"""The order state machine. Every status change of an Order or a SellerOrder goes through
`order_transition`, which refuses illegal moves and records an OrderEvent (who, when, why)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction

from orders.models import Order, OrderEvent, OrderStatus, SellerOrder
from shop.core.db import hot_execute, hot_insert
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


def _legal_check(order: Order, target: Order | SellerOrder, to: str) -> None:
    current = target.status
    if to not in ORDER_TRANSITIONS.get(current, frozenset()) and not (
        to == S.PARTIALLY_REFUNDED and current == S.PARTIALLY_REFUNDED
    ):
        raise IllegalTransition(
            f"{type(target).__name__} {order.number} cannot go from "
            f"{S(current).label.lower()} to {S(to).label.lower()}."
        )


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
    _legal_check(order, target, to)
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


# The batch form's guarded UPDATEs, prepared (shop.core.db): placement runs them every time.
_SELLER_ORDERS_MOVE_SQL = (
    f"UPDATE {SellerOrder._meta.db_table} SET status = %s "  # noqa: S608 - model names
    "WHERE id = ANY(%s::bigint[]) AND status = %s"
)
_ORDER_MOVE_SQL = f"UPDATE {Order._meta.db_table} SET status = %s WHERE id = %s AND status = %s"  # noqa: S608


def order_transition_together(
    *,
    order: Order,
    seller_orders: Sequence[SellerOrder],
    to: str,
    actor=None,
    reason: str = "",
) -> list[OrderEvent]:
    """Move the order and the given seller orders to `to` at once, with the same rules as
    `order_transition` (every move legal, each UPDATE guarded by the status read, one event per
    move) but in a fixed number of statements: one UPDATE per table and status, one INSERT for
    all events. Placement and cancellation use it; all or nothing. Returns the events written
    (the order's first, then one per seller order)."""
    for seller_order in seller_orders:
        _legal_check(order, seller_order, to)
    _legal_check(order, order, to)
    by_status: dict[str, list[int]] = defaultdict(list)
    for seller_order in seller_orders:
        by_status[seller_order.status].append(seller_order.pk)
    actor = actor if actor is not None and actor.is_authenticated else None
    events = [
        OrderEvent(
            order=order,
            seller_order=part,
            actor=actor,
            from_status=part.status if part is not None else order.status,
            to_status=to,
            reason=reason[:255],
        )
        for part in (None, *seller_orders)
    ]
    # no savepoint: a failure here fails the caller's whole transaction, which is what
    # placement and cancellation want (and it saves two round trips)
    with transaction.atomic(savepoint=False):
        for current, ids in by_status.items():
            moved = hot_execute(_SELLER_ORDERS_MOVE_SQL, [to, ids, current])
            if moved != len(ids):
                raise Conflict(f"Order {order.number} was changed meanwhile; reload and try again.")
        if not hot_execute(_ORDER_MOVE_SQL, [to, order.pk, order.status]):
            raise Conflict(f"Order {order.number} was changed meanwhile; reload and try again.")
        hot_insert(events)
    for seller_order in seller_orders:
        seller_order.status = to
    order.status = to
    return events
