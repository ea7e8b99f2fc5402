"""Presentation helpers for storefront templates. Prices are computed by catalog selectors;
these only format what they return."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings
from django.core.files.storage import default_storage

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


@register.filter
def storage_url(name: str | None) -> str:
    """A stored file's URL by its storage name (cart and order lines carry the name of the
    picture they show)."""
    return default_storage.url(name) if name else ""


@register.filter
def country_name(code: str | None) -> str:
    """`"DE"|country_name` -> "Germany" (django-countries)."""
    from shop.core.countries import country_name as name

    return name(code) if code else ""


@register.filter
def percent(rate: Decimal | None) -> str:
    """`Decimal("0.0725")|percent` -> "7.25%"."""
    if rate is None or rate == "":
        return ""
    value = (Decimal(rate) * 100).normalize()
    return f"{value:f}%"
