"""Reads of orders, scoped to who may see them, and the seller dashboard's order figures."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from catalog.models import ProductImage
from orders.models import FraudStatus, Order, OrderEvent, OrderLine, OrderStatus, SellerOrder
from payments.models import Dispute, DisputeStatus, Refund, RefundStatus
from pricing.models import ShippingMethod
from sellers.models import Seller
from shop.core.errors import NotFound
from shop.core.numbers import id_lookup

S = OrderStatus
# Paid and not (wholly) undone: what counts as a sale. Partially refunded orders count in full
# until refunds are recorded per seller order.
SOLD_STATUSES = (
    S.PAID,
    S.PROCESSING,
    S.PARTIALLY_SHIPPED,
    S.SHIPPED,
    S.DELIVERED,
    S.COMPLETED,
    S.PARTIALLY_REFUNDED,
)
TO_SHIP_STATUSES = (S.PAID, S.PROCESSING, S.PARTIALLY_SHIPPED)
CENT = Decimal("0.01")


def order_list_for_customer(*, user) -> QuerySet[Order]:
    return Order.objects.filter(user=user).order_by("-placed_at", "-id")


def _line_image_subquery() -> Subquery:
    """The storage name of the picture an order line shows: its variant's own image, else the
    product's first (null when the variant or its images are gone)."""
    images = (
        ProductImage.objects.filter(product_id=OuterRef("variant__product_id"))
        .filter(Q(variant_id__isnull=True) | Q(variant_id=OuterRef("variant_id")))
        .annotate(
            shown=Coalesce(NullIf(F("thumbnail"), Value("")), F("image"), output_field=CharField())
        )
        .order_by(F("variant_id").asc(nulls_last=True), "position", "id")
        .values("shown")[:1]
    )
    return Subquery(images, output_field=CharField())


def order_lines_shaped() -> QuerySet[OrderLine]:
    """Order lines with `product_slug` and `image_name` (what cart lines carry too)."""
    return OrderLine.objects.annotate(
        product_slug=F("variant__product__slug"), image_name=_line_image_subquery()
    )


def _order_detail_queryset() -> QuerySet[Order]:
    """Orders shaped for the detail page/API: seller orders with seller and lines (with their
    product's slug and picture), and the timeline, in a fixed number of queries."""
    return Order.objects.prefetch_related(
        Prefetch(
            "seller_orders",
            queryset=SellerOrder.objects.select_related("seller").prefetch_related(
                Prefetch("lines", queryset=order_lines_shaped())
            ),
        ),
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
    )


def _prefetched(instance: Model, name: str, objects: Iterable[Model]) -> None:
    """Fill `instance.<name>` the way prefetch_related does (an evaluated queryset in the
    instance's prefetch cache), from objects already in memory."""
    queryset = getattr(instance, name).all()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = queryset


def order_detail_attach(
    *,
    order: Order,
    seller_orders: Sequence[SellerOrder],
    lines: Sequence[OrderLine],
    events: Sequence[OrderEvent],
) -> Order:
    """`_order_detail_queryset`'s shape built from rows already in memory: placement has just
    written them, so reading them back (4 queries) would only return the same values. Each
    seller order must carry its `seller`; the orderings are the queryset's."""
    for line in lines:
        # placement made the lines from priced variants (product and picture loaded)
        variant = line.variant
        line.product_slug = variant.product.slug if variant is not None else None  # type: ignore[attr-defined]
        line.image_name = getattr(variant, "image_name", None)  # type: ignore[attr-defined]
    for seller_order in seller_orders:
        _prefetched(
            seller_order,
            "lines",
            sorted((x for x in lines if x.seller_order_id == seller_order.pk), key=lambda x: x.pk),
        )
    timeline: list[OrderEvent] = sorted(events, key=lambda e: (e.created_at, e.pk))
    _prefetched(order, "seller_orders", sorted(seller_orders, key=lambda x: x.pk))
    _prefetched(order, "events", timeline)
    return order


def _detail_loaded(order: Order) -> bool:
    cache = getattr(order, "_prefetched_objects_cache", {})
    return "seller_orders" in cache and "events" in cache


def order_get_for_customer(*, user, number: str) -> Order:
    """Fetch-and-check: another customer's order (or none) is not found."""
    if not user.is_authenticated:
        raise NotFound("No such order.")
    order = _order_detail_queryset().filter(user=user, number=str(number)).first()
    if order is None:
        raise NotFound("No such order.")
    return order


