"""The payment gateway interface. Gateways are called with no database transaction or row lock
held (a payment is recorded first, the gateway called, then the outcome recorded).

A payment is an intent at the gateway (a Stripe PaymentIntent, or the built-in test gateway's
own): created for an amount, confirmed with a payment method the shopper's device produced
(a Stripe PaymentMethod id, a test token), perhaps asking the shopper to authenticate first
(3-D Secure), then authorised (held, captured later) or captured at once, and later voided,
captured or refunded. Every call that changes something carries an idempotency key derived from
our own records, so a retry never charges twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class IntentStatus(StrEnum):
    """Where a payment stands at the gateway (Stripe's PaymentIntent statuses, named by what
    they mean here)."""

    NEEDS_METHOD = "needs_method"  # created, or declined: payable with (another) method
    REQUIRES_ACTION = "requires_action"  # the shopper must authenticate (3-D Secure)
    PROCESSING = "processing"  # accepted, money not confirmed yet (a bank debit)
    AUTHORISED = "authorised"  # held, to be captured (manual capture)
    CAPTURED = "captured"  # the money is taken
    CANCELED = "canceled"  # voided: nothing will be taken

    @property
    def funds_an_order(self) -> bool:
        """The order may be placed on it (paid or waiting for the money)."""
        return self in (IntentStatus.PROCESSING, IntentStatus.AUTHORISED, IntentStatus.CAPTURED)


class GatewayUnavailable(Exception):
    """The gateway could not be reached or answered an error of its own (network, 5xx, rate
    limit): nothing is known to have happened; retry the same call with the same key."""


class GatewayRefused(Exception):
    """The gateway refused the request itself (not a card decline): an invalid amount, a
    refund past what was captured, an intent in the wrong state. Retrying will not help."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CardDetails:
    brand: str = ""
    last4: str = ""
    country: str = ""  # where the card was issued
    fingerprint: str = ""
    billing_country: str = ""  # of the billing address the shopper gave, if any


@dataclass(frozen=True)
class IntentResult:
    """A payment intent as the gateway has it now."""

    reference: str
    status: IntentStatus
    amount: Decimal
    currency: str
    amount_capturable: Decimal = Decimal("0")
    amount_received: Decimal = Decimal("0")
    # for the shopper's device: Stripe.js / the mobile SDKs confirm or authenticate with it
    client_secret: str = ""
    # where a browser goes to authenticate (3-D Secure), when the gateway says so
    action_url: str = ""
    failure_code: str = ""
    failure_message: str = ""
    card: CardDetails = field(default_factory=CardDetails)
    # the gateway's own fraud assessment of the charge, when it has one (Stripe Radar)
    risk_level: str = ""
    risk_score: int | None = None
    charge_reference: str = ""


@dataclass(frozen=True)
class RefundResult:
    reference: str
    amount: Decimal
    succeeded: bool
    pending: bool = False
    failure_message: str = ""


@dataclass(frozen=True)
class CustomerSession:
    """What a mobile SDK needs to show a saved customer's methods."""

    customer: str
    ephemeral_key: str


@dataclass(frozen=True)
class TransferResult:
    """Money sent to a seller's connected account (a Stripe Connect transfer), or taken back
    from it (a transfer reversal): the gateway's id for it and the amount."""

    reference: str
    amount: Decimal
    test: bool = False  # the built-in test gateway's: recorded, no money moved


@dataclass(frozen=True)
class ConnectAccount:
    """A seller's connected account (Stripe Connect Express) as the gateway has it now."""

    reference: str
    details_submitted: bool
    payouts_enabled: bool
    transfers_active: bool
    currently_due: tuple[str, ...] = ()


class PaymentGateway(Protocol):
    name: str
    # the key the shopper's device uses (Stripe's publishable key); "" for the test gateway
    publishable_key: str

    def intent_create(
        self,
        *,
        amount: Decimal,
        currency: str,
        capture_later: bool,
        metadata: dict[str, str],
        idempotency_key: str,
        customer: str = "",
    ) -> IntentResult:
        """A new intent for `amount`, not confirmed yet (its client secret lets a device
        confirm it)."""
        ...

    def intent_update_amount(
        self, *, reference: str, amount: Decimal, idempotency_key: str
    ) -> IntentResult:
        """Change the amount of an intent not confirmed yet (the cart changed)."""
        ...

    def intent_confirm(
        self, *, reference: str, payment_method: str, return_url: str, idempotency_key: str
    ) -> IntentResult:
        """Confirm with a payment method the shopper's device produced. A decline comes back
        as NEEDS_METHOD with its failure code and message, never as an exception."""
        ...

    def intent_get(self, *, reference: str) -> IntentResult:
        """The intent as the gateway has it now (the truth webhooks and returns are checked
        against)."""
        ...

    def intent_capture(
        self, *, reference: str, amount: Decimal, idempotency_key: str
    ) -> IntentResult:
        """Take `amount` (at most what is authorised) of an authorised intent."""
        ...

    def intent_cancel(self, *, reference: str, idempotency_key: str) -> IntentResult:
        """Void an intent that is not captured: nothing will be taken."""
        ...

    def refund(
        self, *, reference: str, amount: Decimal, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        """Give back `amount` of a captured intent."""
        ...

    def customer_session(self, *, email: str, customer: str = "") -> CustomerSession | None:
        """A customer and an ephemeral key for the mobile SDKs; None when the gateway has no
        saved customers (the test gateway)."""
        ...

    # --- payouts: Stripe Connect, separate charges and transfers --------------------------------

    def transfer_create(
        self,
        *,
        amount: Decimal,
        currency: str,
        destination: str,
        transfer_group: str,
        source_transaction: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> TransferResult:
        """Send `amount` to a connected account, funded by the order's charge
        (`source_transaction`) and grouped by order (`transfer_group`)."""
        ...

    def transfer_reverse(
        self, *, transfer: str, amount: Decimal, metadata: dict[str, str], idempotency_key: str
    ) -> TransferResult:
        """Take `amount` of a transfer back from the connected account (a later refund)."""
        ...

    def connect_account_create(
        self, *, email: str, country: str, idempotency_key: str
    ) -> ConnectAccount | None:
        """A connected account (Express) for a seller; None when the gateway pays sellers
        without one (the test gateway records test transfers)."""
        ...

    def connect_account_get(self, *, account: str) -> ConnectAccount | None: ...

    def connect_account_link(self, *, account: str, refresh_url: str, return_url: str) -> str:
        """A one-time onboarding link (Stripe's hosted onboarding) for the account."""
        ...


def to_minor(amount: Decimal, currency: str) -> int:
    """Money as the gateway counts it: minor units (cents) for two-decimal currencies."""
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return int(amount)
    return int((amount * 100).to_integral_value())


def from_minor(value: int, currency: str) -> Decimal:
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return Decimal(value)
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


# Stripe's zero-decimal currencies: amounts are whole units
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
