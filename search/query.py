"""Parse a product list's request parameters into a `SearchQuery`: the catalog filter parser
plus `q`, `rating`, `sort`, `page` and `page_size`. Every listing face (category and seller
pages, `/api/v1/products/`, the search page and `/api/v1/search/`) uses it, so a malformed
value is refused alike (ValidationError -> 400 with the error shape)."""

from __future__ import annotations

from decimal import Decimal

from django.http import QueryDict

from catalog.filters import product_filters_parse
from catalog.models import Category
from search.base import MAX_QUERY_CHARS, ProductSort, SearchQuery, search_terms
from shop.core.errors import ValidationError
from shop.core.numbers import NumberError, decimal_parse, integer_parse

MAX_PAGE = 10_000 // 24  # deep enough for any shopper; bounds OFFSET work
MAX_PAGE_SIZE = 100


def search_pages_reachable(*, total: int, page_size: int) -> int:
    """How many pages of `total` results a pager may offer: never past MAX_PAGE, which the
    parser refuses with a 400."""
    return min(-(-total // page_size), MAX_PAGE) if page_size > 0 else 0


def listing_query_parse(
    *,
    params: QueryDict,
    page_size: int,
    category: Category | None = None,
    seller_slug: str | None = None,
) -> SearchQuery:
    """The query of a list. `category` (a category page's) replaces any `category` parameter;
    `seller_slug` (a seller page's) replaces any `seller` parameters. The sort defaults to
    relevance with words and to newest without; relevance without words is refused."""
    errors: dict[str, list[str]] = {}
    text = params.get("q", "")[:MAX_QUERY_CHARS]
    has_words = bool(search_terms(text))
    sort_raw = params.get("sort", "") or (
        ProductSort.RELEVANCE if has_words else ProductSort.NEWEST
    )
    try:
        sort = ProductSort(sort_raw)
    except ValueError:
        errors["sort"] = [f"Choose one of: {', '.join(s.value for s in ProductSort)}."]
        sort = ProductSort.NEWEST
    if sort == ProductSort.RELEVANCE and not has_words:
        errors["sort"] = ["Sorting by relevance needs words to search for (`q`)."]

    rating_min = None
    rating_raw = params.get("rating", "").strip()
    if rating_raw:
        # the average rating is numeric(3, 2)
        try:
            rating_min = decimal_parse(
                rating_raw,
                max_digits=3,
                decimal_places=2,
                min_value=Decimal(0),
                max_value=Decimal(5),
            )
        except NumberError:
            errors["rating"] = ["Enter a rating between 0 and 5."]

    page = _positive_int(params.get("page", ""), "page", 1, MAX_PAGE, errors) or 1
    size = _positive_int(params.get("page_size", ""), "page_size", 1, MAX_PAGE_SIZE, errors)

    if seller_slug is not None:
        params = params.copy()
        params.setlist("seller", [seller_slug])
    try:
        filters = product_filters_parse(params=params, category=category)
    except ValidationError as exc:
        errors.update(exc.fields)
        filters = None
    if errors or filters is None:
        raise ValidationError("Some filters are invalid.", fields=errors)
    return SearchQuery(
        text=text,
        filters=filters,
        rating_min=rating_min,
        sort=sort,
        page=page,
        page_size=size or page_size,
        seller_fixed=seller_slug is not None,
    )


def _positive_int(
    raw: str, name: str, low: int, high: int, errors: dict[str, list[str]]
) -> int | None:
    if not raw.strip():
        return None
    try:
        return integer_parse(raw, min_value=low, max_value=high)
    except NumberError:
        errors[name] = [f"Enter a whole number from {low} to {high}."]
        return None
