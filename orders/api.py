"""Checkout and order API for the mobile apps: thin callers of orders.services."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cart.owner import CART_TOKEN, SignedInOrCartToken, cart_owner_of, owner_cart
from orders.models import Checkout, Order
from orders.selectors import (
    order_detail_for_customer,
    order_get_for_customer,
    order_get_for_guest,
    order_get_for_guest_token,
    order_guest_token,
    order_list_for_customer,
    order_number_normalise,
    shipping_options,
)
from orders.serializers import (
    CheckoutSerializer,
    CheckoutUpdateSerializer,
    GuestOrderLookupSerializer,
    OrderDetailSerializer,
    OrderListSerializer,
    PaymentPrepareSerializer,
    PaymentSerializer,
    PlaceOrderSerializer,
)
from orders.services import (
    checkout_payment_prepare,
    checkout_set_address,
    checkout_set_shipping,
    checkout_start,
    order_cancel,
    order_place,
)
from orders.services.checkout import checkout_get_for_owner
from orders.services.placement import checkout_price
from payments.models import Payment
from payments.services import gateway_of, payment_refresh
from payments.services.payments import WAITING_STATUSES
from shop.core.api import IDEMPOTENCY_KEY_PARAMETER, ErrorSerializer, idempotent_response
from shop.core.clientip import client_ip
from shop.core.errors import NotFound, ValidationError
from shop.core.ratelimit import rate_limit_hit


def checkout_data(checkout: Checkout, request: Request | None = None) -> dict:
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
        },
        context={"request": request},
    ).data


def _checkout_of(request: Request, token: str) -> Checkout:
    owner = cart_owner_of(request)
    return checkout_get_for_owner(token=token, user=owner.user, session_key=owner.session_key)


class CheckoutListView(APIView):
    permission_classes = [SignedInOrCartToken]

    @extend_schema(
        tags=["checkout"],
        summary="Start checkout from the cart (holds stock for every line)",
        description=(
            "Signed in, or as a guest with the cart's `X-Cart-Token` (guest checkout: no "
            "account; the email given with the address receives the confirmation)."
        ),
        parameters=[CART_TOKEN],
        request=None,
        responses={201: CheckoutSerializer},
    )
    def post(self, request: Request) -> Response:
        owner = cart_owner_of(request)
        cart = owner_cart(owner)
        if cart is None:
            raise ValidationError("Your cart is empty.")
        checkout = checkout_start(cart=cart, user=owner.user, session_key=owner.session_key)
        return Response(checkout_data(checkout, request), status=status.HTTP_201_CREATED)


class CheckoutDetailView(APIView):
    permission_classes = [SignedInOrCartToken]

    @extend_schema(
        tags=["checkout"],
        summary="A checkout and its totals",
        parameters=[CART_TOKEN],
        responses=CheckoutSerializer,
    )
    def get(self, request: Request, token: str) -> Response:
        return Response(checkout_data(_checkout_of(request, token), request))

    @extend_schema(
        tags=["checkout"],
        summary="Set email, shipping address and shipping method per seller",
        description=(
            "A new `address` is checked like every address (country code, the country's "
            "postal code format and regions, phone) and, signed in, saved to the address book; "
            "or send a saved `address_id`. Changing the address takes the stock hold again for "
            "the new destination (nearest warehouses) and `shipping_options` then lists the "
            "methods that ship there."
        ),
        parameters=[CART_TOKEN],
        request=CheckoutUpdateSerializer,
        responses=CheckoutSerializer,
        examples=[
            OpenApiExample(
                "Address and email",
                request_only=True,
                value={
                    "email": "ada@example.com",
                    "address": {
                        "full_name": "Ada Lovelace",
                        "line1": "Invalidenstraße 117",
                        "city": "Berlin",
                        "postal_code": "10115",
                        "country": "DE",
                        "phone": "+49 30 2093 0",
                    },
                },
            ),
            OpenApiExample(
                "Shipping per seller ({seller id: method id})",
                request_only=True,
                value={"shipping": {"12": 31, "15": 44}},
            ),
        ],
    )
    def patch(self, request: Request, token: str) -> Response:
        checkout = _checkout_of(request, token)
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
        return Response(checkout_data(checkout, request))


class CheckoutPlaceView(APIView):
    permission_classes = [SignedInOrCartToken]

    @extend_schema(
        tags=["checkout"],
        summary="Pay and place the order (idempotent)",
        description=(
            "Pays and places one order split per seller. Pay with `payment_token` (confirmed "
            "here), or with `payment_id` when the app confirmed the payment itself (see "
            "`POST checkouts/<token>/payment/`). 402 `payment_action_required`: the bank asks "
            "the shopper to authenticate; `details` has `client_secret` (Stripe's SDKs: "
            "`handleNextAction`) and `action_url` (a browser); then place again with "
            "`payment_id`. 402 `payment_failed`: declined, pay again with another method while "
            "the stock hold lasts. 503: the payment service is down, nothing was charged. "
            "Submitting the same checkout again returns the same order. An `Idempotency-Key` "
            "header (signed in, or a guest with its cart token) makes a retry return the "
            "stored response; the same key with a different body is refused with 409 "
            "`idempotency_conflict`. A guest's order comes with `guest_token`: "
            "`GET /api/v1/orders/guest/<guest_token>/` follows it."
        ),
        parameters=[CART_TOKEN, IDEMPOTENCY_KEY_PARAMETER],
        request=PlaceOrderSerializer,
        responses={201: OrderDetailSerializer},
        examples=[
            OpenApiExample(
                "Pay with the test gateway",
                request_only=True,
                value={"payment_token": "tok_visa", "expected_total": "57.60"},
            )
        ],
    )
    def post(self, request: Request, token: str) -> Response:
        data = PlaceOrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        owner = cart_owner_of(request)

        def place() -> tuple[int, dict]:
            checkout = _checkout_of(request, token)
            order = order_place(
                checkout=checkout,
                payment_token=values.get("payment_token", ""),
                payment_id=values.get("payment_id"),
                expected_total=values.get("expected_total"),
                return_url=values.get("return_url", ""),
                client_ip=client_ip(request=request),
            )
            if owner.user is not None:
                detail = order_detail_for_customer(user=owner.user, order=order)
            else:
                detail = order
            context = {"request": request}
            return status.HTTP_201_CREATED, OrderDetailSerializer(detail, context=context).data

        return idempotent_response(
            request=request,
            scope=f"checkout-place:{token}",
            operation=place,
            guest_key=owner.session_key if owner.is_guest else "",
        )


def _payment_body(payment: Payment, **extra: object) -> dict:
    order = (
        Order.objects.filter(pk=payment.order_id).values_list("number", flat=True).first()
        if payment.order_id is not None
        else None
    )
    return {
        "id": payment.pk,
        "gateway": payment.gateway,
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "failure_message": payment.failure_message,
        "order_number": order,
        **extra,
    }


class CheckoutPaymentView(APIView):
    permission_classes = [SignedInOrCartToken]

    @extend_schema(
        tags=["checkout"],
        summary="Prepare the payment an app confirms itself (Stripe PaymentSheet)",
        description=(
            "Returns the checkout's payment for its current total, with what Stripe's mobile "
            "SDKs need: `client_secret`, `publishable_key`, and for a signed-in shopper a "
            "`customer` with an `ephemeral_key` (saved cards). Confirm it in the app, then "
            "`POST checkouts/<token>/place/` with `payment_id`; if the app never comes back, "
            "the gateway's webhook places the order. Calling again returns the same payment "
            "while the total is unchanged."
        ),
        parameters=[CART_TOKEN],
        request=None,
        responses={200: PaymentPrepareSerializer},
    )
    def post(self, request: Request, token: str) -> Response:
        checkout = _checkout_of(request, token)
        payment = checkout_payment_prepare(checkout=checkout, client_ip=client_ip(request=request))
        gateway = gateway_of(payment)
        intent = gateway.intent_get(reference=payment.reference)
        session = None
        if checkout.user_id is not None:
            session = gateway.customer_session(email=checkout.email or request.user.email)
        body = _payment_body(
            payment,
            client_secret=intent.client_secret,
            publishable_key=gateway.publishable_key,
            customer=session.customer if session else None,
            ephemeral_key=session.ephemeral_key if session else None,
        )
        return Response(PaymentPrepareSerializer(body).data)


class PaymentDetailView(APIView):
    permission_classes = [SignedInOrCartToken]

    @extend_schema(
        tags=["checkout"],
        summary="Where a payment stands (to poll after the app confirmed it)",
        parameters=[CART_TOKEN],
        responses={200: PaymentSerializer},
    )
    def get(self, request: Request, token: str, payment_id: int) -> Response:
        checkout = _checkout_of(request, token)
        payment = Payment.objects.filter(pk=payment_id, checkout_id=checkout.pk).first()
        if payment is None:
            raise NotFound("No such payment for this checkout.")
        if payment.status in WAITING_STATUSES:  # waiting on the bank: ask the gateway
            payment = payment_refresh(payment=payment)
        return Response(PaymentSerializer(_payment_body(payment)).data)


@extend_schema(tags=["orders"], summary="My orders, newest first")
class OrderListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OrderListSerializer
    queryset = Order.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        return order_list_for_customer(user=self.request.user)


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="One of my orders: lines, status per seller and the timeline (tracking)",
        responses=OrderDetailSerializer,
    )
    def get(self, request: Request, number: str) -> Response:
        order = order_get_for_customer(user=request.user, number=number)
        return Response(OrderDetailSerializer(order, context={"request": request}).data)


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
        order = order_get_for_customer(user=request.user, number=number)
        return Response(OrderDetailSerializer(order, context={"request": request}).data)


class GuestOrderLookupView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["orders"],
        summary="Find a guest order by number and email (rate-limited)",
        description=(
            "The same check as the storefront's order finder: one answer for every miss (404), "
            "attempts limited per client address and per order number (429). Returns the "
            "order with its `guest_token` for `GET /api/v1/orders/guest/<guest_token>/`."
        ),
        request=GuestOrderLookupSerializer,
        responses={200: OrderDetailSerializer, 404: ErrorSerializer, 429: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Order number and email",
                request_only=True,
                value={"number": "261207-1A2B3C4D", "email": "guest@example.com"},
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = GuestOrderLookupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        rate_limit_hit(
            scope="order-lookup",
            keys=[
                f"ip:{client_ip(request=request)}",
                f"number:{order_number_normalise(values['number'])}",
            ],
            limit=settings.ORDER_LOOKUP_ATTEMPTS,
            window_seconds=settings.ORDER_LOOKUP_WINDOW_SECONDS,
        )
        found = order_get_for_guest(number=values["number"], email=values["email"])
        order = order_get_for_guest_token(token=order_guest_token(order=found))
        return Response(OrderDetailSerializer(order, context={"request": request}).data)


class GuestOrderDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["orders"],
        summary="A guest order by its guest_token: lines, status and timeline (tracking)",
        responses={200: OrderDetailSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, token: str) -> Response:
        order = order_get_for_guest_token(token=token)
        return Response(OrderDetailSerializer(order, context={"request": request}).data)


class GuestOrderCancelView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["orders"],
        summary="Cancel a guest order before it ships",
        request=None,
        responses={200: OrderDetailSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, token: str) -> Response:
        order_cancel(
            order=order_get_for_guest_token(token=token), reason="Cancelled by the customer."
        )
        order = order_get_for_guest_token(token=token)
        return Response(OrderDetailSerializer(order, context={"request": request}).data)
