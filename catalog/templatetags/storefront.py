"""Presentation helpers for storefront templates. Prices are computed by catalog selectors;
these only format what they return."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings

from shop.core.money import quantize

register = template.Library()

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


@register.filter
def money(amount: Decimal | None, currency: str | None = None) -> str:
    """`19.9|money` -> "$19.90"; unknown currencies print their code: "19.90 CHF"."""
    if amount is None or amount == "":
        return ""
    code = (currency or settings.SHOP_CURRENCY).upper()
    text = f"{quantize(Decimal(amount)):,}"
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{symbol}{text}" if symbol else f"{text} {code}"


@register.filter
def thumbnail_url(image) -> str:
    """The generated thumbnail when there is one, else the original image."""
    if image is None:
        return ""
    field = image.thumbnail if image.thumbnail else image.image
    return field.url if field else ""
