"""`{% price_shown amount tax_class %}`: a tax-exclusive catalogue price as the shopper should
see it. With `SHOP_PRICES_INCLUDE_TAX` off it is the amount itself; on, the amount with the
rate of its tax class at the display country (`pricing.totals.tax_rates_for_display`), loaded
once per request."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings

from pricing.totals import price_with_tax, tax_rates_for_display

register = template.Library()


@register.simple_tag(takes_context=True)
def price_shown(context, amount: Decimal | None, tax_class: str = "") -> Decimal | None:
    if amount in (None, "") or not settings.SHOP_PRICES_INCLUDE_TAX:
        return amount
    request = context.get("request")
    rates = getattr(request, "_display_tax_rates", None)
    if rates is None:
        rates = tax_rates_for_display()
        if request is not None:
            request._display_tax_rates = rates
    return price_with_tax(amount=Decimal(amount), rate=rates.get(tax_class, Decimal("0")))
