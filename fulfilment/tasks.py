"""Celery tasks: thin callers of fulfilment services, idempotent and safe to retry."""

from __future__ import annotations

from celery import shared_task

from fulfilment.services import shipments_track


@shared_task(acks_late=True)
def shipments_track_task() -> int:
    """Beat: polling carriers' news for parcels not delivered yet (each event stored once, so a
    worker killed mid-run and the run again leave one effect)."""
    return shipments_track()
