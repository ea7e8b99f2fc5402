"""Celery tasks: thin, id-taking, idempotent callers of payments services, started through the
outbox. A gateway may fail in ways of its own (its outage answers errors, not dropped sockets):
money steps retry any error, with the project's backoff (shop.celery.Task)."""

from __future__ import annotations

from celery import shared_task

from payments.models import Payment
from payments.services import payment_void, refund_execute

_MONEY_RETRY = {"autoretry_for": (Exception,)}


@shared_task(acks_late=True, **_MONEY_RETRY)
def payment_void_task(*, payment_id: int) -> str:
    """Release a payment its order no longer needs (a cancellation, an expiry)."""
    return payment_void(payment=Payment.objects.get(pk=payment_id)).status


@shared_task(acks_late=True, **_MONEY_RETRY)
def payment_release_unused_task(*, payment_id: int) -> str:
    """After a failed placement: release the payment unless an order was linked to it after
    all (the placement committed, its answer was lost)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.order_id is not None:
        return "kept"
    return payment_void(payment=payment).status


@shared_task(acks_late=True, **_MONEY_RETRY)
def refund_execute_task(*, refund_id: int) -> str:
    return refund_execute(refund_id=refund_id).status
