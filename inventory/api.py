"""Seller inventory API (`/api/v1/seller/...`). Thin: resolve the seller membership (the
`X-Seller-Id` header, else the user's only/first seller), check the role, call a selector or a
service. Every object is looked up within the seller, so another seller's ids are 404."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import selectors, services
from inventory.models import MovementReason, Stock, StockMovement, Warehouse
from inventory.serializers import (
    AdjustSerializer,
    MovementFilterSerializer,
    ReceiveSerializer,
    StockFilterSerializer,
    StockMovementSerializer,
    StockSerializer,
    TransferSerializer,
    WarehouseSerializer,
    WriteOffSerializer,
)
from sellers.models import SellerMember
from sellers.selectors import member_require, seller_membership_get
from shop.core.errors import NotFound
from shop.core.numbers import id_parse

SELLER_HEADER = OpenApiParameter(
    "X-Seller-Id",
    int,
    OpenApiParameter.HEADER,
    required=False,
    description="The seller to act for; defaults to your only (or first) seller account.",
)


class SellerInventoryMixin:
    """`membership(action=...)` resolves the seller and requires a `sellers.selectors` action:
    inventory_view (read), inventory_receive (book goods in) or inventory (everything else)."""

    permission_classes = [IsAuthenticated]
    request: Request

    def membership(self, *, action: str) -> SellerMember:
        raw = self.request.headers.get("X-Seller-Id")
        seller_id = None
        if raw is not None:
            seller_id = id_parse(raw)
            if seller_id is None:
                raise NotFound("No seller account found.")
        membership = seller_membership_get(user=self.request.user, seller_id=seller_id)
        member_require(membership=membership, action=action)
        return membership

    def action_for_method(self) -> str:
        return (
            "inventory_view" if self.request.method in ("GET", "HEAD", "OPTIONS") else "inventory"
        )


def _parsed(serializer_class, data) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@extend_schema(tags=["seller inventory"], parameters=[SELLER_HEADER])
class WarehouseListCreateView(SellerInventoryMixin, generics.ListCreateAPIView):
    serializer_class = WarehouseSerializer
    queryset = Warehouse.objects.none()  # for schema generation; get_queryset scopes the seller

    def get_queryset(self):
        return selectors.warehouse_list_for_seller(
            seller=self.membership(action="inventory_view").seller
        )

    def create(self, request: Request, *args, **kwargs) -> Response:
        seller = self.membership(action="inventory").seller
        values = _parsed(WarehouseSerializer, request.data)
        warehouse = services.warehouse_create(seller=seller, **values)
        return Response(WarehouseSerializer(warehouse).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["seller inventory"], parameters=[SELLER_HEADER])
class WarehouseDetailView(SellerInventoryMixin, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = WarehouseSerializer

    def get_object(self):
        seller = self.membership(action=self.action_for_method()).seller
        return selectors.warehouse_get_for_seller(seller=seller, pk=self.kwargs["pk"])

    def update(self, request: Request, *args, **kwargs) -> Response:
        warehouse = self.get_object()
        serializer = WarehouseSerializer(
            warehouse, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        warehouse = services.warehouse_update(warehouse=warehouse, **serializer.validated_data)
        return Response(WarehouseSerializer(warehouse).data)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        services.warehouse_delete(warehouse=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["seller inventory"],
    parameters=[
        SELLER_HEADER,
        OpenApiParameter("warehouse", int),
        OpenApiParameter("variant", int),
        OpenApiParameter("sku", str, description="SKU contains"),
        OpenApiParameter("q", str, description="SKU or product name contains"),
        OpenApiParameter("status", str, enum=list(selectors.STOCK_STATUSES)),
    ],
)
class StockListView(SellerInventoryMixin, generics.ListAPIView):
    """Stock levels: on hand, allocated to orders, reserved by live checkouts, available now."""

    serializer_class = StockSerializer
    queryset = Stock.objects.none()  # for schema generation; get_queryset scopes the seller

    def get_queryset(self):
        seller = self.membership(action="inventory_view").seller
        filters = _parsed(StockFilterSerializer, self.request.query_params)
        return selectors.stock_list_for_seller(
            seller=seller,
            warehouse_id=filters.get("warehouse"),
            variant_id=filters.get("variant"),
            sku=filters.get("sku", ""),
            q=filters.get("q", ""),
            status=filters.get("status", ""),
        )


@extend_schema(tags=["seller inventory"], parameters=[SELLER_HEADER])
class StockDetailView(SellerInventoryMixin, generics.RetrieveAPIView):
    serializer_class = StockSerializer

    def get_object(self):
        seller = self.membership(action="inventory_view").seller
        return selectors.stock_get_for_seller(seller=seller, pk=self.kwargs["pk"])


class _StockActionView(SellerInventoryMixin, APIView):
    def stock(self):
        seller = self.membership(action="inventory").seller
        return seller, selectors.stock_get_for_seller(seller=seller, pk=self.kwargs["pk"])


def _movement_response(movement, code=status.HTTP_201_CREATED) -> Response:
    return Response(StockMovementSerializer(movement).data, status=code)


@extend_schema(
    tags=["seller inventory"],
    parameters=[SELLER_HEADER],
    request=ReceiveSerializer,
    responses={201: StockMovementSerializer},
)
class StockReceiveView(SellerInventoryMixin, APIView):
    """Book goods in: on_hand of the variant in the warehouse goes up."""

    def post(self, request: Request) -> Response:
        seller = self.membership(action="inventory_receive").seller
        data = _parsed(ReceiveSerializer, request.data)
        movement = services.stock_receive(
            warehouse=selectors.warehouse_get_for_seller(seller=seller, pk=data["warehouse"]),
            variant=selectors.variant_get_for_seller(seller=seller, pk=data["variant"]),
            quantity=data["quantity"],
            actor=request.user,
            reason=data["reason"],
            reference=data["reference"],
        )
        return _movement_response(movement)


@extend_schema(
    tags=["seller inventory"],
    parameters=[SELLER_HEADER],
    request=AdjustSerializer,
    responses={201: StockMovementSerializer},
)
class StockAdjustView(_StockActionView):
    def post(self, request: Request, pk: int) -> Response:
        _seller, stock = self.stock()
        data = _parsed(AdjustSerializer, request.data)
        return _movement_response(services.stock_adjust(stock=stock, actor=request.user, **data))


@extend_schema(
    tags=["seller inventory"],
    parameters=[SELLER_HEADER],
    request=WriteOffSerializer,
    responses={201: StockMovementSerializer},
)
class StockWriteOffView(_StockActionView):
    def post(self, request: Request, pk: int) -> Response:
        _seller, stock = self.stock()
        data = _parsed(WriteOffSerializer, request.data)
        return _movement_response(services.stock_write_off(stock=stock, actor=request.user, **data))


@extend_schema(
    tags=["seller inventory"],
    parameters=[SELLER_HEADER],
    request=TransferSerializer,
    responses={201: StockMovementSerializer(many=True)},
)
class StockTransferView(_StockActionView):
    def post(self, request: Request, pk: int) -> Response:
        seller, stock = self.stock()
        data = _parsed(TransferSerializer, request.data)
        out, into = services.stock_transfer(
            stock=stock,
            to_warehouse=selectors.warehouse_get_for_seller(seller=seller, pk=data["to_warehouse"]),
            quantity=data["quantity"],
            actor=request.user,
            reason=data["reason"],
        )
        return Response(
            StockMovementSerializer([out, into], many=True).data, status=status.HTTP_201_CREATED
        )


@extend_schema(
    tags=["seller inventory"],
    parameters=[
        SELLER_HEADER,
        OpenApiParameter("stock", int),
        OpenApiParameter("warehouse", int),
        OpenApiParameter("variant", int),
        OpenApiParameter("reason", str, enum=MovementReason.values),
        OpenApiParameter("since", str, description="ISO 8601 date-time"),
        OpenApiParameter("until", str, description="ISO 8601 date-time"),
    ],
)
class StockMovementListView(SellerInventoryMixin, generics.ListAPIView):
    """The ledger of on_hand changes, newest first."""

    serializer_class = StockMovementSerializer
    queryset = StockMovement.objects.none()  # for schema generation; get_queryset scopes the seller

    def get_queryset(self):
        seller = self.membership(action="inventory_view").seller
        filters = _parsed(MovementFilterSerializer, self.request.query_params)
        return selectors.movement_list_for_seller(
            seller=seller,
            stock_id=filters.get("stock"),
            warehouse_id=filters.get("warehouse"),
            variant_id=filters.get("variant"),
            reason=filters.get("reason", ""),
            since=filters.get("since"),
            until=filters.get("until"),
        )
