"""Inventory reads: availability for the storefront, the API and the "in stock only" filter, and
the seller-scoped lookups of the seller API. Expired reservations that the sweeper has not
released yet already count as free here (their units are released under the lock on next touch).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.aggregates import BoolOr
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
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

from catalog.models import ProductStatus, ProductVariant, variant_active_condition
from inventory.models import (
    InboundShipment,
    InboundShipmentLine,
    InboundStatus,
    Reservation,
    Stock,
    StockMovement,
    Warehouse,
)
from sellers.models import Seller
from shop.core.errors import NotFound
from shop.core.numbers import id_lookup

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


@dataclass(frozen=True)
class VariantSupply:
    """What a shopper may buy of a variant now: `available` units, or any number when
    `backorderable` (a sellable stock row of it takes backorders). The variant's own backorder
    flag alone does not decide: without such a row nothing can be reserved at checkout."""

    available: int
    backorderable: bool


def variant_supply(
    *,
    variant_ids: Sequence[int],
    now: datetime | None = None,
    holders: QuerySet | Sequence[str] = (),
) -> dict[int, VariantSupply]:
    """Per variant (nothing for variants without stock): one query; with `holders` (the
    shopper's own checkout holds, a list or a queryset of holder strings) their live
    reservations count as the shopper's, not as taken: one more query."""
    at = now or timezone.now()
    rows = (
        _sellable_stocks()
        .filter(variant_id__in=list(variant_ids))
        .order_by()
        .values("variant_id")
        .annotate(
            total=Sum(stock_available_expression(now=at)), backorder=BoolOr("backorder_allowed")
        )
        .values_list("variant_id", "total", "backorder")
    )
    totals = {variant_id: (total, backorder) for variant_id, total, backorder in rows}
    own: dict[int, int] = {}
    if isinstance(holders, QuerySet) or holders:
        own = dict(
            Reservation.objects.filter(
                holder__in=holders,
                expires_at__gt=at,
                stock__in=_sellable_stocks().filter(variant_id__in=list(variant_ids)),
            )
            .order_by()
            .values("stock__variant_id")
            .annotate(total=Sum("quantity"))
            .values_list("stock__variant_id", "total")
        )
    supply = {}
    for variant_id in variant_ids:
        total, backorder = totals.get(variant_id, (0, False))
        supply[variant_id] = VariantSupply(total + own.get(variant_id, 0), bool(backorder))
    return supply


def variant_availability(
    *,
    variant_ids: Sequence[int],
    now: datetime | None = None,
    holders: QuerySet | Sequence[str] = (),
) -> dict[int, int]:
    """Units a shopper can buy now per variant (0 for variants without stock); see
    `variant_supply`, which also says which variants take backorders."""
    supply = variant_supply(variant_ids=variant_ids, now=now, holders=holders)
    return {variant_id: s.available for variant_id, s in supply.items()}


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
        .filter(variant_active_condition(through="variant__"), variant__product=OuterRef("pk"))
        .annotate(free=stock_available_expression(now=now))
        .filter(free__gt=0)
    )
    return Q(Exists(stocks))


# --- seller-scoped reads (the seller API) -------------------------------------------------------


def warehouse_list_for_seller(*, seller: Seller) -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(seller=seller).order_by("priority", "id")


def warehouse_get_for_seller(*, seller: Seller, pk: object) -> Warehouse:
    try:
        return Warehouse.objects.get(seller=seller, pk=id_lookup(pk))
    except (Warehouse.DoesNotExist, ValueError) as exc:
        raise NotFound("No such warehouse.") from exc


def stock_incoming_subquery() -> Coalesce:
    """Per stock row: units expected on open inbound shipments to its warehouse."""
    expected = (
        InboundShipmentLine.objects.filter(
            shipment__status=InboundStatus.OPEN,
            shipment__warehouse_id=OuterRef("warehouse_id"),
            variant_id=OuterRef("variant_id"),
        )
        .order_by()
        .values("variant_id")
        .annotate(total=Sum("expected_quantity"))
        .values("total")
    )
    return Coalesce(Subquery(expected, output_field=IntegerField()), Value(0))


# `status` filters of `stock_list_for_seller`; "low" and "low_or_out" compare with the row's own
# threshold, else the seller's default.
STOCK_STATUSES = ("in_stock", "low", "out", "low_or_out")


