"""Search latency on a seeded catalog (read-only: it never writes to the database).

Seed first, then run (the index is built by seed_demo's search hook or `search_reindex`):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_h5
    .venv/bin/python manage.py seed_demo --products 1000000
    .venv/bin/python benchmarks/search_latency.py --queries 200

Runs 200 realistic searches built from words of the catalog itself (single words, two words,
prefixes, filters + facets, sorted by price, page 50), each as the results page does it: the
engine's ids, total and all facets, then the page's products through the storefront selector.
Then 200 autocomplete prefixes, 200 catalog category pages (a query without words through
the engine, as the storefront lists them, newest and by price, pages 1-5, with facets and
total), and a plain
indexed lookup by slug as the baseline, interleaved with the searches so load changes hit
every kind alike. Prints p50/p95/p99 per kind and the size of the search tables and indexes.
`--kinds 'category page'` (comma-separated labels as printed) runs a subset.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402

from catalog.models import AttributeChoice, Category, Product  # noqa: E402
from catalog.selectors import ProductFilters, product_queryset_public  # noqa: E402
from search.base import ProductSort, SearchQuery  # noqa: E402
from search.pages import search_products_load  # noqa: E402
from search.postgres import PostgresSearchBackend  # noqa: E402
from search.query import listing_query_parse  # noqa: E402

PRICE_RANGES = [("10", "24.99"), ("25", "49.99"), ("50", "99.99"), ("100", "249.99")]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def vocabulary(seed: int) -> tuple[list[str], list[str], list[str], list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            # a fixed seed: runs before and after a change search for the same words
            "SELECT name FROM catalog_product TABLESAMPLE SYSTEM (0.5) REPEATABLE (%s) "
            "WHERE status = 'active' LIMIT 2000",
            [seed],
        )
        names = [row[0] for row in cursor.fetchall()]
    words = sorted({w.lower() for n in names for w in n.split() if len(w) > 3 and w.isalpha()})
    categories = list(Category.objects.filter(depth__lte=1).values_list("slug", flat=True))
    choices = [
        f"attr_{a}={c}"
        for a, c in AttributeChoice.objects.values_list("attribute__slug", "slug")[:200]
    ]
    return names, words, categories, choices


def build_queries(count: int, rng: random.Random, seed: int) -> list[tuple[str, str]]:
    names, words, categories, choices = vocabulary(seed)
    if not words:
        raise SystemExit("The catalog is empty: run seed_demo first.")
    makers: list[tuple[str, Callable[[], str]]] = [
        ("single word", lambda: f"q={rng.choice(words)}"),
        ("two words", lambda: "q=" + " ".join(rng.choice(names).split()[:3][-2:])),
        ("prefix", lambda: f"q={rng.choice(words)[:4]}"),
        (
            "filters+facets",
            lambda: (
                f"q={rng.choice(words)}&category={rng.choice(categories)}"
                f"&price_min={(r := rng.choice(PRICE_RANGES))[0]}&price_max={r[1]}"
                + (f"&{rng.choice(choices)}" if choices and rng.random() < 0.5 else "")
            ),
        ),
        ("sort by price", lambda: f"q={rng.choice(words)}&sort=price_asc"),
        ("page 50", lambda: f"category={rng.choice(categories)}&page=50"),
    ]
    return [(label, make()) for label, make in (makers[i % len(makers)] for i in range(count))]


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def report(label: str, samples: list[float]) -> None:
    print(
        f"  {label:<16} n={len(samples):<4} p50={statistics.median(samples):7.1f} ms  "
        f"p95={percentile(samples, 0.95):7.1f} ms  p99={percentile(samples, 0.99):7.1f} ms"
    )


def index_sizes() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid)) FROM pg_class c "
            "WHERE c.relname IN ('catalog_product', 'catalog_product_search', "
            "'catalog_product_name_trgm', 'catalog_product_search_price', "
            "'catalog_product_search_dirty', 'catalog_product_facet_values', "
            "'catalog_product_newest', 'catalog_searchsuggestion', "
            "'catalog_product_catnew_cover', 'catalog_product_catprice_cover', "
            "'catalog_product_catrate_cover', 'catalog_product_catname_cover', "
            "'catalog_suggestion_word', 'catalog_suggestion_unique') ORDER BY c.relname"
        )
        for name, size in cursor.fetchall():
            print(f"  {name:<32} {size}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--kinds",
        default="",
        help="Comma-separated kinds to run, as labelled in the output (e.g. 'sort by price,"
        "page 50', or 'category page', 'suggest', 'slug lookup'); default all.",
    )
    args = parser.parse_args()
    kinds = {k.strip() for k in args.kinds.split(",") if k.strip()}

    def wanted(label: str) -> bool:
        return not kinds or label in kinds

    rng = random.Random(args.seed)
    total = Product.objects.count()
    public = product_queryset_public().count()
    print(f"Catalog: {total:,} products ({public:,} public), engine: postgres")

    queries = build_queries(args.queries, rng, args.seed)
    for _, query_string in queries[:6]:  # warm the cache the way a running site is warm
        query = listing_query_parse(params=QueryDict(query_string), page_size=24)
        search_products_load(result=PostgresSearchBackend().search(query=query))

    words = vocabulary(args.seed)[1]
    prefixes = [w[: rng.randint(2, 5)] for w in (rng.choice(words) for _ in range(args.queries))]
    slugs = list(Product.objects.order_by("?").values_list("slug", flat=True)[: args.queries])
    categories = list(Category.objects.all())

    def category_page(i: int) -> None:
        sort = ProductSort.NEWEST if i % 2 else ProductSort.PRICE_ASC
        filters = ProductFilters(category=rng.choice(categories))
        query = SearchQuery(filters=filters, sort=sort, page=1 + i % 5)
        search_products_load(result=PostgresSearchBackend().search(query=query))

    by_kind: dict[str, list[float]] = {}
    suggest: list[float] = []
    listing: list[float] = []
    baseline: list[float] = []
    matches: list[int] = []
    for i, (label, query_string) in enumerate(queries):
        query = listing_query_parse(params=QueryDict(query_string), page_size=24)

        def page(query=query) -> None:
            # a backend per search, as `listing_run` makes one per request: its per-search
            # lookups are read on every search, not once for the whole run
            result = PostgresSearchBackend().search(query=query)
            search_products_load(result=result)
            matches.append(result.total)

        if wanted(label):
            by_kind.setdefault(label, []).append(timed(page))
        if wanted("suggest"):
            suggest.append(
                timed(lambda p=prefixes[i]: PostgresSearchBackend().suggest(prefix=p, limit=8))
            )
        if wanted("category page"):
            listing.append(timed(lambda i=i: category_page(i)))
        slug = slugs[i % len(slugs)]
        if wanted("slug lookup"):
            baseline.append(
                timed(
                    lambda s=slug: Product.objects.filter(slug=s).values_list("id", "name").first()
                )
            )

    if by_kind:
        median_matches = statistics.median(matches)
        print(
            f"Search with facets ({args.queries} queries, median matches {median_matches:,.0f}; "
            "counts exact up to 2,000, estimated beyond):"
        )
        for label, samples in by_kind.items():
            report(label, samples)
        report("all searches", [s for samples in by_kind.values() for s in samples])
    if suggest:
        print("Autocomplete:")
        report("suggest", suggest)
    if listing:
        print("Catalog category pages (as the storefront lists them, through the engine):")
        report("category page", listing)
    if baseline:
        print("Baseline (indexed lookup by slug):")
        report("slug lookup", baseline)
    print("Sizes:")
    index_sizes()


if __name__ == "__main__":
    main()
