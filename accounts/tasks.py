"""Celery tasks: thin, id-taking, idempotent callers of account emails and services (retries:
shop.celery.Task)."""

from __future__ import annotations

from celery import shared_task

from accounts import emails
from accounts.services import address_geocode, api_tokens_delete_expired


@shared_task(acks_late=True)
def password_reset_email_send_task(*, user_id: int) -> None:
    emails.password_reset_email_send(user_id=user_id)


@shared_task(acks_late=True)
def email_verification_send_task(*, user_id: int) -> None:
    emails.email_verification_send(user_id=user_id)


@shared_task(acks_late=True)
def email_change_send_task(*, user_id: int, new_email: str) -> None:
    emails.email_change_send(user_id=user_id, new_email=new_email)


@shared_task(acks_late=True)
def email_changed_notice_send_task(*, user_id: int, old_email: str) -> None:
    emails.email_changed_notice_send(user_id=user_id, old_email=old_email)


@shared_task(acks_late=True)
def api_tokens_delete_expired_task() -> int:
    return api_tokens_delete_expired()


@shared_task(acks_late=True)
def address_geocode_task(*, address_id: int) -> None:
    """Refine an address's coordinates with the online geocoder (SHOP_GEOCODER)."""
    address_geocode(address_id=address_id)
