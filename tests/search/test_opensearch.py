"""OpenSearch cannot run on this machine. These tests drive the real opensearch-py client
(serialisation, transport, bulk helper, error mapping) with only the HTTP connection replaced:
it records each request and answers with JSON shaped like OpenSearch 2.x responses."""

from __future__ import annotations

import json
import logging

import pytest
from django.http import QueryDict
from opensearchpy import Urllib3HttpConnection
from opensearchpy.exceptions import ConnectionError as TransportConnectionError

from catalog.models import Product
from search import opensearch
from search.query import listing_query_parse
from search.services import listing_run, search_index_refresh
from tests.factories import CategoryFactory, ProductVariantFactory

pytestmark = pytest.mark.django_db


class FakeCluster:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict, object]] = []
        self.search_response: dict = {"hits": {"total": {"value": 0}, "hits": []}}
        self.down = False
        self.reject_bulk = False
        self.aliases: dict = {"shop-products-old": {"aliases": {"shop-products": {}}}}

    def answer(self, method: str, url: str, body: object) -> tuple[int, dict]:
        if url.endswith("/_bulk"):
            items = []
            for line in body:
                if "index" in line:
                    status = 400 if self.reject_bulk else 201
                    item = {"_index": line["index"]["_index"], "_id": line["index"]["_id"]}
                    item["status"] = status
                    if self.reject_bulk:
                        item["error"] = {"type": "mapper_parsing_exception", "reason": "bad"}
                    items.append({"index": item})
            return 200, {"took": 3, "errors": self.reject_bulk, "items": items}
        if url.endswith("/_search"):
            return 200, self.search_response
        if url.startswith("/_alias/") or "/_alias/" in url:
            return 200, self.aliases
        if url == "/_aliases":
            return 200, {"acknowledged": True}
        if url.startswith("/_cluster/health"):
            return 200, {"cluster_name": "test", "status": "green"}
        if method == "PUT":
            return 200, {"acknowledged": True, "index": url.strip("/")}
        return 200, {"acknowledged": True}


