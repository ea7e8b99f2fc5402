"""Refunds: booked under the payment's row lock (so concurrent refunds can never give back more
than was captured), then executed at the gateway after the commit (an outbox task), with an
idempotency key per refund.

Before capture (capture at shipment), a refund gives nothing back at the gateway: it releases
that much of the authorisation (recorded at once as succeeded, with no gateway reference), and
the capture later takes the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from payments.gateways import GatewayRefused, GatewayUnavailable, IntentStatus
from payments.models import Payment, PaymentEvent, Refund, RefundLine, RefundStatus
from payments.services.payments import gateway_of
from shop.core.errors import Conflict, ValidationError
from shop.core.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

REFUND_EXECUTE_TASK = "payments.tasks.refund_execute_task"
# the seller ledger posts a refund once it succeeded (ledger sits above payments: named, not
# imported)
LEDGER_REFUND_TASK = "ledger.tasks.ledger_refund_post_task"


@dataclass(frozen=True)
class RefundLineSpec:
    order_line_id: int
    quantity: int
    amount: Decimal
    restock: bool = True


def _committed(payment: Payment) -> Decimal:
    """What refunds already take or are taking from the payment."""
    total = payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(t=Sum("amount"))["t"]
    return total or Decimal("0")


def refund_book(
    *,
    payment: Payment,
    order_id: int,
    amount: Decimal,
    seller_order_id: int | None = None,
    lines: Sequence[RefundLineSpec] = (),
    shipping_amount: Decimal = Decimal("0"),
    reason: str = "",
    by=None,
    key_suffix: str = "",
) -> Refund:
    """Book a refund of `amount` (lines plus shipping) on the payment and queue its execution.
    Call inside the caller's transaction when it changes other things with it (restocking);
    raises Conflict when the payment has not that much left to give back."""
    if amount <= 0:
        raise ValidationError("A refund needs an amount above zero.")
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status == IntentStatus.CAPTURED:
            limit = locked.amount_captured
        elif locked.status == IntentStatus.AUTHORISED:
            limit = locked.amount
        else:
            raise ValidationError("Only a paid order can be refunded.")
        left = limit - _committed(locked)
        if amount > left:
            raise Conflict(
                f"Only {left} {locked.currency} can still be refunded on this payment.",
                details={"refundable": str(left)},
            )
        before_capture = locked.status == IntentStatus.AUTHORISED
        refund = Refund.objects.create(
            payment=locked,
            order_id=order_id,
            seller_order_id=seller_order_id,
            amount=amount,
            shipping_amount=shipping_amount,
            currency=locked.currency,
            reason=reason[:255],
            created_by=by if getattr(by, "is_authenticated", False) else None,
            status=RefundStatus.SUCCEEDED if before_capture else RefundStatus.PENDING,
        )
        RefundLine.objects.bulk_create(
            [
                RefundLine(
                    refund=refund,
                    order_line_id=line.order_line_id,
                    quantity=line.quantity,
                    amount=line.amount,
                    restock=line.restock,
                )
                for line in lines
            ]
        )
        PaymentEvent.objects.create(
            payment=locked,
            kind="refund_released" if before_capture else "refund_booked",
            status=locked.status,
            amount=amount,
            detail={"refund": refund.pk, "reason": reason[:255]},
        )
        if before_capture:
            outbox_enqueue(task=LEDGER_REFUND_TASK, kwargs={"refund_id": refund.pk})
        else:
            outbox_enqueue(task=REFUND_EXECUTE_TASK, kwargs={"refund_id": refund.pk})
    return refund


def refund_execute(*, refund_id: int) -> Refund:
    """Give the money back at the gateway (the outbox task of `refund_book`): no lock held, the
    key derived from the refund, so a retry or a redelivery refunds once."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        return refund
    payment = refund.payment
    try:
        result = gateway_of(payment).refund(
            reference=payment.reference,
            amount=refund.amount,
            idempotency_key=f"refund:{refund.pk}",
            reason="requested_by_customer",
        )
    except GatewayUnavailable:
        raise  # transient: the task retries it
    except GatewayRefused as exc:
        with transaction.atomic():
            Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
                status=RefundStatus.FAILED, failure_message=str(exc)[:500]
            )
            PaymentEvent.objects.create(
                payment=payment,
                kind="refund_failed",
                status=payment.status,
                amount=refund.amount,
                detail={"refund": refund.pk, "error": str(exc)[:500]},
            )
        logger.error("Refund %s was refused by the gateway: %s", refund.pk, exc)
        return Refund.objects.get(pk=refund.pk)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        done = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            status=RefundStatus.SUCCEEDED if not result.pending else RefundStatus.PENDING,
            reference=result.reference,
        )
        if done and not result.pending:
            locked.amount_refunded += refund.amount
            locked.save(update_fields=["amount_refunded", "updated_at"])
            PaymentEvent.objects.create(
                payment=locked,
                kind="refunded",
                status=locked.status,
                amount=refund.amount,
                detail={"refund": refund.pk, "reference": result.reference},
            )
            outbox_enqueue(task=LEDGER_REFUND_TASK, kwargs={"refund_id": refund.pk})
    return Refund.objects.get(pk=refund.pk)
