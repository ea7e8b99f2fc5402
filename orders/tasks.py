"""Celery tasks: thin, id-taking, idempotent callers of services. Started through the outbox
(`shop.core.outbox`), which delivers at least once."""

from __future__ import annotations

from decimal import Decimal

from celery import shared_task

from orders.emails import order_email_send
from orders.services import orders_expire_unpaid
from orders.services.placement import checkout_payment_release, order_payment_void

# A gateway may fail in ways of its own (its outage answers errors, not dropped sockets): money
# steps retry any error, with the project's backoff (shop.celery.Task).
_PAYMENT_RETRY = {"autoretry_for": (Exception,)}


@shared_task(acks_late=True)
def order_email_send_task(*, order_id: int, kind: str) -> None:
    order_email_send(order_id=order_id, kind=kind)


@shared_task(acks_late=True, **_PAYMENT_RETRY)
def order_payment_void_task(*, order_id: int) -> bool:
    return order_payment_void(order_id=order_id)


@shared_task(acks_late=True, **_PAYMENT_RETRY)
def checkout_payment_release_task(
    *, checkout_id: int, reference: str, amount: str, currency: str
) -> bool:
    return checkout_payment_release(
        checkout_id=checkout_id, reference=reference, amount=Decimal(amount), currency=currency
    )


@shared_task(acks_late=True)
def orders_expire_unpaid_task() -> int:
    return orders_expire_unpaid()
