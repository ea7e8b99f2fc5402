"""Seller purchasing API (`/api/v1/seller/...`): suppliers, purchase orders, forecasts and
reorder suggestions, forecast runs, pricing rules, preview and history. Thin: the membership
(X-Seller-Id header) and role are resolved as in inventory's seller API, every object is looked
up within the seller (another seller's id is 404) and every change is a service call."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api import SELLER_HEADER, SellerInventoryMixin
from inventory.selectors import warehouse_get_for_seller
from purchasing import selectors, services
from purchasing.models import (
    DemandForecast,
    PriceChange,
    PricingRule,
    PurchaseOrder,
    Supplier,
    SupplierItem,
)
from purchasing.serializers import (
    ForecastRunSerializer,
    ForecastSerializer,
    PriceChangeSerializer,
    PriceProposalSerializer,
    PricingRuleSerializer,
    PurchaseOrderCreateSerializer,
    PurchaseOrderLineSerializer,
    PurchaseOrderReceiveSerializer,
    PurchaseOrderSerializer,
    SupplierItemSerializer,
    SupplierSerializer,
)
from shop.core.errors import ValidationError

TAGS = ["seller purchasing"]


def _parsed(serializer_class, data) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class _Base(SellerInventoryMixin):
    def seller(self, action: str | None = None):
        return self.membership(action=action or self.action_for_method()).seller


@extend_schema(tags=TAGS, parameters=[SELLER_HEADER])
class SupplierListCreateView(_Base, generics.ListCreateAPIView):
    serializer_class = SupplierSerializer
    queryset = Supplier.objects.none()

    def get_queryset(self):
        return selectors.supplier_list_for_seller(seller=self.seller())

    def create(self, request: Request, *args, **kwargs) -> Response:
        supplier = services.supplier_save(
            seller=self.seller(), **_parsed(SupplierSerializer, request.data)
        )
        return Response(SupplierSerializer(supplier).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, parameters=[SELLER_HEADER])
class SupplierDetailView(_Base, generics.RetrieveUpdateAPIView):
    serializer_class = SupplierSerializer
    queryset = Supplier.objects.none()

    def get_object(self):
        return selectors.supplier_get_for_seller(seller=self.seller(), pk=self.kwargs["pk"])

    def update(self, request: Request, *args, **kwargs) -> Response:
        supplier = self.get_object()
        if not isinstance(request.data, dict):
            raise ValidationError("Send the supplier's fields as a JSON object.")
        current = SupplierSerializer(supplier).data
        serializer = SupplierSerializer(data={**current, **request.data})
        serializer.is_valid(raise_exception=True)
        supplier = services.supplier_save(
            seller=supplier.seller, supplier=supplier, **serializer.validated_data
        )
        return Response(SupplierSerializer(supplier).data)


@extend_schema(tags=TAGS, parameters=[SELLER_HEADER])
class SupplierItemListCreateView(_Base, generics.ListCreateAPIView):
    """What the supplier sells; POST creates or replaces the item of a variant."""

    serializer_class = SupplierItemSerializer
    queryset = SupplierItem.objects.none()

    def _supplier(self):
        return selectors.supplier_get_for_seller(seller=self.seller(), pk=self.kwargs["pk"])

    def get_queryset(self):
        return selectors.supplier_items(supplier=self._supplier())

    def create(self, request: Request, *args, **kwargs) -> Response:
        supplier = self._supplier()
        values = _parsed(SupplierItemSerializer, request.data)
        item = services.supplier_item_set(
            supplier=supplier, variant_id=values.pop("variant_id"), **values
        )
        return Response(SupplierItemSerializer(item).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=TAGS, parameters=[SELLER_HEADER, OpenApiParameter("status", str, required=False)]
)
class PurchaseOrderListCreateView(_Base, generics.ListCreateAPIView):
    serializer_class = PurchaseOrderSerializer
    queryset = PurchaseOrder.objects.none()

    def get_queryset(self):
        status_filter = self.request.query_params.get("status", "")
        return selectors.purchase_order_list_for_seller(
            seller=self.seller(), status=status_filter[:20]
        ).prefetch_related("lines__variant")

    @extend_schema(request=PurchaseOrderCreateSerializer, responses={201: PurchaseOrderSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        seller = self.seller()
        values = _parsed(PurchaseOrderCreateSerializer, request.data)
        order = services.purchase_order_create(
            seller=seller,
            supplier=selectors.supplier_get_for_seller(seller=seller, pk=values["supplier"]),
            warehouse=warehouse_get_for_seller(seller=seller, pk=values["warehouse"]),
            lines=[
                services.OrderLineInput(line["variant_id"], line["quantity"])
                for line in values["lines"]
            ],
            note=values["note"],
        )
        return Response(PurchaseOrderSerializer(order).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, parameters=[SELLER_HEADER])
class PurchaseOrderDetailView(_Base, generics.RetrieveAPIView):
    serializer_class = PurchaseOrderSerializer
    queryset = PurchaseOrder.objects.none()

    def get_object(self):
        return selectors.purchase_order_get_for_seller(seller=self.seller(), pk=self.kwargs["pk"])


class _OrderAction(_Base, APIView):
    def order(self, action: str = "inventory"):
        return selectors.purchase_order_get_for_seller(
            seller=self.seller(action), pk=self.kwargs["pk"]
        )

    def answer(self, order) -> Response:
        order.refresh_from_db()
        return Response(PurchaseOrderSerializer(order).data)


@extend_schema(
    tags=TAGS,
    parameters=[SELLER_HEADER],
    request=PurchaseOrderLineSerializer,
    responses=PurchaseOrderSerializer,
)
class PurchaseOrderLineView(_OrderAction):
    """Edit a draft: set a variant's quantity (0 removes the line)."""

    def put(self, request: Request, pk: int) -> Response:
        order = self.order()
        values = _parsed(PurchaseOrderLineSerializer, request.data)
        services.purchase_order_line_set(
            order=order, variant_id=values["variant_id"], quantity=values["quantity"]
        )
        return self.answer(order)


