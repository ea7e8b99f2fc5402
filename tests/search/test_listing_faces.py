"""Every face that lists products goes through one listing query and one engine: the same
filters and sort give the same products in the same order on the category page, the seller
page, `/api/v1/products/`, the search page and `/api/v1/search/` without words, page after
page. The catalog holds what tells orders apart: unpriced products (no stored price yet) and
an unpublished one, equal prices, dates, ratings, names and popularity (ties broken by id), a
live sale price, and products deep in a category's subtree."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import AttributeType, Category, Product, ProductStatus, VariantSalePrice
from search.postgres import PostgresSearchBackend
from search.query import listing_query_parse
from search.services import search_index_refresh
from shop.core.errors import ValidationError
from tests.factories import (
    AttributeChoiceFactory,
    AttributeFactory,
    CategoryFactory,
    ProductFactory,
    ProductVariantFactory,
    SellerFactory,
    VariantAttributeValueFactory,
)

pytestmark = pytest.mark.django_db

PAGE_SIZE = 3


@pytest.fixture
def shop():
    clothing = CategoryFactory(name="Clothing", slug="clothing")
    shirts = CategoryFactory(name="Shirts", slug="shirts", parent=clothing)
    polo = CategoryFactory(name="Polo", slug="polo", parent=shirts)
    shoes = CategoryFactory(name="Shoes", slug="shoes", parent=clothing)
    garden = CategoryFactory(name="Garden", slug="garden")
    alpha = SellerFactory(name="Alpha", slug="alpha")
    beta = SellerFactory(name="Beta", slug="beta")
    colour = AttributeFactory(name="Colour", slug="colour", type=AttributeType.CHOICE)
    red = AttributeChoiceFactory(attribute=colour, value="Red", slug="red")
    now = timezone.now().replace(microsecond=0)
    day = timedelta(days=1)

    def product(name, category, seller, price, *, published, rating=("0", 0), red_=False):
        made = ProductFactory(
            name=name,
            category=category,
            seller=seller,
            published_at=published,
            rating_avg=Decimal(rating[0]),
            rating_count=rating[1],
        )
        variant = ProductVariantFactory(product=made, price=Decimal(price))
        if red_:
            VariantAttributeValueFactory(variant=variant, attribute=colour, choice=red)
        return made

    rows = [
        product("Aster", polo, alpha, "20.00", published=now - 3 * day, rating=("4.5", 10)),
        product("Aster", shirts, beta, "40.00", published=now - 2 * day, rating=("4.5", 10)),
        product("Birch", shoes, alpha, "20.00", published=now - 2 * day, red_=True),
        product("Cedar", shirts, alpha, "100.00", published=now - day, rating=("4.5", 3)),
        product("Dahlia", garden, alpha, "5.00", published=now - day),
        product("Elm", clothing, beta, "15.00", published=now - 4 * day, red_=True),
        product(
            "Archived",
            shirts,
            alpha,
            "1.00",
            published=now,
            rating=("5", 99),
        ),
    ]
    Product.objects.filter(pk=rows[-1].pk).update(status=ProductStatus.ARCHIVED)
    VariantSalePrice.objects.create(
        variant=rows[1].variants.get(), sale_price=Decimal("8.00"), starts_at=now - day
    )
    search_index_refresh(product_ids=[p.pk for p in rows])
    # listed before their first search refresh: no stored price, no stored facet values
    rows.append(product("Fir", polo, alpha, "12.00", published=now - day))
    rows.append(product("Fir", clothing, beta, "30.00", published=None, rating=("4.5", 10)))
    # "Best selling": equal scores (ties by id); the two Firs keep a new product's 0
    for made, score in zip(rows, [3.0, 1.5, 3.0, 0.5, 2.0, 1.5], strict=False):
        Product.objects.filter(pk=made.pk).update(popularity=score)
    return rows


def _expected(sort: str, products: list[Product]) -> list[int]:
    """The order each sort promises, written out here rather than read from the code: NULLs
    (no stored price, never published) last in either direction, ties by id."""

    def last_if_none(value, descending):
        return (value is None, 0 if value is None else (-value if descending else value))

    keys = {
        "newest": lambda p: (
            p.published_at is None,
            -(p.published_at.timestamp() if p.published_at else 0),
            -p.pk,
        ),
        "price_asc": lambda p: (*last_if_none(p.search_price_min, False), p.pk),
        "price_desc": lambda p: (*last_if_none(p.search_price_min, True), -p.pk),
        "rating": lambda p: (-p.rating_avg, -p.rating_count, -p.pk),
        "name": lambda p: (p.name, p.pk),
        "popular": lambda p: (-p.popularity, -p.pk),
    }
    return [p.pk for p in sorted(products, key=keys[sort])]


def _storefront_ids(client, url: str, params: dict) -> list[int]:
    ids: list[int] = []
    for number in range(1, 20):
        response = client.get(url, {**params, "page": number, "page_size": PAGE_SIZE})
        assert response.status_code == 200, response.content
        page = response.context["page_obj"]
        ids += [p.pk for p in page.object_list]
        if not page.has_next():
            return ids
    raise AssertionError("more pages than products")


def _api_ids(client, url: str, params: dict) -> list[int]:
    ids: list[int] = []
    for number in range(1, 20):
        response = client.get(url, {**params, "page": number, "page_size": PAGE_SIZE})
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [row["id"] for row in body["results"]]
        if body["next"] is None:
            return ids
    raise AssertionError("more pages than products")


FILTERS = [
    {"category": "clothing"},
    {"category": "shirts", "seller": "alpha"},
    {"seller": "beta"},
    {"category": "clothing", "price_min": "8", "price_max": "20"},
    {"category": "clothing", "attr_colour": "red"},
    {},
]
SORTS = ["newest", "price_asc", "price_desc", "rating", "name", "popular"]


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize(
    "filters", FILTERS, ids=lambda f: "&".join(f"{k}={v}" for k, v in f.items())
)
def test_every_face_lists_the_same_products_in_the_same_order(client, shop, filters, sort):
    params = {**filters, "sort": sort}
    faces = {
        "/api/v1/products/": _api_ids(client, "/api/v1/products/", params),
        "/search/": _storefront_ids(client, reverse("search:results"), params),
        "/api/v1/search/": _api_ids(client, "/api/v1/search/", params),
    }
    if "category" in filters:
        own = {k: v for k, v in params.items() if k != "category"}
        url = reverse("catalog:category", args=[filters["category"]])
        faces["category page"] = _storefront_ids(client, url, own)
    if "seller" in filters:
        own = {k: v for k, v in params.items() if k != "seller"}
        url = reverse("catalog:seller", args=[filters["seller"]])
        faces["seller page"] = _storefront_ids(client, url, own)

    query = listing_query_parse(params=QueryDict(urlencode(params)), page_size=PAGE_SIZE)
    listed = Product.objects.exclude(status=ProductStatus.ARCHIVED)
    f = query.filters
    if f.category is not None:
        listed = listed.filter(category__path__startswith=f.category.path)
    if f.sellers:
        listed = listed.filter(seller__slug__in=f.sellers)
    if f.price_min is not None:
        listed = listed.filter(search_price_min__gte=f.price_min)
    if f.price_max is not None:
        listed = listed.filter(search_price_min__lte=f.price_max)
    if f.attributes:
        listed = listed.filter(variants__attribute_values__choice__slug="red")
    expected = _expected(sort, list(listed.distinct()))
    assert expected, "every case lists something"
    for face, ids in faces.items():
        assert ids == expected, face


def test_unpriced_products_come_last_whichever_way_prices_sort(client, shop):
    listed = Product.objects.filter(pk__in=[p.pk for p in shop], search_price_min__isnull=True)
    unpriced = set(listed.values_list("pk", flat=True))
    assert len(unpriced) == 2
    for sort in ("price_asc", "price_desc"):
        ids = _api_ids(client, "/api/v1/products/", {"category": "clothing", "sort": sort})
        assert set(ids[-2:]) == unpriced, sort


@pytest.mark.parametrize(("sort", "walks"), [("newest", 1), ("price_asc", 1), ("price_desc", 2)])
def test_a_category_list_walks_each_category_once_where_its_index_puts_nulls_last(
    shop, sort, walks
):
    """Each category's index keeps NULLs last in its own direction, as every sort wants them:
    walked forwards (newest, price low to high) one walk per category holds them; only price
    high to low walks its index backwards (NULLs first), so its NULL rows are walked apart.
    (The order itself, unpriced and unpublished products last, is checked on every face
    above.)"""
    clothing = Category.objects.get(slug="clothing")
    subtree = Category.objects.filter(path__startswith=clothing.path).count()
    params = QueryDict(f"category=clothing&sort={sort}")
    query = listing_query_parse(params=params, page_size=PAGE_SIZE)
    with CaptureQueriesContext(connection) as ctx:
        PostgresSearchBackend()._walked_ids(query)
    (walk,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT id FROM ((")]
    assert walk.count(" UNION ALL ") + 1 == walks * subtree > 1


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("sort=cheapest", "Choose one of:"),
        ("sort=relevance", "needs words"),
        ("q=%20%21&sort=relevance", "needs words"),
    ],
)
def test_a_sort_the_list_cannot_have_is_refused_on_every_face(client, shop, query_string, message):
    with pytest.raises(ValidationError) as refused:
        listing_query_parse(params=QueryDict(query_string), page_size=PAGE_SIZE)
    assert message in refused.value.fields["sort"][0]
    for url in ("/api/v1/products/", "/api/v1/search/"):
        response = client.get(f"{url}?{query_string}")
        assert response.status_code == 400
        assert message in response.json()["fields"]["sort"][0]
    for url in (reverse("search:results"), reverse("catalog:category", args=["clothing"])):
        response = client.get(f"{url}?{query_string}")
        assert response.status_code == 400
        assert message in response.content.decode()


def test_relevance_is_the_default_with_words_and_newest_without():
    with_words = listing_query_parse(params=QueryDict("q=aster"), page_size=PAGE_SIZE)
    without = listing_query_parse(params=QueryDict("q=%20"), page_size=PAGE_SIZE)
    assert (with_words.sort, without.sort) == ("relevance", "newest")
