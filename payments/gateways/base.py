"""The payment gateway interface checkout talks to. Gateways are called with no database
transaction or row lock held (placement authorises first, then locks and writes)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class PaymentStatus(StrEnum):
    AUTHORISED = "authorised"
    PENDING = "pending"  # accepted, but the money is not confirmed yet (order waits for payment)
    DECLINED = "declined"
    VOIDED = "voided"


@dataclass(frozen=True)
class PaymentResult:
    status: PaymentStatus
    reference: str
    amount: Decimal
    currency: str
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in {PaymentStatus.AUTHORISED, PaymentStatus.PENDING}


class PaymentGateway(Protocol):
    name: str

    def authorise(
        self,
        *,
        amount: Decimal,
        currency: str,
        payment_token: str,
        idempotency_key: str,
    ) -> PaymentResult:
        """Hold `amount`. The same `idempotency_key` must return the same result and
        reference, and never hold the money twice."""
        ...

    def void(self, *, reference: str, amount: Decimal, currency: str) -> PaymentResult:
        """Release a hold that will not be captured (order failed or cancelled)."""
        ...
