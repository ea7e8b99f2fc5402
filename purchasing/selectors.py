"""Reads of purchasing, scoped to the seller: every `*_get_for_seller` fetches and checks
ownership in one step (another seller's id is NotFound, a 404 on every face)."""

from __future__ import annotations

from django.db.models import Count, F, QuerySet, Sum

from purchasing.models import (
    DemandForecast,
    ForecastRun,
    PriceChange,
    PricingRule,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchasingSettings,
    Supplier,
    SupplierItem,
)
from sellers.models import Seller
from shop.core.errors import NotFound
from shop.core.numbers import id_parse


def _get(queryset: QuerySet, pk: object, what: str):
    parsed = id_parse(pk)
    obj = queryset.filter(pk=parsed).first() if parsed is not None else None
    if obj is None:
        raise NotFound(f"No such {what}.")
    return obj


def supplier_list_for_seller(*, seller: Seller) -> QuerySet[Supplier]:
    return (
        Supplier.objects.filter(seller=seller)
        .annotate(item_count=Count("items"))
        .order_by("name", "pk")
    )


def supplier_get_for_seller(*, seller: Seller, pk: object) -> Supplier:
    return _get(Supplier.objects.filter(seller=seller), pk, "supplier")


def supplier_items(*, supplier: Supplier) -> QuerySet[SupplierItem]:
    return supplier.items.select_related("variant__product").order_by("variant__sku")


def supplier_item_get(*, supplier: Supplier, pk: object) -> SupplierItem:
    return _get(supplier.items.all(), pk, "supplier item")


def purchase_order_list_for_seller(*, seller: Seller, status: str = "") -> QuerySet[PurchaseOrder]:
    qs = (
        PurchaseOrder.objects.filter(seller=seller)
        .select_related("supplier", "warehouse")
        .annotate(
            line_count=Count("lines"),
            units=Sum("lines__quantity"),
            total_cost=Sum(F("lines__quantity") * F("lines__unit_cost")),
        )
        .order_by("-created_at", "-pk")
    )
    return qs.filter(status=status) if status else qs


def purchase_order_get_for_seller(*, seller: Seller, pk: object) -> PurchaseOrder:
    return _get(
        PurchaseOrder.objects.filter(seller=seller).select_related(
            "supplier", "warehouse", "seller"
        ),
        pk,
        "purchase order",
    )


def purchase_order_lines(*, order: PurchaseOrder) -> QuerySet[PurchaseOrderLine]:
    return order.lines.select_related("variant__product").order_by("pk")


def forecast_list_for_seller(
    *, seller: Seller, suggested_only: bool = False
) -> QuerySet[DemandForecast]:
    qs = DemandForecast.objects.filter(seller=seller).select_related(
        "stock__variant__product", "stock__warehouse", "supplier"
    )
    if suggested_only:
        qs = qs.filter(suggested_quantity__gt=0)
    return qs.order_by("reorder_by", "stock__variant__sku", "pk")


def forecast_get_for_seller(*, seller: Seller, pk: object) -> DemandForecast:
    return _get(
        DemandForecast.objects.filter(seller=seller).select_related(
            "stock__variant__product", "stock__warehouse", "supplier", "seller"
        ),
        pk,
        "forecast",
    )


def forecast_run_latest(*, seller: Seller) -> ForecastRun | None:
    return ForecastRun.objects.filter(seller=seller).order_by("-created_at", "-id").first()


def forecast_run_get_for_seller(*, seller: Seller, pk: object) -> ForecastRun:
    return _get(ForecastRun.objects.filter(seller=seller), pk, "forecast run")


def purchasing_settings_for(*, seller: Seller) -> PurchasingSettings:
    found = PurchasingSettings.objects.filter(seller=seller).first()
    return found or PurchasingSettings(seller=seller)


def pricing_rule_list_for_seller(*, seller: Seller) -> QuerySet[PricingRule]:
    return PricingRule.objects.filter(seller=seller).select_related("variant__product", "category")


def pricing_rule_get_for_seller(*, seller: Seller, pk: object) -> PricingRule:
    return _get(
        PricingRule.objects.filter(seller=seller).select_related("variant__product"),
        pk,
        "pricing rule",
    )


def price_history_for_seller(*, seller: Seller) -> QuerySet[PriceChange]:
    return PriceChange.objects.filter(seller=seller).select_related("variant__product", "rule")


def purchase_order_lines_open_for_stock(*, stock) -> QuerySet[PurchaseOrderLine]:
    """Lines of sent purchase orders still expected at the stock row's warehouse."""
    return (
        PurchaseOrderLine.objects.filter(
            variant_id=stock.variant_id,
            order__warehouse_id=stock.warehouse_id,
            order__status__in=["sent", "partially_received"],
        )
        .select_related("order")
        .order_by("order__expected_on", "pk")
    )
