"""Inventory reads: availability for the storefront, the API and the "in stock only" filter, and
the seller-scoped lookups of the seller API. Expired reservations that the sweeper has not
released yet already count as free here (their units are released under the lock on next touch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from catalog.models import ProductStatus, ProductVariant
from inventory.models import Reservation, Stock, StockMovement, Warehouse
from sellers.models import Seller
from shop.core.errors import NotFound

LOW_STOCK_DEFAULT = 5


def _expired_reserved_subquery(*, now: datetime, stock_ref: str = "pk") -> Coalesce:
    expired = (
        Reservation.objects.filter(stock=OuterRef(stock_ref), expires_at__lte=now)
        .order_by()
        .values("stock")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return Coalesce(Subquery(expired, output_field=IntegerField()), Value(0))


def stock_available_expression(*, now: datetime | None = None, stock_ref: str = "pk"):
    """SQL for a stock row's free units: on_hand - allocated - live reservations, never below 0."""
    at = now or timezone.now()
    return Greatest(
        F("on_hand")
        - F("allocated")
        - F("reserved")
        + _expired_reserved_subquery(now=at, stock_ref=stock_ref),
        Value(0),
    )


def _sellable_stocks() -> QuerySet[Stock]:
    """Stock rows that count for shoppers: active warehouses of the variant's own seller."""
    return Stock.objects.filter(
        warehouse__is_active=True, warehouse__seller_id=F("variant__product__seller_id")
    )


def variant_availability(
    *, variant_ids: Sequence[int], now: datetime | None = None
) -> dict[int, int]:
    """Units a shopper can buy now per variant (0 for variants without stock). One query."""
    totals = dict(
        _sellable_stocks()
        .filter(variant_id__in=list(variant_ids))
        .order_by()
        .values("variant_id")
        .annotate(total=Sum(stock_available_expression(now=now)))
        .values_list("variant_id", "total")
    )
    return {variant_id: totals.get(variant_id, 0) for variant_id in variant_ids}


def variant_available_subquery(*, variant_ref: str = "pk", now: datetime | None = None) -> Coalesce:
    """Per-variant availability as a subquery, to annotate variant querysets in one query."""
    total = (
        _sellable_stocks()
        .filter(variant=OuterRef(variant_ref))
        .order_by()
        .values("variant")
        .annotate(total=Sum(stock_available_expression(now=now)))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def variant_backorderable_subquery(*, variant_ref: str = "pk") -> Exists:
    return Exists(_sellable_stocks().filter(variant=OuterRef(variant_ref), backorder_allowed=True))


def variant_queryset_with_availability(
    qs: QuerySet[ProductVariant] | None = None, *, now: datetime | None = None
) -> QuerySet[ProductVariant]:
    """Variants annotated with `available_quantity` and `backorderable` (no extra queries per
    row). `variant_stock_status` turns them into what the storefront shows."""
    qs = ProductVariant.objects.all() if qs is None else qs
    return qs.annotate(
        available_quantity=variant_available_subquery(now=now),
        backorderable=variant_backorderable_subquery(),
    )


@dataclass(frozen=True)
class StockStatus:
    code: str  # in_stock | low_stock | backorder | out_of_stock
    available: int
    label: str

    @property
    def can_buy(self) -> bool:
        return self.code != "out_of_stock"


def variant_stock_status(
    *, available: int, backorderable: bool = False, low_stock_threshold: int = LOW_STOCK_DEFAULT
) -> StockStatus:
    if available <= 0:
        if backorderable:
            return StockStatus("backorder", 0, "Available on backorder")
        return StockStatus("out_of_stock", 0, "Out of stock")
    if available <= low_stock_threshold:
        return StockStatus("low_stock", available, f"Only {available} left")
    return StockStatus("in_stock", available, "In stock")


def product_in_stock_condition(*, now: datetime | None = None) -> Q:
    """For product querysets: at least one active variant has a free unit now."""
    stocks = (
        _sellable_stocks()
        .filter(variant__product=OuterRef("pk"), variant__is_active=True)
        .annotate(free=stock_available_expression(now=now))
        .filter(free__gt=0)
    )
    return Q(Exists(stocks))


# --- seller-scoped reads (the seller API) -------------------------------------------------------


def warehouse_list_for_seller(*, seller: Seller) -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(seller=seller).order_by("priority", "id")


def warehouse_get_for_seller(*, seller: Seller, pk: object) -> Warehouse:
    try:
        return Warehouse.objects.get(seller=seller, pk=int(str(pk)))
    except (Warehouse.DoesNotExist, ValueError) as exc:
        raise NotFound("No such warehouse.") from exc


def stock_list_for_seller(
    *,
    seller: Seller,
    warehouse_id: int | None = None,
    variant_id: int | None = None,
    sku: str = "",
    status: str = "",
    now: datetime | None = None,
) -> QuerySet[Stock]:
    """The seller's stock rows with `available_now`; `status` is in_stock, low (1..the seller's
    low-stock threshold) or out."""
    condition = Q(warehouse__seller=seller)
    if warehouse_id is not None:
        condition &= Q(warehouse_id=warehouse_id)
    if variant_id is not None:
        condition &= Q(variant_id=variant_id)
    if sku:
        condition &= Q(variant__sku__icontains=sku)
    available = Q(available_now__gt=0)
    status_condition = {
        "in_stock": available,
        "low": available & Q(available_now__lte=seller.low_stock_threshold),
        "out": ~available,
    }.get(status, Q())
    return (
        Stock.objects.filter(condition)
        .select_related("warehouse", "variant", "variant__product")
        .annotate(available_now=stock_available_expression(now=now))
        .filter(status_condition)
        .order_by("warehouse__priority", "warehouse_id", "variant__sku")
    )


def stock_get_for_seller(*, seller: Seller, pk: object) -> Stock:
    try:
        return stock_list_for_seller(seller=seller).get(pk=int(str(pk)))
    except (Stock.DoesNotExist, ValueError) as exc:
        raise NotFound("No such stock record.") from exc


def variant_get_for_seller(*, seller: Seller, pk: object) -> ProductVariant:
    try:
        return ProductVariant.objects.select_related("product").get(
            product__seller=seller, pk=int(str(pk))
        )
    except (ProductVariant.DoesNotExist, ValueError) as exc:
        raise NotFound("No such product variant.") from exc


def movement_list_for_seller(*, seller: Seller) -> QuerySet[StockMovement]:
    return (
        StockMovement.objects.filter(stock__warehouse__seller=seller)
        .select_related("stock", "stock__warehouse", "stock__variant", "actor")
        .order_by("-created_at", "-id")
    )


def stock_low_for_seller(*, seller: Seller, now: datetime | None = None) -> QuerySet[Stock]:
    """Stock rows of the seller's active variants at or below the seller's low-stock threshold
    (out of stock included), emptiest first: what to restock."""
    low = Q(available_now__lte=seller.low_stock_threshold)
    return (
        stock_list_for_seller(seller=seller, now=now)
        .filter(low, variant__is_active=True, warehouse__is_active=True)
        .exclude(variant__product__status=ProductStatus.ARCHIVED)
        .order_by(F("available_now").asc(), "variant__sku", "warehouse__priority", "pk")
    )
