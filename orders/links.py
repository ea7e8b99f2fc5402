"""Where a shopper follows an order, for pages and emails alike."""

from __future__ import annotations

from django.urls import reverse

from orders.models import Order
from orders.selectors import order_guest_token


def order_follow_path(*, order: Order) -> str:
    """The account's order page, or for a guest order a signed link that opens it without an
    account (valid for ORDER_GUEST_LINK_MAX_AGE_SECONDS)."""
    if order.user_id is not None:
        return reverse("orders:detail", args=[order.number])
    return reverse("orders:guest_detail", args=[order_guest_token(order=order)])
