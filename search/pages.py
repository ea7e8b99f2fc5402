"""Product lists as pages: category pages, seller pages and the search page of the storefront,
and `/api/v1/products/`. One parser, one `listing_run`, one product loader and one paginator
(`ListingPages` under `shop.core.pagination.BoundedCountPaginator`), so every list filters,
sorts, counts and pages alike; the storefront's lists share one filter sidebar (the engine's
facets)."""

from __future__ import annotations

import dataclasses

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.functional import cached_property

from catalog.models import Category, Product
from catalog.selectors import ProductFilters, product_list_by_ids
from search.base import FacetValue, ProductSort, SearchQuery, SearchResult, search_terms
from search.query import listing_query_parse, search_pages_reachable
from search.services import listing_run
from sellers.models import Seller
from shop.core.errors import NotFound, ValidationError
from shop.core.pagination import BoundedCountPaginator

SORT_LABELS = {
    ProductSort.RELEVANCE: "Best match",
    ProductSort.NEWEST: "Newest",
    ProductSort.PRICE_ASC: "Price: low to high",
    ProductSort.PRICE_DESC: "Price: high to low",
    ProductSort.RATING: "Best rated",
    ProductSort.NAME: "Name",
    ProductSort.POPULAR: "Best selling",
}


class ListingPages:
    """A query's product list for `BoundedCountPaginator` (pages of `query.page_size`): the
    engine answers the query's page, with the total, once; a page the paginator asks for
    instead (the last, for a page past it) is one more engine call."""

    def __init__(self, query: SearchQuery) -> None:
        self.query = query
        self._results: dict[int, SearchResult] = {}

    def result(self, page: int | None = None) -> SearchResult:
        page = page or self.query.page
        if page not in self._results:
            self._results[page] = listing_run(query=dataclasses.replace(self.query, page=page))
        return self._results[page]

    def count_up_to(self, limit: int) -> int:
        return min(self.result().total, limit)

    def __getitem__(self, window: slice) -> list[Product]:
        return search_products_load(result=self.result(window.start // self.query.page_size + 1))


class SearchPaginator(Paginator):
    """The pager of a list with words (the search page): over the engine's total (no count of
    its own), offering only the pages the parser accepts (`search_pages_reachable`, at most
    MAX_PAGE), so a broad search's deep pages (past rank 2,000, the popularity walk's) stay
    reachable; `count_capped` when the total goes past them. Lists without words page with
    `BoundedCountPaginator` (1,000)."""

    @cached_property
    def _total(self) -> int:
        pages: ListingPages = self.object_list  # type: ignore[assignment]
        return pages.result().total

    @cached_property
    def count(self) -> int:
        pages = search_pages_reachable(total=self._total, page_size=self.per_page)
        return min(self._total, pages * self.per_page)

    @cached_property
    def count_capped(self) -> bool:
        return self._total > self.count


def search_products_load(*, result: SearchResult) -> list[Product]:
    """The result page's products in result order, as product cards: a product hidden since
    the engine indexed it is dropped here. One query."""
    return product_list_by_ids(ids=result.product_ids)


def price_options(values: tuple[FacetValue, ...]) -> list[dict[str, object]]:
    """The price facet's buckets as links (their `price_min`/`price_max` parameters)."""
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


def listing_page_context(
    request: HttpRequest, *, category: Category | None = None, seller: Seller | None = None
) -> tuple[dict[str, object], int]:
    """The context of a product list page and its HTTP status: the page of products, the
    facets and the sort options; a malformed parameter gives the errors (400) and no results
    rather than being ignored. `category` and `seller` fix the page's own category or seller
    whatever the parameters say. A page past the last shows the last."""
    q = request.GET.get("q", "")
    context: dict[str, object] = {
        "q": q,
        "sort_options": [
            (sort, label)
            for sort, label in SORT_LABELS.items()
            if sort != ProductSort.RELEVANCE or search_terms(q)
        ],
        "fixed_category": category,
        "fixed_seller": seller,
    }
    try:
        query = listing_query_parse(
            params=request.GET,
            page_size=settings.CATALOG_PAGE_SIZE,
            category=category,
            seller_slug=seller.slug if seller else None,
        )
    except (ValidationError, NotFound) as exc:
        # an unknown `category` (a stale link to a seller's page) is a bad filter here too
        context.update(
            filter_error=exc.message,
            filter_field_errors=exc.fields or {"category": [exc.message]},
            filters=ProductFilters(category=category),
            page_obj=None,
        )
        return context, 400
    pages = ListingPages(query)
    # (the stubs' protocol asks for Sized and Iterable: the paginator slices and counts it)
    paginator = SearchPaginator if query.terms else BoundedCountPaginator
    page_obj = paginator(pages, query.page_size).get_page(query.page)  # type: ignore[arg-type]
    result = pages.result(page_obj.number)
    context.update(
        query=query,
        result=result,
        filters=query.filters,
        sort=query.sort,
        page_obj=page_obj,
        price_options=price_options(result.facets.prices),
        filter_error=None,
    )
    return context, 200
