"""Template context for price display."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def tax_display(request: HttpRequest) -> dict[str, object]:
    """`prices_include_tax`: templates label prices "incl. tax" or "excl. tax" by it."""
    return {
        "prices_include_tax": settings.SHOP_PRICES_INCLUDE_TAX,
        "tax_display_country": settings.SHOP_TAX_DISPLAY_COUNTRY,
    }
