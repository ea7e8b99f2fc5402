"""Payment gateways behind one interface (`base.PaymentGateway`)."""

from __future__ import annotations

from payments.gateways.base import PaymentGateway, PaymentResult, PaymentStatus
from payments.gateways.test import TestGateway

__all__ = [
    "PaymentGateway",
    "PaymentResult",
    "PaymentStatus",
    "TestGateway",
    "gateway_get",
    "payment_method_label",
]


def gateway_get() -> PaymentGateway:
    """The configured gateway. Stripe is added by the payments work; until then every
    environment uses the built-in test gateway."""
    return TestGateway()


GATEWAY_LABELS = {
    "test": "Test payment (built-in test gateway, no money moves)",
    "stripe": "Card (Stripe)",
}


def payment_method_label(*, gateway: str) -> str:
    """How an order's payment is named to the shopper (confirmation, order page, invoice)."""
    if not gateway:
        return ""
    return GATEWAY_LABELS.get(gateway, gateway.replace("_", " ").capitalize())
