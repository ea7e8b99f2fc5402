from __future__ import annotations

import dataclasses
import io
import logging
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from catalog.models import AttributeType, Product, SearchLexeme
from search import keys, postgres
from search.base import PRICE_BUCKETS, Facets, SearchQuery, search_terms
from search.postgres import PostgresSearchBackend
from search.query import listing_query_parse
from search.services import (
    search_index_rebuild,
    search_index_refresh,
    search_lexemes_rebuild,
)
from sellers.models import Seller, SellerStatus
from shop.core import db
from tests.factories import (
    AttributeFactory,
    ProductFactory,
    ProductVariantFactory,
    VariantAttributeValueFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def trigram(db):
    """Typo tolerance needs pg_trgm; the embedded PostgreSQL has none, where search degrades
    (tested below) and these checks cannot apply."""
    if not postgres.trigram_available():
        pytest.skip("pg_trgm is not installed in this PostgreSQL (the embedded server lacks it)")


def run(query_string: str = ""):
    query = listing_query_parse(params=QueryDict(query_string), page_size=24)
    return PostgresSearchBackend().search(query=query)


def names(catalog, result) -> list[str]:
    by_id = {p.pk: key for key, p in catalog.products.items()}
    return [by_id[i] for i in result.product_ids]


def counts(values) -> dict[str, int]:
    return {v.value: v.count for v in values}


def test_name_match_ranks_above_description_match(catalog):
    result = run("q=lamp")
    assert names(catalog, result) == ["lamp", "light"]


def test_hidden_products_never_appear(catalog):
    result = run("q=blue shirt")
    assert names(catalog, result) == ["blue_shirt"]
    everything = run("")
    assert set(names(catalog, everything)) == {"blue_shirt", "red_shirt", "shoe", "lamp", "light"}
    assert everything.total == 5


def test_facets_for_a_query_match_hand_counts(catalog):
    result = run("q=shirt")
    assert sorted(names(catalog, result)) == ["blue_shirt", "red_shirt"]
    assert counts(result.facets.categories) == {"clothing": 2}
    assert counts(result.facets.sellers) == {"alpha": 1, "beta": 1}
    # the red shirt is on sale at 8.00: the price facet counts what the shopper pays
    assert counts(result.facets.prices) == {"-9.99": 1, "10-24.99": 1}
    (colour,) = result.facets.attributes
    assert colour.slug == "colour"
    assert counts(colour.values) == {"red": 1, "blue": 1}


def test_selecting_a_facet_value_keeps_the_other_values_of_that_facet(catalog):
    result = run("q=shirt&attr_colour=red")
    assert names(catalog, result) == ["red_shirt"]
    (colour,) = result.facets.attributes
    assert counts(colour.values) == {"red": 1, "blue": 1}
    assert [v.value for v in colour.values if v.selected] == ["red"]
    # the other facets are narrowed by the colour filter
    assert counts(result.facets.sellers) == {"beta": 1}


def _facet_statement_rows(query_string: str) -> str:
    """The facet statement's row set (its CTE) of a search."""
    with CaptureQueriesContext(connection) as ctx:
        run(query_string)
    (statement,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("WITH m AS")]
    return statement[: statement.index(") SELECT 'rows'")]


def test_a_lists_category_narrows_the_facet_statements_rows(catalog):
    """The category facet shows the chosen category and its children, whose counts the
    category filter does not change: a list without words fetches its category's rows only
    (no flag lifts it), not the whole catalogue's. A text search keeps it a flag on its
    words' matches, whose exact attempt stops at EXACT_LIMIT + 1 rows."""
    rows = _facet_statement_rows("category=shirts&price_max=50")
    assert '"catalog_product"."category_id" IN (' in rows
    assert '"ok_0"' in rows and '"ok_1"' not in rows  # the price's flag only
    rows = _facet_statement_rows("q=shirt&category=shirts&price_max=50")
    assert '"catalog_product"."category_id" IN (' in rows and '"ok_1"' in rows
    for query in ("category=shirts&price_max=50", "q=shirt&category=shirts&price_max=50"):
        result = run(query)
        assert counts(result.facets.categories) == {"shirts": 2}
        assert sorted(names(catalog, result)) == ["blue_shirt", "red_shirt"]


def test_a_sellers_own_page_counts_no_seller_facet_and_fetches_only_its_rows(catalog):
    """On a seller's page the seller is the page's (`seller_fixed`), not a filter: no facet
    offers other sellers, so the facet statement fetches that seller's rows only. The same
    seller chosen as a filter keeps its facet, counted with the filter lifted."""
    page = listing_query_parse(params=QueryDict(""), page_size=24, seller_slug="beta")
    with CaptureQueriesContext(connection) as ctx:
        own = PostgresSearchBackend().search(query=page)
    (statement,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("WITH m AS")]
    assert "'seller'" not in statement and '"ok_0"' not in statement
    chosen = run("seller=beta")
    assert own.facets.sellers == () and counts(chosen.facets.sellers) == {"alpha": 3, "beta": 2}
    assert own.product_ids == chosen.product_ids and own.total == chosen.total == 2
    assert own.facets.categories == chosen.facets.categories


def test_category_filter_includes_the_subtree_and_facet_shows_children(catalog):
    result = run("category=clothing")
    assert sorted(names(catalog, result)) == ["blue_shirt", "red_shirt", "shoe"]
    assert counts(result.facets.categories) == {"clothing": 3, "shirts": 2, "shoes": 1}
    assert [v.value for v in result.facets.categories if v.selected] == ["clothing"]
    facets = {a.slug: counts(a.values) for a in result.facets.attributes}
    assert facets == {"colour": {"red": 2, "blue": 1}, "waterproof": {"true": 1}}


def test_facets_and_filters_read_sellers_categories_and_attributes_on_every_search(catalog):
    """The small tables a search reads (sellers, categories, facet attributes) are read once
    per search, never kept: a renamed category, a suspended seller or an attribute taken
    off the facets shows on the next search, and a filter on an attribute that is not a
    facet still applies."""
    from catalog.models import Attribute, Category
    from sellers.models import Seller, SellerStatus

    assert [v.label for v in run("q=shirt").facets.categories] == ["Clothing"]
    Category.objects.filter(slug="clothing").update(name="Apparel")
    Seller.objects.filter(slug="beta").update(status=SellerStatus.SUSPENDED)
    Attribute.objects.filter(slug="colour").update(is_filterable=False)
    result = run("q=shirt")
    assert [v.label for v in result.facets.categories] == ["Apparel"]
    assert names(catalog, result) == ["blue_shirt"]
    assert counts(result.facets.sellers) == {"alpha": 1}
    assert result.facets.attributes == ()
    filtered = run("attr_colour=red")
    assert names(catalog, filtered) == ["shoe"]
    assert [a.slug for a in filtered.facets.attributes] == ["waterproof"]


@pytest.mark.parametrize("status", list(SellerStatus), ids=str)
def test_search_shows_the_sellers_the_catalog_calls_public_and_no_other(catalog, status):
    """The approved sellers a search reads (visibility and the seller facet) are the
    catalog's `seller_queryset_public`: a seller in any other status is gone from results
    and from the facet, with or without a seller filter."""
    from catalog.selectors import seller_queryset_public

    Seller.objects.filter(slug="beta").update(status=status)
    public = seller_queryset_public().filter(slug="beta").exists()
    assert public is (status == SellerStatus.APPROVED)
    result = run("q=shirt")
    assert ("red_shirt" in names(catalog, result)) is public
    assert ("beta" in counts(result.facets.sellers)) is public
    assert ("red_shirt" in names(catalog, run("seller=beta"))) is public


def test_price_filter_uses_the_sale_price(catalog):
    assert names(catalog, run("price_max=9.99")) == ["red_shirt"]
    assert names(catalog, run("price_min=10&price_max=24.99")) == ["blue_shirt"]
    result = run("price_min=10&price_max=24.99")
    assert [v.value for v in result.facets.prices if v.selected] == ["10-24.99"]
    # the price facet ignores its own filter: every bucket is still offered
    assert sum(v.count for v in result.facets.prices) == 5


def test_seller_rating_and_attribute_filters(catalog):
    assert sorted(names(catalog, run("seller=beta"))) == ["lamp", "red_shirt"]
    assert names(catalog, run("attr_waterproof=true")) == ["shoe"]
    shoe = catalog.products["shoe"]
    shoe.rating_avg = Decimal("4.50")
    shoe.save(update_fields=["rating_avg"])
    assert names(catalog, run("rating=4")) == ["shoe"]


def test_in_stock_filter_uses_inventory(catalog):
    from tests.factories.inventory import stock_with

    stock_with(variant=catalog.products["lamp"].variants.get(), on_hand=3)
    stock_with(variant=catalog.products["light"].variants.get(), on_hand=0)
    assert names(catalog, run("q=lamp&in_stock=1")) == ["lamp"]


def test_sorting_and_stable_pagination(catalog):
    by_price = names(catalog, run("sort=price_asc"))
    assert by_price == ["red_shirt", "blue_shirt", "lamp", "light", "shoe"]
    assert names(catalog, run("sort=price_desc"))[0] == "shoe"
    assert names(catalog, run("sort=newest")) == [
        "light",
        "lamp",
        "shoe",
        "red_shirt",
        "blue_shirt",
    ]
    pages = [names(catalog, run(f"sort=price_asc&page_size=2&page={n}")) for n in (1, 2, 3)]
    assert [p for page in pages for p in page] == by_price


def test_prefix_matching_while_typing(catalog):
    assert names(catalog, run("q=runn")) == ["shoe"]
    assert names(catalog, run("q=trail run")) == ["shoe"]


def test_sku_brand_category_and_attribute_values_are_searchable(catalog):
    assert "shoe" in names(catalog, run("q=Tra"))
    assert sorted(names(catalog, run("q=electronics"))) == ["lamp", "light"]
    assert sorted(names(catalog, run("q=red"))) == ["red_shirt", "shoe"]


def test_did_you_mean_when_nothing_matches(catalog, trigram):
    result = run("q=lampp")
    assert result.total == 0
    assert result.did_you_mean == "lamp"
    assert run("q=blue shrt").did_you_mean == "blue shirt"
    assert run("q=qqqqqq").did_you_mean is None


def test_without_pg_trgm_search_degrades_and_logs(catalog, monkeypatch, caplog):
    lookups_load = postgres._lookups_load
    monkeypatch.setattr(
        postgres, "_lookups_load", lambda: dataclasses.replace(lookups_load(), trigram=False)
    )
    with caplog.at_level(logging.INFO, logger="search"):
        result = run("q=lampp")
    assert result.total == 0 and result.did_you_mean is None
    assert "without typo tolerance" in caplog.text
    assert names(catalog, run("q=lamp")) == ["lamp", "light"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"blue shirt"', ["blue_shirt"]),
        ("blue & | ! shirt", ["blue_shirt"]),
        ("shirt:* <-> (linen", ["red_shirt"]),
        ("'; DROP TABLE catalog_product; --", []),
        ("shirt 👕🔥", ["blue_shirt", "red_shirt"]),
        ("👕", ["blue_shirt", "lamp", "light", "red_shirt", "shoe"]),
        ("x" * 10_000, []),
        ("shirt " * 2_000, ["blue_shirt", "red_shirt"]),
        ("\x00shirt", ["blue_shirt", "red_shirt"]),
    ],
)
def test_nasty_query_strings_are_handled_safely(catalog, text, expected):
    result = PostgresSearchBackend().search(query=SearchQuery(text=text))
    assert sorted(names(catalog, result)) == expected
    assert isinstance(PostgresSearchBackend().suggest(prefix=text, limit=5), list)