@extend_schema(
    tags=TAGS, parameters=[SELLER_HEADER], request=None, responses=PurchaseOrderSerializer
)
class PurchaseOrderSendView(_OrderAction):
    def post(self, request: Request, pk: int) -> Response:
        return self.answer(services.purchase_order_send(order=self.order(), actor=request.user))


@extend_schema(
    tags=TAGS, parameters=[SELLER_HEADER], request=None, responses=PurchaseOrderSerializer
)
class PurchaseOrderCancelView(_OrderAction):
    def post(self, request: Request, pk: int) -> Response:
        return self.answer(services.purchase_order_cancel(order=self.order(), actor=request.user))


@extend_schema(
    tags=TAGS,
    parameters=[SELLER_HEADER],
    request=PurchaseOrderReceiveSerializer,
    responses=PurchaseOrderSerializer,
)
class PurchaseOrderReceiveView(_OrderAction):
    def post(self, request: Request, pk: int) -> Response:
        order = self.order("inventory_receive")
        values = _parsed(PurchaseOrderReceiveSerializer, request.data)
        received = {line["line"]: line["quantity"] for line in values["lines"]}
        return self.answer(
            services.purchase_order_receive(order=order, received=received, actor=request.user)
        )


@extend_schema(
    tags=TAGS,
    parameters=[SELLER_HEADER, OpenApiParameter("suggested", bool, required=False)],
)
class ForecastListView(_Base, generics.ListAPIView):
    """Forecasts per variant x warehouse with their reorder advice; `suggested=true` lists only
    what should be ordered now."""

    serializer_class = ForecastSerializer
    queryset = DemandForecast.objects.none()

    def get_queryset(self):
        return selectors.forecast_list_for_seller(
            seller=self.seller(),
            suggested_only=self.request.query_params.get("suggested") in ("1", "true"),
        )


