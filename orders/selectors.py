"""Reads of orders, scoped to who may see them."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderEvent, SellerOrder, ShippingMethod
from shop.core.errors import NotFound


def order_list_for_customer(*, user) -> QuerySet[Order]:
    return Order.objects.filter(user=user).order_by("-placed_at", "-id")


def order_get_for_customer(*, user, number: str) -> Order:
    """Fetch-and-check: another customer's order (or none) is not found."""
    if not user.is_authenticated:
        raise NotFound("No such order.")
    order = (
        Order.objects.filter(user=user, number=str(number))
        .prefetch_related(
            Prefetch(
                "seller_orders",
                queryset=SellerOrder.objects.select_related("seller").prefetch_related("lines"),
            ),
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
        )
        .first()
    )
    if order is None:
        raise NotFound("No such order.")
    return order


def shipping_options(*, seller_ids) -> dict[int, list[ShippingMethod]]:
    options: dict[int, list[ShippingMethod]] = {seller_id: [] for seller_id in seller_ids}
    for method in ShippingMethod.objects.filter(seller_id__in=list(seller_ids), is_active=True):
        options[method.seller_id].append(method)
    return options