def test_suggest_offers_products_and_categories_for_a_prefix(catalog):
    suggestions = PostgresSearchBackend().suggest(prefix="shi", limit=5)
    labels = {(s.kind, s.label) for s in suggestions}
    assert ("product", "Blue Cotton Shirt") in labels
    assert ("category", "Shirts") in labels
    assert all("Archived" not in s.label and "Suspended" not in s.label for s in suggestions)


def test_broad_queries_estimate_from_a_sample_and_say_so(catalog, monkeypatch, api_client):
    """Past EXACT_LIMIT base matches, facets and total come from a random page sample
    and are flagged for the faces; a filtered set small enough is still counted exactly."""
    exact = run("")
    assert exact.total == 5 and not exact.total_is_estimate and not exact.facets.sampled
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 3)
    # a sampled total under BROAD_FACTOR x the limit is counted (`_counted_sorted_ids`)
    monkeypatch.setattr(postgres, "BROAD_FACTOR", 1)
    # the "sample" is (almost) the whole one-page table, so estimates equal the truth
    monkeypatch.setattr(postgres, "_sample_share", lambda: 0.999999)
    with CaptureQueriesContext(connection) as ctx:
        broad = run("")
    assert broad.total == 5 and broad.total_is_estimate and broad.facets.sampled
    # the exact attempt already found more than EXACT_LIMIT rows and no filter narrows them:
    # neither the sample nor a bounded count runs a second time
    assert sum(q["sql"].startswith("WITH m AS") for q in ctx.captured_queries) == 2
    assert not [q for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT")]
    assert {v.value: v.count for v in broad.facets.sellers} == {"alpha": 3, "beta": 2}
    assert len(broad.product_ids) == 5
    body = api_client.get("/api/v1/search/").json()
    assert body["count"] == 5 and body["count_is_estimate"] and body["facets_sampled"]
    narrowed = run("seller=beta")
    assert narrowed.total == 2 and not narrowed.total_is_estimate and narrowed.facets.sampled


def test_facets_take_one_statement_whatever_the_filters(catalog, django_assert_num_queries):
    """Counts for every facet come from one query over the matching set (no per-facet pass,
    no attribute value join), plus one query of the small tables every search reads (approved
    sellers, categories, facet attributes and their choices) and the table's size. When it
    counted every match exactly, the same statement also ordered the page of a text search:
    no second pass. The category and the chosen seller are looked up (the subtree's ids are
    read from the lookups' tree); a facet attribute's chosen value is not. (One of a text
    search's queries expands the prefix into lexemes.)"""
    with django_assert_num_queries(6):
        run("q=shirt&attr_colour=red&seller=beta&category=shirts&price_max=50")
    for sort, queries in (("", 4), ("price_asc", 4), ("price_desc", 4)):
        with django_assert_num_queries(queries):
            run(f"q=shirt&sort={sort}")
    with django_assert_num_queries(4):
        run("")


def test_a_results_page_takes_the_same_statements_however_many_products_it_shows(
    catalog, django_assert_num_queries
):
    """The search and the page's products (prices, seller, category, first image: one
    statement) take a fixed number of queries, whether the page shows two products or 24."""
    from search.pages import search_products_load

    def page() -> list[Product]:
        query = listing_query_parse(params=QueryDict("q=shirt"), page_size=24)
        return search_products_load(result=PostgresSearchBackend().search(query=query))

    with django_assert_num_queries(5):
        assert len(page()) == 2
    for n in range(30):
        ProductVariantFactory(
            product=ProductFactory(name=f"Extra Shirt {n}", seller=catalog.sellers["alpha"])
        )
    search_index_refresh(product_ids=list(Product.objects.values_list("pk", flat=True)))
    with django_assert_num_queries(5):
        assert len(page()) == 24


@pytest.mark.parametrize("sort", ["price_asc", "price_desc"])
def test_price_sorted_text_search_pages_match_the_full_sort_whatever_the_estimates(
    catalog, monkeypatch, sort
):
    """A price-sorted text search over sampled counts fetches the matches below (above) a
    price bound first and widens it until the page is full: pages are the full sort's pages,
    also when the sampled counts put the matches in the wrong price bucket."""
    everything = names(catalog, run(f"q=clothing&sort={sort}"))
    by_price = ["red_shirt", "blue_shirt", "shoe"]  # 8.00 on sale, 20.00, 120.00
    assert everything == (by_price if sort == "price_asc" else by_price[::-1])
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 2)
    monkeypatch.setattr(postgres, "_sample_share", lambda: 0.999999)
    monkeypatch.setattr(postgres, "PRICE_BOUND_FACTOR", 1)
    assert run(f"q=clothing&sort={sort}").facets.sampled
    paged = [names(catalog, run(f"q=clothing&sort={sort}&page_size=1&page={n}")) for n in (1, 2, 3)]
    assert [p for page in paged for p in page] == everything
    # samples that put every match in the cheapest (dearest) bucket, or at one price far
    # below (above) every real one: the bounds widen until the page is full
    edge = 0 if sort == "price_asc" else len(PRICE_BUCKETS) - 1
    far = [Decimal("1.00" if sort == "price_asc" else "9999.00")] * 3
    lies = [
        postgres._PriceHint({edge: 3}, [], [], 0.999999),
        postgres._PriceHint({edge: 3}, far, far, 0.999999),
    ]
    facets_and_total = PostgresSearchBackend._facets_and_total

    def lie(self, query):
        return dataclasses.replace(facets_and_total(self, query), price_hint=lies[0])

    monkeypatch.setattr(PostgresSearchBackend, "_facets_and_total", lie)
    for _ in range(2):
        paged = [
            names(catalog, run(f"q=clothing&sort={sort}&page_size=1&page={n}")) for n in (1, 2, 3)
        ]
        assert [p for page in paged for p in page] == everything
        lies.pop(0)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["shoe", "red_shirt", "blue_shirt"]),  # without text, best match is newest
        ("newest", ["shoe", "red_shirt", "blue_shirt"]),
        ("price_asc", ["red_shirt", "blue_shirt", "shoe"]),
    ],
)
def test_category_listing_merges_its_categories_in_order_page_by_page(catalog, sort, expected):
    """Without text, a category's pages merge one ordered walk per category of the subtree
    (shirts and shoes here); the hidden shirts never appear."""
    assert names(catalog, run(f"category=clothing&sort={sort}")) == expected
    paged = [
        names(catalog, run(f"category=clothing&sort={sort}&page_size=1&page={n}"))
        for n in (1, 2, 3, 4)
    ]
    assert paged == [[n] for n in expected] + [[]]


