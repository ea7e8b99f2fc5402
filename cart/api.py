"""Cart and wishlist API for the mobile apps: thin callers of cart.services. A cart belongs to
the signed-in user (token) or, with no account, to a guest who holds the `X-Cart-Token` that
`POST /api/v1/carts/` returned (`cart.owner`)."""

from __future__ import annotations

import secrets
from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cart.models import WishlistItem
from cart.owner import (
    CART_TOKEN,
    CART_TOKEN_HEADER,
    CartOwner,
    SignedInOrCartToken,
    cart_owner_of,
    cart_token_of,
    owner_cart,
)
from cart.selectors import cart_view, wishlist_items
from cart.serializers import (
    CartLineAddSerializer,
    CartLineUpdateSerializer,
    CartSerializer,
    VoucherSerializer,
    WishlistItemSerializer,
)
from cart.services import (
    cart_get_or_create,
    cart_line_add,
    cart_line_get,
    cart_line_remove,
    cart_line_save_for_later,
    cart_line_update,
    cart_merge_on_login,
    cart_voucher_apply,
    wishlist_add,
    wishlist_move_to_cart,
    wishlist_remove,
)
from shop.core.api import IDEMPOTENCY_KEY_PARAMETER, idempotent_response
from shop.core.errors import ValidationError


def _cart_response(
    request: Request, owner: CartOwner, code: int = status.HTTP_200_OK, **extra
) -> Response:
    cart = owner_cart(owner)
    body = CartSerializer(cart_view(cart=cart), context={"request": request}).data
    return Response({**body, **extra}, status=code)