def _decode(body: bytes | None) -> object:
    if not body:
        return None
    text = body.decode()
    if text.count("\n") > 1 or text.endswith("\n"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


@pytest.fixture
def cluster(settings, monkeypatch) -> FakeCluster:
    fake = FakeCluster()

    class RecordingConnection(Urllib3HttpConnection):
        def perform_request(
            self, method, url, params=None, body=None, timeout=None, ignore=(), headers=None
        ):
            decoded = _decode(body)
            fake.requests.append((method, url, dict(params or {}), decoded))
            if fake.down:
                raise TransportConnectionError("N/A", "Connection refused", OSError(111))
            status, payload = fake.answer(method, url, decoded)
            raw = json.dumps(payload)
            if not 200 <= status < 300 and status not in ignore:
                self._raise_error(status, raw, "application/json")
            return status, {"content-type": "application/json"}, raw

    settings.OPENSEARCH_URL = "https://search.example.test:9200"
    settings.OPENSEARCH_USERNAME = "shop"
    settings.OPENSEARCH_PASSWORD = "secret"
    monkeypatch.setattr(opensearch, "CONNECTION_CLASS", RecordingConnection)
    return fake


def parse(query_string: str):
    return listing_query_parse(params=QueryDict(query_string), page_size=24)


def test_client_takes_url_auth_and_tls_from_settings(cluster):
    client = opensearch.opensearch_client()
    connection = client.transport.get_connection()
    assert connection.host == "https://search.example.test:9200"
    assert connection.use_ssl
    assert connection.headers["authorization"].startswith("Basic ")


def test_search_request_body(catalog, cluster):
    opensearch.OpenSearchBackend().search(
        query=parse("q=Blue shirt:*&attr_colour=red&seller=alpha&price_min=10&sort=price_asc")
    )
    ((method, url, _, body),) = cluster.requests
    assert (method, url) == ("POST", "/shop-products/_search")
    match = body["query"]["bool"]["must"][0]["multi_match"]
    assert match["query"] == "blue shirt"  # operators never reach the engine
    assert match["type"] == "bool_prefix" and match["operator"] == "and"
    assert match["fields"][0] == "name^8" and match["fuzziness"] == "AUTO"
    assert {"term": {"visible": True}} in body["query"]["bool"]["filter"]
    post = body["post_filter"]["bool"]["filter"]
    assert {"terms": {"seller": ["alpha"]}} in post
    assert {"range": {"price": {"gte": 10.0}}} in post
    # each facet aggregates under every filter but its own
    seller_filters = body["aggs"]["sellers"]["filter"]["bool"]["filter"]
    assert {"terms": {"seller": ["alpha"]}} not in seller_filters
    assert {"range": {"price": {"gte": 10.0}}} in seller_filters
    colour_filters = body["aggs"]["attr_colour"]["filter"]["bool"]["filter"]
    assert all("nested" not in c for c in colour_filters)
    assert body["sort"] == [
        {"price": {"order": "asc", "missing": "_last"}},
        {"id": {"order": "asc"}},
    ]
    assert body["suggest"]["did_you_mean"]["term"]["field"] == "name.plain"
    assert (body["from"], body["size"]) == (0, 24)


def test_a_sellers_own_page_asks_for_no_seller_aggregation(catalog, cluster, client):
    """A seller's page fixes its seller (`seller_fixed`): no facet offers other sellers."""
    assert client.get("/s/alpha/").status_code == 200
    assert client.get("/search/", {"seller": "alpha"}).status_code == 200
    bodies = [body for _, url, _, body in cluster.requests if url.endswith("/_search")]
    assert ["sellers" in body["aggs"] for body in bodies] == [False, True]


def test_the_product_api_asks_the_cluster_for_no_aggregations(catalog, cluster, api_client):
    """`/api/v1/products/` shows no facets: its request carries no `aggs`, the search API's
    does."""
    assert api_client.get("/api/v1/products/", {"q": "shirt"}).status_code == 200
    assert api_client.get("/api/v1/search/", {"q": "shirt"}).status_code == 200
    bodies = [body for _, url, _, body in cluster.requests if url.endswith("/_search")]
    assert ["aggs" in body for body in bodies] == [False, True]
    assert "post_filter" in bodies[0] and bodies[0]["query"] == bodies[1]["query"]


def test_relevance_is_blended_with_popularity_and_best_selling_sorts_by_it(catalog, cluster):
    """The same blend as PostgreSQL: the text score times ln(2 + popularity)."""
    backend = opensearch.OpenSearchBackend()
    backend.search(query=parse("q=shirt&seller=alpha"))
    backend.search(query=parse("q=shirt&sort=popular"))
    backend.search(query=parse("sort=popular"))
    relevance, popular_text, popular = (r[3] for r in cluster.requests)
    scored = relevance["query"]["function_score"]
    assert scored["field_value_factor"] == {
        "field": "popularity",
        "modifier": "ln2p",
        "missing": 0,
    }
    assert scored["boost_mode"] == "multiply"
    match = scored["query"]["bool"]["must"][0]["multi_match"]
    assert match["query"] == "shirt"
    assert {"term": {"visible": True}} in scored["query"]["bool"]["filter"]
    assert relevance["sort"] == [{"_score": {"order": "desc"}}, {"id": {"order": "desc"}}]
    # sorted by popularity, the text only matches: no scoring function
    assert "function_score" not in popular_text["query"]
    assert (
        popular_text["sort"]
        == popular["sort"]
        == [
            {"popularity": {"order": "desc"}},
            {"id": {"order": "desc"}},
        ]
    )


def test_search_response_is_parsed_into_ids_and_facets(catalog, cluster):
    blue, red = catalog.products["blue_shirt"], catalog.products["red_shirt"]
    clothing = catalog.categories["clothing"]
    cluster.search_response = {
        "took": 4,
        "timed_out": False,
        "hits": {
            "total": {"value": 2, "relation": "eq"},
            "max_score": None,
            "hits": [
                {"_index": "shop-products-1", "_id": str(red.pk), "_score": 3.1},
                {"_index": "shop-products-1", "_id": str(blue.pk), "_score": 2.2},
            ],
        },
        "aggregations": {
            "categories": {
                "doc_count": 2,
                "ids": {"buckets": [{"key": clothing.pk, "doc_count": 2}]},
            },
            "prices": {
                "doc_count": 2,
                "ranges": {
                    "buckets": {
                        "0": {"to": 10.0, "doc_count": 1},
                        "1": {"from": 10.0, "to": 25.0, "doc_count": 1},
                        "2": {"from": 25.0, "to": 50.0, "doc_count": 0},
                    }
                },
            },
            "sellers": {
                "doc_count": 2,
                "slugs": {
                    "buckets": [{"key": "alpha", "doc_count": 1}, {"key": "beta", "doc_count": 1}]
                },
            },
            "attributes": {
                "doc_count": 1,
                "nested": {
                    "doc_count": 1,
                    "slugs": {
                        "buckets": [
                            {
                                "key": "colour",
                                "doc_count": 1,
                                "values": {
                                    "buckets": [
                                        {"key": "red", "doc_count": 1, "products": {"doc_count": 1}}
                                    ]
                                },
                            }
                        ]
                    },
                },
            },
            "attr_colour": {
                "doc_count": 2,
                "nested": {
                    "doc_count": 2,
                    "only": {
                        "doc_count": 2,
                        "values": {
                            "buckets": [
                                {"key": "blue", "doc_count": 1, "products": {"doc_count": 1}},
                                {"key": "red", "doc_count": 1, "products": {"doc_count": 1}},
                            ]
                        },
                    },
                },
            },
        },
    }
    result = opensearch.OpenSearchBackend().search(query=parse("q=shirt&attr_colour=red"))
    assert result.engine == "opensearch"
    assert result.product_ids == [red.pk, blue.pk] and result.total == 2
    assert [(v.value, v.count) for v in result.facets.categories] == [("clothing", 2)]
    assert [(v.value, v.count) for v in result.facets.prices] == [("-9.99", 1), ("10-24.99", 1)]
    assert [(v.value, v.label, v.count) for v in result.facets.sellers] == [
        ("alpha", "Alpha", 1),
        ("beta", "Beta", 1),
    ]
    (colour,) = result.facets.attributes
    assert [(v.value, v.count, v.selected) for v in colour.values] == [
        ("blue", 1, False),
        ("red", 1, True),
    ]


def test_did_you_mean_comes_from_the_term_suggester(catalog, cluster):
    cluster.search_response = {
        "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []},
        "suggest": {
            "did_you_mean": [
                {
                    "text": "shrit",
                    "offset": 0,
                    "length": 5,
                    "options": [{"text": "shirt", "score": 0.8, "freq": 2}],
                }
            ]
        },
    }
    result = opensearch.OpenSearchBackend().search(query=parse("q=shrit"))
    assert result.total == 0 and result.did_you_mean == "shirt"


def test_unreachable_cluster_falls_back_to_postgres_and_says_so(catalog, cluster, caplog, client):
    cluster.down = True
    with caplog.at_level(logging.WARNING, logger="search"):
        result = listing_run(query=parse("q=lamp"))
    assert result.engine == "postgres"
    assert result.product_ids == [catalog.products["lamp"].pk, catalog.products["light"].pk]
    assert "OpenSearch unavailable" in caplog.text
    body = client.get("/readyz").json()
    assert body["checks"]["search"].startswith("degraded: OpenSearch unreachable")


def test_readyz_reports_a_healthy_cluster(cluster, client):
    assert client.get("/readyz").json()["checks"]["search"] == "ok: opensearch green"


def test_health_sends_the_cluster_timeout_as_a_query_parameter(cluster):
    """opensearch-py takes a bare `timeout` for its own socket timeout, where "2s" is no number
    and every health check failed (found by the contract tier, test_opensearch_contract.py)."""
    assert opensearch.opensearch_health() == "ok: opensearch green"
    ((method, url, params, _),) = cluster.requests
    assert (method, url, params) == ("GET", "/_cluster/health/shop-products", {"timeout": "2s"})


def test_bulk_indexing_sends_documents_after_the_database_refresh(catalog, cluster):
    ids = [p.pk for p in catalog.products.values()]
    search_index_refresh(product_ids=ids)
    bulk = [r for r in cluster.requests if r[1] == "/_bulk"]
    assert len(bulk) == 1
    lines = bulk[0][3]
    docs = {line["id"]: line for line in lines[1::2]}
    actions = lines[0::2]
    assert all(a["index"]["_index"] == "shop-products" for a in actions)
    red = docs[catalog.products["red_shirt"].pk]
    assert red["price"] == 8.0  # the running sale price
    assert red["popularity"] == 0.0  # until the popularity refresh scores it
    assert red["visible"] is True and red["seller"] == "beta"
    assert red["attributes"] == [{"slug": "colour", "value": "red"}]
    clothing, shirts = catalog.categories["clothing"], catalog.categories["shirts"]
    assert red["category_ids"] == [clothing.pk, shirts.pk]
    assert red["category_names"] == "Clothing Shirts"
    assert red["skus"] == ["SKU-RED-LINEN-SHIRT"]
    assert docs[catalog.products["archived"].pk]["visible"] is False
    assert docs[catalog.products["suspended"].pk]["visible"] is False
    shoe = docs[catalog.products["shoe"].pk]
    assert {"slug": "waterproof", "value": "true"} in shoe["attributes"]


def test_the_document_and_the_vector_name_the_same_categories_three_deep(cluster):
    """A product in Home > Kitchen > Knives: its document's category ids are the path's, root
    first, and its category names are the ones the PostgreSQL vector finds it by; a sibling
    category's name is in neither."""
    from search.postgres import PostgresSearchBackend

    home = CategoryFactory(name="Home")
    kitchen = CategoryFactory(name="Kitchen", parent=home)
    knives = CategoryFactory(name="Knives", parent=kitchen)
    CategoryFactory(name="Lighting", parent=home)
    product = ProductVariantFactory(product__name="Santoku", product__category=knives).product
    search_index_refresh(product_ids=[product.pk])
    (bulk,) = [r[3] for r in cluster.requests if r[1] == "/_bulk"]
    document = bulk[1]
    assert document["category_ids"] == [home.pk, kitchen.pk, knives.pk]
    assert document["category_names"] == "Home Kitchen Knives"

    for name in ("Home", "Kitchen", "Knives", "Lighting"):
        ids = PostgresSearchBackend().search(query=parse(f"q={name}")).product_ids
        assert (ids == [product.pk]) is (name in document["category_names"].split()), name


def test_rejected_documents_leave_products_dirty_for_the_sweep(catalog, cluster):
    cluster.reject_bulk = True
    lamp = catalog.products["lamp"]
    search_index_refresh(product_ids=[lamp.pk])
    assert Product.objects.get(pk=lamp.pk).search_dirty is True


def test_reindex_builds_a_new_index_and_swaps_the_alias(catalog, cluster):
    progress: list[tuple[int, int]] = []
    new_index = opensearch.opensearch_reindex(progress=lambda d, t: progress.append((d, t)))
    calls = [(m, u) for m, u, _, _ in cluster.requests]
    create = cluster.requests[0]
    assert create[:2] == ("PUT", f"/{new_index}")
    assert create[3]["mappings"]["properties"]["attributes"]["type"] == "nested"
    assert create[3]["mappings"]["properties"]["popularity"] == {"type": "float"}
    autocomplete = create[3]["settings"]["analysis"]["filter"]["autocomplete_edge"]
    assert autocomplete["type"] == "edge_ngram"
    assert ("POST", "/_bulk") in calls
    assert ("POST", f"/{new_index}/_refresh") in calls
    swap = next(body for m, u, _, body in cluster.requests if u == "/_aliases")
    assert swap["actions"] == [
        {"remove": {"index": "shop-products-old", "alias": "shop-products"}},
        {"add": {"index": new_index, "alias": "shop-products"}},
    ]
    # the old index is deleted only after the alias points at the new one
    assert calls.index(("DELETE", "/shop-products-old")) > calls.index(("POST", "/_aliases"))
    assert progress[-1] == (8, 8)


def test_suggest_queries_the_edge_ngram_field(catalog, cluster):
    cluster.search_response = {
        "hits": {
            "total": {"value": 1, "relation": "eq"},
            "hits": [
                {"_id": "1", "_source": {"name": "Blue Cotton Shirt", "slug": "blue-cotton"}},
                {"_id": "2", "_source": {"name": "Blue Cotton Shirt", "slug": "blue-cotton-2"}},
            ],
        }
    }
    suggestions = opensearch.OpenSearchBackend().suggest(prefix="shi", limit=5)
    body = cluster.requests[0][3]
    assert body["query"]["bool"]["must"][0]["match"]["name.autocomplete"]["query"] == "shi"
    assert [(s.kind, s.label) for s in suggestions] == [
        ("product", "Blue Cotton Shirt"),
        ("category", "Shirts"),
    ]


def test_a_popularity_change_leaves_the_document_dirty_for_the_sweep(catalog, cluster):
    """The document carries the score: a product whose score moved is reindexed by the
    dirty sweep."""
    from search.popularity import product_popularity_refresh

    Product.objects.update(search_dirty=False)
    lamp = catalog.products["lamp"]
    Product.objects.filter(pk=lamp.pk).update(rating_avg=5, rating_count=50)
    assert product_popularity_refresh() > 0
    assert Product.objects.get(pk=lamp.pk).search_dirty is True
    Product.objects.update(search_dirty=False)
    assert product_popularity_refresh() == 0
    assert not Product.objects.filter(search_dirty=True).exists()