def test_a_known_word_that_filters_empty_needs_no_trigram_search(catalog, trigram):
    """ "Did you mean" has nothing to offer for a word product names carry (the filters emptied
    the results): it is answered from the autocomplete table, not a trigram scan of names."""
    with CaptureQueriesContext(connection) as ctx:
        result = run("q=shirt&category=electronics")
    assert result.total == 0 and result.did_you_mean is None
    assert not [q for q in ctx.captured_queries if "similarity" in q["sql"]]


@pytest.mark.parametrize("sort", ["", "price_asc", "price_desc"])
def test_a_bounded_count_also_orders_the_page(catalog, monkeypatch, sort):
    """When sampled counts are too small to trust, the bounded count fetches the matches with
    their rank and price, and the page is ordered from those rows: same page as the page's
    own statement, one pass over the matches instead of two."""
    query = f"q=clothing&seller=alpha&sort={sort}"
    expected = names(catalog, run(query))
    assert sorted(expected) == ["blue_shirt", "shoe"]
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 2)
    monkeypatch.setattr(postgres, "_sample_share", lambda: 0.999999)
    with CaptureQueriesContext(connection) as ctx:
        result = run(query)
    assert result.facets.sampled and result.total == 2 and not result.total_is_estimate
    assert names(catalog, result) == expected
    fetches = [q["sql"] for q in ctx.captured_queries if "@@" in q["sql"]]
    # the sample and the exact attempt of the facet statement, then the bounded count only
    assert [sql.startswith("WITH m AS") for sql in fetches] == [True, True, False]
    # the exact attempt, which overflows, ranks its page; the sample puts the filtered
    # matches at the limit, so the bounded count reads their rank with them
    ranks = ["ts_rank_cd" in q["sql"] for q in ctx.captured_queries]
    relevance = sort == ""
    assert [("ts_rank_cd" in sql) for sql in fetches] == [False, relevance, relevance]
    assert sum(ranks) == (2 if relevance else 0)


