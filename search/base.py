"""The one search interface both engines implement, and the dataclasses that cross it.

Faces (storefront view, API) build a `SearchQuery`, call `search.services.search_run`
and get a `SearchResult` back; they never know which engine answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from catalog.selectors import ProductFilters

# Longer input is cut, not refused: a pasted paragraph still searches its first words.
MAX_QUERY_CHARS = 200
MAX_TERMS = 8
# Letters and digits of any script; everything else (quotes, operators, emoji) separates words.
_TERM = re.compile(r"[^\W_]+", re.UNICODE)


class SearchSort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    RATING = "rating"
    POPULAR = "popular"  # "Best selling": search.popularity


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
    text: str = ""
    filters: ProductFilters = field(default_factory=ProductFilters)
    rating_min: Decimal | None = None
    sort: SearchSort = SearchSort.RELEVANCE
    page: int = 1
    page_size: int = 24

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


def facet_value_key(*, attribute_id: int, choice_id: int | None = None, flag: bool = False) -> int:
    """The int a product carries in `Product.search_facet_values` for one attribute value:
    a choice's id; a yes/no value of attribute A as -2A (yes) or -2A-1 (no)."""
    if choice_id is not None:
        return choice_id
    return -2 * attribute_id if flag else -2 * attribute_id - 1


def price_bucket_key(low: Decimal | None, high: Decimal | None) -> str:
    return f"{'' if low is None else low}-{'' if high is None else high}"


def price_bucket_label(low: Decimal | None, high: Decimal | None) -> str:
    if low is None:
        return f"Under {high}"
    if high is None:
        return f"{low} and above"
    return f"{low} – {high}"
