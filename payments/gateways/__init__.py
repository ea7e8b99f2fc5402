"""Payment gateways behind one interface (`base.PaymentGateway`): Stripe when STRIPE_SECRET_KEY
is set, else the built-in test gateway (refused outside debug mode unless SHOP_TEST_PAYMENTS=1,
see shop.settings). A payment is always handled again by the gateway that created it."""

from __future__ import annotations

from django.conf import settings

from payments.gateways.base import (
    CardDetails,
    ConnectAccount,
    CustomerSession,
    GatewayRefused,
    GatewayUnavailable,
    IntentResult,
    IntentStatus,
    PaymentGateway,
    RefundResult,
    TransferResult,
)

__all__ = [
    "CardDetails",
    "ConnectAccount",
    "CustomerSession",
    "GatewayRefused",
    "GatewayUnavailable",
    "IntentResult",
    "IntentStatus",
    "PaymentGateway",
    "RefundResult",
    "TransferResult",
    "gateway_describe",
    "gateway_get",
    "gateway_live",
    "payment_method_label",
]


def gateway_live() -> str:
    """The gateway new payments use."""
    return "stripe" if settings.STRIPE_SECRET_KEY else "test"


def gateway_describe() -> str:
    """Which gateway takes the money, for the startup log and /readyz (never a secret)."""
    if gateway_live() == "stripe":
        mode = "live" if settings.STRIPE_SECRET_KEY.startswith(("sk_live", "rk_live")) else "test"
        return f"Stripe ({mode} keys)"
    return "the built-in test gateway (no money moves)"


def gateway_get(name: str | None = None) -> PaymentGateway:
    """The gateway `name` (a payment's own), or the live one."""
    name = name or gateway_live()
    if name == "stripe":
        from payments.gateways.stripe import StripeGateway

        return StripeGateway()
    if name == "test":
        from payments.gateways.test import TestGateway

        return TestGateway()
    raise ValueError(f"Unknown payment gateway {name!r}.")


GATEWAY_LABELS = {
    "test": "Test payment (built-in test gateway, no money moves)",
    "stripe": "Card (Stripe)",
}


def payment_method_label(*, gateway: str) -> str:
    """How an order's payment is named to the shopper (confirmation, order page, invoice)."""
    if not gateway:
        return ""
    return GATEWAY_LABELS.get(gateway, gateway.replace("_", " ").capitalize())
