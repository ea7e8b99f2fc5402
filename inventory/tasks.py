"""Celery tasks of inventory: thin callers of the services."""

from __future__ import annotations

import logging

from celery import shared_task

from inventory.services import stock_reconcile, stock_reservations_expire, warehouse_geocode

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def inventory_sweep_expired_task() -> int:
    """Release reservations whose TTL passed (beat, every minute). Safe to run concurrently and
    to retry: rows another transaction holds are skipped and released by it or the next run."""
    released = stock_reservations_expire()
    if released:
        logger.info("Released %s units of expired reservations.", released)
    return released


@shared_task(acks_late=True, ignore_result=True)
def inventory_reconcile_task() -> int:
    """Beat: prove every stock counter equals the rows behind it (`manage.py inventory_check`
    without --repair). Reports only; drift is logged as an error for the on-call to look at
    and repair with `inventory_check --repair`. Returns the number of drifts."""
    drifts = stock_reconcile(repair=False)
    if drifts:
        logger.error(
            "Inventory drift: %s counter(s) disagree with their rows; run "
            "`manage.py inventory_check` to see them and `--repair` to fix them:\n%s",
            len(drifts),
            "\n".join(d.describe() for d in drifts[:50]),
        )
    return len(drifts)


@shared_task(acks_late=True)
def warehouse_geocode_task(*, warehouse_id: int) -> None:
    """Refine a geocoded warehouse's coordinates with the online geocoder (SHOP_GEOCODER)."""
    warehouse_geocode(warehouse_id=warehouse_id)
