"""Listing and reservation throughput with catalog reads on a streaming replica versus on the
primary, in one run, on this machine.

Starts its own primary and streaming replica (shop/localcluster.py; never touches
DATABASE_URL), migrates, builds a catalog, then for each mode runs, for --seconds, listing
clients (GET of a category page, in-process Django test clients, one connection each) beside
reservation clients (`stock_reserve` under its row locks, always on the primary), and prints
requests per second, median and p95 latency, and the replica's largest lag seen. Run:

    .venv/bin/python benchmarks/replica_reads.py --products 5000 --seconds 15

On one machine primary and replica share the same cores and disk: what this shows is the
router's cost and that reservations are unaffected, not the capacity a replica on its own
hardware adds (docs/scaling.md turns these figures into a model).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shop import localcluster


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--listing-clients", type=int, default=4)
    parser.add_argument("--reserve-clients", type=int, default=2)
    parser.add_argument("--pg-major", type=int, default=int(os.environ.get("PG_MAJOR", "15")))
    args = parser.parse_args()

    primary = localcluster.primary_create(major=args.pg_major)
    replica = None
    try:
        primary.psql("CREATE DATABASE bench")
        replica = localcluster.replica_create(primary)
        os.environ["DATABASE_URL"] = primary.url("bench")
        os.environ["DATABASE_REPLICA_URLS"] = replica.url("bench")
        os.environ.pop("REDIS_URL", None)  # a private local-memory cache
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
        os.environ["LOG_LEVEL"] = "WARNING"
        return _run(args, primary, replica)
    finally:
        if replica is not None:
            replica.remove()
        primary.remove()


def _run(args, primary: localcluster.Cluster, replica: localcluster.Cluster) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    from benchmarks.storefront_pages import build_catalog
    from catalog.models import ProductVariant
    from inventory.models import Warehouse
    from inventory.services import stock_receive

    setup_test_environment()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    build_catalog(args.products)
    variants = list(ProductVariant.objects.select_related("product")[:200])
    warehouses: dict[int, Warehouse] = {}
    for variant in variants:
        seller = variant.product.seller
        if seller.pk not in warehouses:
            warehouses[seller.pk] = Warehouse.objects.create(
                seller=seller, code=f"wh-{seller.pk}", name="Main", country="DE"
            )
        stock_receive(
            warehouse=warehouses[seller.pk], variant=variant, quantity=100_000, reason="bench"
        )
    localcluster.replica_wait_caught_up(primary, replica)
    print(
        f"# {args.products} products, primary :{primary.port}, replica :{replica.port}, "
        f"ready in {time.perf_counter() - started:.0f}s; {os.cpu_count()} cores on this machine"
    )
    print(
        f"{'reads on':<9} {'listing req/s':>13} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'reserve/s':>9} {'p50 ms':>7} {'p95 ms':>7} {'max lag s':>9} "
        f"{'rows read: primary':>18} {'replica':>9}"
    )
    for mode, replicas in (("primary", []), ("replica", ["replica1"])):
        if not _phase(mode, replicas, args, variants, servers=(primary, replica)):
            return 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
            " WHERE c.relkind = 'r' AND c.relname LIKE 'catalog\\_%%'"
        )
        catalog_bytes = int(cursor.fetchone()[0])
    print(
        f"# catalog tables (indexes included): {catalog_bytes / 1e6:.1f} MB for "
        f"{args.products} products of 2 variants: {catalog_bytes / args.products:.0f} bytes each"
    )
    return 0


def _rows_read(cluster: localcluster.Cluster) -> int:
    return int(
        cluster.psql(
            "SELECT tup_returned + tup_fetched FROM pg_stat_database WHERE datname = 'bench'"
        )
    )


def _phase(mode: str, replicas: list[str], args, variants, servers) -> bool:
    """One mode's run: listing and reservation clients for args.seconds; prints a row."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from inventory.services import stock_reserve
    from inventory.services.contracts import ReserveLine
    from shop.core.replicas import replica_lag_measure

    url = "/c/child-0-0/"
    settings.DATABASE_REPLICAS = replicas
    stop = threading.Event()
    listing: list[float] = []
    reserving: list[float] = []
    lags: list[float] = []
    errors: list[BaseException] = []

    def lister() -> None:
        client = Client()
        try:
            while not stop.is_set():
                t0 = time.perf_counter()
                response = client.get(url)
                assert response.status_code == 200, response.status_code
                listing.append(time.perf_counter() - t0)
        except BaseException as exc:  # noqa: BLE001 - printed below
            errors.append(exc)
        finally:
            connection.close()

    def reserver(number: int) -> None:
        turn = 0
        try:
            while not stop.is_set():
                variant = variants[(number * 7919 + turn) % len(variants)]
                t0 = time.perf_counter()
                stock_reserve(
                    holder=f"checkout:bench-{mode}-{number}-{turn}",
                    lines=[ReserveLine(variant_id=variant.pk, quantity=1)],
                )
                reserving.append(time.perf_counter() - t0)
                turn += 1
        except BaseException as exc:  # noqa: BLE001 - printed below
            errors.append(exc)
        finally:
            connection.close()

    def lag_watch() -> None:
        while not stop.is_set():
            lags.append(replica_lag_measure("replica1"))
            time.sleep(0.2)
        connection.close()

    threads = [threading.Thread(target=lister) for _ in range(args.listing_clients)]
    threads += [threading.Thread(target=reserver, args=(n,)) for n in range(args.reserve_clients)]
    threads.append(threading.Thread(target=lag_watch))
    before = [_rows_read(server) for server in servers]
    for thread in threads:
        thread.start()
    time.sleep(args.seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    read = [_rows_read(server) - start for server, start in zip(servers, before, strict=True)]
    if errors:
        print(f"# {mode}: {len(errors)} errors, first: {errors[0]!r}")
        return 1
    print(
        f"{mode:<9} {len(listing) / args.seconds:>13.1f} "
        f"{statistics.median(listing) * 1000:>7.1f} {_percentile(listing, 0.95) * 1000:>7.1f} "
        f"{len(reserving) / args.seconds:>9.1f} "
        f"{statistics.median(reserving) * 1000:>7.1f} "
        f"{_percentile(reserving, 0.95) * 1000:>7.1f} {max(lags, default=0):>9.3f} "
        f"{read[0]:>18} {read[1]:>9}"
    )
    return True


if __name__ == "__main__":
    sys.exit(main())
