"""Storefront catalog pages. Thin: selectors decide what is public and what it costs; these
views parse the request, call them, and map domain errors onto HTTP."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.models import AttributeType, Product
from catalog.selectors import (
    attribute_filters_for_category,
    category_ancestors,
    category_children,
    category_featured,
    category_get_by_slug,
    product_get_public,
    product_list_by_ids,
    product_queryset_listed,
    seller_get_public,
)
from inventory.selectors import variant_stock_status
from search.base import ProductSort, sort_order_by
from search.pages import listing_page_context
from shop.core.errors import NotFound

HOME_PRODUCTS = 8


def home(request: HttpRequest) -> HttpResponse:
    # two short walks of the newest index, without the facets and total a list page needs
    newest = product_queryset_listed().order_by(*sort_order_by(ProductSort.NEWEST))
    featured = newest.filter(is_featured=True)
    context = {
        "featured_categories": category_featured(),
        "featured_products": product_list_by_ids(
            ids=list(featured.values_list("pk", flat=True)[:HOME_PRODUCTS])
        ),
        "new_products": product_list_by_ids(
            ids=list(newest.values_list("pk", flat=True)[:HOME_PRODUCTS])
        ),
    }
    return render(request, "storefront/home.html", context)


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        category = category_get_by_slug(slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    context, status = listing_page_context(request, category=category)
    breadcrumbs = category_ancestors(category=category)
    # number attributes have no facet: the sidebar offers them as ranges
    chosen = {spec.slug: spec for spec in context["filters"].attributes}  # type: ignore[attr-defined]
    numbers = attribute_filters_for_category(category=category).filter(type=AttributeType.NUMBER)
    context.update(
        category=category,
        breadcrumbs=breadcrumbs,
        current_root_slug=breadcrumbs[0].slug if breadcrumbs else category.slug,
        subcategories=category_children(category=category),
        number_ranges=[(a, chosen.get(a.slug)) for a in numbers],
    )
    return render(request, "storefront/category.html", context, status=status)


def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        product = product_get_public(slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "storefront/product.html", product_page_context(request, product))


def product_page_context(request: HttpRequest, product: Product) -> dict[str, object]:
    """What storefront/product.html shows for a product loaded by `product_get_public` or
    `product_get_for_preview` (the seller portal's preview), which has an active variant."""
    variants = product.active_variants  # type: ignore[attr-defined]
    selected = _variant_selected(variants, request.GET.get("variant"))
    images = product.image_list  # type: ignore[attr-defined]
    # the selected variant's own picture when it has one, else the product's first
    shown_image = next((i for i in images if i.variant_id == selected.pk), None)
    if shown_image is None and images:
        shown_image = images[0]
    breadcrumbs = category_ancestors(category=product.category)
    return {
        "product": product,
        "variants": variants,
        "selected_variant": selected,
        "images": images,
        "shown_image": shown_image,
        "attribute_rows": _attribute_rows(variants),
        "breadcrumbs": breadcrumbs,
        "current_root_slug": breadcrumbs[0].slug if breadcrumbs else "",
    }


def _variant_selected(variants, requested: str | None):
    """The variant asked for by `?variant=`, else the first the shopper can buy (in stock or on
    backorder, per the availability the product selector annotates), else the first."""
    chosen = next((v for v in variants if str(v.pk) == requested), None)
    if chosen is not None:
        return chosen
    buyable = (
        v
        for v in variants
        if variant_stock_status(
            available=getattr(v, "available_quantity", 0) or 0,
            backorderable=bool(getattr(v, "backorderable", False)),
        ).can_buy
    )
    return next(buyable, variants[0])


def _attribute_rows(variants) -> list[tuple[str, str]]:
    """One row per attribute: its value, or the values over the variants when they differ."""
    rows: dict[str, list[str]] = {}
    for variant in variants:
        for value in variant.attribute_values.all():
            label = value.attribute.name
            text = value.display_value + (
                f" {value.attribute.unit}" if value.attribute.unit else ""
            )
            if text not in rows.setdefault(label, []):
                rows[label].append(text)
    return [(label, ", ".join(values)) for label, values in sorted(rows.items())]


def seller_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        seller = seller_get_public(slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    context, status = listing_page_context(request, seller=seller)
    context["seller"] = seller
    return render(request, "storefront/seller.html", context, status=status)
