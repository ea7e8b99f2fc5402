"""Cart and wishlist API for the mobile apps (token auth): thin callers of cart.services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cart.selectors import cart_for_owner, cart_view, wishlist_items
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
    cart_voucher_apply,
    wishlist_add,
    wishlist_move_to_cart,
    wishlist_remove,
)
from shop.core.api import IDEMPOTENCY_KEY_PARAMETER, idempotent_response


def _cart_response(request: Request, code: int = status.HTTP_200_OK) -> Response:
    view = cart_view(cart=cart_for_owner(user=request.user))
    return Response(CartSerializer(view).data, status=code)


class CartView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"], summary="My cart with server-computed totals", responses=CartSerializer
    )
    def get(self, request: Request) -> Response:
        return _cart_response(request)


class CartLinesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"],
        summary="Add a variant (quantities add up)",
        description=(
            "Quantities add up, so a retried add would add twice: send an `Idempotency-Key` "
            "to make a retry return the first answer instead."
        ),
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=CartLineAddSerializer,
        responses={201: CartSerializer},
    )
    def post(self, request: Request) -> Response:
        data = CartLineAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def add() -> tuple[int, Any]:
            cart = cart_get_or_create(user=request.user)
            cart_line_add(cart=cart, **data.validated_data)
            view = cart_view(cart=cart_for_owner(user=request.user))
            return status.HTTP_201_CREATED, CartSerializer(view).data

        return idempotent_response(request=request, scope="cart-line-add", operation=add)


class CartLineView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"],
        summary="Change a line's quantity (0 removes it) or save it for later",
        request=CartLineUpdateSerializer,
        responses=CartSerializer,
    )
    def patch(self, request: Request, line_id: int) -> Response:
        cart = cart_get_or_create(user=request.user)
        cart_line_get(cart=cart, line_id=line_id)
        data = CartLineUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "saved_for_later" in values:
            cart_line_save_for_later(cart=cart, line_id=line_id, saved=values["saved_for_later"])
        if "quantity" in values:
            cart_line_update(cart=cart, line_id=line_id, quantity=values["quantity"])
        return _cart_response(request)

    @extend_schema(tags=["cart"], summary="Remove a line", responses=CartSerializer)
    def delete(self, request: Request, line_id: int) -> Response:
        cart_line_remove(cart=cart_get_or_create(user=request.user), line_id=line_id)
        return _cart_response(request)


class CartVoucherView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"],
        summary="Apply a voucher code (empty code removes it)",
        request=VoucherSerializer,
        responses=CartSerializer,
    )
    def post(self, request: Request) -> Response:
        data = VoucherSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart_voucher_apply(
            cart=cart_get_or_create(user=request.user), code=data.validated_data["code"]
        )
        return _cart_response(request)


class WishlistView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["wishlist"], responses=WishlistItemSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(WishlistItemSerializer(wishlist_items(user=request.user), many=True).data)

    @extend_schema(
        tags=["wishlist"], request=WishlistItemSerializer, responses={201: WishlistItemSerializer}
    )
    def post(self, request: Request) -> Response:
        data = WishlistItemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = wishlist_add(user=request.user, variant_id=data.validated_data["variant_id"])
        return Response(WishlistItemSerializer(item).data, status=status.HTTP_201_CREATED)


class WishlistItemView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["wishlist"], responses={204: None})
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
        cart = cart_get_or_create(user=request.user)
        wishlist_move_to_cart(user=request.user, item_id=item_id, cart=cart)
        return _cart_response(request)