def test_a_bounded_count_the_sample_puts_past_the_limit_ranks_only_what_fits(catalog):
    """Where the sample puts the filtered matches past EXACT_LIMIT, the bounded count reads
    no rank; if they fit after all, their rank comes by id in a second statement, the same
    as read inline."""
    query = listing_query_parse(params=QueryDict("q=clothing&seller=alpha"), page_size=24)
    inline = PostgresSearchBackend()._bounded_matches(query, likely_all=True)
    with CaptureQueriesContext(connection) as ctx:
        by_id = PostgresSearchBackend()._bounded_matches(query, likely_all=False)
    statements = [q["sql"] for q in ctx.captured_queries if "SELECT" in q["sql"]]
    assert ["ts_rank_cd" in sql for sql in statements][-2:] == [False, True]
    assert sorted((m.id, m.keys["rank"]) for m in by_id) == sorted(
        (m.id, m.keys["rank"]) for m in inline
    )
    assert len(inline) == 2


def test_a_bounded_count_past_the_limit_ranks_nothing(catalog, monkeypatch):
    """A bounded count that finds more than EXACT_LIMIT matches leaves the page to the
    popularity walk, which ranks its pool: ranking the count's rows too would be wasted."""
    expected = run("q=clothing&seller=alpha")
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 1)  # 2 matches: the count overflows
    monkeypatch.setattr(postgres, "_sample_share", lambda: 0.999999)
    with CaptureQueriesContext(connection) as ctx:
        result = run("q=clothing&seller=alpha")
    assert result.product_ids == expected.product_ids
    ranked = [q["sql"] for q in ctx.captured_queries if "ts_rank_cd" in q["sql"]]
    assert len(ranked) == 1 and ranked[0].startswith("WITH c AS")  # the walk's


