"""Fulfilment over the REST API: thin callers of fulfilment's services and selectors.

Shoppers (mobile app): an order's parcels with their tracking timeline, returns, and asking for
a return. Sellers (`/api/v1/seller/...`, the seller catalog API's `X-Seller-Id` rule; `orders`
permission to read, `fulfil` to act): orders to fulfil with the portal's filters, an order's
detail, pack, ship a parcel, decide and receive returns. Carriers: the signed tracking webhook.
The `Idempotency-Key` header of a create is the service's request key: the same key ships or
asks for a return once.
"""

from __future__ import annotations

import hashlib
import uuid

from django.http.request import RawPostDataException
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfilment.models import ReturnRequest, Shipment
from fulfilment.selectors import (
    VIEWS,
    order_fulfilment_for_customer,
    return_get_for_seller,
    seller_order_get_for_seller,
    seller_orders_for_seller,
)
from fulfilment.serializers import (
    LineCancelSerializer,
    LineRerouteSerializer,
    OrderPartSerializer,
    RateSerializer,
    RatesRequestSerializer,
    ReturnApproveSerializer,
    ReturnCreateSerializer,
    ReturnReceiveSerializer,
    ReturnRejectSerializer,
    ReturnSerializer,
    SellerOrderDetailSerializer,
    SellerOrderListSerializer,
    SellerShipmentSerializer,
    ShipmentCreateSerializer,
    ShipmentSerializer,
)
from fulfilment.services import (
    ReturnLineSpec,
    ShipLine,
    label_rates,
    return_approve,
    return_receive,
    return_reject,
    return_request_create,
    seller_order_line_cancel,
    seller_order_line_reroute,
    seller_order_pack,
    shipment_create,
    tracking_webhook_receive,
)
from orders.models import SellerOrder
from orders.selectors import order_get_for_customer
from sellers.models import SellerMember
from sellers.selectors import member_require, seller_membership_get
from shop.core.api import ErrorSerializer, PageNumberPagination
from shop.core.errors import NotFound, ValidationError

