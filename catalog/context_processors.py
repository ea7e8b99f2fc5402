"""Template context every storefront page needs (the header's category navigation)."""

from __future__ import annotations

from django.http import HttpRequest

from catalog.selectors import category_roots


def storefront_navigation(request: HttpRequest) -> dict[str, object]:
    # A lazy queryset: pages that do not render the header (API, admin) never run the query.
    return {"nav_categories": category_roots()}