class GuestCartCreateView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []  # no session: a guest cart is named by its token only

    @extend_schema(
        tags=["cart"],
        summary="Start a guest cart (no account): returns its X-Cart-Token",
        description=(
            "Send the returned `cart_token` as the `X-Cart-Token` header on the cart, checkout "
            "and guest order endpoints. Keep it secret: it is the only key to the cart. After "
            "signing up or in, `POST /api/v1/cart/merge/` with the header moves its lines into "
            "the account's cart."
        ),
        request=None,
        responses={
            201: inline_serializer(
                "GuestCart",
                fields={"cart_token": serializers.CharField(), "cart": CartSerializer()},
            )
        },
        examples=[
            OpenApiExample(
                "A new guest cart",
                value={"cart_token": "q1Zs3y0cJkz3S9mVq0vJ4dXUuZ9C1m7R", "cart": {"count": 0}},
                response_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        cart = cart_get_or_create(session_key=token)
        body = CartSerializer(cart_view(cart=cart), context={"request": request}).data
        return Response({"cart_token": token, "cart": body}, status=status.HTTP_201_CREATED)


class CartView(APIView):
    permission_classes = [SignedInOrCartToken]

    @extend_schema(
        tags=["cart"],
        summary="My cart with server-computed totals",
        parameters=[CART_TOKEN],
        responses=CartSerializer,
    )
    def get(self, request: Request) -> Response:
        owner = cart_owner_of(request)
        cart = owner_cart(owner)
        return Response(CartSerializer(cart_view(cart=cart), context={"request": request}).data)


class CartLinesView(APIView):
    permission_classes = [SignedInOrCartToken]

    @extend_schema(
        tags=["cart"],
        summary="Add a variant (quantities add up)",
        description=(
            "Quantities add up, so a retried add would add twice: send an `Idempotency-Key` "
            "to make a retry return the first answer instead."
        ),
        parameters=[CART_TOKEN, IDEMPOTENCY_KEY_PARAMETER],
        request=CartLineAddSerializer,
        responses={201: CartSerializer},
        examples=[OpenApiExample("Two of variant 1234", value={"variant_id": 1234, "quantity": 2})],
    )
    def post(self, request: Request) -> Response:
        data = CartLineAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner = cart_owner_of(request)

        def add() -> tuple[int, Any]:
            cart = owner_cart(owner, create=True)
            assert cart is not None
            cart_line_add(cart=cart, **data.validated_data)
            body = CartSerializer(cart_view(cart=owner_cart(owner)), context={"request": request})
            return status.HTTP_201_CREATED, body.data

        return idempotent_response(
            request=request,
            scope="cart-line-add",
            operation=add,
            guest_key=owner.session_key if owner.is_guest else "",
        )


class CartLineView(APIView):
    permission_classes = [SignedInOrCartToken]

    @extend_schema(
        tags=["cart"],
        summary="Change a line's quantity (0 removes it) or save it for later",
        parameters=[CART_TOKEN],
        request=CartLineUpdateSerializer,
        responses=CartSerializer,
    )
    def patch(self, request: Request, line_id: int) -> Response:
        owner = cart_owner_of(request)
        cart = owner_cart(owner, create=True)
        assert cart is not None
        cart_line_get(cart=cart, line_id=line_id)
        data = CartLineUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "saved_for_later" in values:
            cart_line_save_for_later(cart=cart, line_id=line_id, saved=values["saved_for_later"])
        if "quantity" in values:
            cart_line_update(cart=cart, line_id=line_id, quantity=values["quantity"])
        return _cart_response(request, owner)

    @extend_schema(
        tags=["cart"], summary="Remove a line", parameters=[CART_TOKEN], responses=CartSerializer
    )
    def delete(self, request: Request, line_id: int) -> Response:
        owner = cart_owner_of(request)
        cart = owner_cart(owner, create=True)
        assert cart is not None
        cart_line_remove(cart=cart, line_id=line_id)
        return _cart_response(request, owner)


class CartVoucherView(APIView):
    permission_classes = [SignedInOrCartToken]

    @extend_schema(
        tags=["cart"],
        summary="Apply a voucher code (empty code removes it)",
        parameters=[CART_TOKEN],
        request=VoucherSerializer,
        responses=CartSerializer,
        examples=[OpenApiExample("The welcome voucher", value={"code": "WELCOME10"})],
    )
    def post(self, request: Request) -> Response:
        data = VoucherSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner = cart_owner_of(request)
        cart = owner_cart(owner, create=True)
        assert cart is not None
        cart_voucher_apply(cart=cart, code=data.validated_data["code"])
        return _cart_response(request, owner)


class CartMergeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"],
        summary="Move a guest cart's lines into my cart (after signing up or in)",
        description=(
            "Send the guest cart's `X-Cart-Token` with the account's token. Quantities add up, "
            "capped by stock and per-order limits; `notes` says what had to change."
        ),
        parameters=[CART_TOKEN],
        request=None,
        responses=inline_serializer(
            "CartMerged",
            fields={
                "notes": serializers.ListField(child=serializers.CharField()),
                "cart": CartSerializer(),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        token = cart_token_of(request)
        if not token:
            raise ValidationError(f"Send the guest cart's {CART_TOKEN_HEADER} header.")
        notes = cart_merge_on_login(user=request.user, session_key=token)
        cart = cart_get_or_create(user=request.user)
        body = CartSerializer(cart_view(cart=cart), context={"request": request}).data
        return Response({"notes": notes, "cart": body})


@extend_schema(tags=["wishlist"])
class WishlistView(generics.ListAPIView):
    """My wishlist, newest first, paginated like every list."""

    permission_classes = [IsAuthenticated]
    serializer_class = WishlistItemSerializer
    queryset = WishlistItem.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        return wishlist_items(user=self.request.user)

    @extend_schema(
        tags=["wishlist"],
        summary="Add a variant to my wishlist",
        request=WishlistItemSerializer,
        responses={201: WishlistItemSerializer},
        examples=[OpenApiExample("Variant 1234", value={"variant_id": 1234}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = WishlistItemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = wishlist_add(user=request.user, variant_id=data.validated_data["variant_id"])
        return Response(
            WishlistItemSerializer(item, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class WishlistItemView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["wishlist"], summary="Remove from my wishlist", responses={204: None})
    def delete(self, request: Request, item_id: int) -> Response:
        wishlist_remove(user=request.user, item_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WishlistMoveView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["wishlist"],
        summary="Move a wishlist item into the cart",
        request=None,
        responses=CartSerializer,
    )
    def post(self, request: Request, item_id: int) -> Response:
        owner = cart_owner_of(request)
        cart = owner_cart(owner, create=True)
        assert cart is not None
        wishlist_move_to_cart(user=request.user, item_id=item_id, cart=cart)
        return _cart_response(request, owner)
