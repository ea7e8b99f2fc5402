"""Whose cart an API request is about: the signed-in user's, or a guest's named by the
`X-Cart-Token` header (the token `POST /api/v1/carts/` hands out; no account needed). The cart
and checkout API views resolve it here, once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from cart.models import Cart
from cart.selectors import cart_for_owner
from cart.services import cart_get_or_create
from shop.core.errors import NotFound

CART_TOKEN_HEADER = "X-Cart-Token"  # noqa: S105 - a header name
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


@dataclass(frozen=True)
class CartOwner:
    user: object | None
    session_key: str

    @property
    def is_guest(self) -> bool:
        return self.user is None


def cart_token_of(request: Request) -> str:
    token = request.headers.get(CART_TOKEN_HEADER, "").strip()
    return token if _TOKEN.fullmatch(token) else ""


def cart_owner_of(request: Request) -> CartOwner:
    if request.user.is_authenticated:
        return CartOwner(user=request.user, session_key="")
    return CartOwner(user=None, session_key=cart_token_of(request))


class SignedInOrCartToken(BasePermission):
    """A signed-in user, or a guest with a well-formed X-Cart-Token."""

    message = (
        "Sign in (Authorization: Token ...), or send the X-Cart-Token header that "
        "POST /api/v1/carts/ returned."
    )

    def has_permission(self, request, view) -> bool:
        return bool(request.user.is_authenticated or cart_token_of(request))


def owner_cart(owner: CartOwner, *, create: bool = False) -> Cart | None:
    """The owner's cart; a signed-in user's is made on demand (`create`). A guest's must exist:
    a token no cart has (mistyped, or its cart became an order) is not found."""
    if owner.user is not None:
        if create:
            return cart_get_or_create(user=owner.user)
        return cart_for_owner(user=owner.user)
    cart = cart_for_owner(session_key=owner.session_key)
    if cart is None:
        raise NotFound(
            "No open cart has this X-Cart-Token (it may have become an order): "
            "POST /api/v1/carts/ for a new one."
        )
    return cart
