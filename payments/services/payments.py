"""A payment's life at the gateway: started for a checkout, confirmed with the shopper's method,
read back (after 3-D Secure, a webhook, a reconciliation), captured, voided.

The order of work is always the same: our row is written (committed) first, the gateway is
called with no transaction or lock open and an idempotency key derived from that row, and what
the gateway answers is recorded under the row's lock (`payment_record`), with an event when
anything changed. So a crash at any point leaves a row that says what we asked, and asking again
with the same key cannot charge twice.
"""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from payments.gateways import (
    GatewayRefused,
    GatewayUnavailable,
    IntentResult,
    IntentStatus,
    PaymentGateway,
    gateway_get,
    gateway_live,
)
from payments.models import Payment, PaymentEvent
from shop.core.errors import ErrorCode, ServiceError, ServiceUnavailable, ValidationError

logger = logging.getLogger(__name__)

# a payment waiting on someone else (the shopper's bank, the shopper's authentication): a
# reconciliation asks the gateway about these
WAITING_STATUSES = (IntentStatus.REQUIRES_ACTION, IntentStatus.PROCESSING)
RECONCILE_FOR = 24 * 3600  # seconds: past this a payment left waiting was abandoned


class PaymentFailed(ServiceError):
    code = ErrorCode.PAYMENT_FAILED
    http_status = 402


def gateway_of(payment: Payment) -> PaymentGateway:
    return gateway_get(payment.gateway)


def _unavailable(exc: GatewayUnavailable) -> ServiceUnavailable:
    logger.warning("Payment gateway unavailable: %s", exc)
    return ServiceUnavailable(
        "The payment service is not answering right now. Nothing was charged; please try "
        "again in a minute.",
        retry_after=30,
    )


def _refused(exc: GatewayRefused) -> ValidationError:
    return ValidationError(str(exc), code=ErrorCode.INVALID)


def payment_start(
    *,
    checkout_id: int,
    amount: Decimal,
    currency: str,
    capture_later: bool,
    user_id: int | None = None,
    email: str = "",
    client_ip: str | None = None,
) -> Payment:
    """The checkout's payment for `amount`: the one in flight when it still fits, else a new
    attempt with a new intent at the live gateway. A paid (or paying) one is returned as is."""
    gateway = gateway_live()
    current = Payment.objects.filter(checkout_id=checkout_id).order_by("-attempt").first()
    if current is not None:
        if IntentStatus(current.status).funds_an_order:
            return current
        reusable = (
            current.reference
            and current.status in (IntentStatus.NEEDS_METHOD, IntentStatus.REQUIRES_ACTION)
            and (current.amount, current.currency, current.gateway) == (amount, currency, gateway)
        )
        if reusable:
            return current
    attempt = current.attempt + 1 if current is not None else 1
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                checkout_id=checkout_id,
                attempt=attempt,
                gateway=gateway,
                status=IntentStatus.NEEDS_METHOD,
                amount=amount,
                currency=currency,
                capture_later=capture_later,
                user_id=user_id,
                email=email,
                client_ip=client_ip or None,
            )
    except IntegrityError:  # a concurrent request started this attempt: use it
        payment = Payment.objects.get(checkout_id=checkout_id, attempt=attempt)
        if payment.reference:
            return payment
    try:
        intent = gateway_of(payment).intent_create(
            amount=amount,
            currency=currency,
            capture_later=capture_later,
            metadata={"checkout_id": str(checkout_id), "payment_id": str(payment.pk)},
            idempotency_key=f"payment:{payment.pk}:create",
        )
    except GatewayUnavailable as exc:
        raise _unavailable(exc) from exc
    except GatewayRefused as exc:
        raise _refused(exc) from exc
    # nobody else knows the intent yet: a plain guarded UPDATE, no lock, no event (the log
    # starts at the confirmation)
    Payment.objects.filter(pk=payment.pk, reference="").update(
        reference=intent.reference, status=intent.status
    )
    payment.reference, payment.status = intent.reference, intent.status
    return payment


def payment_confirm(*, payment: Payment, method: str, return_url: str) -> Payment:
    """Confirm with the method the shopper's device produced (a Stripe PaymentMethod id, a test
    token). The same method twice is the same request (one idempotency key): a double click
    charges once. A decline is recorded and answered with PaymentFailed."""
    if not method:
        raise ValidationError(
            "Choose how to pay.", fields={"payment_token": ["Choose how to pay."]}
        )
    digest = hashlib.sha256(method.encode()).hexdigest()[:16]
    try:
        intent = gateway_of(payment).intent_confirm(
            reference=payment.reference,
            payment_method=method,
            return_url=return_url,
            idempotency_key=f"payment:{payment.pk}:confirm:{digest}",
        )
    except GatewayUnavailable as exc:
        raise _unavailable(exc) from exc
    except GatewayRefused as exc:
        raise _refused(exc) from exc
    return payment_record(payment=payment, intent=intent, kind="confirmed")


def payment_refresh(*, payment: Payment, kind: str = "refreshed") -> Payment:
    """Ask the gateway where the payment stands and record it."""
    try:
        intent = gateway_of(payment).intent_get(reference=payment.reference)
    except GatewayUnavailable as exc:
        raise _unavailable(exc) from exc
    except GatewayRefused as exc:
        raise _refused(exc) from exc
    return payment_record(payment=payment, intent=intent, kind=kind)


