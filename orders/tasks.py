"""Celery tasks: thin, id-taking, idempotent callers of services."""

from __future__ import annotations

from celery import shared_task

from orders.emails import order_email_send
from orders.services import orders_expire_unpaid


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def order_email_send_task(*, order_id: int, kind: str) -> None:
    order_email_send(order_id=order_id, kind=kind)


@shared_task(acks_late=True)
def orders_expire_unpaid_task() -> int:
    return orders_expire_unpaid()
