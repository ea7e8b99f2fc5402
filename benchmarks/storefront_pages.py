"""Storefront page latency and query counts as the catalog grows.

Builds a throw-away test database (never touches DATABASE_URL's own data), bulk-inserts a
catalog of each size, then requests the pages a shopper opens and prints the median latency and
the number of SQL queries of each. Run:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_h2 \
        .venv/bin/python benchmarks/storefront_pages.py --sizes 1000 10000 50000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

import django

django.setup()

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
from catalog.services import category_create  # noqa: E402
from sellers.models import Seller, SellerStatus  # noqa: E402

BATCH = 5000


def build_catalog(total: int) -> None:
    """Add products until the catalog holds `total`: 3 roots x 4 children, 20 sellers,
    2 variants per product, a colour on each variant."""
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
                name=f"Product {i}",
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
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client: Client, url: str, repeat: int) -> tuple[float, int, int]:
    client.get(url)  # warm caches and connections
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), len(queries), response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        client = Client()
        print(f"{'products':>9} {'page':<44} {'median ms':>9} {'queries':>7} {'status':>6}")
        for size in sorted(args.sizes):
            started = time.perf_counter()
            build_catalog(size)
            print(f"# catalog of {size} products ready in {time.perf_counter() - started:.1f}s")
            product_slug = Product.objects.order_by("pk").values_list("slug", flat=True)[0]
            pages = [
                "/",
                "/c/root-0/",
                "/c/root-0/?sort=price_asc",
                "/c/root-0/?price_min=50&price_max=80",
                "/c/root-0/?attr_colour=red&seller=seller-3",
                "/c/root-0/?page=20",
                "/s/seller-1/",
                f"/p/{product_slug}/",
            ]
            for url in pages:
                median, queries, status = measure(client, url, args.repeat)
                print(f"{size:>9} {url:<44} {median:>9.1f} {queries:>7} {status:>6}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
