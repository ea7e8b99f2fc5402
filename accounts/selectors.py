"""Reads of people's address books, scoped to their owner."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Address
from shop.core.errors import NotFound


def address_list_for_user(*, user) -> QuerySet[Address]:
    """The user's addresses, the default first, then the newest."""
    return Address.objects.filter(user=user).order_by("-is_default", "-created_at", "-id")


def address_get_for_user(*, user, pk: object) -> Address:
    """Fetch-and-check: another person's address (or none) is not found."""
    try:
        return Address.objects.get(user=user, pk=int(str(pk)))
    except (Address.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such address in your address book.") from None
