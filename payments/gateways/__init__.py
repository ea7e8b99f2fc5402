"""Payment gateways behind one interface (`base.PaymentGateway`)."""

from __future__ import annotations

from payments.gateways.base import PaymentGateway, PaymentResult, PaymentStatus
from payments.gateways.test import TestGateway

__all__ = ["PaymentGateway", "PaymentResult", "PaymentStatus", "TestGateway", "gateway_get"]


def gateway_get() -> PaymentGateway:
    """The configured gateway. Stripe is added by the payments work; until then every
    environment uses the built-in test gateway."""
    return TestGateway()
