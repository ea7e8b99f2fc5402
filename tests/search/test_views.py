from __future__ import annotations

import pytest
from django.utils.html import escape

from search import postgres

pytestmark = pytest.mark.django_db


def test_results_page_lists_matches_with_a_facet_sidebar(client, catalog):
    response = client.get("/search/", {"q": "shirt"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Blue Cotton Shirt" in html and "Red Linen Shirt" in html
    assert "Blue Archived Shirt" not in html and "Blue Suspended Shirt" not in html
    # the sidebar is a plain GET form with counts: usable without JavaScript
    assert 'name="attr_colour" value="red"' in html
    assert 'name="seller" value="alpha"' in html
    assert "(2)" in html  # Clothing
    assert 'href="?q=shirt&amp;price_min=10&amp;price_max=24.99"' in html


def test_an_unknown_or_suspended_seller_in_the_url_finds_nothing_and_offers_the_others(
    client, catalog
):
    """A seller slug no seller has (an old link, a typo) or a suspended seller's: no
    results, and the seller facet still offers the sellers that have some (it was a 500)."""
    for slug in ("nobody", "gamma"):
        response = client.get("/search/", {"q": "shirt", "seller": slug})
        assert response.status_code == 200
        html = response.content.decode()
        assert "Blue Cotton Shirt" not in html.split('aria-label="Search results"')[1]
        assert 'name="seller" value="alpha"' in html and 'name="seller" value="beta"' in html


def test_a_selected_facet_value_stays_checked_and_its_siblings_stay(client, catalog):
    html = client.get("/search/", {"q": "shirt", "attr_colour": "red"}).content.decode()
    assert 'value="red" checked' in html
    assert 'name="attr_colour" value="blue"' in html
    assert "Blue Cotton Shirt" not in html.split('aria-label="Search results"')[1]


def test_malformed_filter_renders_400_with_the_message(client, catalog):
    response = client.get("/search/", {"q": "shirt", "price_min": "cheap"})
    assert response.status_code == 400
    assert "Enter a number." in response.content.decode()


def test_did_you_mean_links_to_the_corrected_query(client, catalog):
    if not postgres.trigram_available():
        pytest.skip("pg_trgm is not installed in this PostgreSQL (the embedded server lacks it)")
    html = client.get("/search/", {"q": "lampp"}).content.decode()
    assert "Did you mean" in html and "?q=lamp" in html


def test_query_text_is_escaped(client, catalog):
    nasty = '<script>alert("x")</script>'
    html = client.get("/search/", {"q": nasty}).content.decode()
    assert nasty not in html
    assert escape(nasty) in html


def test_header_search_box_is_on_every_storefront_page(client, catalog):
    html = client.get("/").content.decode()
    assert 'action="/search/"' in html and 'name="q"' in html
    assert "js/search.js" in html


def test_results_page_query_count_does_not_grow_with_rows(
    client, catalog, django_assert_max_num_queries
):
    from search.services import search_index_rebuild
    from tests.factories import ProductFactory, ProductVariantFactory

    with django_assert_max_num_queries(30) as few:
        client.get("/search/", {"q": "shirt"})
    for i in range(10):
        ProductVariantFactory(
            product=ProductFactory(name=f"Extra Shirt {i}", seller=catalog.sellers["alpha"])
        )
    search_index_rebuild()
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get("/search/", {"q": "shirt"})
    assert "Extra Shirt 9" in response.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
