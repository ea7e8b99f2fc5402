"""The one listing interface both engines implement, and the dataclasses that cross it.

Every face that lists products (category pages, seller pages, `/api/v1/products/`, the search
page and `/api/v1/search/`) builds a `SearchQuery` (text optional), calls
`search.services.listing_run` and gets a `SearchResult` back; none knows which engine answered.
The sort orders are defined here once (`SORT_KEYS`): the ORM order, the SQL of the engine's
hand-written statements and OpenSearch's sort are all generated from them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from django.db.models import BigIntegerField, Case, F, OrderBy, When
from django.db.models.functions import Coalesce

from catalog.selectors import ProductFilters

# Longer input is cut, not refused: a pasted paragraph still searches its first words.
MAX_QUERY_CHARS = 200
MAX_TERMS = 8
# Letters and digits of any script; everything else (quotes, operators, emoji) separates words.
_TERM = re.compile(r"[^\W_]+", re.UNICODE)


class ProductSort(StrEnum):
    """Every order a product list can have. RELEVANCE needs words to rank by."""

    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    RATING = "rating"
    NAME = "name"
    POPULAR = "popular"  # "Best selling": Product.popularity (search.popularity)


@dataclass(frozen=True)
class SortKey:
    """One key of a sort order. A nullable key sorts its NULLs last in either direction (an
    unpriced product is last whether prices go up or down). `index_descending` is the direction
    of the nullable key in the per-category index (`catalog.models.Product.Meta`), so a walk of
    its non-NULL rows can follow that index forwards or backwards (`SortKey.walk`)."""

    field: str
    descending: bool = False
    nullable: bool = False
    index_descending: bool = False

    def order_by(self) -> OrderBy:
        """The key for the ORM: NULLS LAST on a nullable key."""
        expression = F(self.field)
        if not self.nullable:
            return expression.desc() if self.descending else expression.asc()
        if self.descending:
            return expression.desc(nulls_last=True)
        return expression.asc(nulls_last=True)

    @property
    def walk_nulls_last(self) -> bool:
        """Whether its index, walked in this key's direction, yields NULLs last as the sort
        wants: it keeps them last in its own direction, so first when walked backwards (a
        key that is never NULL has none)."""
        return not self.nullable or self.descending == self.index_descending

    def walk(self) -> OrderBy:
        """The key for a walk that follows its index: the NULL placement the index has in
        this direction. Where that is not the sort's (`walk_nulls_last`), the walk holds only
        non-NULL or only NULL values, whose order it cannot change."""
        if not self.nullable:
            return self.order_by()
        nulls = {"nulls_last": True} if self.walk_nulls_last else {"nulls_first": True}
        expression = F(self.field)
        return expression.desc(**nulls) if self.descending else expression.asc(**nulls)

    def sql(self, column: str | None = None) -> str:
        """The key as SQL over a column of that name (or `column`)."""
        direction = "DESC" if self.descending else "ASC"
        nulls = " NULLS LAST" if self.nullable else ""
        return f"{column or self.field} {direction}{nulls}"


_PUBLISHED = SortKey("published_at", descending=True, nullable=True, index_descending=True)
# `search_price_min`: the stored shopper price (see `search.services.search_index_refresh`)
_PRICE_UP = SortKey("search_price_min", nullable=True)
_PRICE_DOWN = SortKey("search_price_min", descending=True, nullable=True)
_ID_UP = SortKey("id")
_ID_DOWN = SortKey("id", descending=True)

# The one definition of every sort order; the last key is always the id (a total order, so
# every face pages alike). RELEVANCE's `rank` is the text rank the engine computes.
SORT_KEYS: dict[ProductSort, tuple[SortKey, ...]] = {
    ProductSort.RELEVANCE: (SortKey("rank", descending=True), _ID_DOWN),
    ProductSort.NEWEST: (_PUBLISHED, _ID_DOWN),
    ProductSort.PRICE_ASC: (_PRICE_UP, _ID_UP),
    ProductSort.PRICE_DESC: (_PRICE_DOWN, _ID_DOWN),
    ProductSort.RATING: (
        SortKey("rating_avg", descending=True),
        SortKey("rating_count", descending=True),
        _ID_DOWN,
    ),
    ProductSort.NAME: (SortKey("name"), _ID_UP),
    ProductSort.POPULAR: (SortKey("popularity", descending=True), _ID_DOWN),
}


def sort_order_by(sort: ProductSort) -> list[OrderBy]:
    """`SORT_KEYS[sort]` for the ORM's `order_by`."""
    return [key.order_by() for key in SORT_KEYS[sort]]


def sort_rows[T](rows: list[T], sort: ProductSort, value: Callable[[T, str], Any]) -> list[T]:
    """`rows` in `SORT_KEYS[sort]` order, in Python (`value(row, field)` reads a key): stable
    passes from the last key to the first, NULLs last in either direction."""
    for key in reversed(SORT_KEYS[sort]):
        present = [row for row in rows if value(row, key.field) is not None]
        present.sort(key=lambda row: value(row, key.field), reverse=key.descending)
        rows = present + [row for row in rows if value(row, key.field) is None]
    return rows


