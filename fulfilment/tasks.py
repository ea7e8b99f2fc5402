"""Celery tasks: thin callers of fulfilment services, idempotent and safe to retry."""

from __future__ import annotations

from celery import shared_task

from fulfilment.services import seller_orders_cancel_unshipped, shipments_track


@shared_task(acks_late=True)
def shipments_track_task() -> int:
    """Beat: polling carriers' news for parcels not delivered yet (each event stored once, so a
    worker killed mid-run and the run again leave one effect)."""
    return shipments_track()


@shared_task(acks_late=True)
def seller_orders_cancel_unshipped_task() -> int:
    """Beat: seller orders not shipped within FULFILMENT_CANCEL_UNSHIPPED_AFTER_DAYS are
    cancelled and refunded (each under its row lock; one already refunded is skipped)."""
    return seller_orders_cancel_unshipped()
