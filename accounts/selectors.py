"""Account reads: API tokens and address books, scoped to their owner."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Address, ApiToken, User
from shop.core.errors import NotFound
from shop.core.numbers import id_lookup


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The user's live tokens, newest first."""
    return ApiToken.objects.filter(user=user).filter(
        Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    )


def address_list_for_user(*, user) -> QuerySet[Address]:
    """The user's addresses, the default first, then the newest."""
    return Address.objects.filter(user=user).order_by("-is_default", "-created_at", "-id")


def address_get_for_user(*, user, pk: object) -> Address:
    """Fetch-and-check: another person's address (or none) is not found."""
    try:
        return Address.objects.get(user=user, pk=id_lookup(pk))
    except Address.DoesNotExist:
        raise NotFound("No such address in your address book.") from None
