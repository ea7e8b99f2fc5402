"""What payments mean for orders: a gateway's news (webhooks, the reconciliation, the unpaid
order sweeper) brought to the orders it concerns, and refunds of seller-order lines.

`payments` knows gateways and money; it refers to orders by id and never imports this app.
Here orders decide: place the order a shopper paid for but never came back to, mark an order
paid, cancel one whose payment failed, release a payment nothing uses, give money back for
lines with their stock.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum

from inventory.services import stock_deallocate_units, stock_return
from ledger.services import ledger_post_dispute, ledger_post_sales
from orders.models import Checkout, Order, OrderLine, OrderStatus, SellerOrder
from orders.services.placement import (
    ORDER_EMAIL_TASK,
    ORDER_FRAUD_CHECK_TASK,
    PAYMENT_RELEASE_UNUSED_TASK,
    PAYMENT_VOID_TASK,
    order_cancel,
    order_place_paid,
    order_sales,
)
from orders.services.transitions import order_transition, order_transition_together
from payments.gateways import IntentStatus
from payments.models import Dispute, Payment, RefundLine, RefundStatus, WebhookEvent
from payments.services import (
    RefundLineSpec,
    payment_refresh,
    payments_open,
    refund_book,
)
from payments.services.webhooks import (
    webhook_mark_processed,
    webhook_money_apply,
    webhook_payment,
)
from shop.core.errors import ServiceError, ValidationError
from shop.core.outbox import outbox_enqueue

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
# the card issuer warned of fraud: the order's fraud check scores it again (orders.services.fraud)
ORDER_FRAUD_WARNING_TASK = "orders.tasks.order_fraud_warning_task"


def order_payment_settle(*, payment_id: int) -> Payment:
    """Ask the gateway where a payment stands, then bring its orders in line:
    - accepted, no order yet: place it (the shopper paid but never came back);
    - accepted, its order waits for the money: the order is paid;
    - failed or cancelled, its order waits: the order is cancelled and its stock released;
    - accepted but its order was cancelled, or another payment paid it: released."""
    payment = payment_refresh(payment=Payment.objects.get(pk=payment_id), kind="settled")
    status = IntentStatus(payment.status)
    order = Order.objects.filter(checkout_id=payment.checkout_id).first()
    if order is None:
        if status.funds_an_order:
            checkout = Checkout.objects.select_related("cart", "shipping_address").get(
                pk=payment.checkout_id
            )
            try:
                order_place_paid(checkout=checkout, payment=payment)
            except ServiceError as exc:
                # refused for a reason of the checkout's (it changed, stock is gone): the
                # payment was released by the refusal; nothing else to do
                logger.warning("Payment %s could not place its order: %s", payment.pk, exc)
        return payment
    if payment.order_id != order.pk:
        if status.funds_an_order:  # a second payment for a paid checkout
            outbox_enqueue(task=PAYMENT_RELEASE_UNUSED_TASK, kwargs={"payment_id": payment.pk})
        return payment
    if order.status == OrderStatus.PENDING_PAYMENT:
        if status in (IntentStatus.AUTHORISED, IntentStatus.CAPTURED):
            order_mark_paid(order=order, payment=payment)
        elif status in (IntentStatus.NEEDS_METHOD, IntentStatus.CANCELED):
            order_cancel(
                order=order,
                reason=f"Payment failed: {payment.failure_message or payment.status}.",
            )
    elif order.status == OrderStatus.CANCELLED and status.funds_an_order:
        outbox_enqueue(task=PAYMENT_VOID_TASK, kwargs={"payment_id": payment.pk})
    return payment


def order_mark_paid(*, order: Order, payment: Payment) -> Order:
    """The money for an order waiting for it arrived (a bank debit settled, a webhook)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PENDING_PAYMENT:
            return locked
        seller_orders = list(locked.seller_orders.select_for_update().order_by("pk"))
        verb = "captured" if payment.status == IntentStatus.CAPTURED else "authorised"
        order_transition_together(
            order=locked,
            seller_orders=seller_orders,
            to=OrderStatus.PAID,
            reason=f"Payment {verb} ({payment.reference}).",
        )
        Order.objects.filter(pk=locked.pk).update(payment_due_at=None)
        outbox_enqueue(task=ORDER_FRAUD_CHECK_TASK, kwargs={"order_id": locked.pk})
        ledger_post_sales(
            sales=order_sales(
                order=locked,
                seller_orders=seller_orders,
                lines=list(OrderLine.objects.filter(order_id=locked.pk)),
            )
        )
    return locked


