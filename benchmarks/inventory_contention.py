"""Reservations per second under contention: the service layer against the same transaction
issued as raw SQL through psycopg, at 1, 8 and 32 concurrent workers (separate processes, each
with its own connection), uniform over 10,000 stocks and hot (5 stocks). After every cell the
counters are checked against the rows (oversold rows, counter/row drift) and deadlocks counted.
A final "sell-out" phase races all workers for a few hot units until none are left.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_NAME \\
        .venv/bin/python benchmarks/inventory_contention.py [--seconds 3] [--workers 1,8,32]

It works in its own database, `<your database>_bench` (created, migrated and dropped again;
`--keep` keeps it for the next run).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNIFORM_STOCKS = 10_000
HOT_STOCKS = 5
PLENTY = 1_000_000  # per stock, so timed cells never run out
SELL_OUT_UNITS = 200  # per hot stock in the sell-out phase


def _bench_url(base_url: str) -> tuple[str, str, str]:
    """(bench database URL, admin URL, bench database name)."""
    head, _, name = base_url.rpartition("/")
    name = name.split("?")[0]
    return f"{head}/{name}_bench", f"{head}/postgres", f"{name}_bench"


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    os.environ["DATABASE_CONN_MAX_AGE"] = "0"
    import django

    django.setup()


@dataclass
class Outcome:
    ok: int = 0
    short: int = 0
    deadlocks: int = 0
    errors: int = 0
    first_error: str = ""


def _worker(
    impl: str, variant_ids: list[int], seconds: float, barrier, seed: int, queue, sell_out: bool
) -> None:
    """One process: reserve one unit of a random variant, over and over, until time is up (or,
    when selling out, until 50 attempts in a row found nothing left)."""
    _django_setup()
    import psycopg
    from django.db import OperationalError, connection

    from inventory.services import InsufficientStock, ReserveLine, stock_reserve

    rng = random.Random(seed)
    out = Outcome()
    raw = None
    if impl == "raw":
        raw = psycopg.connect(os.environ["DATABASE_URL"])
    else:
        connection.ensure_connection()
    barrier.wait()
    deadline = time.perf_counter() + seconds
    n = 0
    shorts_in_a_row = 0
    while time.perf_counter() < deadline and not (sell_out and shorts_in_a_row >= 50):
        n += 1
        holder = f"bench:{seed}:{n}"
        variant_id = rng.choice(variant_ids)
        try:
            if raw is None:
                stock_reserve(holder=holder, lines=[ReserveLine(variant_id, 1)])
                out.ok += 1
                shorts_in_a_row = 0
            elif _raw_reserve(raw, holder, variant_id):
                out.ok += 1
                shorts_in_a_row = 0
            else:
                out.short += 1
                shorts_in_a_row += 1
        except InsufficientStock:
            out.short += 1
            shorts_in_a_row += 1
        except (OperationalError, psycopg.errors.DeadlockDetected) as exc:
            if "deadlock" in str(exc):
                out.deadlocks += 1
            else:
                out.errors += 1
                out.first_error = out.first_error or repr(exc)
        except Exception as exc:  # noqa: BLE001 - counted and printed: the run must finish
            out.errors += 1
            out.first_error = out.first_error or repr(exc)
    if raw is not None:
        raw.close()
    connection.close()
    queue.put(out)


def _raw_reserve(conn, holder: str, variant_id: int) -> bool:
    """The service's transaction by hand, statement for statement and with the very same SQL
    (imported from the service modules): lock the variant's stock rows and the holder's held
    rows in pk order, take the holder's previous hold and the expired holds on those rows and
    give their units back, re-check under the lock (active warehouse of the variant's seller,
    variant still sold, units free), guarded UPDATE, insert the reservation row. What the raw
    side skips is only Python: validation, the strategy and the result objects."""
    from datetime import UTC, datetime, timedelta

    from psycopg.rows import dict_row

    from inventory.locks import _RESERVATION_LOCK_SQL
    from inventory.services.common import (
        _COUNTERS_MOVE_SQL,
        _RESERVATIONS_INSERT_SQL,
        _TAKE_SQL,
    )

    now = datetime.now(UTC)
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_RESERVATION_LOCK_SQL, ([variant_id], holder))
        rows = {row["id"]: row for row in cur.fetchall()}
        cur.execute(_TAKE_SQL, (holder, list(rows), now))
        returned: dict[int, int] = {}
        for taken in cur.fetchall():
            returned[taken["stock_id"]] = returned.get(taken["stock_id"], 0) + taken["quantity"]
        for stock_id in sorted(returned):
            cur.execute(_COUNTERS_MOVE_SQL, _move(stock_id, -returned[stock_id]))
            rows[stock_id]["reserved"] -= returned[stock_id]
        for stock_id, row in rows.items():
            usable = (
                row["variant_id"] == variant_id
                and row["wh_is_active"]
                and row["v_is_active"]
                and row["wh_seller_id"] == row["v_seller_id"]
            )
            free = row["on_hand"] - row["allocated"] - row["reserved"]
            if usable and (row["backorder_allowed"] or free >= 1):
                cur.execute(_COUNTERS_MOVE_SQL, _move(stock_id, 1))
                if cur.rowcount != 1:
                    raise RuntimeError("guarded update matched no row under the lock")
                expires_at = now + timedelta(minutes=15)
                cur.execute(_RESERVATIONS_INSERT_SQL, (holder, expires_at, [stock_id], [1]))
                return True
    return False


def _move(stock_id: int, reserved: int) -> dict:
    return {
        "id": stock_id,
        "on_hand": 0,
        "allocated": 0,
        "reserved": reserved,
        "claims_grow": reserved > 0,
    }


def _run_cell(
    impl: str, variant_ids: list[int], workers: int, seconds: float, sell_out: bool = False
) -> Outcome:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers)
    queue = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker,
            args=(impl, variant_ids, seconds, barrier, i + 1, queue, sell_out),
        )
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    total = Outcome()
    for _ in procs:
        part = queue.get(timeout=seconds + 600)  # 32 spawned Django processes start slowly
        total.ok += part.ok
        total.short += part.short
        total.deadlocks += part.deadlocks
        total.errors += part.errors
        total.first_error = total.first_error or part.first_error
    for p in procs:
        p.join()
    return total


def _check_and_reset(*, reset: bool = True) -> tuple[int, int]:
    """(oversold rows, rows whose reserved counter differs from its reservation rows)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM inventory_stock "
            "WHERE NOT backorder_allowed AND allocated + reserved > on_hand"
        )
        oversold = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM inventory_stock s LEFT JOIN (SELECT stock_id, sum(quantity) q "
            "FROM inventory_reservation GROUP BY stock_id) r ON r.stock_id = s.id "
            "WHERE s.reserved <> coalesce(r.q, 0)"
        )
        drift = cur.fetchone()[0]
        if reset:
            cur.execute("TRUNCATE inventory_reservation")
            cur.execute("UPDATE inventory_stock SET reserved = 0 WHERE reserved <> 0")
    return oversold, drift


