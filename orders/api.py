"""Checkout and order API for the mobile apps: thin callers of orders.services."""

from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from cart.selectors import cart_for_owner
from orders.models import Checkout, Order
from orders.selectors import (
    order_detail_for_customer,
    order_get_for_customer,
    order_list_for_customer,
    shipping_options,
)
from orders.serializers import (
    CheckoutSerializer,
    CheckoutUpdateSerializer,
    OrderDetailSerializer,
    OrderListSerializer,
    PlaceOrderSerializer,
)
from orders.services import (
    checkout_set_address,
    checkout_set_shipping,
    checkout_start,
    order_cancel,
    order_place,
)
from orders.services.checkout import checkout_get_for_owner
from orders.services.placement import checkout_price
from shop.core.errors import ValidationError
from shop.core.idempotency import idempotent_call


def checkout_data(checkout: Checkout) -> dict:
    totals = checkout_price(checkout=checkout)
    address = checkout.shipping_address
    options = shipping_options(
        seller_ids=[s.seller_id for s in totals.sellers],
        country=address.country if address is not None else "",
    )
    return CheckoutSerializer(
        {
            "token": checkout.token,
            "status": checkout.status,
            "email": checkout.email,
            "reserved_until": checkout.reserved_until,
            "shipping_address": checkout.shipping_address,
            "shipping_choices": checkout.shipping_choices,
            "shipping_options": {str(k): v for k, v in options.items()},
            "totals": totals,
        }
    ).data


class CheckoutListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["checkout"],
        summary="Start checkout from the cart (holds stock for every line)",
        request=None,
        responses={201: CheckoutSerializer},
    )
    def post(self, request: Request) -> Response:
        cart = cart_for_owner(user=request.user)
        if cart is None:
            raise ValidationError("Your cart is empty.")
        checkout = checkout_start(cart=cart, user=request.user)
        return Response(checkout_data(checkout), status=status.HTTP_201_CREATED)


class CheckoutDetailView(APIView):
    permission_classes = [IsAuthenticated]

    def _checkout(self, request: Request, token: str) -> Checkout:
        return checkout_get_for_owner(token=token, user=request.user)

    @extend_schema(
        tags=["checkout"], summary="A checkout and its totals", responses=CheckoutSerializer
    )
    def get(self, request: Request, token: str) -> Response:
        return Response(checkout_data(self._checkout(request, token)))

    @extend_schema(
        tags=["checkout"],
        summary="Set email, shipping address and shipping method per seller",
        request=CheckoutUpdateSerializer,
        responses=CheckoutSerializer,
    )
    def patch(self, request: Request, token: str) -> Response:
        checkout = self._checkout(request, token)
        data = CheckoutUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "address" in values or "address_id" in values or "email" in values:
            if "address" not in values and "address_id" not in values:
                if checkout.shipping_address_id is None:
                    raise ValidationError("Send an address or address_id with the email.")
                values["address_id"] = checkout.shipping_address_id
            checkout = checkout_set_address(
                checkout=checkout,
                email=values.get("email", ""),
                address_id=values.get("address_id"),
                **values.get("address", {}),
            )
        if "shipping" in values:
            checkout = checkout_set_shipping(checkout=checkout, choices=values["shipping"])
        return Response(checkout_data(checkout))


class CheckoutPlaceView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["checkout"],
        summary="Place the order (idempotent)",
        description=(
            "Authorises the payment and places one order split per seller. Submitting the same "
            "checkout again returns the same order. With an `Idempotency-Key` header a retry "
            "returns the stored response; the same key with a different body is refused with "
            "409 `idempotency_conflict`."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False
            )
        ],
        request=PlaceOrderSerializer,
        responses={201: OrderDetailSerializer},
    )
    def post(self, request: Request, token: str) -> Response:
        data = PlaceOrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data

        def place() -> tuple[int, dict]:
            checkout = checkout_get_for_owner(token=token, user=request.user)
            order = order_place(
                checkout=checkout,
                payment_token=values.get("payment_token", ""),
                expected_total=values.get("expected_total"),
            )
            detail = order_detail_for_customer(user=request.user, order=order)
            return status.HTTP_201_CREATED, OrderDetailSerializer(detail).data

        key = request.headers.get("Idempotency-Key")
        if key is None:
            code, body = place()
            return Response(body, status=code)
        stored = idempotent_call(
            user=request.user,
            key=key,
            scope=f"checkout-place:{token}",
            payload=request.data,
            operation=lambda: _json_safe(place()),
        )
        response = Response(stored.body, status=stored.status)
        if stored.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def _json_safe(result: tuple[int, dict]) -> tuple[int, dict]:
    """Decimals and dates as the API renders them, so a replay is byte-for-byte the same."""
    code, body = result
    return code, json.loads(json.dumps(body, cls=JSONEncoder))


@extend_schema(tags=["orders"])
class OrderListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OrderListSerializer
    queryset = Order.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        return order_list_for_customer(user=self.request.user)


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["orders"], summary="One of my orders", responses=OrderDetailSerializer)
    def get(self, request: Request, number: str) -> Response:
        return Response(
            OrderDetailSerializer(order_get_for_customer(user=request.user, number=number)).data
        )


class OrderCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="Cancel my order before it ships (releases stock, voids the payment hold)",
        request=None,
        responses=OrderDetailSerializer,
    )
    def post(self, request: Request, number: str) -> Response:
        order = order_get_for_customer(user=request.user, number=number)
        order_cancel(order=order, by=request.user, reason="Cancelled by the customer.")
        return Response(
            OrderDetailSerializer(order_get_for_customer(user=request.user, number=number)).data
        )