def payment_webhook_process(*, event_id: int) -> None:
    """A stored webhook's effects (the outbox task of `payments.services.webhook_receive`).
    Idempotent: a processed event is skipped, and every effect reads the gateway's state."""
    event = WebhookEvent.objects.get(pk=event_id)
    if event.processed_at is not None:
        return
    payment = webhook_payment(event=event)
    if payment is None:
        webhook_mark_processed(event=event)  # not a payment of this shop's
        return
    dispute = webhook_money_apply(event=event, payment=payment)
    if dispute is not None:
        dispute = dispute_assign(dispute=dispute)
        ledger_post_dispute(dispute_id=dispute.pk)
    if event.type == "radar.early_fraud_warning.created":
        outbox_enqueue(task=ORDER_FRAUD_WARNING_TASK, kwargs={"payment_id": payment.pk})
    if event.type.startswith("payment_intent."):
        order_payment_settle(payment_id=payment.pk)
    webhook_mark_processed(event=event)


def dispute_assign(*, dispute: Dispute) -> Dispute:
    """A dispute concerns the seller order of its order when there is one; with several,
    staff assign it in the admin (meanwhile every seller order of the order is frozen)."""
    if dispute.seller_order_id is not None or dispute.payment.order_id is None:
        return dispute
    ids = list(
        SellerOrder.objects.filter(order_id=dispute.payment.order_id).values_list("pk", flat=True)
    )
    if len(ids) == 1:
        Dispute.objects.filter(pk=dispute.pk).update(seller_order_id=ids[0])
        dispute.seller_order_id = ids[0]
    return dispute


def dispute_assign_to(*, dispute: Dispute, seller_order_id: int | None) -> Dispute:
    """Staff name the seller order a dispute concerns: one of its own order's."""
    if seller_order_id is not None:
        order_id = dispute.payment.order_id
        ours = order_id is not None and (
            SellerOrder.objects.filter(pk=seller_order_id, order_id=order_id).exists()
        )
        if not ours:
            raise ValidationError(
                "That seller order is not part of the disputed order.",
                fields={"seller_order_id": ["Choose one of the order's seller orders."]},
            )
    Dispute.objects.filter(pk=dispute.pk).update(seller_order_id=seller_order_id)
    dispute.seller_order_id = seller_order_id
    ledger_post_dispute(dispute_id=dispute.pk)
    return dispute


def payments_reconcile() -> int:
    """Beat: ask the gateway about payments left waiting (webhooks are not guaranteed) and
    settle them. Returns how many were asked about."""
    from django.conf import settings

    asked = 0
    for payment in payments_open(older_than_seconds=settings.PAYMENTS_RECONCILE_AFTER_SECONDS):
        try:
            order_payment_settle(payment_id=payment.pk)
        except ServiceError as exc:
            logger.warning("Reconciliation could not settle payment %s: %s", payment.pk, exc)
        asked += 1
    return asked


# --- refunds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundRequest:
    order_line_id: int
    quantity: int
    restock: bool = True
    # False for units never allocated (sold while the shopper paid): no stock moves
    allocated: bool = True


def _refunded_units(line_ids: Sequence[int]) -> dict[int, int]:
    rows = (
        RefundLine.objects.filter(order_line_id__in=line_ids)
        .exclude(refund__status=RefundStatus.FAILED)
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["order_line_id"]: row["units"] for row in rows}


def _line_amount(line: OrderLine, quantity: int) -> Decimal:
    """A part of a line's total (tax and discount included), rounded once; all of it is the
    total itself, so whole refunds add up to the cent."""
    if quantity == line.quantity:
        return line.total
    return (line.total * quantity / line.quantity).quantize(CENT, rounding=ROUND_HALF_UP)