def payment_record(
    *, payment: Payment, intent: IntentResult, kind: str, detail: dict[str, Any] | None = None
) -> Payment:
    """Write what the gateway says, under the payment's row lock; an event when the status or
    the captured amount changed (a replayed webhook changes nothing and writes nothing)."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        before = (locked.status, locked.amount_captured, locked.reference)
        locked.reference = locked.reference or intent.reference
        locked.status = intent.status
        locked.amount_captured = max(locked.amount_captured, intent.amount_received)
        locked.failure_code = intent.failure_code[:100]
        locked.failure_message = intent.failure_message[:500]
        card = intent.card
        if card.fingerprint or card.last4:
            locked.card_brand, locked.card_last4 = card.brand[:20], card.last4[:4]
            locked.card_country, locked.card_fingerprint = card.country[:2], card.fingerprint
            locked.billing_country = card.billing_country[:2].upper()
        if intent.risk_level:
            locked.risk_level, locked.risk_score = intent.risk_level[:20], intent.risk_score
        locked.charge_reference = locked.charge_reference or intent.charge_reference
        locked.save()
        # a decline leaves the status where it was, but is news: fraud checks count them
        declined = kind == "confirmed" and bool(intent.failure_code)
        if declined or (locked.status, locked.amount_captured, locked.reference) != before:
            PaymentEvent.objects.create(
                payment=locked,
                kind=kind,
                status=locked.status,
                amount=locked.amount_captured or None,
                detail={
                    **(detail or {}),
                    **({"failure_code": intent.failure_code} if intent.failure_code else {}),
                },
            )
    return locked


def payment_capture(*, payment: Payment, amount: Decimal | None = None) -> Payment:
    """Take the authorised money (at shipment, or by staff): `amount` at most what was
    authorised less what was released by refunds before capture."""
    payment = Payment.objects.get(pk=payment.pk)
    if payment.status == IntentStatus.CAPTURED:
        return payment
    if payment.status != IntentStatus.AUTHORISED:
        raise ValidationError("Only an authorised payment can be captured.")
    released = payment_released(payment=payment)
    capturable = payment.amount - released
    amount = capturable if amount is None else amount
    if amount <= 0 or amount > capturable:
        raise ValidationError(f"At most {capturable} {payment.currency} can be captured.")
    try:
        intent = gateway_of(payment).intent_capture(
            reference=payment.reference,
            amount=amount,
            idempotency_key=f"payment:{payment.pk}:capture",
        )
    except GatewayUnavailable as exc:
        raise _unavailable(exc) from exc
    except GatewayRefused as exc:
        raise _refused(exc) from exc
    return payment_record(payment=payment, intent=intent, kind="captured")


def payment_released(*, payment: Payment) -> Decimal:
    """What refunds took off an authorised payment before it was captured."""
    from payments.models import RefundStatus

    return sum(
        (r.amount for r in payment.refunds.filter(status=RefundStatus.SUCCEEDED, reference="")),
        Decimal("0"),
    )


def payment_void(*, payment: Payment) -> Payment:
    """Release a payment that will not pay for anything: an uncaptured one is voided (nothing is
    taken), a captured one is refunded in full (what is left of it). Idempotent."""
    payment = Payment.objects.get(pk=payment.pk)
    if payment.status == IntentStatus.CANCELED:
        return payment
    if payment.status == IntentStatus.CAPTURED:
        from payments.services.refunds import refund_book, refund_execute

        if payment.refundable > 0:
            refund = refund_book(
                payment=payment,
                order_id=payment.order_id or 0,
                amount=payment.refundable,
                reason="The order was cancelled.",
                key_suffix="void",
            )
            refund_execute(refund_id=refund.pk)
        return Payment.objects.get(pk=payment.pk)
    if not payment.reference:
        Payment.objects.filter(pk=payment.pk).update(status=IntentStatus.CANCELED)
        return Payment.objects.get(pk=payment.pk)
    try:
        intent = gateway_of(payment).intent_cancel(
            reference=payment.reference, idempotency_key=f"payment:{payment.pk}:cancel"
        )
    except GatewayRefused:
        # it changed meanwhile (captured, already canceled): record the truth, then decide
        payment = payment_refresh(payment=payment)
        if payment.status == IntentStatus.CAPTURED:
            return payment_void(payment=payment)
        return payment
    return payment_record(payment=payment, intent=intent, kind="voided")


def payment_link_order(*, payment: Payment, order_id: int) -> None:
    """The payment paid for this order (called in the placement's transaction; the order's
    own events say when)."""
    Payment.objects.filter(pk=payment.pk).update(order_id=order_id)


def payment_for_order(*, order_id: int) -> Payment | None:
    return Payment.objects.filter(order_id=order_id).order_by("-attempt").first()


def payments_open(*, older_than_seconds: int, limit: int = 200) -> list[Payment]:
    """Payments waiting at the gateway (3-D Secure, a bank debit) and quiet for a while, from
    the last day: the reconciliation asks about them, since webhooks are not guaranteed."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    return list(
        Payment.objects.filter(
            status__in=WAITING_STATUSES,
            updated_at__lt=now - timedelta(seconds=older_than_seconds),
            created_at__gt=now - timedelta(seconds=RECONCILE_FOR),
        )
        .exclude(reference="")
        .order_by("updated_at")[:limit]
    )
