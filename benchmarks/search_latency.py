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

Then the 20 broadest words (`--broad-words`: the most frequent words of product names): page
1, pages 85 and 416 (as far as the word's public matches fill them) and the last page the
storefront's pager links to, timed like the searches above, with the products each shows;
an empty page or one that answers 400 is counted and named. And a relevance report: whether
page 1 holds the 24 most popular matching products (`Product.popularity`, against an exact
reference query that sorts every match; skipped, saying so, where the column does not
exist). Exits 1 after printing everything when a deep page is empty or answers 400, or page
1 does not hold the most popular matches.
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

# benchmarks/compare_commits.py runs this script on another checkout's code (SHOP_CODE_DIR)
sys.path.insert(0, os.environ.get("SHOP_CODE_DIR") or str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

import django

django.setup()

from broad_search import (  # noqa: E402
    DeepPage,
    broad_words,
    deep_pages,
    popularity_available,
    public_matches,
    relevance_check,
)
from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from catalog.models import AttributeChoice, Category, Product  # noqa: E402
from catalog.selectors import ProductFilters, product_queryset_public  # noqa: E402
from search.base import ProductSort, SearchQuery  # noqa: E402
from search.pages import search_products_load  # noqa: E402
from search.postgres import PostgresSearchBackend  # noqa: E402
from search.query import listing_query_parse  # noqa: E402
from shop.core.errors import NotFound, ValidationError  # noqa: E402

PRICE_RANGES = [("10", "24.99"), ("25", "49.99"), ("50", "99.99"), ("100", "249.99")]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def vocabulary(seed: int) -> tuple[list[str], list[str], list[str], list[str]]:
    # products at ids drawn with a fixed seed: both sides of a comparison, seeded alike,
    # search for the same words and names (a page sample's rows depend on where each row
    # sits, which every full-table UPDATE and VACUUM FULL of a seed changes)
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM catalog_product")
        low, high = cursor.fetchone()
        span = range(low, high + 1) if low is not None else range(0)
        ids = random.Random(seed).sample(span, min(2100, len(span)))
        cursor.execute(
            "SELECT name FROM catalog_product WHERE id = ANY(%s) AND status = 'active' ORDER BY id",
            [ids],
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
            "'catalog_suggestion_word', 'catalog_suggestion_unique') OR c.oid IN ("
            "SELECT indexrelid FROM pg_index WHERE indrelid = 'catalog_product'::regclass) "
            "ORDER BY c.relname"
        )
        for name, size in cursor.fetchall():
            print(f"  {name:<42} {size}")


def broad_page(word: str, page: int) -> tuple[float | None, list[int]]:
    """One search page timed as the searches above are (engine + the page's products): the
    milliseconds and the ids shown, or None when the storefront refuses the page (400)."""
    params = QueryDict(mutable=True)
    params.update({"q": word, "page": str(page)})
    try:
        query = listing_query_parse(params=params, page_size=24)
    except (ValidationError, NotFound):
        return None, []
    shown: list[int] = []

    def run() -> None:
        result = PostgresSearchBackend().search(query=query)
        shown.extend(p.pk for p in search_products_load(result=result))

    return timed(run), shown


def broad_report(*, words: list[str], rounds: int) -> int:
    """Time page 1 and the deep pages of each broad word, print them per row with the
    products shown, then the relevance report. Returns how many checks failed."""
    setup_test_environment()  # the pager is read through the storefront (testserver)
    client = Client()
    matches = {word: public_matches(word).count() for word in words}
    pages = [DeepPage(w, "page 1", 1, "") for w in words]
    for word in words:
        pages.extend(deep_pages(client=client, word=word, matches=matches[word]))
    samples: dict[str, list[float]] = {}
    shown: dict[str, list[int]] = {}
    refused: dict[str, list[DeepPage]] = {}
    empty: dict[str, list[DeepPage]] = {}
    first_pages: dict[str, list[int]] = {}
    for round_number in range(rounds):
        for deep in pages:
            label = f"broad {deep.label}"
            millis, ids = broad_page(deep.word, deep.page)
            if round_number == 0 and millis is None:
                refused.setdefault(label, []).append(deep)
            elif round_number == 0 and not ids:
                empty.setdefault(label, []).append(deep)
            if deep.page == 1:
                first_pages[deep.word] = ids
            if millis is not None:
                samples.setdefault(label, []).append(millis)
                shown.setdefault(label, []).append(len(ids))
    print(
        f"Broad searches ({len(words)} words, {rounds} rounds; public matches "
        f"{min(matches.values()):,}-{max(matches.values()):,}): {', '.join(words)}"
    )
    labels = dict.fromkeys(f"broad {d.label}" for d in pages)
    for label in labels:
        counts = shown.get(label, [])
        if label in samples:
            report(label, samples[label])
        else:
            print(f"  {label:<16} no page served")
        print(
            f"  {'':<16} products shown {min(counts, default=0)}-{max(counts, default=0)}, "
            f"{len(empty.get(label, []))} empty, {len(refused.get(label, []))} answered 400"
        )
    failures = 0
    for problem, found in (("EMPTY", empty), ("400", refused)):
        for deep in (d for group in found.values() for d in group):
            failures += 1
            print(f"  {problem}: {deep.url} ({matches[deep.word]:,} public matches)")
    print("Relevance: page 1 against the 24 most popular public matches (exact reference):")
    if not popularity_available():
        print("  skipped: this code or database has no Product.popularity")
        return failures
    held = 0
    for word in words:
        check = relevance_check(word=word, page_ids=first_pages[word])
        held += check.holds
        failures += not check.holds
        print(
            f"  {word:<16} {check.matches:>9,} matches  "
            f"{'holds' if check.holds else 'DOES NOT HOLD'}  ({check.shared}/{len(check.top)} "
            f"same products; lowest popularity on page 1 "
            f"{min((p for _, p in check.page), default=0):g}, in the top "
            f"{min((p for _, p in check.top), default=0):g})"
        )
    print(f"  page 1 holds the most popular matches for {held} of {len(words)} words")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--kinds",
        default="",
        help="Comma-separated kinds to run, as labelled in the output (e.g. 'sort by price,"
        "page 50', or 'category page', 'suggest', 'slug lookup', 'broad'); default all.",
    )
    parser.add_argument(
        "--broad-words", type=int, default=20, help="How many broad words (20; 0 skips them)."
    )
    parser.add_argument(
        "--broad-rounds", type=int, default=3, help="Timed passes over the broad pages (3)."
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
    failures = 0
    if args.broad_words and wanted("broad"):
        failures = broad_report(
            words=broad_words(count=args.broad_words, seed=args.seed), rounds=args.broad_rounds
        )
    print("Sizes:")
    index_sizes()
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