def order_refund(
    *,
    seller_order: SellerOrder,
    lines: Sequence[RefundRequest] = (),
    shipping_amount: Decimal = Decimal("0"),
    reason: str = "",
    by=None,
) -> Order:
    """Give money back for units of a seller order's lines (and some of its shipping). Units not
    shipped yet are released from their allocation (back in stock); shipped units come back
    through a return, restocked or written off per line. Never more units than were bought,
    never more money than was captured (the payment's lock counts concurrent refunds)."""
    order = seller_order.order
    payment = Payment.objects.filter(order_id=order.pk).order_by("-attempt").first()
    if payment is None:
        raise ValidationError("This order has no payment to refund.")
    by_id = {line.pk: line for line in seller_order.lines.all()}
    requested = [r for r in lines if r.quantity]
    if not requested and shipping_amount <= 0:
        raise ValidationError("Choose the lines (or the shipping) to refund.")
    with transaction.atomic():
        locked = SellerOrder.objects.select_for_update().get(pk=seller_order.pk)
        if locked.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED):
            raise ValidationError("Only a paid seller order can be refunded.")
        refunded = _refunded_units([r.order_line_id for r in requested])
        specs: list[RefundLineSpec] = []
        for request in requested:
            line = by_id.get(request.order_line_id)
            if line is None:
                raise ValidationError("That line is not part of this seller order.")
            left = line.quantity - refunded.get(line.pk, 0)
            if request.quantity < 0 or request.quantity > left:
                raise ValidationError(
                    f"“{line.product_name}”: at most {left} more can be refunded.",
                    fields={"quantity": [f"At most {left}."]},
                )
            if request.allocated:
                _restock(line=line, quantity=request.quantity, restock=request.restock, by=by)
            specs.append(
                RefundLineSpec(
                    order_line_id=line.pk,
                    quantity=request.quantity,
                    amount=_line_amount(line, request.quantity),
                    restock=request.restock,
                )
            )
        shipping_left = locked.shipping_total - _shipping_refunded(locked)
        if shipping_amount < 0 or shipping_amount > shipping_left:
            raise ValidationError(f"At most {shipping_left} of the shipping can be refunded.")
        amount = sum((s.amount for s in specs), Decimal("0")) + shipping_amount
        refund_book(
            payment=payment,
            order_id=order.pk,
            seller_order_id=locked.pk,
            amount=amount,
            lines=specs,
            shipping_amount=shipping_amount,
            reason=reason,
            by=by,
        )
        _refund_status_follow(seller_order=locked, by=by, reason=reason)
        outbox_enqueue(task=ORDER_EMAIL_TASK, kwargs={"order_id": order.pk, "kind": "refunded"})
    order.refresh_from_db()
    return order


def order_refund_rest(*, seller_order: SellerOrder, reason: str, by=None) -> None:
    """Refund whatever of a seller order is not refunded yet: every unit left and the rest of
    its shipping (a rejected order that could no longer be cancelled)."""
    if seller_order.status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED):
        return
    lines = list(seller_order.lines.all())
    refunded = _refunded_units([line.pk for line in lines])
    requests = [
        RefundRequest(order_line_id=line.pk, quantity=left)
        for line in lines
        if (left := line.quantity - refunded.get(line.pk, 0)) > 0
    ]
    shipping = seller_order.shipping_total - _shipping_refunded(seller_order)
    if requests or shipping > 0:
        order_refund(
            seller_order=seller_order,
            lines=requests,
            shipping_amount=max(shipping, Decimal("0")),
            reason=reason,
            by=by,
        )


def _shipping_refunded(seller_order: SellerOrder) -> Decimal:
    from payments.models import Refund

    total = (
        Refund.objects.filter(seller_order_id=seller_order.pk)
        .exclude(status=RefundStatus.FAILED)
        .aggregate(t=Sum("shipping_amount"))["t"]
    )
    return total or Decimal("0")


def _restock(*, line: OrderLine, quantity: int, restock: bool, by) -> None:
    """Units not shipped are released from the allocation; shipped ones come back (restocked
    or written off)."""
    released = stock_deallocate_units(order_line_id=line.pk, quantity=quantity)
    if released < quantity:
        stock_return(order_line_id=line.pk, quantity=quantity - released, restock=restock, actor=by)


def _refund_status_follow(*, seller_order: SellerOrder, by, reason: str) -> None:
    """Refunded in full (every unit and the shipping) or in part, for the seller order and
    then the order."""
    lines = list(seller_order.lines.all())
    units = _refunded_units([line.pk for line in lines])
    whole = all(units.get(line.pk, 0) >= line.quantity for line in lines) and (
        _shipping_refunded(seller_order) >= seller_order.shipping_total
    )
    to = OrderStatus.REFUNDED if whole else OrderStatus.PARTIALLY_REFUNDED
    order = Order.objects.select_for_update().get(pk=seller_order.order_id)
    if seller_order.status != to:
        order_transition(
            order=order, seller_order=seller_order, to=to, actor=by, reason=reason or "Refund."
        )
    siblings = list(order.seller_orders.all())
    order_to = (
        OrderStatus.REFUNDED
        if all(s.status == OrderStatus.REFUNDED for s in siblings)
        else OrderStatus.PARTIALLY_REFUNDED
    )
    if order.status != order_to:
        order_transition(order=order, to=order_to, actor=by, reason=reason or "Refund.")