@extend_schema(tags=TAGS, parameters=[SELLER_HEADER])
class ForecastDetailView(_Base, generics.RetrieveAPIView):
    serializer_class = ForecastSerializer
    queryset = DemandForecast.objects.none()

    def get_object(self):
        return selectors.forecast_get_for_seller(seller=self.seller(), pk=self.kwargs["pk"])


@extend_schema(
    tags=TAGS, parameters=[SELLER_HEADER], request=None, responses={201: PurchaseOrderSerializer}
)
class ForecastOrderView(_Base, APIView):
    """One call: the suggestion becomes a purchase order, sent to its supplier."""

    def post(self, request: Request, pk: int) -> Response:
        forecast = selectors.forecast_get_for_seller(seller=self.seller("inventory"), pk=pk)
        order = services.purchase_order_from_suggestion(forecast=forecast, actor=request.user)
        return Response(PurchaseOrderSerializer(order).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=TAGS, parameters=[SELLER_HEADER], request=None, responses={202: ForecastRunSerializer}
)
class ForecastRunStartView(_Base, APIView):
    """Start a forecast run for this seller (or get the one already running)."""

    def post(self, request: Request) -> Response:
        run = services.forecast_run_start(seller=self.seller("inventory"))
        return Response(ForecastRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=TAGS, parameters=[SELLER_HEADER])
class ForecastRunDetailView(_Base, generics.RetrieveAPIView):
    """A run's progress: done of total, percent, status."""

    serializer_class = ForecastRunSerializer

    def get_object(self):
        return selectors.forecast_run_get_for_seller(seller=self.seller(), pk=self.kwargs["pk"])


class _PricingBase(_Base):
    def seller(self, action: str | None = None):
        return self.membership(action="products").seller


@extend_schema(tags=TAGS, parameters=[SELLER_HEADER])
class PricingRuleListCreateView(_PricingBase, generics.ListCreateAPIView):
    serializer_class = PricingRuleSerializer
    queryset = PricingRule.objects.none()

    def get_queryset(self):
        return selectors.pricing_rule_list_for_seller(seller=self.seller())

    def create(self, request: Request, *args, **kwargs) -> Response:
        values = _parsed(PricingRuleSerializer, request.data)
        rule = services.pricing_rule_save(
            seller=self.seller(),
            variant_id=values.pop("variant_id", None),
            category_id=values.pop("category_id", None),
            **values,
        )
        return Response(PricingRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, parameters=[SELLER_HEADER])
class PricingRuleDetailView(_PricingBase, generics.RetrieveDestroyAPIView):
    serializer_class = PricingRuleSerializer
    queryset = PricingRule.objects.none()

    def get_object(self):
        return selectors.pricing_rule_get_for_seller(seller=self.seller(), pk=self.kwargs["pk"])

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        services.pricing_rule_delete(rule=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=TAGS, parameters=[SELLER_HEADER], responses=PriceProposalSerializer(many=True))
class PricingPreviewView(_PricingBase, APIView):
    """What applying the rules now would change (before/after and why)."""

    def get(self, request: Request) -> Response:
        proposals = services.pricing_preview(seller=self.seller())
        return Response(PriceProposalSerializer(proposals, many=True).data)


@extend_schema(
    tags=TAGS, parameters=[SELLER_HEADER], request=None, responses=PriceChangeSerializer(many=True)
)
class PricingApplyView(_PricingBase, APIView):
    def post(self, request: Request) -> Response:
        changes = services.pricing_apply(seller=self.seller(), actor=request.user)
        return Response(PriceChangeSerializer(changes, many=True).data)


@extend_schema(tags=TAGS, parameters=[SELLER_HEADER])
class PriceHistoryView(_PricingBase, generics.ListAPIView):
    serializer_class = PriceChangeSerializer
    queryset = PriceChange.objects.none()

    def get_queryset(self):
        return selectors.price_history_for_seller(seller=self.seller())
