"""The built-in test gateway (DESIGN.md): no network, deterministic, used when no Stripe key is
configured. Payment tokens: `tok_decline` declines, `tok_pending` leaves the payment pending
(the order then waits for payment and expires), anything else authorises."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from payments.gateways.base import PaymentResult, PaymentStatus

DECLINE_TOKEN = "tok_decline"  # noqa: S105 - a test card, not a secret
PENDING_TOKEN = "tok_pending"  # noqa: S105


class TestGateway:
    __test__ = False  # not a pytest test class despite the name
    name = "test"

    def authorise(
        self,
        *,
        amount: Decimal,
        currency: str,
        payment_token: str,
        idempotency_key: str,
    ) -> PaymentResult:
        reference = "test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        if amount <= 0:
            return PaymentResult(
                PaymentStatus.DECLINED, reference, amount, currency, "Nothing to pay."
            )
        if payment_token == DECLINE_TOKEN:
            return PaymentResult(
                PaymentStatus.DECLINED,
                reference,
                amount,
                currency,
                "The card was declined. Try another card.",
            )
        status = (
            PaymentStatus.PENDING if payment_token == PENDING_TOKEN else PaymentStatus.AUTHORISED
        )
        return PaymentResult(status, reference, amount, currency)

    def void(self, *, reference: str, amount: Decimal, currency: str) -> PaymentResult:
        return PaymentResult(PaymentStatus.VOIDED, reference, amount, currency)