def test_filtered_matches_the_sample_puts_well_past_the_limit_are_not_counted(catalog, monkeypatch):
    """Where the sample puts the filtered matches past OVERFLOW_FACTOR x EXACT_LIMIT, a bounded
    count would overflow (as the exact attempt would): it does not run, the total stays the
    estimate and the popularity walk orders the same page."""
    expected = run("q=clothing&seller=alpha")
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 1)  # 2 matches: twice the limit
    monkeypatch.setattr(postgres, "_sample_share", lambda: 0.999999)
    fetches = []
    for overflow, bounded_counts in ((2, 1), (1, 0)):  # at, then past, the overflow factor
        monkeypatch.setattr(postgres, "OVERFLOW_FACTOR", overflow)
        with CaptureQueriesContext(connection) as ctx:
            result = run("q=clothing&seller=alpha")
        assert result.product_ids == expected.product_ids
        assert (result.total, result.total_is_estimate) == (2, True)
        fetches = [q["sql"] for q in ctx.captured_queries if "@@" in q["sql"]]
        assert sum(not sql.startswith("WITH") for sql in fetches) == bounded_counts
    assert [sql[:9] for sql in fetches] == ["WITH m AS", "WITH c AS"]  # the sample, the walk


def test_a_text_search_leaves_the_callers_planner_settings_as_they_were(catalog):
    """The popularity walk fetches matches with the scan settings (`sqlcompile.match_scan`);
    inside the caller's transaction they end with it."""
    names = ["enable_seqscan", "enable_indexscan", "work_mem", "max_parallel_workers_per_gather"]
    query = "SELECT name, setting FROM pg_settings WHERE name = ANY(%s) ORDER BY name"
    with connection.cursor() as cursor:
        cursor.execute(query, [names])
        before = cursor.fetchall()
        result = run("q=shirt&sort=popular")
        cursor.execute(query, [names])
        assert result.total == 2 and cursor.fetchall() == before


def _matching_ids(tsquery) -> set[int]:
    return set(Product.objects.filter(search_vector=tsquery).values_list("id", flat=True))


@pytest.mark.parametrize(
    "text", ["s", "sh", "shi", "shirt", "trail ru", "sku", "sku-red", "red the", "the", "zzz"]
)
def test_the_expanded_prefix_matches_exactly_what_the_prefix_matches(catalog, text):
    terms = search_terms(text)
    assert _matching_ids(postgres.text_tsquery(terms)) == _matching_ids(postgres._tsquery(terms))


def test_a_prefix_is_expanded_into_the_lexemes_it_matches_when_they_are_few(catalog, monkeypatch):
    assert postgres._prefix_lexemes("shi") == ["shirt"]  # recorded by the rebuild
    # hyphenated SKUs are lexemes of their own, kept whole by the literal tsquery
    assert "sku-red-linen-shirt" in postgres._prefix_lexemes("sku")
    assert postgres._prefix_lexemes("the") is None  # a stop word
    assert postgres._prefix_lexemes("zzz") is None  # nothing starts with it
    monkeypatch.setattr(postgres, "PREFIX_EXPANSION_LIMIT", 1)
    assert postgres._prefix_lexemes("sh") is None  # too many: the prefix stays
    assert sorted(names(catalog, run("q=sh"))) == ["blue_shirt", "red_shirt", "shoe"]


@pytest.mark.parametrize("lexeme", ["it's", "back\\slash", "a-b", "naïve", "x:y & z"])
def test_a_lexeme_goes_into_the_tsquery_as_it_is(lexeme):
    literal = postgres._tsquery_lexeme(lexeme)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_to_tsvector(ARRAY[%s]) @@ %s::tsquery, "
            "array_to_tsvector(ARRAY['other']) @@ %s::tsquery",
            [lexeme, literal, literal],
        )
        assert cursor.fetchone() == (True, False)


def test_a_refreshed_products_new_words_are_found_by_their_prefix_at_once(catalog):
    """The refresh records the lexemes of the vectors it writes: without them 'zeph' would
    expand to the older product's 'zephyr' alone and miss the new 'zephyrine'."""
    older = ProductFactory(name="Zephyr Fan", category=catalog.categories["electronics"])
    ProductVariantFactory(product=older)
    search_index_refresh(product_ids=[older.pk])
    newer = ProductFactory(name="Zephyrine Lamp", category=catalog.categories["electronics"])
    ProductVariantFactory(product=newer)
    search_index_refresh(product_ids=[newer.pk])
    assert set(run("q=zeph").product_ids) == {older.pk, newer.pk}
    assert postgres._prefix_lexemes("zeph") == ["zephyr", "zephyrin"]


def test_the_lexeme_table_is_rebuilt_from_the_stored_vectors(catalog):
    SearchLexeme.objects.all().delete()
    assert postgres._prefix_lexemes("shi") is None
    assert search_lexemes_rebuild() > 10
    assert postgres._prefix_lexemes("shi") == ["shirt"]
    assert search_lexemes_rebuild() == 0  # nothing missing


def _key_lexemes(product_id: int) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array(SELECT l FROM unnest(tsvector_to_array(search_vector)) l "
            "WHERE starts_with(l, '~')) FROM catalog_product WHERE id = %s",
            [product_id],
        )
        return set(cursor.fetchone()[0])


