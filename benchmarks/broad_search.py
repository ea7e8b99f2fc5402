"""Broad searches for the storefront benchmarks (imported by search_latency.py and
storefront_pages.py after `django.setup()`; not a script).

A broad word is one of the most frequent words of the catalogue's product names: it matches
tens of thousands of products at 1M, so its deep pages are where a ranking pool, an OFFSET
or a pager that counts past what can be served shows. The words are drawn from the data with
a fixed sample, so runs before and after a change (on databases seeded alike) use the same.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import QuerySet
from django.test import Client

from catalog.models import Product
from catalog.selectors import product_queryset_public
from search.postgres import tsquery_text

# Pages deep into a broad search: 85 is the first past a 2,000-match ranking pool (24 a
# page), 416 the deepest page the storefront serves (10,000 results).
DEEP_PAGES = (85, 416)
CARD_MARKER = 'class="product-card"'
_PAGER_LINK = re.compile(r'aria-label="Page (\d+)"')
# The catalogue is sampled above this size (a full scan of a million names costs seconds).
_SAMPLE_ABOVE = 100_000


def broad_words(*, count: int, seed: int) -> list[str]:
    """The `count` most frequent words (4+ letters) of active products' names, most frequent
    first (ties alphabetical)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'catalog_product'")
        estimate = cursor.fetchone()[0]
        source = (
            f"catalog_product TABLESAMPLE SYSTEM (2) REPEATABLE ({int(seed)})"
            if estimate > _SAMPLE_ABOVE
            else "catalog_product"
        )
        cursor.execute(
            "SELECT lower(word) AS word, count(*) FROM ("
            f"SELECT name FROM {source} WHERE status = 'active') named, "
            "regexp_split_to_table(named.name, '\\s+') AS word "
            "WHERE word ~ '^[A-Za-z]{4,}$' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s",
            [count],
        )
        return [row[0] for row in cursor.fetchall()]


def search_url(word: str, page: int = 1) -> str:
    params = {"q": word} if page == 1 else {"q": word, "page": page}
    return f"/search/?{urlencode(params)}"


def product_cards(html: str) -> int:
    """How many product cards a storefront list page shows."""
    return html.count(CARD_MARKER)


def pager_last_page(html: str) -> int | None:
    """The highest page number the page's pager links to (None without a pager)."""
    numbers = [int(n) for n in _PAGER_LINK.findall(html)]
    return max(numbers) if numbers else None


@dataclass(frozen=True)
class DeepPage:
    word: str
    label: str  # "page 85", "page 416", "last page"
    page: int
    url: str


def public_matches(word: str) -> QuerySet[Product]:
    """The reference answer, slow and exact: every public product the word matches as the
    search box's last word (a prefix), with the catalog's public rule (live variant EXISTS)."""
    text = SearchQuery(tsquery_text([word], prefix_last=True), search_type="raw", config="english")
    return product_queryset_public().filter(search_vector=text)


def deep_pages(*, client: Client, word: str, matches: int) -> list[DeepPage]:
    """The deep pages of a search for `word` that `matches` public products fill (of
    DEEP_PAGES), and the last page the first page's pager links to (found by requesting that
    first page through the storefront), whatever the matches."""
    filled = math.ceil(matches / settings.CATALOG_PAGE_SIZE)
    pages = [DeepPage(word, f"page {n}", n, search_url(word, n)) for n in DEEP_PAGES if n <= filled]
    response = client.get(search_url(word))
    last = pager_last_page(response.content.decode()) if response.status_code == 200 else None
    if last is not None and last > 1:
        pages.append(DeepPage(word, "last page", last, search_url(word, last)))
    return pages


def popularity_available() -> bool:
    """Whether this code and database rank by `Product.popularity` (the popularity branch)."""
    try:
        Product._meta.get_field("popularity")
    except FieldDoesNotExist:
        return False
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "catalog_product")
    return any(column.name == "popularity" for column in columns)


@dataclass(frozen=True)
class RelevanceCheck:
    word: str
    matches: int
    top: list[tuple[int, float]]  # the reference page: (id, popularity), most popular first
    page: list[tuple[int, float]]  # the engine's page 1, in its order

    @property
    def holds(self) -> bool:
        """Page 1 holds the most popular matches: the same popularity values (ties may pick
        different products of equal popularity)."""
        return sorted(p for _, p in self.page) == sorted(p for _, p in self.top)

    @property
    def shared(self) -> int:
        return len({i for i, _ in self.page} & {i for i, _ in self.top})


def relevance_check(*, word: str, page_ids: list[int]) -> RelevanceCheck:
    """Compare a search's page 1 (`page_ids`) with the reference: the page-size most popular
    public matches, computed by sorting every match."""
    size = settings.CATALOG_PAGE_SIZE
    matches = public_matches(word)
    top = list(matches.order_by("-popularity", "-id").values_list("id", "popularity")[:size])
    popularity = dict(Product.objects.filter(pk__in=page_ids).values_list("id", "popularity"))
    return RelevanceCheck(
        word=word,
        matches=matches.count(),
        top=[(pk, float(p)) for pk, p in top],
        page=[(pk, float(popularity[pk])) for pk in page_ids if pk in popularity],
    )
