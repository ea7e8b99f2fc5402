"""Reads of fulfilment, scoped to who may see them: a seller sees only its own seller orders,
shipments and returns (another seller's id is not found); a shopper only their own order's."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from fulfilment.models import (
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)
from inventory.models import Allocation, Warehouse
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, SellerOrder
from orders.selectors import ON_HOLD, TO_SHIP_STATUSES, handling_deadline_expression
from sellers.models import Seller
from shop.core.errors import NotFound
from shop.core.numbers import id_lookup

S = OrderStatus
OPEN_RETURNS = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED)

# the portal's and seller API's filters: name -> (label, condition)
VIEWS: dict[str, tuple[str, Q]] = {
    "": ("All", Q()),
    "new": ("New", Q(status=S.PAID) & ~ON_HOLD),
    "on_hold": ("On hold", Q(status__in=TO_SHIP_STATUSES) & ON_HOLD),
    "late": ("Late", Q(status__in=TO_SHIP_STATUSES, late=True)),
    "packing": ("Packing", Q(status=S.PROCESSING)),
    "partially_shipped": ("Partially shipped", Q(status=S.PARTIALLY_SHIPPED)),
    "shipped": ("Shipped", Q(status=S.SHIPPED)),
    "delivered": ("Delivered", Q(status=S.DELIVERED)),
    "returns": ("Returns to handle", Q(open_returns=True)),
}


def seller_orders_for_seller(
    *, seller: Seller, view: str = "", search: str = "", now: datetime | None = None
) -> QuerySet[SellerOrder]:
    """The seller's orders (paid and later), newest first, with `ship_by`, `late` and
    `open_returns`; `view` one of VIEWS (unknown: all); `search` an order number or the
    customer's email (part of either)."""
    now = now or timezone.now()
    rows = (
        SellerOrder.objects.filter(seller=seller)
        .exclude(status=S.PENDING_PAYMENT)
        .select_related("order")
        .annotate(ship_by=handling_deadline_expression())
        .annotate(
            late=ExpressionWrapper(
                Q(ship_by__lt=now) & Q(status__in=TO_SHIP_STATUSES), output_field=BooleanField()
            ),
            open_returns=Exists(
                ReturnRequest.objects.filter(seller_order=OuterRef("pk"), status__in=OPEN_RETURNS)
            ),
        )
    )
    rows = rows.filter(VIEWS.get(view, VIEWS[""])[1])
    search = str(search or "").replace("\x00", "").strip()[:100]
    if search:
        rows = rows.filter(Q(order__number__icontains=search) | Q(order__email__icontains=search))
    return rows.order_by("-order__placed_at", "-pk")


def _detail_queryset() -> QuerySet[SellerOrder]:
    return (
        SellerOrder.objects.select_related("order", "seller")
        .annotate(ship_by=handling_deadline_expression())
        .annotate(
            late=ExpressionWrapper(
                Q(ship_by__lt=Now()) & Q(status__in=TO_SHIP_STATUSES), output_field=BooleanField()
            )
        )
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("pk")),
            Prefetch(
                "shipments",
                queryset=Shipment.objects.select_related("warehouse", "label").prefetch_related(
                    Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line")),
                    Prefetch(
                        "events", queryset=TrackingEvent.objects.order_by("occurred_at", "pk")
                    ),
                ),
            ),
            Prefetch(
                "returns",
                queryset=ReturnRequest.objects.select_related("return_label").prefetch_related(
                    Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line")),
                    "photos",
                ),
            ),
            Prefetch(
                "events",
                queryset=OrderEvent.objects.select_related("actor").order_by("created_at", "pk"),
            ),
        )
    )


def seller_order_get_for_seller(*, seller: Seller, pk: object) -> SellerOrder:
    """Fetch-and-check: another seller's order (or none) is not found."""
    seller_order = _detail_queryset().filter(seller=seller, pk=id_lookup(pk)).first()
    if seller_order is None:
        raise NotFound("No such order.")
    return seller_order


def return_get_for_seller(*, seller: Seller, pk: object) -> ReturnRequest:
    found = (
        ReturnRequest.objects.filter(seller_order__seller=seller, pk=id_lookup(pk))
        .select_related("seller_order__order")
        .first()
    )
    if found is None:
        raise NotFound("No such return.")
    return found


@dataclass
class LineProgress:
    line: OrderLine
    shipped: int
    to_ship: int
    returnable: int


@dataclass
class PickRow:
    line: OrderLine
    quantity: int
    location: str = ""


@dataclass
class PickList:
    warehouse: Warehouse
    rows: list[PickRow] = field(default_factory=list)


