"""OpenSearch engine (opensearch-py), used when OPENSEARCH_URL is set.

Products live in an index reached through the alias `<OPENSEARCH_INDEX_PREFIX>-products`;
`opensearch_reindex` builds a fresh index and swaps the alias atomically, so searches never see
a half-built index. Any transport failure raises `SearchUnavailable` and the caller answers
from PostgreSQL. Results are only ids: the faces load them through the public selectors, so a
document that lags behind a suspension or an archive still never shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from opensearchpy import OpenSearch, Urllib3HttpConnection, helpers
from opensearchpy.exceptions import OpenSearchException

from catalog.models import (
    Attribute,
    AttributeType,
    Category,
    Product,
    VariantAttributeValue,
    category_path_ids,
)
from catalog.selectors import (
    AttributeFilter,
    category_names_with_ancestors,
    product_id_batches,
    product_queryset_public,
    variant_queryset_active,
)
from search.base import (
    PRICE_BUCKETS,
    SORT_KEYS,
    AttributeFacet,
    Facets,
    FacetValue,
    ProductSort,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    Suggestion,
    price_facet,
    search_terms,
)
from sellers.models import Seller

logger = logging.getLogger("search")

BULK_CHUNK = 1000
# Replaced in tests by a connection that records requests and answers recorded-shaped JSON.
CONNECTION_CLASS: type = Urllib3HttpConnection

INDEX_SETTINGS: dict[str, Any] = {
    "settings": {
        "number_of_shards": 1,
        "number_of_replicas": 1,
        "analysis": {
            "filter": {
                "english_stop": {"type": "stop", "stopwords": "_english_"},
                "english_stemmer": {"type": "stemmer", "language": "english"},
                "english_possessive": {"type": "stemmer", "language": "possessive_english"},
                "autocomplete_edge": {"type": "edge_ngram", "min_gram": 2, "max_gram": 20},
            },
            "analyzer": {
                "text_en": {
                    "tokenizer": "standard",
                    "filter": [
                        "english_possessive",
                        "lowercase",
                        "asciifolding",
                        "english_stop",
                        "english_stemmer",
                    ],
                },
                "autocomplete": {
                    "tokenizer": "standard",
                    "filter": ["lowercase", "asciifolding", "autocomplete_edge"],
                },
                "autocomplete_search": {
                    "tokenizer": "standard",
                    "filter": ["lowercase", "asciifolding"],
                },
            },
            "normalizer": {"lower": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
        },
    },
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "id": {"type": "long"},
            "slug": {"type": "keyword", "index": False},
            "name": {
                "type": "text",
                "analyzer": "text_en",
                "fields": {
                    "autocomplete": {
                        "type": "text",
                        "analyzer": "autocomplete",
                        "search_analyzer": "autocomplete_search",
                    },
                    "raw": {"type": "keyword", "normalizer": "lower"},
                    # unstemmed words for "did you mean": the term suggester offers indexed
                    # terms, and the stemmed `name` would offer "read" for "readng"
                    "plain": {"type": "text", "analyzer": "autocomplete_search"},
                },
            },
            "brand": {"type": "text", "analyzer": "text_en"},
            "skus": {"type": "keyword", "normalizer": "lower"},
            "category_names": {"type": "text", "analyzer": "text_en"},
            "category_ids": {"type": "long"},
            "attribute_text": {"type": "text", "analyzer": "text_en"},
            "attributes": {
                "type": "nested",
                "properties": {
                    "slug": {"type": "keyword"},
                    "value": {"type": "keyword"},
                    "number": {"type": "double"},
                },
            },
            "description": {"type": "text", "analyzer": "text_en"},
            "seller": {"type": "keyword"},
            "price": {"type": "scaled_float", "scaling_factor": 100},
            "rating": {"type": "float"},
            "rating_count": {"type": "integer"},
            "popularity": {"type": "float"},
            "published_at": {"type": "date"},
            "in_stock": {"type": "boolean"},
            "visible": {"type": "boolean"},
        },
    },
}

TEXT_FIELDS = [
    "name^8",
    # the last word of a bool_prefix query is a prefix of the *analysed* indexed terms: on the
    # stemmed fields a half-typed "runn" never reaches "run", the edge n-grams of the name do
    "name.autocomplete^2",
    "brand^5",
    "skus^5",
    "category_names^3",
    "attribute_text^3",
    "description",
]


def opensearch_configured() -> bool:
    return bool(settings.OPENSEARCH_URL)


def opensearch_alias() -> str:
    return f"{settings.OPENSEARCH_INDEX_PREFIX}-products"


def opensearch_client() -> OpenSearch:
    """A client from the environment: OPENSEARCH_URL (https:// enables TLS),
    OPENSEARCH_USERNAME/OPENSEARCH_PASSWORD, OPENSEARCH_VERIFY_CERTS, OPENSEARCH_CA_CERTS."""
    options: dict[str, Any] = {
        "hosts": [settings.OPENSEARCH_URL],
        "connection_class": CONNECTION_CLASS,
        "timeout": settings.OPENSEARCH_TIMEOUT_SECONDS,
        "max_retries": 1,
        "retry_on_timeout": False,
        "verify_certs": settings.OPENSEARCH_VERIFY_CERTS,
        "ssl_show_warn": settings.OPENSEARCH_VERIFY_CERTS,
    }
    if settings.OPENSEARCH_USERNAME:
        options["http_auth"] = (settings.OPENSEARCH_USERNAME, settings.OPENSEARCH_PASSWORD)
    if settings.OPENSEARCH_CA_CERTS:
        options["ca_certs"] = settings.OPENSEARCH_CA_CERTS
    return OpenSearch(**options)


def _call(operation: Callable[[], Any]) -> Any:
    try:
        return operation()
    except (OpenSearchException, OSError) as exc:
        raise SearchUnavailable(f"{type(exc).__name__}: {exc}") from exc


# --- documents ----------------------------------------------------------------------------------


def _attribute_entry(value: VariantAttributeValue) -> dict[str, Any]:
    attribute = value.attribute
    if attribute.type == AttributeType.CHOICE and value.choice is not None:
        return {"slug": attribute.slug, "value": value.choice.slug}
    if attribute.type == AttributeType.BOOLEAN and value.value_boolean is not None:
        return {"slug": attribute.slug, "value": "true" if value.value_boolean else "false"}
    if attribute.type == AttributeType.NUMBER and value.value_number is not None:
        number = value.value_number.normalize()
        return {"slug": attribute.slug, "value": f"{number:f}", "number": float(number)}
    return {"slug": attribute.slug, "value": value.value_text}


def opensearch_documents(*, product_ids: list[int]) -> list[dict[str, Any]]:
    """The documents for these products, built in a fixed number of queries."""
    from inventory.selectors import product_in_stock_condition

    values = VariantAttributeValue.objects.select_related("attribute", "choice")
    products = list(
        Product.objects.filter(pk__in=product_ids)
        .select_related("seller", "category")
        .annotate(category_names=category_names_with_ancestors(category_ref="category_id"))
        .prefetch_related(
            Prefetch(
                "variants",
                queryset=variant_queryset_active().prefetch_related(
                    Prefetch("attribute_values", queryset=values)
                ),
                to_attr="search_variants",
            )
        )
    )
    visible = set(product_queryset_public().filter(pk__in=product_ids).values_list("pk", flat=True))
    in_stock = set(
        Product.objects.filter(pk__in=product_ids)
        .filter(product_in_stock_condition())
        .values_list("pk", flat=True)
    )
    documents = []
    for product in products:
        entries = [
            _attribute_entry(value)
            for variant in product.search_variants
            for value in variant.attribute_values.all()
        ]
        unique = list({(e["slug"], e["value"]): e for e in entries}.values())
        documents.append(
            {
                "id": product.pk,
                "slug": product.slug,
                "name": product.name,
                "brand": product.brand,
                "skus": [v.sku for v in product.search_variants],
                "category_names": product.category_names,
                "category_ids": category_path_ids(product.category.path),
                "attribute_text": " ".join(e["value"] for e in unique),
                "attributes": unique,
                "description": product.description,
                "seller": product.seller.slug,
                "price": (
                    float(product.search_price_min)
                    if product.search_price_min is not None
                    else None
                ),
                "rating": float(product.rating_avg),
                "rating_count": product.rating_count,
                "popularity": product.popularity,
                "published_at": product.published_at.isoformat() if product.published_at else None,
                "in_stock": product.pk in in_stock,
                "visible": product.pk in visible,
            }
        )
    return documents


def _bulk_actions(documents: Iterable[dict[str, Any]], index: str) -> Iterator[dict[str, Any]]:
    for document in documents:
        yield {"_op_type": "index", "_index": index, "_id": document["id"], "_source": document}


def opensearch_documents_index(*, product_ids: list[int], index: str | None = None) -> int:
    """Bulk-index these products (hidden ones as `visible: false`). Called from Celery tasks
    after the database change committed."""
    documents = opensearch_documents(product_ids=product_ids)
    client = opensearch_client()
    target = index or opensearch_alias()
    indexed, errors = _call(
        lambda: helpers.bulk(
            client, _bulk_actions(documents, target), chunk_size=BULK_CHUNK, raise_on_error=False
        )
    )
    if errors:
        raise SearchUnavailable(f"{len(errors)} documents were rejected, first: {errors[0]}")
    return indexed


def opensearch_reindex(
    *, progress: Callable[[int, int], None] | None = None, batch_size: int = BULK_CHUNK
) -> str:
    """Build a new index from the database, then point the alias at it in one atomic
    `update_aliases` call and delete the old index: zero downtime. Products changed while it
    ran are indexed again into the new index before returning. Returns the new index name."""
    client = opensearch_client()
    alias = opensearch_alias()
    started = timezone.now()
    new_index = f"{alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
    _call(lambda: client.indices.create(index=new_index, body=INDEX_SETTINGS))
    total = Product.objects.count()
    done = 0
    for ids in product_id_batches(batch_size=batch_size):
        done += opensearch_documents_index(product_ids=ids, index=new_index)
        if progress is not None:
            progress(done, total)
    _call(lambda: client.indices.refresh(index=new_index))
    current = _call(lambda: client.indices.get_alias(name=alias, ignore=[404]))
    old_indices = [name for name in current if name != new_index and "error" not in current]
    actions = [{"remove": {"index": name, "alias": alias}} for name in old_indices]
    actions.append({"add": {"index": new_index, "alias": alias}})
    _call(lambda: client.indices.update_aliases(body={"actions": actions}))
    changed = list(Product.objects.filter(updated_at__gte=started).values_list("pk", flat=True))
    if changed:
        opensearch_documents_index(product_ids=changed)
    for name in old_indices:
        _call(partial(client.indices.delete, index=name, ignore=[404]))
    return new_index


def opensearch_health() -> str:
    """'ok: ...' when the alias answers, else what is wrong (shown on /readyz)."""
    client = opensearch_client()
    try:
        # `timeout` is the cluster's own wait (for a missing index); opensearch-py would take
        # it for the client's socket timeout ("2s" is not a number) unless request_timeout is set
        health = _call(
            lambda: client.cluster.health(
                index=opensearch_alias(),
                timeout="2s",
                request_timeout=settings.OPENSEARCH_TIMEOUT_SECONDS + 2,
            )
        )
    except SearchUnavailable as exc:
        return f"degraded: OpenSearch unreachable, searching PostgreSQL ({exc})"[:300]
    status = health.get("status", "unknown")
    if status == "red":
        return "degraded: OpenSearch cluster is red, searching PostgreSQL when it fails"
    return f"ok: opensearch {status}"


# --- queries ------------------------------------------------------------------------------------


def _attribute_clause(spec: AttributeFilter) -> dict[str, Any]:
    must: list[dict[str, Any]] = [{"term": {"attributes.slug": spec.slug}}]
    if spec.values:
        must.append({"terms": {"attributes.value": list(spec.values)}})
    bounds = {}
    if spec.number_min is not None:
        bounds["gte"] = float(spec.number_min)
    if spec.number_max is not None:
        bounds["lte"] = float(spec.number_max)
    if bounds:
        must.append({"range": {"attributes.number": bounds}})
    return {"nested": {"path": "attributes", "query": {"bool": {"filter": must}}}}


def _facet_filters(query: SearchQuery) -> dict[str, dict[str, Any]]:
    """The filters that have a facet, by facet name: each facet aggregates under all the
    others, and the hits are narrowed by all of them through `post_filter`."""
    f = query.filters
    clauses: dict[str, dict[str, Any]] = {}
    if f.category is not None:
        clauses["category"] = {"term": {"category_ids": f.category.pk}}
    if f.sellers:
        clauses["seller"] = {"terms": {"seller": list(f.sellers)}}
    price = {}
    if f.price_min is not None:
        price["gte"] = float(f.price_min)
    if f.price_max is not None:
        price["lte"] = float(f.price_max)
    if price:
        clauses["price"] = {"range": {"price": price}}
    for spec in f.attributes:
        clauses[f"attr:{spec.slug}"] = _attribute_clause(spec)
    return clauses


# the document field each sort key reads (`SORT_KEYS` names the product's columns)
_SORT_FIELDS = {
    "rank": "_score",
    "published_at": "published_at",
    "search_price_min": "price",
    "rating_avg": "rating",
    "rating_count": "rating_count",
    "name": "name.raw",
    "popularity": "popularity",
    "id": "id",
}


def _sort(query: SearchQuery) -> list[Any]:
    """`SORT_KEYS[query.sort]` as OpenSearch sort clauses (NULLs, missing values, last)."""
    clauses: list[Any] = []
    for key in SORT_KEYS[query.sort]:
        order: dict[str, Any] = {"order": "desc" if key.descending else "asc"}
        if key.nullable:
            order["missing"] = "_last"
        clauses.append({_SORT_FIELDS[key.field]: order})
    return clauses


def _relevance(query: SearchQuery, matching: dict[str, Any]) -> dict[str, Any]:
    """A relevance-sorted text search scores the text match times ln(2 + popularity), the
    blend the PostgreSQL engine ranks by (`postgres.blended_rank`)."""
    if not (query.sort == ProductSort.RELEVANCE and query.terms):
        return matching
    return {
        "function_score": {
            "query": matching,
            "field_value_factor": {"field": "popularity", "modifier": "ln2p", "missing": 0},
            "boost_mode": "multiply",
        }
    }


def opensearch_query_body(query: SearchQuery) -> dict[str, Any]:
    """The request body for one search page with its facets (unless the query shows none)
    and "did you mean"."""
    terms = query.terms
    base_filter: list[dict[str, Any]] = [{"term": {"visible": True}}]
    if query.rating_min is not None:
        base_filter.append({"range": {"rating": {"gte": float(query.rating_min)}}})
    if query.filters.in_stock:
        base_filter.append({"term": {"in_stock": True}})
    must: list[dict[str, Any]] = []
    if terms:
        must.append(
            {
                "multi_match": {
                    "query": " ".join(terms),
                    "type": "bool_prefix",
                    "fields": TEXT_FIELDS,
                    "operator": "and",
                    "fuzziness": "AUTO",
                    "prefix_length": 1,
                }
            }
        )
    clauses = _facet_filters(query)

    def others(skip: str) -> dict[str, Any]:
        return {"bool": {"filter": [c for name, c in clauses.items() if name != skip]}}

    aggs: dict[str, Any] = {
        "categories": {
            "filter": others("category"),
            "aggs": {"ids": {"terms": {"field": "category_ids", "size": 500}}},
        },
        "prices": {
            "filter": others("price"),
            "aggs": {
                "ranges": {
                    "range": {
                        "field": "price",
                        "keyed": True,
                        "ranges": [
                            {
                                "key": str(i),
                                **({"from": float(low)} if low is not None else {}),
                                **({"to": float(high)} if high is not None else {}),
                            }
                            for i, (low, high) in enumerate(PRICE_BUCKETS)
                        ],
                    }
                }
            },
        },
        "sellers": {
            "filter": others("seller"),
            "aggs": {"slugs": {"terms": {"field": "seller", "size": 20}}},
        },
        "attributes": {
            "filter": {"bool": {"filter": list(clauses.values())}},
            "aggs": _attribute_aggs(),
        },
    }
    if query.seller_fixed:
        del aggs["sellers"]  # a seller's own page offers no other sellers
    for name in clauses:
        if name.startswith("attr:"):
            slug = name[len("attr:") :]
            aggs[f"attr_{slug}"] = {
                "filter": others(name),
                "aggs": _attribute_aggs(only=slug),
            }
    body: dict[str, Any] = {
        "from": query.offset,
        "size": query.page_size,
        "track_total_hits": True,
        "_source": False,
        "query": _relevance(
            query, {"bool": {"must": must or [{"match_all": {}}], "filter": base_filter}}
        ),
        "post_filter": {"bool": {"filter": list(clauses.values())}},
        "sort": _sort(query),
    }
    if query.facets:
        body["aggs"] = aggs
    if terms:
        body["suggest"] = {
            "text": " ".join(terms),
            "did_you_mean": {"term": {"field": "name.plain", "suggest_mode": "popular"}},
        }
    return body


def _attribute_aggs(only: str | None = None) -> dict[str, Any]:
    values = {
        "terms": {"field": "attributes.value", "size": 200},
        "aggs": {"products": {"reverse_nested": {}}},
    }
    if only is None:
        inner: dict[str, Any] = {
            "slugs": {
                "terms": {"field": "attributes.slug", "size": 100},
                "aggs": {"values": values},
            }
        }
    else:
        inner = {
            "only": {"filter": {"term": {"attributes.slug": only}}, "aggs": {"values": values}}
        }
    return {"nested": {"nested": {"path": "attributes"}, "aggs": inner}}


def opensearch_result_parse(query: SearchQuery, response: dict[str, Any]) -> SearchResult:
    hits = response["hits"]
    ids = [int(hit["_id"]) for hit in hits["hits"]]
    total = hits["total"]["value"] if isinstance(hits["total"], dict) else int(hits["total"])
    aggs = response.get("aggregations", {})
    facets = Facets()
    if query.facets:
        facets = Facets(
            categories=_parse_categories(query, aggs),
            prices=_parse_prices(query, aggs),
            sellers=_parse_sellers(query, aggs),
            attributes=_parse_attributes(query, aggs),
        )
    return SearchResult(
        product_ids=ids,
        total=total,
        facets=facets,
        engine="opensearch",
        did_you_mean=_parse_did_you_mean(query, response) if total == 0 else None,
    )


def _parse_categories(query: SearchQuery, aggs: dict[str, Any]) -> tuple[FacetValue, ...]:
    counts = {
        int(b["key"]): b["doc_count"]
        for b in aggs.get("categories", {}).get("ids", {}).get("buckets", [])
    }
    selected = query.filters.category
    if selected is None:
        shown = list(Category.objects.filter(parent__isnull=True).order_by("position", "name"))
    else:
        shown = [selected, *Category.objects.filter(parent=selected).order_by("position", "name")]
    return tuple(
        FacetValue(
            c.slug, c.name, counts.get(c.pk, 0), selected is not None and c.pk == selected.pk
        )
        for c in shown
        if counts.get(c.pk) or (selected is not None and c.pk == selected.pk)
    )


def _parse_prices(query: SearchQuery, aggs: dict[str, Any]) -> tuple[FacetValue, ...]:
    buckets = aggs.get("prices", {}).get("ranges", {}).get("buckets", {})
    counts: dict[int | None, int] = {
        i: buckets.get(str(i), {}).get("doc_count", 0) for i in range(len(PRICE_BUCKETS))
    }
    return price_facet(query, counts)


def _parse_sellers(query: SearchQuery, aggs: dict[str, Any]) -> tuple[FacetValue, ...]:
    buckets = aggs.get("sellers", {}).get("slugs", {}).get("buckets", [])
    names = dict(
        Seller.objects.filter(slug__in=[b["key"] for b in buckets]).values_list("slug", "name")
    )
    chosen = set(query.filters.sellers)
    return tuple(
        FacetValue(b["key"], names[b["key"]], b["doc_count"], b["key"] in chosen)
        for b in buckets
        if b["key"] in names
    )


def _parse_attributes(query: SearchQuery, aggs: dict[str, Any]) -> tuple[AttributeFacet, ...]:
    counts: dict[tuple[str, str], int] = {}
    nested = aggs.get("attributes", {}).get("nested", {})
    for slug_bucket in nested.get("slugs", {}).get("buckets", []):
        for value in slug_bucket["values"]["buckets"]:
            counts[(slug_bucket["key"], value["key"])] = value["products"]["doc_count"]
    chosen = {spec.slug: spec for spec in query.filters.attributes}
    for slug in chosen:
        only = aggs.get(f"attr_{slug}", {}).get("nested", {}).get("only", {})
        for key in [k for k in counts if k[0] == slug]:
            del counts[key]
        for value in only.get("values", {}).get("buckets", []):
            counts[(slug, value["key"])] = value["products"]["doc_count"]
    attributes = (
        Attribute.objects.filter(
            is_filterable=True,
            type__in=[AttributeType.CHOICE, AttributeType.BOOLEAN],
            slug__in={slug for slug, _ in counts} | set(chosen),
        )
        .prefetch_related("choices")
        .order_by("name")
    )
    facets = []
    for attribute in attributes:
        picked = set(chosen[attribute.slug].values) if attribute.slug in chosen else set()
        if attribute.type == AttributeType.CHOICE:
            options = [(c.slug, c.value) for c in attribute.choices.all()]
        else:
            options = [("true", "Yes"), ("false", "No")]
        values = tuple(
            FacetValue(slug, label, counts.get((attribute.slug, slug), 0), slug in picked)
            for slug, label in options
            if counts.get((attribute.slug, slug)) or slug in picked
        )
        if values:
            facets.append(AttributeFacet(attribute.slug, attribute.name, values))
    return tuple(facets)


def _parse_did_you_mean(query: SearchQuery, response: dict[str, Any]) -> str | None:
    entries = response.get("suggest", {}).get("did_you_mean", [])
    if not entries:
        return None
    words = [e["options"][0]["text"] if e.get("options") else e["text"] for e in entries]
    suggestion = " ".join(words)
    return suggestion if suggestion != " ".join(query.terms) else None


class OpenSearchBackend:
    name = "opensearch"

    def search(self, *, query: SearchQuery) -> SearchResult:
        client = opensearch_client()
        body = opensearch_query_body(query)
        response = _call(lambda: client.search(index=opensearch_alias(), body=body))
        return opensearch_result_parse(query, response)

    def suggest(self, *, prefix: str, limit: int) -> list[Suggestion]:
        terms = search_terms(prefix)
        if not terms:
            return []
        client = opensearch_client()
        body = {
            "size": limit * 3,
            "_source": ["name", "slug"],
            "query": {
                "bool": {
                    "must": [
                        {
                            "match": {
                                "name.autocomplete": {"query": " ".join(terms), "operator": "and"}
                            }
                        }
                    ],
                    "filter": [{"term": {"visible": True}}],
                }
            },
            "sort": ["_score", {"rating_count": "desc"}, {"id": "desc"}],
        }
        response = _call(lambda: client.search(index=opensearch_alias(), body=body))
        seen: set[str] = set()
        out: list[Suggestion] = []
        for hit in response["hits"]["hits"]:
            name = hit["_source"]["name"]
            if name.lower() not in seen and len(out) < limit:
                seen.add(name.lower())
                out.append(Suggestion("product", name, hit["_source"]["slug"]))
        phrase = " ".join(terms)
        categories = Category.objects.filter(name__icontains=phrase).order_by("depth", "name")
        out.extend(Suggestion("category", c.name, c.slug) for c in categories[: max(2, limit // 2)])
        return out
