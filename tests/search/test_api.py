from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_search_returns_products_facets_and_paging(api_client, catalog):
    response = api_client.get("/api/v1/search/", {"q": "shirt", "sort": "price_asc"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["engine"] == "postgres"
    assert [r["name"] for r in body["results"]] == ["Red Linen Shirt", "Blue Cotton Shirt"]
    # the price shown is what the shopper pays: the running sale
    assert body["results"][0]["price_from"] == "8.00"
    assert body["results"][0]["price_was"] == "40.00"
    assert {v["value"]: v["count"] for v in body["facets"]["sellers"]} == {"alpha": 1, "beta": 1}
    assert set(body["facets"]) == {"categories", "prices", "sellers", "attributes"}
    # the same names as a product card of /api/v1/products/, and the same paging links
    listed = api_client.get("/api/v1/products/").json()["results"][0]
    assert set(listed) <= set(body["results"][0])
    assert body["previous"] is None and body["next"] is None
    paged = api_client.get("/api/v1/search/", {"q": "shirt", "page_size": 1}).json()
    assert "page=2" in paged["next"] and paged["previous"] is None
    second = api_client.get(paged["next"]).json()
    assert second["next"] is None and second["previous"] is not None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"price_min": "abc"}, "price_min"),
        ({"price_min": "5", "price_max": "1"}, "price_max"),
        ({"price_max": "NaN"}, "price_max"),
        ({"sort": "cheapest"}, "sort"),
        ({"rating": "9"}, "rating"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page_size": "1000"}, "page_size"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"attr_screen_min": "big"}, "attr_screen_min"),
    ],
)
def test_malformed_filters_get_400_with_the_error_shape(api_client, catalog, params, field):
    response = api_client.get("/api/v1/search/", params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"]
    assert field in body["fields"] and body["fields"][field]


def test_unknown_category_is_404_with_the_error_shape(api_client, catalog):
    response = api_client.get("/api/v1/search/", {"category": "nope"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_hidden_products_are_not_in_the_api(api_client, catalog):
    body = api_client.get("/api/v1/search/", {"q": "blue", "page_size": "100"}).json()
    assert [r["name"] for r in body["results"]] == ["Blue Cotton Shirt"]


def test_suggest_gives_products_and_categories_with_urls(api_client, catalog):
    response = api_client.get("/api/v1/search/suggest/", {"q": "shi"})
    assert response.status_code == 200
    suggestions = response.json()["suggestions"]
    assert {"kind": "category", "label": "Shirts", "slug": "shirts", "url": "/c/shirts/"} in (
        suggestions
    )
    assert any(s["kind"] == "product" and s["url"].startswith("/p/") for s in suggestions)


@pytest.mark.parametrize("prefix", ["", "a", "x" * 101])
def test_suggest_refuses_a_prefix_of_the_wrong_length(api_client, catalog, prefix):
    response = api_client.get("/api/v1/search/suggest/", {"q": prefix})
    assert response.status_code == 400
    assert response.json()["fields"]["q"]


@pytest.mark.parametrize("text", ['"shirt', "shirt | lamp", "🔥" * 50, "y" * 10_000, "%_\\"])
def test_nasty_queries_through_the_api(api_client, catalog, text):
    response = api_client.get("/api/v1/search/", {"q": text})
    assert response.status_code == 200
    assert response.json()["count"] == len(response.json()["results"])


def test_search_is_in_the_openapi_schema(api_client):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    assert "/api/v1/search/" in schema["paths"]
    assert "/api/v1/search/suggest/" in schema["paths"]
    parameters = {p["name"] for p in schema["paths"]["/api/v1/search/"]["get"]["parameters"]}
    assert {"q", "price_min", "category", "sort", "in_stock"} <= parameters
