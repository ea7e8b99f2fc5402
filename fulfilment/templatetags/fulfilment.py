"""`{% order_fulfilment order as parts %}`: the shopper's order page shows each seller part's
parcels, tracking and returns without the orders app importing fulfilment."""

from __future__ import annotations

import uuid

from django import template

from fulfilment.selectors import CustomerFulfilment, order_fulfilment_for_customer
from orders.models import Order

register = template.Library()


@register.simple_tag
def order_fulfilment(order: Order) -> list[CustomerFulfilment]:
    parts = order_fulfilment_for_customer(order=order)
    for part in parts:
        part.form_key = uuid.uuid4().hex  # type: ignore[attr-defined]
    return parts
