from __future__ import annotations

from celery import shared_task

from accounts.services import address_geocode


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def address_geocode_task(*, address_id: int) -> None:
    """Refine an address's coordinates with the online geocoder (SHOP_GEOCODER)."""
    address_geocode(address_id=address_id)