def test_every_vector_carries_its_popularity_levels_and_its_price_band(catalog):
    Product.objects.filter(pk=catalog.products["lamp"].pk).update(popularity_tier=7)
    search_index_rebuild()
    for key, product in catalog.products.items():
        product.refresh_from_db()
        expected = {f"~c{j}" for j in range(product.popularity_tier, keys.POPULARITY_LEVELS)}
        if product.search_price_min is not None:
            expected.add(f"~p{keys.price_band(product.search_price_min)}")
        assert _key_lexemes(product.pk) == expected, key
    assert {"~c7", "~c8", "~c9"} < _key_lexemes(catalog.products["lamp"].pk)
    # the red shirt's band is the one of its sale price (8.00), not its list price (40.00)
    red = catalog.products["red_shirt"].pk
    sale, listed = keys.price_band(Decimal("8.00")), keys.price_band(Decimal("40.00"))
    assert sale == 3 * keys.PRICE_BANDS_PER_DOUBLING and listed > sale
    assert f"~p{sale}" in _key_lexemes(red) and f"~p{listed}" not in _key_lexemes(red)
    # a product without a price carries no band; a new one is in the less popular half
    unpriced = ProductFactory(name="Unpriced", seller=catalog.sellers["alpha"])
    search_index_refresh(product_ids=[unpriced.pk])
    assert _key_lexemes(unpriced.pk) == set()


@pytest.mark.parametrize(
    "price",
    [
        *("0.01", "0.99", "1.00", "1.99", "2.00", "3.99", "4.00", "7.99", "8.00", "9.99"),
        *("63.99", "64.00", "100.00", "1023.99", "1024.00", "131071.99", "131072.00"),
        *("1048575.99", "1048576.00", "99999999.99"),
    ],
)
def test_python_and_postgresql_put_a_price_in_the_same_band(catalog, price):
    """A price-sorted page ORs exactly the bands Python computes for its bound."""
    from django.db.models import Value

    (vector,) = (
        Product.objects.filter(pk=catalog.products["lamp"].pk)
        .annotate(keys=keys.KeyLexemes(Value(Decimal(price)), Value(keys.POPULARITY_LEVELS)))
        .values_list("keys", flat=True)
    )
    assert f"'~p{keys.price_band(Decimal(price))}'" in vector


def test_python_and_postgresql_agree_on_the_band_of_every_cent_up_to_2000(db):
    """Every band edge below $2,000 (2 ** (n / PRICE_BANDS_PER_DOUBLING), mostly irrational)
    falls between the same two cents in PostgreSQL's numeric log as in Python's float one."""
    bands = keys.key_lexemes_sql(price="(c::numeric / 100)::numeric(12, 2)", tier="10")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c, tsvector_to_array({bands}) FROM generate_series(1, 200000) c ORDER BY c"  # noqa: S608 - constant SQL
        )
        rows = cursor.fetchall()
    wrong = [
        (cents, lexemes)
        for cents, lexemes in rows
        if lexemes != [f"~p{keys.price_band(Decimal(cents) / 100)}"]
    ]
    assert len(rows) == 200_000 and not wrong[:5]


def _sampled_price_pages(monkeypatch, query_string: str) -> list[int]:
    """Pages of one product each through the bounded (sampled) price path."""
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 2)
    monkeypatch.setattr(postgres, "_sample_share", lambda: 0.999999)
    monkeypatch.setattr(postgres, "PRICE_BOUND_FACTOR", 1)
    pages = [run(f"{query_string}&page_size=1&page={n}").product_ids for n in (1, 2, 3)]
    return [pk for page in pages for pk in page]


def test_a_shoppers_filter_value_is_never_taken_for_a_compiled_statements_stand_in(
    catalog, monkeypatch
):
    """A price-sorted page and a category listing compile once and fill stand-ins per try;
    a fixed stand-in value could equal a number filter's value from the URL, whose slot was
    then overwritten (a fixed -1.17 bound stand-in let a product the filter excludes in)."""
    from tests.search.conftest import _product

    temp = AttributeFactory(name="Temp", slug="temp", type=AttributeType.NUMBER)
    for key in ("blue_shirt", "red_shirt", "shoe"):
        variant = catalog.products[key].variants.get()
        VariantAttributeValueFactory(variant=variant, attribute=temp, value_number=Decimal("-1.17"))
    intruder = _product(
        "Green Wool Shirt",
        category=catalog.categories["shirts"],
        seller=catalog.sellers["alpha"],
        price="25.00",
    )
    VariantAttributeValueFactory(
        variant=intruder.variants.get(), attribute=temp, value_number=Decimal("20")
    )
    search_index_rebuild()
    full = run("q=clothing&sort=price_desc&attr_temp=-1.17").product_ids
    assert intruder.pk not in full and len(full) == 3
    assert _sampled_price_pages(monkeypatch, "q=clothing&sort=price_desc&attr_temp=-1.17") == full
    with pytest.raises(ValueError):
        db.placeholder_slot([1, 2], 3)


def test_a_search_with_no_approved_seller_finds_nothing(catalog):
    Seller.objects.update(status=SellerStatus.SUSPENDED)
    result = run("q=shirt&sort=price_asc")
    assert result.total == 0 and result.product_ids == []


