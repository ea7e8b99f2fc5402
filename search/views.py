"""Storefront search: the results page with its facet sidebar (a plain GET form, so it works
without JavaScript). Thin: parse, `search_run`, load the page's products through the public
selector (prices and visibility from one place), render."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.models import Product
from catalog.selectors import product_list_by_ids
from search.base import FacetValue, SearchResult, SearchSort
from search.query import search_pages_reachable, search_query_parse
from search.services import search_run
from shop.core.errors import NotFound, ValidationError

SORT_LABELS = {
    SearchSort.RELEVANCE: "Best match",
    SearchSort.NEWEST: "Newest",
    SearchSort.PRICE_ASC: "Price: low to high",
    SearchSort.PRICE_DESC: "Price: high to low",
    SearchSort.RATING: "Best rated",
    SearchSort.POPULAR: "Best selling",
}


def search_products_load(*, result: SearchResult) -> list[Product]:
    """The result page's products in result order, as the storefront lists them: a product
    hidden since the engine indexed it is dropped here. One query."""
    return product_list_by_ids(ids=result.product_ids)


def search_page(*, result: SearchResult, products: list[Product], number: int, size: int) -> Page:
    """A Paginator page over the engine's total (no second count), holding `products`; it
    offers only the pages the parser accepts (`count_capped` when the total goes past them)."""
    pages = search_pages_reachable(total=result.total, page_size=size)
    paginator = Paginator(range(min(result.total, pages * size)), size)
    paginator.count_capped = result.total > pages * size  # type: ignore[attr-defined]
    return Page(products, paginator.get_page(number).number, paginator)


def _price_options(values: tuple[FacetValue, ...]) -> list[dict[str, object]]:
    options = []
    for value in values:
        low, high = value.value.split("-", 1)
        options.append(
            {
                "label": value.label,
                "count": value.count,
                "selected": value.selected,
                "price_min": low,
                "price_max": high,
            }
        )
    return options


def search(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {
        "q": request.GET.get("q", ""),
        "sort_options": SORT_LABELS.items(),
    }
    try:
        query = search_query_parse(params=request.GET, page_size=settings.CATALOG_PAGE_SIZE)
    except (ValidationError, NotFound) as exc:
        context.update(filter_error=exc.message, filter_field_errors=exc.fields, page_obj=None)
        return render(request, "storefront/search/results.html", context, status=400)
    result = search_run(query=query)
    products = search_products_load(result=result)
    context.update(
        query=query,
        result=result,
        filters=query.filters,
        sort=query.sort,
        page_obj=search_page(
            result=result, products=products, number=query.page, size=query.page_size
        ),
        price_options=_price_options(result.facets.prices),
    )
    return render(request, "storefront/search/results.html", context)
