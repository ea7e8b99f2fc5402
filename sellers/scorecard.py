"""The seller performance scorecard: order-defect, late-shipment, cancel and valid-tracking
rates over rolling windows, with the targets large marketplaces hold sellers to.

Everything is computed from recorded facts: seller-order status events (`OrderEvent`), order
placement times, the seller's handling time and catalog reviews. `seller_scorecards` answers
for any number of sellers in two queries (one for the order metrics of every window, one for
ratings), so the staff list does not grow queries with the sellers shown.

Definitions (docs/seller-portal.md repeats them for sellers):
- orders in a window: the seller's orders placed within the last N days (now - N days
  inclusive) that were paid (a seller-order event to "paid").
- defect: the order was cancelled by a member of the seller after payment, or refunded (in
  part or whole), or its buyer left a 1-2 star review on one of its products.
- late shipment: of the orders due (shipped, or past the ship-by time and still to ship), those
  first marked shipped after placed_at + handling time, or still unshipped past it.
- pre-fulfilment cancel: cancelled by a member of the seller from paid or processing.
- valid tracking: of the orders with parcels shipped (fulfilment's shipments), those whose
  every parcel's tracking number the carrier confirmed with at least one tracking event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Aggregate, Avg, Count, Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from fulfilment.models import Shipment, TrackingEvent
from orders.models import OrderEvent, OrderLine, OrderStatus, SellerOrder
from orders.selectors import TO_SHIP_STATUSES, handling_deadline_expression
from reviews.models import ContentStatus, Review

S = OrderStatus
WINDOWS = (30, 90)
HUNDRED = Decimal("100")
PERCENT = Decimal("0.01")


@dataclass(frozen=True)
class Target:
    percent: Decimal
    higher_is_better: bool = False

    def met_by(self, rate: Decimal) -> bool:
        return rate > self.percent if self.higher_is_better else rate < self.percent

    def __str__(self) -> str:
        return f"{'>' if self.higher_is_better else '<'} {self.percent}%"


TARGETS = {
    "defect": Target(Decimal("1")),
    "late_shipment": Target(Decimal("4")),
    "cancel": Target(Decimal("2.5")),
    "valid_tracking": Target(Decimal("95"), higher_is_better=True),
}
LABELS = {
    "defect": "Order defect rate",
    "late_shipment": "Late shipment rate",
    "cancel": "Pre-fulfilment cancel rate",
    "valid_tracking": "Valid tracking rate",
}
NO_TRACKING_DATA = "No data: no parcels shipped with tracking in this window."


@dataclass(frozen=True)
class Metric:
    key: str
    count: int
    out_of: int
    no_data_reason: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def target(self) -> Target:
        return TARGETS[self.key]

    @property
    def rate(self) -> Decimal | None:
        """Percent with two decimals; None when there is nothing to measure."""
        if self.no_data_reason or not self.out_of:
            return None
        return (Decimal(self.count) * HUNDRED / self.out_of).quantize(
            PERCENT, rounding=ROUND_HALF_UP
        )

    @property
    def passed(self) -> bool | None:
        rate = self.rate
        return None if rate is None else self.target.met_by(rate)


@dataclass(frozen=True)
class Scorecard:
    seller_id: int
    window_days: int
    orders: int
    metrics: tuple[Metric, ...]
    rating_average: Decimal | None
    rating_count: int

    @property
    def failing(self) -> list[Metric]:
        return [m for m in self.metrics if m.passed is False]

    def metric(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)


def _tracking_metric(tracked: int, shipped: int) -> Metric:
    reason = "" if shipped else NO_TRACKING_DATA
    return Metric("valid_tracking", tracked, shipped, no_data_reason=reason)


def _order_facts(*, now: datetime, since: datetime, seller_ids: list[int] | None):
    events = OrderEvent.objects.filter(seller_order=OuterRef("pk"))
    bought_products = OrderLine.objects.filter(seller_order_id=OuterRef(OuterRef("pk"))).values(
        "variant__product_id"
    )
    orders = SellerOrder.objects.filter(order__placed_at__gte=since, order__placed_at__lte=now)
    if seller_ids is not None:
        orders = orders.filter(seller_id__in=seller_ids)
    return orders.alias(
        paid=Exists(events.filter(to_status=S.PAID)),
        seller_cancelled=Exists(
            events.filter(
                to_status=S.CANCELLED,
                from_status__in=(S.PAID, S.PROCESSING),
                actor__seller_memberships__seller_id=OuterRef("seller_id"),
            )
        ),
        refunded=Exists(events.filter(to_status__in=(S.REFUNDED, S.PARTIALLY_REFUNDED))),
        bad_review=Exists(
            Review.objects.filter(
                user_id=OuterRef("order__user_id"),
                rating__lte=2,
                product_id__in=bought_products,
            )
        ),
        shipped_at=Subquery(
            events.filter(to_status__in=(S.PARTIALLY_SHIPPED, S.SHIPPED))
            .order_by("created_at", "id")
            .values("created_at")[:1]
        ),
        ship_by=handling_deadline_expression(),
        has_parcels=Exists(Shipment.objects.filter(seller_order=OuterRef("pk"))),
        untracked_parcel=Exists(
            Shipment.objects.filter(seller_order=OuterRef("pk")).exclude(
                Exists(TrackingEvent.objects.filter(shipment=OuterRef("pk")))
            )
        ),
    ).filter(paid=True)


def seller_scorecards(
    *,
    seller_ids: Iterable[int] | None = None,
    now: datetime | None = None,
    windows: tuple[int, ...] = WINDOWS,
) -> dict[int, list[Scorecard]]:
    """{seller_id: [Scorecard per window]} for `seller_ids` (every seller with data when None).
    Two queries whatever the number of sellers."""
    now = now or timezone.now()
    ids = None if seller_ids is None else list(seller_ids)
    since = {days: now - timedelta(days=days) for days in windows}

    overdue_unshipped = (
        Q(shipped_at__isnull=True) & Q(ship_by__lt=now) & Q(status__in=TO_SHIP_STATUSES)
    )
    due = Q(shipped_at__isnull=False) | overdue_unshipped
    late = Q(shipped_at__gt=F("ship_by")) | overdue_unshipped
    defect = Q(seller_cancelled=True) | Q(refunded=True) | Q(bad_review=True)
    aggregates: dict[str, Count] = {}
    for days in windows:
        in_window = Q(order__placed_at__gte=since[days])
        aggregates |= {
            f"orders_{days}": Count("pk", filter=in_window),
            f"defect_{days}": Count("pk", filter=in_window & defect),
            f"due_{days}": Count("pk", filter=in_window & due),
            f"late_shipment_{days}": Count("pk", filter=in_window & late),
            f"cancel_{days}": Count("pk", filter=in_window & Q(seller_cancelled=True)),
            f"parcels_{days}": Count("pk", filter=in_window & Q(has_parcels=True)),
            f"tracked_{days}": Count(
                "pk", filter=in_window & Q(has_parcels=True, untracked_parcel=False)
            ),
        }
    order_rows: dict[int, dict[str, Any]] = {
        row["seller_id"]: row
        for row in _order_facts(now=now, since=since[max(windows)], seller_ids=ids)
        .values("seller_id")
        .annotate(**aggregates)
        .order_by()
    }

    reviews = Review.objects.filter(
        status=ContentStatus.PUBLISHED, created_at__gte=since[max(windows)], created_at__lte=now
    )
    if ids is not None:
        reviews = reviews.filter(product__seller_id__in=ids)
    rating_aggregates: dict[str, Aggregate] = {}
    for days in windows:
        in_window = Q(created_at__gte=since[days])
        rating_aggregates |= {
            f"rating_avg_{days}": Avg("rating", filter=in_window),
            f"rating_count_{days}": Count("pk", filter=in_window),
        }
    rating_rows: dict[int, dict[str, Any]] = {
        row["product__seller_id"]: dict(row)
        for row in reviews.values("product__seller_id").annotate(**rating_aggregates).order_by()
    }

    result: dict[int, list[Scorecard]] = {}
    for seller_id in ids if ids is not None else sorted(set(order_rows) | set(rating_rows)):
        orders = order_rows.get(seller_id, {})
        ratings = rating_rows.get(seller_id, {})
        cards = []
        for days in windows:
            placed = orders.get(f"orders_{days}", 0)
            average = ratings.get(f"rating_avg_{days}")
            cards.append(
                Scorecard(
                    seller_id=seller_id,
                    window_days=days,
                    orders=placed,
                    metrics=(
                        Metric("defect", orders.get(f"defect_{days}", 0), placed),
                        Metric(
                            "late_shipment",
                            orders.get(f"late_shipment_{days}", 0),
                            orders.get(f"due_{days}", 0),
                        ),
                        Metric("cancel", orders.get(f"cancel_{days}", 0), placed),
                        _tracking_metric(
                            orders.get(f"tracked_{days}", 0), orders.get(f"parcels_{days}", 0)
                        ),
                    ),
                    rating_average=(
                        None
                        if average is None
                        else Decimal(str(average)).quantize(PERCENT, rounding=ROUND_HALF_UP)
                    ),
                    rating_count=ratings.get(f"rating_count_{days}", 0),
                )
            )
        result[seller_id] = cards
    return result


def seller_scorecard(*, seller_id: int, now: datetime | None = None) -> list[Scorecard]:
    """One seller's scorecards, shortest window first."""
    return seller_scorecards(seller_ids=[seller_id], now=now)[seller_id]