def _key_lexemes_strip(product_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_product SET search_vector = ts_delete(search_vector, ARRAY("
            "SELECT l FROM unnest(tsvector_to_array(search_vector)) l "
            "WHERE starts_with(l, '~'))) WHERE id = %s",
            [product_id],
        )


def test_the_key_lexemes_backfill_repairs_vectors_written_without_them(catalog, monkeypatch):
    """A vector without key lexemes (written by the release before migration 0010, during its
    deploy) is missing from bounded price pages; `search_reindex --keys` repairs it, and
    running it twice changes nothing."""
    vectors = dict(Product.objects.values_list("pk", "search_vector"))
    full = run("q=clothing&sort=price_asc").product_ids
    _key_lexemes_strip(catalog.products["red_shirt"].pk)
    with monkeypatch.context() as patched:
        assert _sampled_price_pages(patched, "q=clothing&sort=price_asc") != full
    call_command("search_reindex", "--keys", stdout=io.StringIO())
    call_command("search_reindex", "--keys", stdout=io.StringIO())
    assert dict(Product.objects.values_list("pk", "search_vector")) == vectors
    assert _sampled_price_pages(monkeypatch, "q=clothing&sort=price_asc") == full


@pytest.mark.parametrize(
    "query_string", ["q=shirt&attr_colour=red", "category=clothing&sort=price_desc", ""]
)
def test_a_query_without_facets_counts_only_the_total(catalog, monkeypatch, query_string):
    """The product API shows no facets: its query asks for none, and the statement counts the
    rows, the total and the price buckets (a price sort's hint) without grouping by category,
    seller or attribute value. The same ids and total as with facets, exact or sampled."""
    for broad in (False, True):
        if broad:
            monkeypatch.setattr(postgres, "EXACT_LIMIT", 1)
            monkeypatch.setattr(postgres, "_sample_share", lambda: 0.999999)
        query = listing_query_parse(params=QueryDict(query_string), page_size=24)
        with_facets = PostgresSearchBackend().search(query=query)
        with CaptureQueriesContext(connection) as ctx:
            bare = PostgresSearchBackend().search(query=dataclasses.replace(query, facets=False))
        assert (bare.product_ids, bare.total) == (with_facets.product_ids, with_facets.total)
        assert bare.total_is_estimate == with_facets.total_is_estimate
        assert bare.facets == Facets(sampled=with_facets.facets.sampled)
        statements = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("WITH m AS")]
        assert statements
        assert not [s for s in statements if "GROUP BY seller_id" in s or "unnest(" in s]


def test_a_base_set_the_sample_puts_well_past_the_exact_limit_skips_the_exact_attempt(
    catalog, monkeypatch
):
    """An exact attempt over a base set the sample estimates at more than OVERFLOW_FACTOR x
    EXACT_LIMIT would overflow and be thrown away: the sample's counts stand, and with no
    filter the total is the estimate. Nearer the limit the exact attempt still runs."""
    monkeypatch.setattr(postgres, "_sample_share", lambda: 0.999999)
    monkeypatch.setattr(postgres, "BROAD_FACTOR", 1)  # no count of the sampled total
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 2)  # 5 public products: 2.5 x the limit
    with CaptureQueriesContext(connection) as ctx:
        broad = run("")
    assert sum(q["sql"].startswith("WITH m AS") for q in ctx.captured_queries) == 1
    assert (broad.total, broad.total_is_estimate, broad.facets.sampled) == (5, True, True)
    assert len(broad.product_ids) == 5
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 3)  # 1.7 x: the exact attempt runs
    with CaptureQueriesContext(connection) as ctx:
        near = run("")
    assert sum(q["sql"].startswith("WITH m AS") for q in ctx.captured_queries) == 2
    assert near.product_ids == broad.product_ids and near.total == 5


def test_the_sample_holds_as_many_rows_in_a_table_with_free_space(catalog, monkeypatch):
    """The sample's share of the table is counted in rows: full-table UPDATEs (which leave the
    table more pages than its rows need until VACUUM reuses them) do not thin the sample."""
    monkeypatch.setattr(postgres, "SAMPLE_ROWS", 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")
        before = postgres._sample_share()
        cursor.execute("SELECT relpages FROM pg_class WHERE relname = 'catalog_product'")
        (pages_before,) = cursor.fetchone()
        for _ in range(3):  # wider rows, three versions each: pages fill with dead ones
            cursor.execute(
                "UPDATE catalog_product SET description = description || repeat(md5(id::text), 16)"
            )
        cursor.execute("ANALYZE catalog_product")
        cursor.execute("SELECT relpages FROM pg_class WHERE relname = 'catalog_product'")
        (pages_after,) = cursor.fetchone()
    assert pages_after > pages_before
    rows = Product.objects.count()
    assert before == postgres._sample_share() == pytest.approx(2 / rows)


@pytest.mark.parametrize("sort", ["relevance", "popular"])
def test_a_text_search_just_past_the_exact_limit_walks_every_match_once(catalog, monkeypatch, sort):
    """A relevance or best-selling search the sample puts just past EXACT_LIMIT (at most
    OVERFLOW_FACTOR x) and with no filter: one walk over every match orders the page and
    counts them, so the total is exact and no exact attempt is thrown away. When the walk
    finds them few after all, the exact attempt counts the facets."""
    exact = run(f"q=shirt&sort={sort}")
    monkeypatch.setattr(postgres, "_sample_share", lambda: 0.999999)
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 1)  # 'shirt': 2 public matches
    monkeypatch.setattr(postgres, "OVERFLOW_FACTOR", 3)  # 2 is 'just past' 1
    with CaptureQueriesContext(connection) as ctx:
        walked = run(f"q=shirt&sort={sort}")
    sql = [q["sql"] for q in ctx.captured_queries]
    assert sum(s.startswith("WITH m AS") for s in sql) == 1  # the sample, no exact attempt
    assert sum(s.startswith("WITH c AS") for s in sql) == 1  # one walk
    assert walked.product_ids == exact.product_ids
    assert (walked.total, walked.total_is_estimate, walked.facets.sampled) == (2, False, True)
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 2)  # the sample says 2.000002: just past
    with CaptureQueriesContext(connection) as ctx:
        few = run(f"q=shirt&sort={sort}")
    sql = [q["sql"] for q in ctx.captured_queries]
    assert sum(s.startswith("WITH m AS") for s in sql) == 2  # the sample, the exact attempt
    # the walk has ordered the page: only it ranks (the exact attempt counts)
    assert sum("ts_rank_cd" in s for s in sql) == (sort == "relevance")
    assert few.product_ids == exact.product_ids
    assert (few.total, few.total_is_estimate, few.facets.sampled) == (2, False, False)
    assert counts(few.facets.sellers) == counts(exact.facets.sellers) == {"alpha": 1, "beta": 1}


