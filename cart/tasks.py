"""Celery tasks: thin callers of cart services."""

from __future__ import annotations

from celery import shared_task

from cart.services import cart_reminder_send, carts_mark_abandoned


@shared_task(acks_late=True)
def carts_mark_abandoned_task() -> int:
    return carts_mark_abandoned()


@shared_task(acks_late=True)
def cart_reminder_send_task(*, cart_id: int) -> None:
    cart_reminder_send(cart_id=cart_id)
