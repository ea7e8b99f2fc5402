"""Celery tasks: thin, id-taking, idempotent callers of services. Started through the outbox
(`shop.core.outbox`), which delivers at least once."""

from __future__ import annotations

from celery import shared_task

from orders.emails import order_email_send
from orders.services import orders_expire_unpaid
from orders.services.fraud import order_fraud_check, order_fraud_warning
from orders.services.payments import payment_webhook_process, payments_reconcile
from orders.services.payouts import payouts_run
from payments.models import Payment


@shared_task(acks_late=True)
def order_email_send_task(*, order_id: int, kind: str) -> None:
    order_email_send(order_id=order_id, kind=kind)


@shared_task(acks_late=True)
def payment_webhook_process_task(*, event_id: int) -> None:
    payment_webhook_process(event_id=event_id)


@shared_task(acks_late=True)
def payments_reconcile_task() -> int:
    return payments_reconcile()


@shared_task(acks_late=True)
def orders_expire_unpaid_task() -> int:
    return orders_expire_unpaid()


@shared_task(acks_late=True)
def order_fraud_check_task(*, order_id: int) -> str:
    """Score a paid order (once: a check already made is kept)."""
    check = order_fraud_check(order_id=order_id)
    return check.status if check is not None else "not checked"


@shared_task(acks_late=True)
def order_fraud_warning_task(*, payment_id: int) -> str:
    """The card issuer warned of fraud on a payment: its order is scored again."""
    check = order_fraud_warning(payment=Payment.objects.get(pk=payment_id))
    return check.status if check is not None else "not checked"


def payouts_run_task() -> int:
    """Beat: pay out the seller orders that became payable (orders.services.payouts)."""
    return payouts_run()
