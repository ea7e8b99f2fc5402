"""Storefront page latency, query counts and products shown, through the test client.

Two ways to get a catalogue:

* built (default): a throw-away test database (never touches DATABASE_URL's own data) gets a
  catalogue of each `--sizes`, bulk-inserted and then refreshed by the search app's rebuild
  (`search_index_rebuild`: vectors, stored prices, the visibility flag) and vacuumed, as a
  seeded catalogue is, so its pages show products;
* `--seeded`: the catalogue already in DATABASE_URL (a `seed_demo` database, e.g. 1M
  products), read as it is: nothing is built, nothing is written by the benchmark.

Then requests the pages a shopper opens (home, a root category in several sorts and filters,
a seller, a product) and a broad search (the catalogue's most frequent name word): page 1,
pages 85 and 416 when its matches fill them, and the last page its pager links to. Prints
p50/p95 latency, SQL queries, status and the products each page shows. Before timing, it
aborts when a catalogue page shows no product (the catalogue, not the code, would be
measured); a search page that is empty or refused is printed and makes the exit status 1.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_h2 \\
        .venv/bin/python benchmarks/storefront_pages.py --sizes 1000 10000 50000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_1m \\
        .venv/bin/python benchmarks/storefront_pages.py --seeded
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

# benchmarks/compare_commits.py runs this script on another checkout's code (SHOP_CODE_DIR)
sys.path.insert(0, os.environ.get("SHOP_CODE_DIR") or str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

import django

django.setup()

from broad_search import broad_words, deep_pages, product_cards, public_matches  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)
from django.utils import timezone  # noqa: E402

from catalog.models import (  # noqa: E402
    Attribute,
    AttributeChoice,
    AttributeType,
    Category,
    Product,
    ProductStatus,
    ProductVariant,
    VariantAttributeValue,
)
from catalog.selectors import product_queryset_public  # noqa: E402
from catalog.services import category_create  # noqa: E402
from search.services import search_index_rebuild  # noqa: E402
from sellers.models import Seller, SellerStatus  # noqa: E402

BATCH = 5000
# Name words: each of the first four is in a quarter of the built catalogue's names, so a
# search for one has deep pages (page 416 from 40,000 products).
ADJECTIVES = ("Heritage", "Classic", "Urban", "Studio")
NOUNS = ("Jacket", "Lamp", "Kettle", "Backpack", "Speaker")
# The demo seed's (seed_demo) shape, for --seeded: a root category with colours and one of
# its approved sellers.
SEEDED_ROOT, SEEDED_SELLER, SEEDED_FILTER = (
    "electronics",
    "brightline-electronics",
    "attr_colour=black",
)


def build_catalog(total: int) -> None:
    """Add products until the catalog holds `total`: 3 roots x 4 children, 20 sellers,
    2 variants per product, a colour on each variant; then the search refresh and VACUUM."""
    if not Category.objects.exists():
        for r in range(3):
            root = category_create(name=f"Root {r}", slug=f"root-{r}", is_featured=True)
            for c in range(4):
                category_create(name=f"Child {r}.{c}", slug=f"child-{r}-{c}", parent=root)
        Seller.objects.bulk_create(
            Seller(name=f"Seller {i}", slug=f"seller-{i}", status=SellerStatus.APPROVED)
            for i in range(20)
        )
        colour = Attribute.objects.create(name="Colour", slug="colour", type=AttributeType.CHOICE)
        AttributeChoice.objects.bulk_create(
            AttributeChoice(attribute=colour, value=v, slug=v.lower())
            for v in ["Red", "Green", "Blue", "Black"]
        )
        for root in Category.objects.filter(depth=0):
            root.attributes.add(colour)
    leaves = list(Category.objects.filter(depth=1))
    sellers = list(Seller.objects.all())
    colour = Attribute.objects.get(slug="colour")
    choices = list(colour.choices.all())
    start = Product.objects.count()
    now = timezone.now()
    for offset in range(start, total, BATCH):
        stop = min(offset + BATCH, total)
        products = Product.objects.bulk_create(
            Product(
                seller=sellers[i % len(sellers)],
                category=leaves[i % len(leaves)],
                name=f"{ADJECTIVES[i % len(ADJECTIVES)]} {NOUNS[i % len(NOUNS)]} {i}",
                slug=f"product-{i}",
                status=ProductStatus.ACTIVE,
                is_featured=i % 97 == 0,
                published_at=now,
            )
            for i in range(offset, stop)
        )
        variants = ProductVariant.objects.bulk_create(
            ProductVariant(
                product=p,
                sku=f"SKU-{p.pk}-{v}",
                name=f"Option {v}",
                price=Decimal(5 + (p.pk * 7 + v) % 200),
                position=v,
            )
            for p in products
            for v in range(2)
        )
        VariantAttributeValue.objects.bulk_create(
            VariantAttributeValue(variant=v, attribute=colour, choice=choices[v.pk % len(choices)])
            for v in variants
        )
    # what seed_demo does after its COPY: the search refresh stores the vector, the shopper's
    # price and the visibility flag that search and category pages read
    search_index_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


@dataclass(frozen=True)
class Page:
    url: str
    search: bool = False  # a broad search's page: an empty one is a finding, not a setup error
    product_name: str = ""  # a product page shows this product


@dataclass(frozen=True)
class Measured:
    p50: float
    p95: float
    queries: int
    writes: int
    status: int
    products: int


def shown(page: Page, status: int, html: str) -> int:
    if page.product_name:
        return int(status == 200 and page.product_name in html)
    return product_cards(html) if status == 200 else 0


def measure(client: Client, page: Page, repeat: int) -> Measured:
    client.get(page.url)  # warm caches and connections
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(page.url)
            timings.append((time.perf_counter() - started) * 1000)
    writes = sum(
        q["sql"].lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
        for q in queries.captured_queries
    )
    return Measured(
        p50=statistics.median(timings),
        p95=sorted(timings)[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))],
        queries=len(queries),
        writes=writes,
        status=response.status_code,
        products=shown(page, response.status_code, response.content.decode()),
    )


def catalogue_pages(*, seeded: bool) -> list[Page]:
    root, seller, attribute = (
        (SEEDED_ROOT, SEEDED_SELLER, SEEDED_FILTER)
        if seeded
        else ("root-0", "seller-3", "attr_colour=red")
    )
    product = product_queryset_public().order_by("pk").values_list("slug", "name").first()
    if product is None:
        raise SystemExit("The catalogue has no public product: nothing to measure.")
    return [
        Page("/"),
        Page(f"/c/{root}/"),
        Page(f"/c/{root}/?sort=price_asc"),
        Page(f"/c/{root}/?price_min=50&price_max=80"),
        Page(f"/c/{root}/?{attribute}&seller={seller}"),
        Page(f"/c/{root}/?page=20"),
        Page(f"/s/{seller}/"),
        Page(f"/p/{product[0]}/", product_name=product[1]),
    ]


def search_pages(client: Client) -> list[Page]:
    """A broad search's first and deep pages (benchmarks/broad_search.py)."""
    words = broad_words(count=1, seed=7)
    if not words:
        return []
    word = words[0]
    deep = deep_pages(client=client, word=word, matches=public_matches(word).count())
    return [Page(f"/search/?q={word}", search=True)] + [Page(d.url, search=True) for d in deep]


