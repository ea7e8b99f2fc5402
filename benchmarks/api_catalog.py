"""Catalog API latency on whatever catalog the database holds (seed it first, e.g.
`manage.py seed_demo --products 1000000`). For each request it prints the SQL query count and
p50/p95 wall time over `--repeat` runs through Django's test client (no network, no server), so
the figures are the application + database cost of one request.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_NAME \\
        .venv/bin/python benchmarks/api_catalog.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from catalog.models import Category, Product
    from catalog.selectors import product_list

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    leaf = Category.objects.filter(depth=2).order_by("path").first()
    top = Category.objects.filter(depth=0).order_by("path").first()
    product = product_list().order_by("pk").first()
    if product is None or leaf is None:
        sys.exit("No public products: run `manage.py seed_demo` first.")
    print(f"catalog: {Product.objects.count():,} products; repeat {args.repeat}")

    urls = [
        "/api/v1/categories/",
        f"/api/v1/categories/{leaf.slug}/",
        "/api/v1/products/?page_size=24",
        "/api/v1/products/?page_size=100",
        f"/api/v1/products/?category={top.slug}&sort=price_asc",
        f"/api/v1/products/?category={leaf.slug}&price_min=20&price_max=500",
        "/api/v1/products/?attr_colour=black&sort=rating",
        f"/api/v1/products/{product.slug}/",
        "/api/v1/sellers/",
    ]
    print(f"{'request':<70} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for url in urls:
        timings = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                sys.exit(f"{url}: HTTP {response.status_code} {response.content[:200]!r}")
        timings.sort()
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(
            f"{url:<70} {len(ctx.captured_queries):>7} "
            f"{statistics.median(timings):>8.1f} {p95:>8.1f}"
        )


if __name__ == "__main__":
    main()
