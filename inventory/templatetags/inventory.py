"""`{{ variant|stock_status }}`: what a shopper is told about a variant's stock (in stock, only N
left, backorder, out of stock). Variants come annotated by `variant_queryset_with_availability`
(the product page's selector does this), so a page of variants costs no extra queries."""

from __future__ import annotations

from django import template

from inventory.selectors import (
    LOW_STOCK_DEFAULT,
    StockStatus,
    variant_availability,
    variant_stock_status,
)

register = template.Library()


@register.filter
def stock_status(variant, low_stock_threshold: int | None = None) -> StockStatus:
    available = getattr(variant, "available_quantity", None)
    if available is None:
        available = variant_availability(variant_ids=[variant.pk])[variant.pk]
    return variant_stock_status(
        available=available,
        backorderable=bool(getattr(variant, "backorderable", False)),
        low_stock_threshold=LOW_STOCK_DEFAULT
        if low_stock_threshold is None
        else low_stock_threshold,
    )