SELLER_HEADER = OpenApiParameter(
    "X-Seller-Id",
    int,
    OpenApiParameter.HEADER,
    required=False,
    description="The seller to act for; defaults to your only (or first) seller account.",
)
KEY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Makes a retry safe: the same key ships (or asks for a return) once and "
    "answers with what the first request created.",
)
ERRORS = {400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def _key(request: Request) -> str:
    raw = request.headers.get("Idempotency-Key", "")
    if not raw:
        return uuid.uuid4().hex
    return hashlib.sha256(raw.encode()).hexdigest()


def _membership(request: Request, action: str) -> SellerMember:
    raw = request.headers.get("X-Seller-Id")
    try:
        seller_id = int(raw) if raw is not None else None
    except ValueError as exc:
        raise NotFound("No seller account found.") from exc
    membership = seller_membership_get(user=request.user, seller_id=seller_id)
    member_require(membership=membership, action=action)
    return membership


def _parts(order) -> list[dict]:
    return [
        {
            "seller_order_id": part.seller_order.pk,
            "seller": part.seller_order.seller.name,
            "status": part.seller_order.status,
            "shipments": part.shipments,
            "returns": part.returns,
            "returnable": [
                {"order_line_id": line.pk, "product_name": line.product_name, "quantity": left}
                for line, left in part.returnable
            ],
            "return_until": part.return_until,
            "can_return": part.can_return,
        }
        for part in order_fulfilment_for_customer(order=order)
    ]


# --- shoppers ---------------------------------------------------------------------------------


class OrderFulfilmentView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="My order's parcels with tracking, its returns, what may still be returned",
        responses={200: OrderPartSerializer(many=True), 404: ErrorSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        order = order_get_for_customer(user=request.user, number=number)
        return Response(OrderPartSerializer(_parts(order), many=True).data)


class OrderReturnsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="Ask to return shipped items of my order (within the seller's return window)",
        parameters=[KEY_HEADER],
        request=ReturnCreateSerializer,
        responses={201: ReturnSerializer, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        order = order_get_for_customer(user=request.user, number=number)
        data = ReturnCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = return_request_create(
            order=order,
            seller_order_id=data.validated_data["seller_order_id"],
            lines=[ReturnLineSpec(**line) for line in data.validated_data["lines"]],
            reason=data.validated_data["reason"],
            key=_key(request),
            by=request.user,
        )
        created = (
            ReturnRequest.objects.select_related("return_label")
            .prefetch_related("lines__order_line", "photos")
            .get(pk=created.pk)
        )
        return Response(ReturnSerializer(created).data, status=status.HTTP_201_CREATED)


# --- sellers ----------------------------------------------------------------------------------


@extend_schema(
    tags=["seller orders"],
    summary="My orders to fulfil, newest first",
    parameters=[
        SELLER_HEADER,
        OpenApiParameter("view", str, enum=[v for v in VIEWS if v], required=False),
        OpenApiParameter("q", str, required=False, description="Order number or email."),
    ],
    responses={200: SellerOrderListSerializer(many=True), 404: ErrorSerializer},
)
class SellerOrderListView(generics.ListAPIView):
    """Paginated like every list (`count`, `next`, `previous`, `results`)."""

    permission_classes = [IsAuthenticated]
    serializer_class = SellerOrderListSerializer
    pagination_class = PageNumberPagination
    queryset = SellerOrder.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        membership = _membership(self.request, "orders")
        view = self.request.query_params.get("view", "")
        return seller_orders_for_seller(
            seller=membership.seller,
            view=view if view in VIEWS else "",
            search=self.request.query_params.get("q", ""),
        )


class SellerOrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller orders"],
        summary="One of my orders: lines, parcels with tracking, returns",
        parameters=[SELLER_HEADER],
        responses={200: SellerOrderDetailSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "orders")
        seller_order = seller_order_get_for_seller(seller=membership.seller, pk=pk)
        return Response(SellerOrderDetailSerializer(seller_order).data)


class SellerOrderPackView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller orders"],
        summary="Mark an order as being packed (again: no change)",
        parameters=[SELLER_HEADER],
        request=None,
        responses={200: SellerOrderDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "fulfil")
        seller_order = seller_order_get_for_seller(seller=membership.seller, pk=pk)
        seller_order_pack(seller_order=seller_order, by=request.user)
        seller_order = seller_order_get_for_seller(seller=membership.seller, pk=pk)
        return Response(SellerOrderDetailSerializer(seller_order).data)


class SellerLabelRatesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller orders"],
        summary="EasyPost's label rates for a parcel (when configured), cheapest first",
        description=(
            "Nothing is bought: ship with carrier `easypost` and `service` "
            '"<carrier> <service>" to buy one. 400 when EasyPost is not configured or refuses.'
        ),
        parameters=[SELLER_HEADER],
        request=RatesRequestSerializer,
        responses={200: RateSerializer(many=True), **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "fulfil")
        seller_order = seller_order_get_for_seller(seller=membership.seller, pk=pk)
        data = RatesRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        rates = label_rates(
            seller_order=seller_order,
            warehouse_id=values["warehouse_id"],
            lines=[(x["order_line_id"], x["quantity"]) for x in values["lines"]],
        )
        return Response(RateSerializer(rates, many=True).data)


class SellerShipmentCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller orders"],
        summary="Ship a parcel: units of one or several lines from one warehouse",
        parameters=[SELLER_HEADER, KEY_HEADER],
        request=ShipmentCreateSerializer,
        responses={201: SellerShipmentSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "fulfil")
        seller_order = seller_order_get_for_seller(seller=membership.seller, pk=pk)
        data = ShipmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        shipment = shipment_create(
            seller_order=seller_order,
            warehouse_id=values["warehouse_id"],
            lines=[ShipLine(**line) for line in values["lines"]],
            carrier=values["carrier"],
            tracking_number=values["tracking_number"],
            service=values["service"],
            key=_key(request),
            by=request.user,
        )
        shipment = (
            Shipment.objects.select_related("label")
            .prefetch_related("lines__order_line", "events")
            .get(pk=shipment.pk)
        )
        return Response(SellerShipmentSerializer(shipment).data, status=status.HTTP_201_CREATED)


class SellerLineCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller orders"],
        summary="Cancel unshipped units of a line: refunded, stock released",
        parameters=[SELLER_HEADER],
        request=LineCancelSerializer,
        responses={200: SellerOrderDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, line_id: int) -> Response:
        membership = _membership(request, "fulfil")
        seller_order = seller_order_get_for_seller(seller=membership.seller, pk=pk)
        data = LineCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seller_order_line_cancel(
            seller_order=seller_order,
            order_line_id=line_id,
            quantity=data.validated_data["quantity"],
            reason=data.validated_data["reason"],
            by=request.user,
        )
        seller_order = seller_order_get_for_seller(seller=membership.seller, pk=pk)
        return Response(SellerOrderDetailSerializer(seller_order).data)


class SellerLineRerouteView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller orders"],
        summary="Ship unshipped units of a line from another of my warehouses (no oversell)",
        parameters=[SELLER_HEADER],
        request=LineRerouteSerializer,
        responses={200: SellerOrderDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, line_id: int) -> Response:
        membership = _membership(request, "fulfil")
        seller_order = seller_order_get_for_seller(seller=membership.seller, pk=pk)
        data = LineRerouteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seller_order_line_reroute(
            seller_order=seller_order,
            order_line_id=line_id,
            by=request.user,
            **data.validated_data,
        )
        seller_order = seller_order_get_for_seller(seller=membership.seller, pk=pk)
        return Response(SellerOrderDetailSerializer(seller_order).data)


def _return_answer(found: ReturnRequest) -> Response:
    found = (
        ReturnRequest.objects.select_related("return_label")
        .prefetch_related("lines__order_line", "photos")
        .get(pk=found.pk)
    )
    return Response(ReturnSerializer(found).data)


class SellerReturnApproveView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller orders"],
        summary="Approve a return, with instructions",
        parameters=[SELLER_HEADER],
        request=ReturnApproveSerializer,
        responses={200: ReturnSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "fulfil")
        found = return_get_for_seller(seller=membership.seller, pk=pk)
        data = ReturnApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _return_answer(
            return_approve(
                return_request=found,
                by=request.user,
                instructions=data.validated_data["instructions"],
            )
        )


class SellerReturnRejectView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller orders"],
        summary="Reject a return, with the reason",
        parameters=[SELLER_HEADER],
        request=ReturnRejectSerializer,
        responses={200: ReturnSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "fulfil")
        found = return_get_for_seller(seller=membership.seller, pk=pk)
        data = ReturnRejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _return_answer(
            return_reject(
                return_request=found, by=request.user, reason=data.validated_data["reason"]
            )
        )


class SellerReturnReceiveView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller orders"],
        summary="The return arrived: restock (or write off) and refund",
        parameters=[SELLER_HEADER],
        request=ReturnReceiveSerializer,
        responses={200: ReturnSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "fulfil")
        found = return_get_for_seller(seller=membership.seller, pk=pk)
        data = ReturnReceiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _return_answer(
            return_receive(
                return_request=found, by=request.user, restock=data.validated_data["restock"]
            )
        )


# --- carriers ---------------------------------------------------------------------------------


class TrackingWebhookView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []  # signed by the carrier, no session (so no CSRF)

    @extend_schema(
        tags=["fulfilment"],
        summary="A carrier's tracking news, signed (X-Tracking-Timestamp, X-Tracking-Signature)",
        description=(
            "Body: {id, carrier, tracking_number, status (in_transit, out_for_delivery, "
            "delivered, exception), occurred_at, description?, location?}. The signature is "
            "hex HMAC-SHA256 of `<timestamp>.<raw body>` with the shared secret; timestamps "
            "older than the tolerance are refused; an event id already stored changes nothing."
        ),
        request=None,
        responses={200: ShipmentSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        try:
            body = request.body
        except RawPostDataException as exc:  # a form body, already parsed: not a JSON event
            raise ValidationError("Send the tracking event as JSON.") from exc
        shipment = tracking_webhook_receive(
            body=body,
            timestamp=request.headers.get("X-Tracking-Timestamp", ""),
            signature=request.headers.get("X-Tracking-Signature", ""),
        )
        shipment = Shipment.objects.prefetch_related("lines__order_line", "events").get(
            pk=shipment.pk
        )
        return Response(ShipmentSerializer(shipment).data)