def sort_sql(sort: ProductSort) -> str:
    """`SORT_KEYS[sort]` as an ORDER BY list over columns named like the fields."""
    return ", ".join(key.sql() for key in SORT_KEYS[sort])


# Price facet buckets in the shop currency: [low, high) with None for open ends.
PRICE_BUCKETS: tuple[tuple[Decimal | None, Decimal | None], ...] = (
    (None, Decimal("10")),
    (Decimal("10"), Decimal("25")),
    (Decimal("25"), Decimal("50")),
    (Decimal("50"), Decimal("100")),
    (Decimal("100"), Decimal("250")),
    (Decimal("250"), Decimal("500")),
    (Decimal("500"), None),
)


def search_terms(text: str) -> list[str]:
    """The words of a query, lower-cased, at most MAX_TERMS of them. Both engines build their
    query from these, so no user-typed syntax ever reaches a query parser."""
    return [t.lower() for t in _TERM.findall(text[:MAX_QUERY_CHARS])][:MAX_TERMS]


@dataclass(frozen=True)
class SearchQuery:
    """The one listing query: optional words, the filters (category subtree, sellers, price,
    attributes, stock), a minimum rating, the sort and the page. A category or seller page is
    a query without words and with that category or seller. `facets`: whether the caller shows
    the facet counts (the product API does not: the engine then counts the total alone).
    `seller_fixed`: the sellers are the page's own (a seller's page), not a filter the
    shopper chose: no facet offers other sellers."""

    text: str = ""
    filters: ProductFilters = field(default_factory=ProductFilters)
    rating_min: Decimal | None = None
    sort: ProductSort = ProductSort.NEWEST
    page: int = 1
    page_size: int = 24
    facets: bool = True
    seller_fixed: bool = False

    @property
    def terms(self) -> list[str]:
        return search_terms(self.text)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass(frozen=True)
class AttributeFacet:
    slug: str
    name: str
    values: tuple[FacetValue, ...]


@dataclass(frozen=True)
class Facets:
    categories: tuple[FacetValue, ...] = ()
    prices: tuple[FacetValue, ...] = ()
    sellers: tuple[FacetValue, ...] = ()
    attributes: tuple[AttributeFacet, ...] = ()
    # counts are estimated from a random sample (a broad query): shown as "about"
    sampled: bool = False


@dataclass(frozen=True)
class SearchResult:
    """`product_ids` in result order; the caller loads them through the public selectors so
    prices and visibility shown come from one place."""

    product_ids: list[int]
    total: int
    facets: Facets
    engine: str
    did_you_mean: str | None = None
    # `total` is an estimate from a sample (a broad PostgreSQL query): shown as "about"
    total_is_estimate: bool = False


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "product" or "category"
    label: str
    slug: str


class SearchBackend(Protocol):
    name: str

    def search(self, *, query: SearchQuery) -> SearchResult: ...

    def suggest(self, *, prefix: str, limit: int) -> list[Suggestion]: ...


class SearchUnavailable(Exception):
    """The engine could not answer (network, cluster state); the caller falls back."""


def _flag_key(attribute: Any, flag: bool) -> Any:
    """A yes/no value's key from its attribute's id: -2A (yes) or -2A-1 (no), never a choice's
    (positive) id. `attribute` is an int, or an ORM expression to state the same rule in SQL."""
    return -2 * attribute if flag else -2 * attribute - 1


def facet_value_key(*, attribute_id: int, choice_id: int | None = None, flag: bool = False) -> int:
    """The int a product carries in `Product.search_facet_values` for one attribute value:
    a choice's id; a yes/no value as `_flag_key` says."""
    if choice_id is not None:
        return choice_id
    return _flag_key(attribute_id, flag)


def facet_value_key_expression(*, choice: str, attribute: str, flag: str) -> Coalesce:
    """`facet_value_key` as an ORM expression over the columns (named by these fields) of an
    attribute value row."""
    yes, no = (_flag_key(F(attribute), value) for value in (True, False))
    flag_key = Case(When(**{flag: True}, then=yes), default=no)
    return Coalesce(F(choice), flag_key, output_field=BigIntegerField())


CENT = Decimal("0.01")


def price_facet(query: SearchQuery, counts: Mapping[int | None, int]) -> tuple[FacetValue, ...]:
    """The price facet from the engine's count per PRICE_BUCKETS index: the buckets with
    products or chosen (`price_min`/`price_max` equal to a bucket's, its top a cent below the
    next bucket's low), keyed as `low-top` (open ends empty)."""
    values = []
    for i, (low, high) in enumerate(PRICE_BUCKETS):
        top = high - CENT if high is not None else None
        f = query.filters
        chosen = (f.price_min, f.price_max) == (low, top) and (low, top) != (None, None)
        if counts.get(i, 0) or chosen:
            values.append(
                FacetValue(
                    price_bucket_key(low, top),
                    price_bucket_label(low, high),
                    counts.get(i, 0),
                    chosen,
                )
            )
    return tuple(values)


def price_bucket_key(low: Decimal | None, high: Decimal | None) -> str:
    return f"{'' if low is None else low}-{'' if high is None else high}"


def price_bucket_label(low: Decimal | None, high: Decimal | None) -> str:
    if low is None:
        return f"Under {high}"
    if high is None:
        return f"{low} and above"
    return f"{low} – {high}"