@pytest.mark.parametrize("sort", ["newest", "price_desc", "rating", "popular", "name"])
def test_a_filtered_list_without_words_the_sample_puts_under_the_limit_is_counted_and_sorted(
    catalog, monkeypatch, sort
):
    """A filtered list without words that the sample puts under BROAD_FACTOR x EXACT_LIMIT
    is fetched whole, counted and ordered in one statement rather than walked category by
    category (a walk reads on until a page passes the filters: whole categories when few
    do). Same ids as the walk, an exact total, and a page past the last still counts."""
    query_string = f"category=clothing&sort={sort}"
    walked = run(query_string)
    monkeypatch.setattr(postgres, "_sample_share", lambda: 0.999999)
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 2)  # 3 in clothing: over it, under 4 x
    with CaptureQueriesContext(connection) as ctx:
        counted = run(query_string)
    sql = [q["sql"] for q in ctx.captured_queries]
    assert not [s for s in sql if s.startswith("SELECT id FROM ((SELECT")]  # no walk
    assert len([s for s in sql if "COUNT(" in s.upper() and "OVER ()" in s]) == 1
    assert counted.product_ids == walked.product_ids and len(walked.product_ids) == 3
    assert (counted.total, counted.total_is_estimate) == (3, False)
    past = run(f"{query_string}&page=5")
    assert (past.product_ids, past.total, past.total_is_estimate) == ([], 3, False)


def test_a_sparse_filtered_list_without_words_is_counted_past_the_broad_limit(catalog, monkeypatch):
    """A list without words whose filters pass at most SPARSE_SHARE of its rows is counted
    and sorted in one statement up to COUNTED_LIMIT matches, even past BROAD_FACTOR x
    EXACT_LIMIT: its walk would read about 1 / share rows per row of the page in every
    category, and whole categories where none pass. Denser, or more, it is walked."""
    walked = run("price_min=100")  # the shoe: 1 of the 5 public products
    monkeypatch.setattr(postgres, "_sample_share", lambda: 0.999999)
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 1)
    monkeypatch.setattr(postgres, "BROAD_FACTOR", 1)  # 1 match is not under 1 x 1

    def statements() -> tuple[object, int, int]:
        with CaptureQueriesContext(connection) as ctx:
            result = run("price_min=100")
        sql = [q["sql"] for q in ctx.captured_queries]
        walks = sum(s.startswith("SELECT id FROM ((SELECT") for s in sql)
        return result, sum("OVER ()" in s for s in sql), walks

    counted, counts_, walks = statements()
    assert (counts_, walks) == (1, 0)
    assert counted.product_ids == walked.product_ids
    assert (counted.total, counted.total_is_estimate) == (1, False)
    monkeypatch.setattr(postgres, "COUNTED_LIMIT", 1)
    assert statements()[1:] == (0, 1)
    monkeypatch.setattr(postgres, "COUNTED_LIMIT", 32_000)
    monkeypatch.setattr(postgres, "SPARSE_SHARE", 0.1)  # 1 in 5 is not sparse
    assert statements()[1:] == (0, 1)


def test_the_bounded_count_rows_order_a_page_in_every_sort_but_name():
    """`_matches_ordered`: at most EXACT_LIMIT rows of the bounded count order the page by
    the sort's keys (NULLs last, then the id); a name sort is left to PostgreSQL's collation,
    and more rows than the limit are not every match."""
    from datetime import UTC, datetime

    from search.base import ProductSort, SearchQuery

    day = lambda d: datetime(2026, 12, d, tzinfo=UTC)  # noqa: E731
    rows = [
        postgres._Match(1, {"rank": None, "published_at": day(3), "popularity": 1.0}),
        postgres._Match(2, {"rank": None, "published_at": None, "popularity": 2.0}),
        postgres._Match(3, {"rank": None, "published_at": day(5), "popularity": 1.0}),
    ]
    newest = SearchQuery(text="lamp", sort=ProductSort.NEWEST)
    assert postgres._matches_ordered(newest, rows) == [3, 1, 2]
    popular = SearchQuery(text="lamp", sort=ProductSort.POPULAR)
    assert postgres._matches_ordered(popular, rows) == [2, 3, 1]
    assert postgres._matches_ordered(SearchQuery(text="lamp", sort=ProductSort.NAME), rows) is None
    assert postgres._matches_ordered(newest, rows * 800) is None  # over EXACT_LIMIT