def _prepare_data() -> tuple[list[int], list[int]]:
    from django.db import transaction
    from django.utils import timezone

    from catalog.models import Product, ProductStatus, ProductVariant
    from catalog.services import category_create
    from inventory.models import MovementReason, Stock, StockMovement, Warehouse
    from sellers.models import Seller, SellerStatus

    existing = list(
        ProductVariant.objects.filter(sku__startswith="BENCH-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(existing) == UNIFORM_STOCKS + HOT_STOCKS:
        return existing[:UNIFORM_STOCKS], existing[UNIFORM_STOCKS:]
    print(f"Creating {UNIFORM_STOCKS + HOT_STOCKS} variants with stock...", flush=True)
    with transaction.atomic():
        seller = Seller.objects.create(
            name="Bench seller", slug="bench-seller", status=SellerStatus.APPROVED
        )
        category = category_create(name="Bench", slug="bench")
        product = Product.objects.create(
            seller=seller,
            category=category,
            name="Bench product",
            slug="bench-product",
            status=ProductStatus.ACTIVE,
            published_at=timezone.now(),
        )
        warehouse = Warehouse.objects.create(seller=seller, code="bench", name="Bench")
        variants = ProductVariant.objects.bulk_create(
            ProductVariant(product=product, sku=f"BENCH-{i:06d}", price=1)
            for i in range(UNIFORM_STOCKS + HOT_STOCKS)
        )
        stocks = Stock.objects.bulk_create(
            Stock(variant=v, warehouse=warehouse, on_hand=PLENTY) for v in variants
        )
        StockMovement.objects.bulk_create(
            StockMovement(
                stock=s, reason=MovementReason.RECEIVE, delta=PLENTY, on_hand_after=PLENTY
            )
            for s in stocks
        )
    ids = [v.pk for v in variants]
    return ids[:UNIFORM_STOCKS], ids[UNIFORM_STOCKS:]


def _sell_out(impl: str, hot: list[int], workers: int) -> tuple[int, int, int, int]:
    """Race for SELL_OUT_UNITS per hot stock until sold out: (sold, expected, oversold, drift)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE inventory_stock SET on_hand = %s, reserved = 0 WHERE variant_id = ANY(%s)",
            [SELL_OUT_UNITS, hot],
        )
    outcome = _run_cell(impl, hot, workers, 300, sell_out=True)
    oversold, drift = _check_and_reset(reset=False)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT coalesce(sum(reserved), 0) FROM inventory_stock WHERE variant_id = ANY(%s)",
            [hot],
        )
        sold = cur.fetchone()[0]
        cur.execute("TRUNCATE inventory_reservation")
        cur.execute(
            "UPDATE inventory_stock SET on_hand = %s, reserved = 0 WHERE variant_id = ANY(%s)",
            [PLENTY, hot],
        )
    assert outcome.ok == sold, (outcome.ok, sold)
    return sold, SELL_OUT_UNITS * len(hot), oversold, drift


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per cell")
    parser.add_argument("--workers", default="1,8,32", help="comma-separated worker counts")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        print("Set DATABASE_URL to a PostgreSQL server (a <name>_bench database is used).")
        return 2
    bench_url, admin_url, bench_name = _bench_url(base_url)
    os.environ["DATABASE_URL"] = bench_url

    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [bench_name]
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{bench_name}"')
    _django_setup()
    from django.core.management import call_command
    from django.db import connection

    print(f"Migrating {bench_name}...", flush=True)
    call_command("migrate", verbosity=0)
    uniform, hot = _prepare_data()
    _check_and_reset()
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    connection.close()
    worker_counts = [int(w) for w in args.workers.split(",")]

    print(
        f"\nreservations/s, {args.seconds:.0f}s per cell, {os.cpu_count()} CPUs, "
        "workers are processes with their own connection"
    )
    header = (
        f"{'scenario':<8} {'workers':>7} {'service/s':>10} {'raw SQL/s':>10} {'ratio':>6} "
        f"{'oversold':>8} {'drift':>5} {'deadlocks':>9} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    problems = 0
    for scenario, ids in (("uniform", uniform), ("hot", hot)):
        for workers in worker_counts:
            rates, oversold, drift, deadlocks, errors = {}, 0, 0, 0, 0
            for impl in ("service", "raw"):
                outcome = _run_cell(impl, ids, workers, args.seconds)
                rates[impl] = outcome.ok / args.seconds
                o, d = _check_and_reset()
                connection.close()
                oversold += o
                drift += d
                deadlocks += outcome.deadlocks
                errors += outcome.errors
                if outcome.first_error:
                    print(f"  {impl} error: {outcome.first_error}")
            problems += oversold + drift + deadlocks + errors
            ratio = rates["service"] / rates["raw"] if rates["raw"] else float("nan")
            print(
                f"{scenario:<8} {workers:>7} {rates['service']:>10.0f} {rates['raw']:>10.0f} "
                f"{ratio:>6.2f} {oversold:>8} {drift:>5} {deadlocks:>9} {errors:>6}",
                flush=True,
            )

    print(f"\nsell-out: {SELL_OUT_UNITS} units on each of {HOT_STOCKS} hot stocks, raced to zero")
    for impl in ("service", "raw"):
        workers = max(worker_counts)
        sold, expected, oversold, drift = _sell_out(impl, hot, workers)
        connection.close()
        problems += oversold + drift + (sold != expected)
        print(
            f"{impl:<8} {workers:>3} workers: sold {sold} of {expected}, "
            f"oversold rows {oversold}, counter drift {drift}"
        )

    if not args.keep:
        connection.close()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{bench_name}" WITH (FORCE)')
    print(
        "\nOK: no oversell, no drift, no deadlocks." if not problems else f"\nPROBLEMS: {problems}"
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
