"""Whose cart a request is about: the signed-in user's, or a guest's. API requests name a guest's
cart with the `X-Cart-Token` header (the token `POST /api/v1/carts/` hands out; no account
needed); storefront requests keep its key in the session. The cart and checkout views of both
faces resolve it here, once."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.http import HttpRequest
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from cart.models import Cart
from cart.selectors import cart_for_owner
from cart.services import cart_get_or_create
from shop.core.errors import NotFound

SESSION_CART_KEY = "cart_key"


def cart_session_key(request: HttpRequest, *, create: bool = False) -> str:
    """The anonymous cart's key. Kept in the session's data (not the session id, which Django
    rotates at sign-in) so the merge at sign-in can still find the cart."""
    key = request.session.get(SESSION_CART_KEY, "")
    if not key and create:
        key = secrets.token_urlsafe(24)
        request.session[SESSION_CART_KEY] = key
    return key


def request_cart(request: HttpRequest, *, create: bool = False) -> Cart | None:
    user = request.user if request.user.is_authenticated else None
    key = "" if user else cart_session_key(request, create=create)
    if create:
        return cart_get_or_create(user=user, session_key=key)
    return cart_for_owner(user=user, session_key=key)


CART_TOKEN_HEADER = "X-Cart-Token"  # noqa: S105 - a header name

# the header in the API schema, for every view that takes it (the cart's and checkout's)
CART_TOKEN = OpenApiParameter(
    CART_TOKEN_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Guests (no Authorization header): the cart token from `POST /api/v1/carts/`.",
)

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