def order_get_for_checkout(*, checkout) -> Order | None:
    """The order a checkout (already fetched and checked for its owner) placed, shaped for its
    detail, or None."""
    return _order_detail_queryset().filter(checkout=checkout).first()


def order_detail_for_customer(*, user, order: Order) -> Order:
    """`order_get_for_customer` for an order the caller holds: as it is when it already carries
    the detail shape (`order_detail_attach`) and is this user's, else read afresh."""
    if user.is_authenticated and order.user_id == user.pk and _detail_loaded(order):
        return order
    return order_get_for_customer(user=user, number=order.number)


def order_refunds(*, order: Order) -> list[Refund]:
    """The money given back on an order (failed attempts left out), oldest first."""
    return list(
        Refund.objects.filter(order_id=order.pk)
        .exclude(status=RefundStatus.FAILED)
        .order_by("created_at", "pk")
    )


GUEST_ORDER_NOT_FOUND = "No order matches that order number and email address."
_GUEST_TOKEN_SALT = "orders.guest-order"  # noqa: S105 - a signing namespace, not a secret


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.strip().casefold().encode()).digest()


def order_number_normalise(number: object) -> str:
    """Order numbers as stored: upper case, no surrounding spaces (rate-limit keys use it too,
    so changing the case of a guess does not buy more attempts)."""
    return str(number).strip().upper()


def order_get_for_guest(*, number: str, email: str) -> Order:
    """Fetch-and-check for a shopper without an account: the guest order with this number
    whose email matches. A wrong number, a wrong email and an account's order all get the same
    NotFound; the emails are compared as equal-length digests in constant time (against a
    dummy when no order has the number), so neither the answer nor its timing says which part
    was wrong. Callers rate-limit attempts."""
    # the same plain query whether or not the number exists: loading the order's detail here
    # would add queries only for real numbers, and the timing would tell them apart
    order = (
        Order.objects.filter(user__isnull=True, number=order_number_normalise(number))
        .only("pk", "number", "email", "placed_at")
        .first()
    )
    expected = _digest(order.email) if order is not None else _digest("\0no order")
    if not hmac.compare_digest(expected, _digest(str(email))) or order is None:
        raise NotFound(GUEST_ORDER_NOT_FOUND)
    return order


def order_guest_token(*, order: Order) -> str:
    """A signed, expiring token that opens this guest order (the confirmation email's link)."""
    return signing.dumps({"order": order.pk, "number": order.number}, salt=_GUEST_TOKEN_SALT)


def order_get_for_guest_token(*, token: str) -> Order:
    """The guest order a token from `order_guest_token` opens; a forged, altered or expired
    (`ORDER_GUEST_LINK_MAX_AGE_SECONDS`) token is not found."""
    try:
        payload = signing.loads(
            token, salt=_GUEST_TOKEN_SALT, max_age=settings.ORDER_GUEST_LINK_MAX_AGE_SECONDS
        )
    except signing.BadSignature:  # includes SignatureExpired
        raise NotFound("This order link is not valid or has expired.") from None
    order = (
        _order_detail_queryset()
        .filter(user__isnull=True, pk=payload.get("order"), number=payload.get("number"))
        .first()
    )
    if order is None:
        raise NotFound("This order link is not valid or has expired.")
    return order


def shipping_options(*, seller_ids, country: str = "") -> dict[int, list[ShippingMethod]]:
    """Each seller's active methods in checkout order; with a destination `country`, only those
    whose zone includes it."""
    options: dict[int, list[ShippingMethod]] = {seller_id: [] for seller_id in seller_ids}
    methods = ShippingMethod.objects.filter(seller_id__in=list(seller_ids), is_active=True)
    if country:
        methods = methods.filter(Q(countries=[]) | Q(countries__contains=[country.upper()]))
    for method in methods.order_by("seller_id", "position", "id"):
        options[method.seller_id].append(method)
    return options


def shipping_method_list_for_seller(*, seller: Seller) -> QuerySet[ShippingMethod]:
    """Active and inactive, in the order checkout offers them."""
    return ShippingMethod.objects.filter(seller=seller).order_by("position", "id")


def shipping_method_get_for_seller(*, seller: Seller, pk: object) -> ShippingMethod:
    """Fetch-and-check: another seller's method (or none) is not found."""
    try:
        return ShippingMethod.objects.get(seller=seller, pk=id_lookup(pk))
    except (ShippingMethod.DoesNotExist, ValueError) as exc:
        raise NotFound("No such shipping method.") from exc


