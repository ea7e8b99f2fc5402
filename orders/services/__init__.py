"""Orders writes. Import from here.

transitions.py: the one status-transition function and the state machine.
checkout.py: starting a checkout (stock hold), address, shipping choices.
placement.py: paying for and placing an order idempotently; cancelling; expiring unpaid orders.
payments.py: what a payment's news means for orders (webhooks, reconciliation); refunds of
seller-order lines.
shipping.py: a seller's shipping methods (create, edit, activate, reorder).
"""

from orders.services.checkout import (
    checkout_refresh_hold,
    checkout_set_address,
    checkout_set_shipping,
    checkout_start,
)
from orders.services.placement import (
    PaymentActionRequired,
    PaymentFailed,
    checkout_payment_prepare,
    order_cancel,
    order_place,
    order_place_paid,
    orders_expire_unpaid,
)
from orders.services.shipping import (
    shipping_method_create,
    shipping_method_move,
    shipping_method_set_active,
    shipping_method_update,
)
from orders.services.transitions import ORDER_TRANSITIONS, order_transition

__all__ = [
    "ORDER_TRANSITIONS",
    "PaymentActionRequired",
    "PaymentFailed",
    "checkout_payment_prepare",
    "checkout_refresh_hold",
    "checkout_set_address",
    "checkout_set_shipping",
    "checkout_start",
    "order_cancel",
    "order_place",
    "order_place_paid",
    "order_transition",
    "orders_expire_unpaid",
    "shipping_method_create",
    "shipping_method_move",
    "shipping_method_set_active",
    "shipping_method_update",
]
