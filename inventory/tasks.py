"""Celery tasks of inventory: thin callers of the services."""

from __future__ import annotations

import logging

from celery import shared_task

from inventory.services import stock_reservations_expire, warehouse_geocode

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def inventory_sweep_expired_task() -> int:
    """Release reservations whose TTL passed (beat, every minute). Safe to run concurrently and
    to retry: rows another transaction holds are skipped and released by it or the next run."""
    released = stock_reservations_expire()
    if released:
        logger.info("Released %s units of expired reservations.", released)
    return released


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def warehouse_geocode_task(*, warehouse_id: int) -> None:
    """Refine a geocoded warehouse's coordinates with the online geocoder (SHOP_GEOCODER)."""
    warehouse_geocode(warehouse_id=warehouse_id)