def sanity_check(client: Client, pages: list[Page]) -> None:
    """Abort before timing when a catalogue page shows no product: its figure would time an
    empty page (the built catalogue once lacked the search refresh, and two rows did)."""
    empty = []
    for page in pages:
        if page.search:
            continue
        response = client.get(page.url)
        if not shown(page, response.status_code, response.content.decode()):
            empty.append(f"{page.url} (status {response.status_code})")
    if empty:
        raise SystemExit(
            "Aborted: these catalogue pages show no product, so their timings would measure "
            "empty pages: " + ", ".join(empty)
        )


def run(client: Client, *, repeat: int, seeded: bool) -> int:
    """Time every page; returns how many search pages were empty or refused."""
    pages = catalogue_pages(seeded=seeded) + search_pages(client)
    sanity_check(client, pages)
    findings = []
    for page in pages:
        m = measure(client, page, repeat)
        print(
            f"  {page.url:<62} n={repeat:<3} p50={m.p50:7.1f} ms  p95={m.p95:7.1f} ms  "
            f"queries={m.queries:<3} status={m.status}  products={m.products}"
            + (f"  writes={m.writes}" if m.writes else "")
        )
        if page.search and (m.status != 200 or not m.products):
            findings.append(f"{page.url} answered {m.status} with {m.products} products")
    for finding in findings:
        print(f"  SEARCH PAGE EMPTY OR REFUSED: {finding}")
    return len(findings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--seeded",
        action="store_true",
        help="Measure DATABASE_URL's own catalogue (a seed_demo database) instead of building.",
    )
    args = parser.parse_args()

    setup_test_environment()
    client = Client()
    findings = 0
    if args.seeded:
        public = product_queryset_public().count()
        print(f"# seeded catalogue: {Product.objects.count():,} products ({public:,} public)")
        findings = run(client, repeat=args.repeat, seeded=True)
    else:
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            for size in sorted(args.sizes):
                started = time.perf_counter()
                build_catalog(size)
                elapsed = time.perf_counter() - started
                print(f"# catalogue of {size:,} products ready in {elapsed:.1f}s")
                findings += run(client, repeat=args.repeat, seeded=False)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    teardown_test_environment()
    if findings:
        sys.exit(1)


if __name__ == "__main__":
    main()