# --- seller dashboard ---------------------------------------------------------------------------


def handling_deadline_expression() -> ExpressionWrapper:
    """When a seller order must have shipped: placed_at + the seller's handling time in
    calendar days (the seller's current setting)."""
    days = Func(
        F("seller__handling_time_days"),
        template="make_interval(days => %(expressions)s)",
        output_field=DurationField(),
    )
    return ExpressionWrapper(F("order__placed_at") + days, output_field=DateTimeField())


@dataclass(frozen=True)
class SalesDay:
    day: date
    total: Decimal
    orders: int


@dataclass(frozen=True)
class SalesSummary:
    currency: str
    days: list[SalesDay]  # oldest first, one per local calendar day, zeros included

    @property
    def today(self) -> SalesDay:
        return self.days[-1]

    @property
    def total(self) -> Decimal:
        return sum((d.total for d in self.days), Decimal("0"))

    @property
    def orders(self) -> int:
        return sum(d.orders for d in self.days)


def seller_sales_by_day(
    *, seller: Seller, days: int = 30, now: datetime | None = None
) -> SalesSummary:
    """Sold seller-order totals per calendar day of the shop time zone (settings.TIME_ZONE),
    for today and the `days - 1` days before it, by the order's placed_at. One query."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now or timezone.now(), tz)
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
    rows = (
        SellerOrder.objects.filter(
            seller=seller,
            status__in=SOLD_STATUSES,
            currency=settings.SHOP_CURRENCY,
            order__placed_at__gte=start,
            order__placed_at__lt=end,
        )
        .annotate(day=TruncDate("order__placed_at", tzinfo=tz))
        .values("day")
        .annotate(total=Sum("total"), orders=Count("id"))
        .order_by()
    )
    by_day = {row["day"]: row for row in rows}
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day)
        series.append(
            SalesDay(
                day=day,
                total=row["total"] if row else Decimal("0.00"),
                orders=row["orders"] if row else 0,
            )
        )
    return SalesSummary(currency=settings.SHOP_CURRENCY, days=series)


def disputes_for_seller(*, seller: Seller) -> QuerySet[Dispute]:
    """Chargebacks on the seller's orders (payments keeps them by seller-order id), open first
    and the nearest evidence deadline first, each with its `order_number`. One query."""
    mine = SellerOrder.objects.filter(seller=seller)
    return (
        Dispute.objects.filter(seller_order_id__in=mine.values("pk"))
        .annotate(
            order_number=Subquery(
                mine.filter(pk=OuterRef("seller_order_id")).values("order__number")[:1]
            ),
            is_open=ExpressionWrapper(Q(status=DisputeStatus.OPEN), output_field=BooleanField()),
        )
        .order_by("-is_open", F("evidence_due_by").asc(nulls_last=True), "-pk")
    )


# a seller order whose order the fraud check has not approved (yet) is on hold: not to ship
ON_HOLD = ~Q(order__fraud_status=FraudStatus.APPROVED)


def seller_orders_to_ship(*, seller: Seller, now: datetime | None = None) -> QuerySet[SellerOrder]:
    """Paid, not fully shipped seller orders, the most overdue first, with `ship_by`, `late`
    (ship_by passed) and `on_hold` (the order's fraud check has not approved it: not to be
    shipped yet; why is never the seller's to see)."""
    now = now or timezone.now()
    return (
        SellerOrder.objects.filter(seller=seller, status__in=TO_SHIP_STATUSES)
        .select_related("order")
        .annotate(ship_by=handling_deadline_expression())
        .annotate(late=ExpressionWrapper(Q(ship_by__lt=now), output_field=BooleanField()))
        .annotate(on_hold=ExpressionWrapper(ON_HOLD, output_field=BooleanField()))
        .order_by("ship_by", "pk")
    )


def seller_orders_to_ship_counts(*, seller: Seller, now: datetime | None = None) -> dict[str, int]:
    """{"total": orders to ship, "late": of which past their ship-by time, "on_hold": of which
    the fraud check has not approved}. One query."""
    now = now or timezone.now()
    return (
        SellerOrder.objects.filter(seller=seller, status__in=TO_SHIP_STATUSES)
        .alias(ship_by=handling_deadline_expression())
        .aggregate(
            total=Count("pk"),
            late=Count("pk", filter=Q(ship_by__lt=now)),
            on_hold=Count("pk", filter=ON_HOLD),
        )
    )
