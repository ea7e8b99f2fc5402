"""Popularity: the documented score on hand-made data, the candidate order of broad searches,
the "Best selling" sort, deep pages and the pager."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from catalog.models import Product
from orders.models import OrderLine, OrderStatus
from search import postgres
from search.base import Facets, SearchResult
from search.pages import ListingPages, SearchPaginator
from search.popularity import product_popularity_refresh
from search.postgres import PostgresSearchBackend
from search.query import MAX_PAGE, listing_query_parse, search_pages_reachable
from search.services import search_index_refresh
from tests.factories import CategoryFactory, ProductFactory, ProductVariantFactory, SellerFactory
from tests.factories.orders import sold_seller_order

pytestmark = pytest.mark.django_db


def run(query_string: str):
    query = listing_query_parse(params=QueryDict(query_string), page_size=24)
    return PostgresSearchBackend().search(query=query)


def _sell(variant, units: int, *, placed_at, status: str = OrderStatus.PAID) -> None:
    seller_order = sold_seller_order(
        seller=variant.product.seller, placed_at=placed_at, variant=variant
    )
    OrderLine.objects.filter(seller_order=seller_order).update(quantity=units)
    seller_order.order.status = status
    seller_order.order.save(update_fields=["status"])


def test_the_refresh_computes_the_documented_score_and_tier():
    now = timezone.now()
    seller = SellerFactory()
    a = ProductFactory(
        seller=seller, rating_avg=Decimal("4.00"), rating_count=10, published_at=now - timedelta(30)
    )
    b = ProductFactory(seller=seller, rating_avg=0, rating_count=0, published_at=now)
    c = ProductFactory(
        seller=seller, rating_avg=Decimal("2.00"), rating_count=40, published_at=None
    )
    variant = ProductVariantFactory(product=a)
    _sell(variant, 3, placed_at=now - timedelta(days=5))
    _sell(variant, 2, placed_at=now - timedelta(days=5), status=OrderStatus.CANCELLED)
    _sell(variant, 4, placed_at=now - timedelta(days=40))  # before the 30-day window
    product_popularity_refresh(now=now)
    # catalogue mean rating C = (4 * 10 + 2 * 40) / 50 = 2.4, prior weight 10:
    # a: ln(1 + 3) + (10 * 2.4 + 10 * 4) / 20 / 5 + 0.5 * 2 ** (-30 / 30) = 1.3863 + 0.64 + 0.25
    # b: 0 + 2.4 / 5 + 0.5 = 0.98;  c: 0 + (24 + 80) / 50 / 5 + 0 (never published) = 0.416
    scores = dict(Product.objects.values_list("pk", "popularity"))
    assert scores == {a.pk: 2.28, b.pk: 0.98, c.pk: 0.42}
    assert math.isclose(math.log(4) + 0.64 + 0.25, 2.2763, abs_tol=1e-4)
    # tiers: rank r of 3 is in level ceil(log2(r * 1024 / 3)): 9, 10, 10
    tiers = dict(Product.objects.values_list("pk", "popularity_tier"))
    assert tiers == {a.pk: 9, b.pk: 10, c.pk: 10}
    assert product_popularity_refresh(now=now) == 0  # nothing moved: nothing written


@pytest.fixture
def widgets(db) -> list[int]:
    """64 products matching 'widget' alike, each sold a different number of units (a
    shuffled order, so the most popular are scattered over the ids); ids by popularity."""
    seller = SellerFactory()
    category = CategoryFactory()
    units = list(range(1, 65))
    random.Random(7).shuffle(units)
    now = timezone.now()
    made = []
    for n, sold in enumerate(units):
        product = ProductFactory(
            name=f"Widget {n}",
            description="",
            seller=seller,
            category=category,
            published_at=now - timedelta(days=400),
        )
        _sell(ProductVariantFactory(product=product), sold, placed_at=now - timedelta(days=1))
        made.append(product.pk)
    product_popularity_refresh()
    search_index_refresh(product_ids=made)
    return list(
        Product.objects.filter(pk__in=made)
        .order_by("-popularity", "-id")
        .values_list("pk", flat=True)
    )


def _pages(monkeypatch, query_string: str, size: int) -> list[list[int]]:
    # a catalogue of 64 stands for a million: past 4 matches counts are sampled-size, and
    # relevance ranks a pool of 8
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 4)
    monkeypatch.setattr(postgres, "RANK_LIMIT", 8)
    return [
        run(f"{query_string}&page_size={size}&page={n}").product_ids
        for n in range(1, 64 // size + 2)
    ]


def test_a_broad_search_fills_page_one_with_its_most_popular_matches(widgets, monkeypatch):
    pages = _pages(monkeypatch, "q=widget", 8)
    # equally relevant: the pool is the 8 most popular, ranked by the blend, and so on
    assert pages[0] == widgets[:8]
    assert any(pk % 16 for pk in pages[0])  # not an id slice
    # every match is on exactly one page, in popularity-level order; past them, nothing
    assert [pk for page in pages[:-1] for pk in page] == widgets
    assert pages[-1] == []


def test_deep_relevance_pages_past_the_pool_are_not_empty(widgets, monkeypatch):
    pages = _pages(monkeypatch, "q=widget", 5)
    assert all(len(page) == 5 for page in pages[:12]) and len(pages[12]) == 4
    assert sorted(pk for page in pages for pk in page) == sorted(widgets)


def test_a_popular_match_beats_an_equally_relevant_unpopular_one():
    now = timezone.now()
    seller = SellerFactory()
    popular = ProductFactory(name="Gadget", seller=seller, published_at=now - timedelta(400))
    unpopular = ProductFactory(name="Gadget", seller=seller, published_at=now - timedelta(400))
    _sell(ProductVariantFactory(product=popular), 5, placed_at=now - timedelta(days=2))
    ProductVariantFactory(product=unpopular)
    product_popularity_refresh()
    search_index_refresh(product_ids=[popular.pk, unpopular.pk])
    # without popularity, equal ranks order by id, the newer (unpopular) one first
    assert run("q=gadget").product_ids == [popular.pk, unpopular.pk]


def test_a_much_better_text_match_still_beats_a_popular_weak_one():
    now = timezone.now()
    seller = SellerFactory()
    weak = ProductFactory(name="Cable", description="works with any lamp", seller=seller)
    strong = ProductFactory(name="Desk Lamp", description="a lamp", seller=seller)
    _sell(ProductVariantFactory(product=weak), 2, placed_at=now - timedelta(days=2))
    ProductVariantFactory(product=strong)
    product_popularity_refresh()
    search_index_refresh(product_ids=[weak.pk, strong.pk])
    assert run("q=lamp").product_ids == [strong.pk, weak.pk]


def test_best_selling_orders_by_popularity_with_and_without_text(widgets, monkeypatch):
    with_text = _pages(monkeypatch, "q=widget&sort=popular", 7)
    assert [pk for page in with_text for pk in page] == widgets
    assert run("sort=popular").product_ids == widgets[:24]
    category = Product.objects.get(pk=widgets[0]).category
    assert run(f"sort=popular&category={category.slug}").product_ids == widgets[:24]


def _search_pager(total: int) -> SearchPaginator:
    """The search page's paginator over an engine answer of `total` results."""
    pages = ListingPages(listing_query_parse(params=QueryDict("q=widget"), page_size=24))
    pages._results[1] = SearchResult(
        product_ids=[], total=total, facets=Facets(), engine="postgres"
    )
    return SearchPaginator(pages, 24)


def test_the_pager_offers_only_pages_the_parser_accepts():
    paginator = _search_pager(10**6)
    assert paginator.num_pages == MAX_PAGE and paginator.count_capped
    last = listing_query_parse(params=QueryDict(f"q=widget&page={MAX_PAGE}"), page_size=24)
    assert last.page == MAX_PAGE  # the last page offered parses
    small = _search_pager(30)
    assert small.num_pages == 2 and not small.count_capped
    # the API's next link stops at the same page
    assert search_pages_reachable(total=10**6, page_size=100) == MAX_PAGE


def test_the_popularity_refresh_is_scheduled_on_the_search_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["search-popularity-refresh"]
    assert entry["task"] == "search.tasks.product_popularity_refresh_task"
    from shop.celery import app

    route = app.amqp.router.route({}, entry["task"])
    assert route["queue"].name == "search"
    # longer than the search queue's default limit: one run scores the whole catalogue
    assert settings.CELERY_TASK_SOFT_TIME_LIMITS[entry["task"]] == 1800
