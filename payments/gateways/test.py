"""The built-in test gateway (DESIGN.md): no network, no money, deterministic. It is the
embedded default when no Stripe key is configured, and refused outside debug mode unless
SHOP_TEST_PAYMENTS=1 says so (shop.settings).

Its intents live in the database (`payments.TestIntent`), so every process (web, worker) sees
the same one. Confirm with a token, as Stripe.js would produce a PaymentMethod:

| token | outcome |
|---|---|
| `tok_visa` | authorised (captured at once unless capture is at shipment) |
| `tok_3ds` | needs the shopper to authenticate: the test gateway's own page approves or fails it |
| `tok_pending` | processing: the money is not confirmed yet (settled from the admin) |
| `tok_decline` | declined: payable again with another token |
| `tok_unavailable` | the gateway cannot be reached (retry later) |

An empty or unknown token is refused.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.db import transaction
from django.urls import reverse

from payments.gateways.base import (
    CardDetails,
    ConnectAccount,
    CustomerSession,
    GatewayRefused,
    GatewayUnavailable,
    IntentResult,
    IntentStatus,
    RefundResult,
    TransferResult,
)

SUCCEED_TOKEN = "tok_visa"  # noqa: S105 - test cards, not secrets
ACTION_TOKEN = "tok_3ds"  # noqa: S105
PENDING_TOKEN = "tok_pending"  # noqa: S105
DECLINE_TOKEN = "tok_decline"  # noqa: S105
UNAVAILABLE_TOKEN = "tok_unavailable"  # noqa: S105
TOKENS = (SUCCEED_TOKEN, ACTION_TOKEN, PENDING_TOKEN, DECLINE_TOKEN, UNAVAILABLE_TOKEN)
DECLINE_MESSAGE = "The card was declined. Try another card."
TEST_CARD = CardDetails(brand="visa", last4="4242", country="US", fingerprint="test_visa")


def _model():
    from payments.models import TestIntent

    return TestIntent


def _result(intent) -> IntentResult:
    action_url = ""
    if intent.status == IntentStatus.REQUIRES_ACTION:
        action_url = reverse("payments:test_authenticate", args=[intent.reference])
    return IntentResult(
        reference=intent.reference,
        status=IntentStatus(intent.status),
        amount=intent.amount,
        currency=intent.currency,
        amount_capturable=intent.amount
        if intent.status == IntentStatus.AUTHORISED
        else Decimal("0"),
        amount_received=intent.amount_captured,
        client_secret=f"{intent.reference}_secret_test",
        action_url=action_url,
        failure_code=intent.failure_code,
        failure_message=intent.failure_message,
        card=TEST_CARD if intent.token and intent.token != DECLINE_TOKEN else CardDetails(),
        risk_level="normal" if intent.token else "",
        charge_reference=f"ch_{intent.reference}" if intent.amount_captured else "",
    )


def _locked(reference: str):
    intent = _model().objects.select_for_update().filter(reference=reference).first()
    if intent is None:
        raise GatewayRefused(f"No such test payment: {reference}.", code="resource_missing")
    return intent


def _succeeded(intent) -> None:
    if intent.capture_later:
        intent.status = IntentStatus.AUTHORISED
    else:
        intent.status = IntentStatus.CAPTURED
        intent.amount_captured = intent.amount


class TestGateway:
    __test__ = False  # not a pytest test class despite the name
    name = "test"
    publishable_key = ""

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
        if amount <= 0:
            raise GatewayRefused("Nothing to pay.", code="amount_too_small")
        reference = "test_pi_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        model = _model()
        # one statement: the same key again (a retry) finds the intent it made
        (intent,) = model.objects.bulk_create(
            [
                model(
                    reference=reference,
                    idempotency_key=idempotency_key,
                    amount=amount,
                    currency=currency.upper(),
                    capture_later=capture_later,
                    status=IntentStatus.NEEDS_METHOD,
                )
            ],
            update_conflicts=True,
            unique_fields=["idempotency_key"],
            update_fields=["idempotency_key"],
        )
        return _result(intent)

    def intent_update_amount(
        self, *, reference: str, amount: Decimal, idempotency_key: str
    ) -> IntentResult:
        with transaction.atomic():
            intent = _locked(reference)
            if intent.status != IntentStatus.NEEDS_METHOD:
                raise GatewayRefused("This payment can no longer change its amount.")
            intent.amount = amount
            intent.save(update_fields=["amount", "updated_at"])
        return _result(intent)

    def intent_confirm(
        self, *, reference: str, payment_method: str, return_url: str, idempotency_key: str
    ) -> IntentResult:
        token = (payment_method or "").strip()
        if not token:
            raise GatewayRefused("Choose how to pay.", code="payment_method_missing")
        if token not in TOKENS:
            raise GatewayRefused(
                f"Unknown test payment token {token!r}; use one of {', '.join(TOKENS)}.",
                code="payment_method_invalid",
            )
        if token == UNAVAILABLE_TOKEN:
            raise GatewayUnavailable("The test gateway simulates an outage for this token.")
        with transaction.atomic():
            intent = _locked(reference)
            if intent.status != IntentStatus.NEEDS_METHOD:
                return _result(intent)  # confirmed already: a replay answers the same
            intent.token, intent.return_url = token, return_url
            intent.failure_code = intent.failure_message = ""
            if token == DECLINE_TOKEN:
                intent.failure_code, intent.failure_message = "card_declined", DECLINE_MESSAGE
            elif token == ACTION_TOKEN:
                intent.status = IntentStatus.REQUIRES_ACTION
            elif token == PENDING_TOKEN:
                intent.status = IntentStatus.PROCESSING
            else:
                _succeeded(intent)
            intent.save()
        return _result(intent)

    def intent_get(self, *, reference: str) -> IntentResult:
        intent = _model().objects.filter(reference=reference).first()
        if intent is None:
            raise GatewayRefused(f"No such test payment: {reference}.", code="resource_missing")
        return _result(intent)

    def intent_capture(
        self, *, reference: str, amount: Decimal, idempotency_key: str
    ) -> IntentResult:
        with transaction.atomic():
            intent = _locked(reference)
            if intent.status == IntentStatus.CAPTURED:
                return _result(intent)
            if intent.status != IntentStatus.AUTHORISED or amount > intent.amount:
                raise GatewayRefused("This payment cannot be captured for that amount.")
            intent.status, intent.amount_captured = IntentStatus.CAPTURED, amount
            intent.save()
        return _result(intent)

    def intent_cancel(self, *, reference: str, idempotency_key: str) -> IntentResult:
        with transaction.atomic():
            intent = _locked(reference)
            if intent.status == IntentStatus.CAPTURED:
                raise GatewayRefused("A captured payment is refunded, not voided.")
            intent.status = IntentStatus.CANCELED
            intent.save()
        return _result(intent)

    def refund(
        self, *, reference: str, amount: Decimal, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        with transaction.atomic():
            intent = _locked(reference)
            if amount > intent.amount_captured - intent.amount_refunded:
                raise GatewayRefused(
                    "Refund amount is greater than what is left to refund.",
                    code="charge_already_refunded",
                )
            intent.amount_refunded += amount
            intent.save()
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return RefundResult(reference=f"test_re_{digest}", amount=amount, succeeded=True)

    def customer_session(self, *, email: str, customer: str = "") -> CustomerSession | None:
        return None

    # --- payouts: test transfers, recorded only; sellers need no connected account ---------

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
        if amount <= 0:
            raise GatewayRefused("A transfer needs an amount above zero.", code="amount_too_small")
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return TransferResult(reference=f"test_tr_{digest}", amount=amount, test=True)

    def transfer_reverse(
        self, *, transfer: str, amount: Decimal, metadata: dict[str, str], idempotency_key: str
    ) -> TransferResult:
        if amount <= 0:
            raise GatewayRefused("A reversal needs an amount above zero.", code="amount_too_small")
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return TransferResult(reference=f"test_trr_{digest}", amount=amount, test=True)

    def connect_account_create(
        self, *, email: str, country: str, idempotency_key: str
    ) -> ConnectAccount | None:
        return None

    def connect_account_get(self, *, account: str) -> ConnectAccount | None:
        return None

    def connect_account_link(self, *, account: str, refresh_url: str, return_url: str) -> str:
        raise GatewayRefused("The test gateway has no connected accounts.")

    # --- what the shopper's bank would do (the test gateway's own pages and the admin) -----

    def authenticate(self, *, reference: str, succeed: bool) -> IntentResult:
        """The shopper completes (or fails) 3-D Secure on the test gateway's page."""
        with transaction.atomic():
            intent = _locked(reference)
            if intent.status == IntentStatus.REQUIRES_ACTION:
                if succeed:
                    _succeeded(intent)
                else:
                    intent.status = IntentStatus.NEEDS_METHOD
                    intent.failure_code = "authentication_failed"
                    intent.failure_message = "The card's authentication failed. Try again."
                intent.save()
        return _result(intent)

    def settle(self, *, reference: str, succeed: bool) -> IntentResult:
        """The bank settles (or returns) a processing payment."""
        with transaction.atomic():
            intent = _locked(reference)
            if intent.status == IntentStatus.PROCESSING:
                if succeed:
                    _succeeded(intent)
                else:
                    intent.status = IntentStatus.NEEDS_METHOD
                    intent.failure_code = "payment_failed"
                    intent.failure_message = "The bank returned the payment."
                intent.save()
        return _result(intent)
