"""Payments writes. Import from here.

payments.py: a payment's life at the gateway (start, confirm, refresh, capture, void).
refunds.py: refunds booked under the payment's lock and executed after the commit.
webhooks.py: gateway webhooks stored once, verified on the raw body.
"""

from payments.services.payments import (
    PaymentFailed,
    gateway_of,
    payment_capture,
    payment_confirm,
    payment_for_order,
    payment_link_order,
    payment_record,
    payment_refresh,
    payment_released,
    payment_start,
    payment_void,
    payments_open,
)
from payments.services.refunds import RefundLineSpec, refund_book, refund_execute
from payments.services.webhooks import WebhookRejected, webhook_receive

__all__ = [
    "PaymentFailed",
    "RefundLineSpec",
    "WebhookRejected",
    "gateway_of",
    "payment_capture",
    "payment_confirm",
    "payment_for_order",
    "payment_link_order",
    "payment_record",
    "payment_refresh",
    "payment_released",
    "payment_start",
    "payment_void",
    "payments_open",
    "refund_book",
    "refund_execute",
    "webhook_receive",
]