def stock_list_for_seller(
    *,
    seller: Seller,
    warehouse_id: int | None = None,
    variant_id: int | None = None,
    sku: str = "",
    q: str = "",
    status: str = "",
    now: datetime | None = None,
) -> QuerySet[Stock]:
    """The seller's stock rows annotated with `available_now`, `incoming` (open inbound
    shipments), `low_stock_limit` (the row's threshold, else the seller's) and `is_low`
    (available at or below it). `sku` matches part of the SKU; `q` part of the SKU or the
    product name; `status` is one of STOCK_STATUSES (in_stock; low = 1..limit; out;
    low_or_out = 0..limit)."""
    condition = Q(warehouse__seller=seller)
    if warehouse_id is not None:
        condition &= Q(warehouse_id=warehouse_id)
    if variant_id is not None:
        condition &= Q(variant_id=variant_id)
    if sku:
        condition &= Q(variant__sku__icontains=sku)
    if q:
        condition &= Q(variant__sku__icontains=q) | Q(variant__product__name__icontains=q)
    available = Q(available_now__gt=0)
    at_or_below_limit = Q(available_now__lte=F("low_stock_limit"))
    status_condition = {
        "in_stock": available,
        "low": available & at_or_below_limit,
        "out": ~available,
        "low_or_out": at_or_below_limit,
    }.get(status, Q())
    return (
        Stock.objects.filter(condition)
        .select_related("warehouse", "variant", "variant__product")
        .annotate(
            available_now=stock_available_expression(now=now),
            incoming=stock_incoming_subquery(),
            low_stock_limit=Coalesce(F("low_stock_threshold"), Value(seller.low_stock_threshold)),
        )
        .annotate(is_low=ExpressionWrapper(at_or_below_limit, output_field=BooleanField()))
        .filter(status_condition)
        .order_by("warehouse__priority", "warehouse_id", "variant__sku")
    )


def stock_get_for_seller(*, seller: Seller, pk: object) -> Stock:
    try:
        return stock_list_for_seller(seller=seller).get(pk=id_lookup(pk))
    except (Stock.DoesNotExist, ValueError) as exc:
        raise NotFound("No such stock record.") from exc


def variant_get_for_seller(*, seller: Seller, pk: object) -> ProductVariant:
    try:
        return ProductVariant.objects.select_related("product").get(
            product__seller=seller, pk=id_lookup(pk)
        )
    except (ProductVariant.DoesNotExist, ValueError) as exc:
        raise NotFound("No such product variant.") from exc


def variants_by_sku_for_seller(*, seller: Seller, skus: Iterable[str]) -> dict[str, ProductVariant]:
    """The seller's variants with these exact SKUs, keyed by SKU (one query); others' SKUs are
    simply absent."""
    return {
        v.sku: v for v in ProductVariant.objects.filter(product__seller=seller, sku__in=list(skus))
    }


def movement_list_for_seller(
    *,
    seller: Seller,
    stock_id: int | None = None,
    warehouse_id: int | None = None,
    variant_id: int | None = None,
    sku: str = "",
    reason: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[StockMovement]:
    """The seller's ledger rows, newest first; `sku` matches part of the SKU, `since` is
    inclusive and `until` exclusive."""
    condition = Q(stock__warehouse__seller=seller)
    for value, lookup in (
        (stock_id, "stock_id"),
        (warehouse_id, "stock__warehouse_id"),
        (variant_id, "stock__variant_id"),
        (sku or None, "stock__variant__sku__icontains"),
        (reason or None, "reason"),
        (since, "created_at__gte"),
        (until, "created_at__lt"),
    ):
        if value is not None:
            condition &= Q(**{lookup: value})
    return (
        StockMovement.objects.filter(condition)
        .select_related(
            "stock", "stock__warehouse", "stock__variant", "stock__variant__product", "actor"
        )
        .order_by("-created_at", "-id")
    )


def stock_low_for_seller(*, seller: Seller, now: datetime | None = None) -> QuerySet[Stock]:
    """Stock rows of the seller's active variants at or below their low-stock threshold (the
    row's own, else the seller's; out of stock included), emptiest first: what to restock."""
    return (
        stock_list_for_seller(seller=seller, status="low_or_out", now=now)
        .filter(variant_active_condition(through="variant__"), warehouse__is_active=True)
        .exclude(variant__product__status=ProductStatus.ARCHIVED)
        .order_by(F("available_now").asc(), "variant__sku", "warehouse__priority", "pk")
    )


def inbound_shipment_list_for_seller(
    *, seller: Seller, status: str = ""
) -> QuerySet[InboundShipment]:
    """The seller's inbound shipments with `line_count` and `expected_total`, newest first."""
    qs = InboundShipment.objects.filter(warehouse__seller=seller)
    if status:
        qs = qs.filter(status=status)
    return (
        qs.select_related("warehouse")
        .annotate(line_count=Count("lines"), expected_total=Sum("lines__expected_quantity"))
        .order_by("-created_at", "-id")
    )


def inbound_shipment_get_for_seller(*, seller: Seller, pk: object) -> InboundShipment:
    try:
        return InboundShipment.objects.select_related("warehouse", "created_by", "closed_by").get(
            warehouse__seller=seller, pk=id_lookup(pk)
        )
    except (InboundShipment.DoesNotExist, ValueError) as exc:
        raise NotFound("No such inbound shipment.") from exc


def inbound_lines_for_shipment(*, shipment: InboundShipment) -> QuerySet[InboundShipmentLine]:
    return shipment.lines.select_related("variant", "variant__product").order_by("id")
