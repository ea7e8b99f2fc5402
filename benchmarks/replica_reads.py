"""Listing and placement throughput with catalog reads on a streaming replica versus on the
primary, in one run, on this machine.

Starts its own primary and streaming replica (shop/localcluster.py; never touches
DATABASE_URL), migrates, builds a catalog (benchmarks/storefront_pages.py) and indexes it for
search, prepares checkouts ready to place (benchmarks/checkout_throughput.py's helpers), then
for each mode runs, for --seconds, listing clients beside placement clients, all in-process
Django test clients with a connection each:

- listing clients (anonymous shoppers) cycle through a category page (/c/child-0-0/), the
  product API (/api/v1/products/?category=child-0-0) and a search (/api/v1/search/?q=...):
  the reads the router may send to the replica;
- placement clients place prepared checkouts through POST /api/v1/checkouts/<token>/place/
  (the test gateway, an Idempotency-Key each): always on the primary, whatever the mode.

It prints, per mode, requests per second with median and p95 latency for each kind of listing,
orders per second with median and p95 placement latency, the replica's largest lag seen, and
the rows each server read (pg_stat_database): what moved off the primary. Run:

    .venv/bin/python benchmarks/replica_reads.py --products 5000 --seconds 15

On one machine primary and replica share the same cores and disk, and the clients share one
Python process (one core's worth of interpreter): what this shows is the router's cost, what
moves off the primary and that placement is unaffected, not the capacity a replica on its own
hardware adds (docs/scaling.md turns these figures into a model).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.checkout_throughput import SERVED_ENV
from shop import localcluster


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--listing-clients", type=int, default=4)
    parser.add_argument("--placement-clients", type=int, default=2)
    parser.add_argument(
        "--checkouts",
        type=int,
        default=300,
        help="checkouts prepared per mode (a placement client stops when they run out)",
    )
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
        os.environ.update(SERVED_ENV)  # as production serves: no debug, the test gateway
        return _run(args, primary, replica)
    finally:
        if replica is not None:
            replica.remove()
        primary.remove()


LISTINGS = {
    "category page": "/c/child-0-0/",
    "product API": "/api/v1/products/?category=child-0-0",
    "search API": "/api/v1/search/?q=product",
}


def _run(args, primary: localcluster.Cluster, replica: localcluster.Cluster) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    from benchmarks.checkout_throughput import _prepare_catalogue, _prepared_checkouts
    from benchmarks.storefront_pages import build_catalog
    from search.services import search_index_rebuild

    setup_test_environment()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    build_catalog(args.products)
    search_index_rebuild()
    pools = _prepare_catalogue()
    checkouts = {
        mode: _prepared_checkouts(pools, "uniform", args.checkouts, f"replica-reads-{mode}")
        for mode in MODES
    }
    connection.close()
    localcluster.replica_wait_caught_up(primary, replica)
    print(
        f"# {args.products} products, primary :{primary.port}, replica :{replica.port}, "
        f"ready in {time.perf_counter() - started:.0f}s; {args.listing_clients} listing + "
        f"{args.placement_clients} placement clients, {args.seconds:.0f}s per mode; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    _warm_up()
    rows = []
    for mode, replicas in MODES.items():
        row = _phase(mode, replicas, args, checkouts[mode], servers=(primary, replica))
        if row is None:
            return 1
        rows.append(row)
    _table(rows, args.seconds)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
            " WHERE c.relkind = 'r' AND c.relname LIKE 'catalog\\_%%'"
        )
        catalog_bytes = int(cursor.fetchone()[0])
    print(
        f"# catalog tables (indexes included): {catalog_bytes / 1e6:.1f} MB for "
        f"{args.products} products of 2 variants: {catalog_bytes / args.products:.0f} bytes each;"
        f" load average at the end {os.getloadavg()[0]:.2f}"
    )
    return 0


# reads on: the router's replicas (none: every read on the primary)
MODES: dict[str, list[str]] = {"primary": [], "replica": ["replica1"]}


def _warm_up() -> None:
    """Each listing once per server, untimed: the first mode timed does not pay for cold
    caches and first connections alone."""
    from django.conf import settings
    from django.db import connections
    from django.test import Client

    for replicas in MODES.values():
        settings.DATABASE_REPLICAS = replicas
        for url in LISTINGS.values():
            Client().get(url)
    connections.close_all()


def _rows_read(cluster: localcluster.Cluster) -> int:
    return int(
        cluster.psql(
            "SELECT tup_returned + tup_fetched FROM pg_stat_database WHERE datname = 'bench'"
        )
    )


@dataclass
class _Row:
    mode: str
    listing: dict[str, list[float]]
    placing: list[float]
    lag: float
    rows_read: list[int]


def _phase(mode: str, replicas: list[str], args, checkouts, servers) -> _Row | None:
    """One mode's run: listing and placement clients for args.seconds."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from shop.core.replicas import replica_lag_measure

    settings.DATABASE_REPLICAS = replicas
    stop = threading.Event()
    listing: dict[str, list[float]] = {kind: [] for kind in LISTINGS}
    placing: list[float] = []
    lags: list[float] = []
    errors: list[str] = []
    jobs = iter(checkouts)
    jobs_lock = threading.Lock()

    def lister(number: int) -> None:
        client = Client()
        kinds = list(LISTINGS.items())
        try:
            for turn in itertools.count(number):
                if stop.is_set():
                    return
                kind, url = kinds[turn % len(kinds)]
                t0 = time.perf_counter()
                response = client.get(url)
                if response.status_code != 200:
                    errors.append(f"{url}: {response.status_code}")
                    return
                listing[kind].append(time.perf_counter() - t0)
        finally:
            connection.close()

    def placer() -> None:
        try:
            while not stop.is_set():
                with jobs_lock:
                    job = next(jobs, None)
                if job is None:
                    errors.append("placement clients ran out of checkouts: raise --checkouts")
                    return
                key, token = job
                t0 = time.perf_counter()
                response = Client(HTTP_AUTHORIZATION=f"Token {key}").post(
                    f"/api/v1/checkouts/{token}/place/",
                    {"payment_token": "tok_visa"},
                    content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=f"bench-{token}",
                )
                if response.status_code != 201:
                    errors.append(f"place: {response.status_code} {response.content[:200]!r}")
                    return
                placing.append(time.perf_counter() - t0)
        finally:
            connection.close()

    def lag_watch() -> None:
        while not stop.is_set():
            lags.append(replica_lag_measure("replica1"))
            time.sleep(0.2)
        connection.close()

    threads = [threading.Thread(target=lister, args=(n,)) for n in range(args.listing_clients)]
    threads += [threading.Thread(target=placer) for _ in range(args.placement_clients)]
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
        print(f"# {mode}: {len(errors)} errors, first: {errors[0]}")
        return None
    return _Row(mode, listing, placing, max(lags, default=0.0), read)


def _ms(values: list[float], q: float) -> float:
    return _percentile(values, q) * 1000


def _table(rows: list[_Row], seconds: float) -> None:
    """One line per (what, mode): throughput, median, p95; then where rows were read."""
    print(f"{'':<15}{'reads on':<10}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}")
    for kind in [*LISTINGS, "placement"]:
        for row in rows:
            values = row.placing if kind == "placement" else row.listing[kind]
            unit = "orders/s" if kind == "placement" else ""
            print(
                f"{kind:<15}{row.mode:<10}{len(values) / seconds:>8.1f}{_ms(values, 0.5):>8.1f}"
                f"{_ms(values, 0.95):>8.1f} {unit}"
            )
    print(f"{'':<15}{'reads on':<10}{'rows read: primary':>19}{'replica':>10}{'max lag s':>10}")
    for row in rows:
        print(
            f"{'all':<15}{row.mode:<10}{row.rows_read[0]:>19}{row.rows_read[1]:>10}{row.lag:>10.3f}"
        )


if __name__ == "__main__":
    sys.exit(main())