def seller_order_progress(*, seller_order: SellerOrder) -> list[LineProgress]:
    """Per line: units shipped, still to ship (allocated, not shipped or cancelled) and that may
    still be returned. Uses the detail's prefetched lines and shipments; two queries more."""
    shipped: dict[int, int] = defaultdict(int)
    for shipment in seller_order.shipments.all():
        for line in shipment.lines.all():
            shipped[line.order_line_id] += line.quantity
    lines = list(seller_order.lines.all())
    to_ship: dict[int, int] = defaultdict(int)
    for allocation in Allocation.objects.filter(order_line_id__in=[x.pk for x in lines]):
        to_ship[allocation.order_line_id] += allocation.outstanding
    returnable = units_returnable(seller_order=seller_order)
    return [
        LineProgress(line, shipped[line.pk], to_ship[line.pk], max(returnable.get(line.pk, 0), 0))
        for line in lines
    ]


def seller_order_pick_lists(*, seller_order: SellerOrder) -> list[PickList]:
    """What is left to pick, per warehouse the allocations chose (one query)."""
    lines = {x.pk: x for x in seller_order.lines.all()}
    by_warehouse: dict[int, PickList] = {}
    allocations = (
        Allocation.objects.filter(order_line_id__in=list(lines))
        .select_related("stock__warehouse")
        .order_by("stock__warehouse__priority", "stock__warehouse_id", "order_line_id")
    )
    for allocation in allocations:
        if allocation.outstanding <= 0:
            continue
        warehouse = allocation.stock.warehouse
        pick = by_warehouse.setdefault(warehouse.pk, PickList(warehouse))
        pick.rows.append(PickRow(lines[allocation.order_line_id], allocation.outstanding))
    return list(by_warehouse.values())


@dataclass
class CustomerFulfilment:
    """What the shopper's order page shows: per seller order its parcels (with tracking) and
    returns, what may still be returned and until when."""

    seller_order: SellerOrder
    shipments: list[Shipment]
    returns: list[ReturnRequest]
    returnable: list[tuple[OrderLine, int]]
    return_until: datetime | None
    can_return: bool


def order_fulfilment_for_customer(
    *, order: Order, now: datetime | None = None
) -> list[CustomerFulfilment]:
    """For an order the caller already fetched for this shopper (orders.selectors)."""
    now = now or timezone.now()
    seller_orders = list(_detail_queryset().filter(order_id=order.pk).order_by("pk"))
    result = []
    for seller_order in seller_orders:
        shipments = list(seller_order.shipments.all())
        until = return_window_ends(seller_order=seller_order) if shipments else None
        left = units_returnable(seller_order=seller_order) if shipments else {}
        returnable = [(x, left[x.pk]) for x in seller_order.lines.all() if left.get(x.pk, 0) > 0]
        result.append(
            CustomerFulfilment(
                seller_order=seller_order,
                shipments=shipments,
                returns=list(seller_order.returns.all()),
                returnable=returnable,
                return_until=until,
                can_return=bool(returnable) and until is not None and now <= until,
            )
        )
    return result


def returns_open_for_seller(*, seller: Seller) -> QuerySet[ReturnRequest]:
    """Returns waiting for the seller (asked for, or approved and not received), oldest first."""
    return (
        ReturnRequest.objects.filter(seller_order__seller=seller, status__in=OPEN_RETURNS)
        .select_related("seller_order__order")
        .order_by("created_at", "pk")
    )


def return_window_ends(*, seller_order: SellerOrder) -> datetime | None:
    """The last moment a return may be asked for: the seller's return window counted from
    delivery (`SellerOrder.delivered_at`), or, before everything arrived, from the latest
    parcel's delivery or shipping. None: nothing shipped yet."""
    start = seller_order.delivered_at
    if start is None:
        start = seller_order.shipments.aggregate(at=Max(Coalesce("delivered_at", "shipped_at")))[
            "at"
        ]
    if start is None:
        return None
    return start + timedelta(days=seller_order.seller.return_window_days)


def units_returnable(*, seller_order: SellerOrder) -> dict[int, int]:
    """Per order line: units shipped less units in returns not rejected."""
    shipped = dict(
        ShipmentLine.objects.filter(shipment__seller_order_id=seller_order.pk)
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
        .values_list("order_line_id", "units")
    )
    claimed = dict(
        ReturnLine.objects.filter(return_request__seller_order_id=seller_order.pk)
        .exclude(return_request__status=ReturnStatus.REJECTED)
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
        .values_list("order_line_id", "units")
    )
    return {line_id: units - claimed.get(line_id, 0) for line_id, units in shipped.items()}
