"""Seller bulk CSV: how long the dry run, the import, the export and a no-op round trip take for
a file of N rows (N/2 products with 2 variants each, stock in 2 warehouses), and how many
queries each makes. Everything runs inside one transaction that is rolled back at the end, so
the database is left as it was.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_NAME \\
        .venv/bin/python benchmarks/catalog_csv.py [--rows 2000]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")


class Rollback(Exception):
    pass


def _timed(label: str, fn: Callable[[], Any]) -> Any:
    from django.db import connection

    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
    print(f"{label:<38} {elapsed:8.2f} s {count:8d} queries")
    return result


def _file(tag: str, rows: int, category: str, price: str, stock: int) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["handle", "name", "category", "sku", "price", "stock:a", "stock:b"])
    for i in range(rows):
        product = i // 2
        writer.writerow(
            [f"{tag}-p{product}", f"Bench {product}", category, f"{tag}-{i}", price, stock, 1]
        )
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from catalog.services import category_create
    from inventory.services import warehouse_create
    from sellers.bulk.export import catalog_export_rows
    from sellers.bulk.imports import catalog_import_apply, catalog_import_check
    from sellers.models import Seller

    settings.SELLER_IMPORT_MAX_ROWS = max(settings.SELLER_IMPORT_MAX_ROWS, args.rows)
    settings.SELLER_IMPORT_MAX_BYTES = max(settings.SELLER_IMPORT_MAX_BYTES, 200 * args.rows)
    tag = f"bench{uuid.uuid4().hex[:8]}"
    print(f"{args.rows} rows ({args.rows // 2} products x 2 variants, 2 warehouses)")
    try:
        with transaction.atomic():
            seller = Seller.objects.create(name=tag, slug=tag)
            category_create(name=tag, slug=tag)
            for code in ("a", "b"):
                warehouse_create(seller=seller, code=code, name=code)
            created = _file(tag, args.rows, tag, "10.00", 5)
            plan = _timed(
                "dry run, new catalog", lambda: catalog_import_check(seller=seller, data=created)
            )
            assert not plan.errors, plan.errors[:3]

            def apply(plan=plan) -> None:
                catalog_import_apply(seller=seller, plan=plan, actor=None, reference=tag)

            _timed("import: create", apply)

            def export() -> bytes:
                out = io.StringIO(newline="")
                writer = csv.writer(out)
                for row in catalog_export_rows(seller=seller):
                    writer.writerow(row)
                return out.getvalue().encode()

            exported = _timed("export", export)
            same = _timed(
                "dry run, unchanged export",
                lambda: catalog_import_check(seller=seller, data=exported),
            )
            assert same.counts == dict.fromkeys(same.counts, 0), same.counts
            _timed(
                "import: unchanged (no writes)",
                lambda: catalog_import_apply(seller=seller, plan=same, actor=None, reference=tag),
            )
            changed = _file(tag, args.rows, tag, "11.00", 7)
            update = _timed(
                "dry run, every price and stock",
                lambda: catalog_import_check(seller=seller, data=changed),
            )
            _timed(
                "import: update every price and stock",
                lambda: catalog_import_apply(seller=seller, plan=update, actor=None, reference=tag),
            )
            raise Rollback
    except Rollback:
        print("rolled back; nothing was kept")


if __name__ == "__main__":
    main()
