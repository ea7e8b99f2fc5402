"""Parse search request parameters into a `SearchQuery`: the catalog filter parser plus the
search-only parameters `q`, `rating`, `page` and the `relevance` sort. Both faces use it, so a
malformed value is refused alike (ValidationError -> 400 with the JSON error shape)."""

from __future__ import annotations

from decimal import Decimal

from django.http import QueryDict

from catalog.filters import product_filters_parse
from search.base import MAX_QUERY_CHARS, SearchQuery, SearchSort
from shop.core.errors import ValidationError
from shop.core.numbers import NumberError, decimal_parse, integer_parse

MAX_PAGE = 10_000 // 24  # deep enough for any shopper; bounds OFFSET work
MAX_PAGE_SIZE = 100


def search_pages_reachable(*, total: int, page_size: int) -> int:
    """How many pages of `total` results a pager may offer: never past MAX_PAGE, which the
    parser refuses with a 400."""
    return min(-(-total // page_size), MAX_PAGE) if page_size > 0 else 0


def search_query_parse(*, params: QueryDict, page_size: int) -> SearchQuery:
    errors: dict[str, list[str]] = {}
    catalog_params = params.copy()
    sort_raw = catalog_params.pop("sort", [""])[-1] or SearchSort.RELEVANCE
    try:
        sort = SearchSort(sort_raw)
    except ValueError:
        errors["sort"] = [f"Choose one of: {', '.join(s.value for s in SearchSort)}."]
        sort = SearchSort.RELEVANCE

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

    try:
        filters = product_filters_parse(params=catalog_params)
    except ValidationError as exc:
        errors.update(exc.fields)
        filters = None
    if errors or filters is None:
        raise ValidationError("Some search parameters are invalid.", fields=errors)
    return SearchQuery(
        text=params.get("q", "")[:MAX_QUERY_CHARS],
        filters=filters,
        rating_min=rating_min,
        sort=sort,
        page=page,
        page_size=size or page_size,
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
