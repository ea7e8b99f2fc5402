"""Storefront catalog pages. Thin: selectors decide what is public and what it costs; these
views parse the request, call them, and map domain errors onto HTTP."""

from __future__ import annotations

import dataclasses

from django.conf import settings
from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.filters import product_filters_parse
from catalog.models import AttributeType, Category, Product
from catalog.selectors import (
    ProductFilters,
    ProductListMerged,
    ProductSort,
    attribute_filters_for_category,
    category_ancestors,
    category_children,
    category_featured,
    category_get_by_slug,
    product_get_public,
    product_list_paged,
    product_list_storefront,
    seller_get_public,
    seller_list_for_category,
)
from inventory.selectors import variant_stock_status
from shop.core.errors import NotFound, ValidationError
from shop.core.pagination import BoundedCountPaginator

HOME_PRODUCTS = 8
SORT_LABELS = {
    ProductSort.NEWEST: "Newest",
    ProductSort.PRICE_ASC: "Price: low to high",
    ProductSort.PRICE_DESC: "Price: high to low",
    ProductSort.RATING: "Best rated",
    ProductSort.NAME: "Name",
    ProductSort.POPULAR: "Best selling",
}


def home(request: HttpRequest) -> HttpResponse:
    context = {
        "featured_categories": category_featured(),
        "featured_products": product_list_storefront().filter(is_featured=True)[:HOME_PRODUCTS],
        "new_products": product_list_storefront()[:HOME_PRODUCTS],
    }
    return render(request, "storefront/home.html", context)


def _page(request: HttpRequest, products: QuerySet[Product] | ProductListMerged) -> Page:
    # ProductListMerged is paged by slices and counted by count_up_to, not len() (the stubs'
    # protocol asks for Sized and Iterable)
    paginator = BoundedCountPaginator(products, settings.CATALOG_PAGE_SIZE)  # type: ignore[arg-type]
    return paginator.get_page(request.GET.get("page"))


def _listing(
    request: HttpRequest, *, category: Category | None, seller_slug: str | None = None
) -> tuple[ProductFilters, dict[str, object], int]:
    """Parse filters, list the matching products and page them. A malformed filter renders the
    page with the errors (HTTP 400) and no results rather than silently ignoring it."""
    try:
        filters = product_filters_parse(params=request.GET, category=category)
    except (ValidationError, NotFound) as exc:
        # an unknown `category` (a stale link to a seller's page) is a bad filter here too
        fields = exc.fields or {"category": [exc.message]}
        context: dict[str, object] = {
            "filter_error": exc.message,
            "filter_field_errors": fields,
            "page_obj": None,
        }
        return ProductFilters(category=category), context, 400
    if seller_slug is not None:
        # a seller's page lists that seller only, whatever `seller` parameters come along
        filters = dataclasses.replace(filters, sellers=(seller_slug,))
    page_obj = _page(request, product_list_paged(filters=filters, storefront=True))
    return filters, {"page_obj": page_obj, "filter_error": None}, 200


def _attribute_facets(attributes, filters: ProductFilters) -> list[dict[str, object]]:
    """What the filter form shows for each attribute, with the shopper's current choice."""
    chosen = {spec.slug: spec for spec in filters.attributes}
    facets = []
    for attribute in attributes:
        spec = chosen.get(attribute.slug)
        values = set(spec.values) if spec else set()
        facet: dict[str, object] = {"attribute": attribute, "type": attribute.type}
        if attribute.type == AttributeType.CHOICE:
            facet["options"] = [
                (c.slug, c.value, c.slug in values) for c in attribute.choices.all()
            ]
        elif attribute.type == AttributeType.BOOLEAN:
            facet["value"] = next(iter(values), "")
        elif attribute.type == AttributeType.NUMBER:
            facet["min"] = spec.number_min if spec else None
            facet["max"] = spec.number_max if spec else None
        else:
            continue
        facets.append(facet)
    return facets


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        category = category_get_by_slug(slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    filters, listing, status = _listing(request, category=category)
    breadcrumbs = category_ancestors(category=category)
    context = {
        **listing,
        "filters": filters,
        "category": category,
        "breadcrumbs": breadcrumbs,
        "current_root_slug": breadcrumbs[0].slug if breadcrumbs else category.slug,
        "subcategories": category_children(category=category),
        "attribute_facets": _attribute_facets(
            attribute_filters_for_category(category=category), filters
        ),
        "seller_options": [
            (s.slug, s.name, s.slug in filters.sellers)
            for s in seller_list_for_category(category=category)
        ],
        "sort_options": SORT_LABELS.items(),
    }
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
    filters, listing, status = _listing(request, category=None, seller_slug=seller.slug)
    context = {**listing, "filters": filters, "seller": seller, "sort_options": SORT_LABELS.items()}
    return render(request, "storefront/seller.html", context, status=status)
