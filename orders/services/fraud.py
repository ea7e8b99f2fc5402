"""What a fraud check means for an order (the rules and the records are payments':
`payments.services.fraud`; docs/fraud.md).

Every paid order is scored by `order_fraud_check`, the Celery task `order_fraud_check_task`
started through the outbox in the transaction that marks the order paid (placement, or a
pending payment that settled later). Until then, and while a check waits for staff, the order's
`fraud_status` holds its fulfilment and payouts (they wait for `approved`). The outcome:
- approve: `fraud_status` approved;
- review: `fraud_status` review; staff approve or reject it in the admin's queue with a note
  (`order_fraud_review`);
- reject: `fraud_status` rejected and the order is cancelled (its stock released, its payment
  voided or refunded through the refund services); an order already refunded in part has the
  rest of every seller order refunded instead.
An early fraud warning from the card issuer scores the order again (`order_fraud_warning`): the
order goes back to review at least. Shoppers never see any of this; sellers see "on hold".
"""

from __future__ import annotations

import logging

from django.db import transaction

from orders.models import FraudStatus, Order, OrderStatus
from orders.services.payments import order_refund_rest
from orders.services.placement import order_cancel
from orders.services.transitions import CANCELLABLE
from payments.models import FraudCheck, FraudCheckStatus, FraudOutcome, Payment
from payments.services import payment_for_order
from payments.services.fraud import (
    STATUS_OF,
    FraudDecision,
    OrderFacts,
    fraud_check_decide,
    fraud_check_record,
    fraud_decide,
    fraud_facts,
)
from shop.core.errors import ValidationError

logger = logging.getLogger(__name__)

# what the shopper reads in the order's history and the cancellation email: nothing of fraud
REJECTED_REASON = "We could not accept this order; the payment is given back in full."
_NOT_CHECKED = (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED)
_PAID = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)
_FRAUD_STATUS_OF: dict[str, str] = {
    FraudCheckStatus.APPROVED: FraudStatus.APPROVED,
    FraudCheckStatus.REVIEW: FraudStatus.REVIEW,
    FraudCheckStatus.REJECTED: FraudStatus.REJECTED,
}


def order_fraud_facts(*, order: Order) -> OrderFacts:
    """What orders knows of the order for the rules: amount, destination, who."""
    return OrderFacts(
        order_id=order.pk,
        checkout_id=order.checkout_id,
        amount=order.total,
        currency=order.currency,
        placed_at=order.placed_at,
        shipping_country=str(order.shipping_address.get("country") or ""),
        user_id=order.user_id,
        email=order.email,
        account_created_at=order.user.date_joined if order.user is not None else None,
    )


def _decide(order: Order, payment: Payment | None) -> FraudDecision:
    return fraud_decide(facts=fraud_facts(order=order_fraud_facts(order=order), payment=payment))


def _record(
    *, order: Order, payment: Payment | None, decision: FraudDecision, kind: str, note: str = ""
) -> FraudCheck:
    """Record the check of an order locked by the caller and apply its outcome. A reject the
    order can no longer take (part has shipped) holds it for review instead."""
    outcome = decision.outcome
    if outcome == FraudOutcome.REJECT and not _rejectable(order):
        outcome = FraudOutcome.REVIEW
        note = f"{note} Not rejected automatically: part has shipped.".strip()
    check = fraud_check_record(
        order_id=order.pk,
        payment=payment,
        decision=decision,
        status=STATUS_OF[outcome],
        kind=kind,
        note=note,
    )
    _apply(order=order, status=check.status, by=None)
    logger.info("Order %s fraud check %s: %s (%s).", order.number, kind, check.score, check.status)
    return check


def order_fraud_check(*, order_id: int) -> FraudCheck | None:
    """Score a paid order once and apply the outcome; a check already made is returned as is
    (the task runs at least once). An order not paid, or cancelled meanwhile, is not checked.
    Scored before the order's lock is taken; recorded under it."""
    order = Order.objects.select_related("user").get(pk=order_id)
    if order.status in _NOT_CHECKED:
        return None
    existing = FraudCheck.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    payment = payment_for_order(order_id=order_id)
    decision = _decide(order, payment)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order_id)
        existing = FraudCheck.objects.filter(order_id=order_id).first()
        if existing is not None:  # checked meanwhile (a redelivery, an early fraud warning)
            return existing
        if locked.status in _NOT_CHECKED:
            return None
        return _record(order=locked, payment=payment, decision=decision, kind="scored")


def order_fraud_warning(*, payment: Payment) -> FraudCheck | None:
    """The card issuer warned of fraud on this payment (Stripe's early fraud warning): score
    its order again with the warning, which puts it in review at least; a rejected order stays
    as it is. An order not checked yet is checked now (its check sees the warning)."""
    if payment.order_id is None:
        return None
    order = Order.objects.select_related("user").get(pk=payment.order_id)
    if order.status == OrderStatus.PENDING_PAYMENT:
        return None  # checked when paid, with the warning
    if not FraudCheck.objects.filter(order_id=order.pk).exists():
        return order_fraud_check(order_id=order.pk)
    decision = _decide(order, payment)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        check = FraudCheck.objects.select_for_update().get(order_id=order.pk)
        if check.status == FraudCheckStatus.REJECTED:
            return check
        return _record(
            order=locked,
            payment=payment,
            decision=decision,
            kind="rescored",
            note="Scored again: the card issuer sent an early fraud warning.",
        )


def order_fraud_review(*, check: FraudCheck, approve: bool, by, note: str) -> FraudCheck:
    """Staff approve or reject an order held for review, with a note (kept in the check's
    history, never shown to the shopper or the seller). Rejecting cancels and refunds it."""
    note = note.strip()
    if not note:
        raise ValidationError("Say why in a note.", fields={"note": ["Say why in a note."]})
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=check.order_id)
        locked = FraudCheck.objects.select_for_update().get(pk=check.pk)
        if locked.status != FraudCheckStatus.REVIEW:
            raise ValidationError(
                f"This check was decided already ({locked.get_status_display().lower()})."
            )
        if not approve and not _rejectable(order):
            raise ValidationError(
                "Part of this order has shipped, so it cannot be rejected here: refund it from "
                "its seller orders instead."
            )
        decided = fraud_check_decide(check=locked, approve=approve, by=by, note=note)
        _apply(order=order, status=decided.status, by=by)
    return decided


def _rejectable(order: Order) -> bool:
    """Nothing of it has shipped: it can be cancelled, or what is left of it refunded."""
    statuses = {order.status, *order.seller_orders.values_list("status", flat=True)}
    return statuses <= {*CANCELLABLE, *_PAID, OrderStatus.CANCELLED}


def _apply(*, order: Order, status: str, by) -> None:
    """Bring the order (locked by the caller) in line with its check."""
    Order.objects.filter(pk=order.pk).update(fraud_status=_FRAUD_STATUS_OF[status])
    order.fraud_status = _FRAUD_STATUS_OF[status]
    if status == FraudCheckStatus.REJECTED:
        _reject(order=order, by=by)


def _reject(*, order: Order, by) -> None:
    """Cancel the order (stock released, payment voided or refunded in full); when part was
    refunded already (it cannot be cancelled then), refund the rest of every seller order."""
    if order.status == OrderStatus.CANCELLED:
        return
    seller_orders = list(order.seller_orders.select_related("order"))
    if order.status in CANCELLABLE and all(so.status in CANCELLABLE for so in seller_orders):
        order_cancel(order=order, by=by, reason=REJECTED_REASON)
        return
    for seller_order in seller_orders:
        order_refund_rest(seller_order=seller_order, reason=REJECTED_REASON, by=by)
