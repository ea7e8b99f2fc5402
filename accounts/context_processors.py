from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def account_menu(request: HttpRequest) -> dict[str, object]:
    """`account_is_seller`: whether the header's account menu offers the seller portal. Lazy:
    one query, only on pages that render the menu for a signed-in user."""
    user = getattr(request, "user", None)

    def is_seller() -> bool:
        return bool(user is not None and user.is_authenticated and user.seller_memberships.exists())

    return {"account_is_seller": SimpleLazyObject(is_seller)}
