"""Real races: every worker is a thread with its own PostgreSQL connection, all released at once
by a barrier. Sequential tests cannot catch a re-check that reads nothing under the lock; these
do, because losers would otherwise succeed."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from inventory.models import Allocation, Reservation, Stock
from inventory.services import (
    AllocateLine,
    InsufficientStock,
    ReservationExpired,
    ReserveLine,
    stock_allocate_reserved,
    stock_deallocate,
    stock_release,
    stock_reservations_expire,
    stock_reserve,
    stock_ship,
)
from tests.factories import ProductVariantFactory
from tests.factories.inventory import WarehouseFactory, stock_with
from tests.inventory.conftest import counters_agree_with_rows

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

WORKERS = 32


def race(n: int, work: Callable[[int], str]) -> Counter:
    """Run `work(i)` in n threads started together; count the outcomes. An unexpected exception
    (a deadlock, an IntegrityError from a CHECK) is an outcome too, and fails the callers'
    asserts."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait()
            result = work(i)
        except InsufficientStock:
            result = "insufficient"
        except Exception as exc:  # noqa: BLE001 - recorded and asserted on by the test
            result = f"error: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung (lock wait / deadlock)"
    return Counter(outcomes)


def _reserve_one(variant_id: int, quantity: int = 1) -> Callable[[int], str]:
    def work(i: int) -> str:
        stock_reserve(holder=f"buyer:{i}", lines=[ReserveLine(variant_id, quantity)])
        return "ok"

    return work


@pytest.mark.parametrize("k", [1, 7])
@pytest.mark.parametrize(
    "split", [(None,), (0, None, 0)], ids=["one-warehouse", "three-warehouses"]
)
def test_last_units_race_exactly_k_succeed(k, split):
    variant = ProductVariantFactory()
    seller = variant.product.seller
    # the K units sit in one warehouse or are spread over three (some empty ones in front)
    shares = [k] if len(split) == 1 else [0, k - k // 2, k // 2]
    for priority, units in enumerate(shares):
        stock_with(
            variant=variant,
            warehouse=WarehouseFactory(seller=seller, priority=priority),
            on_hand=units,
        )

    outcomes = race(WORKERS, _reserve_one(variant.pk))

    assert outcomes == Counter({"ok": k, "insufficient": WORKERS - k})
    assert Reservation.objects.count() == min(k, WORKERS)
    assert sum(Stock.objects.values_list("reserved", flat=True)) == k
    assert counters_agree_with_rows() == []


def test_multi_unit_lines_split_across_warehouses_never_oversell():
    variant = ProductVariantFactory()
    seller = variant.product.seller
    for priority, units in enumerate([3, 2, 2]):
        stock_with(
            variant=variant,
            warehouse=WarehouseFactory(seller=seller, priority=priority),
            on_hand=units,
        )

    outcomes = race(WORKERS, _reserve_one(variant.pk, quantity=3))

    # 7 units, 3 per buyer: exactly two buyers, the rest are told what is left
    assert outcomes == Counter({"ok": 2, "insufficient": WORKERS - 2})
    assert sum(Stock.objects.values_list("reserved", flat=True)) == 6
    assert counters_agree_with_rows() == []


def test_opposite_order_multi_line_reservations_do_not_deadlock_or_lose_updates():
    a, b = ProductVariantFactory(), ProductVariantFactory()
    stock_with(variant=a, on_hand=WORKERS // 2)
    stock_with(variant=b, on_hand=WORKERS // 2)

    def work(i: int) -> str:
        first, second = (a, b) if i % 2 else (b, a)
        stock_reserve(
            holder=f"buyer:{i}", lines=[ReserveLine(first.pk, 1), ReserveLine(second.pk, 1)]
        )
        return "ok"

    outcomes = race(WORKERS, work)

    assert outcomes == Counter({"ok": WORKERS // 2, "insufficient": WORKERS // 2})
    assert Stock.objects.get(variant=a).reserved == WORKERS // 2
    assert Stock.objects.get(variant=b).reserved == WORKERS // 2
    assert counters_agree_with_rows() == []


def test_converting_an_expired_hold_races_a_new_buyer_for_the_last_unit():
    variant = ProductVariantFactory()
    stock_with(variant=variant, on_hand=1)
    for _round in range(10):
        stock_reserve(holder="late", lines=[ReserveLine(variant.pk, 1)])
        Reservation.objects.update(expires_at="2000-01-01T00:00:00Z")
        line_id = random.randint(1, 10**9)

        def work(i: int, line_id=line_id) -> str:
            if i == 0:
                try:
                    stock_allocate_reserved(
                        holder="late", order_lines=[AllocateLine(line_id, variant.pk, 1)]
                    )
                except ReservationExpired:
                    return "expired"
                return "allocated"
            stock_reserve(holder=f"new:{i}", lines=[ReserveLine(variant.pk, 1)])
            return "reserved"

        outcomes = race(8, work)
        # the unit goes to exactly one of them
        assert outcomes["allocated"] + outcomes["reserved"] == 1, outcomes
        assert set(outcomes) <= {"allocated", "reserved", "insufficient", "expired"}, outcomes
        assert counters_agree_with_rows() == []
        stock_deallocate(order_line_ids=[line_id])
        for i in range(8):
            stock_release(holder=f"new:{i}")


def test_concurrent_conversion_of_the_same_order_allocates_once():
    variant = ProductVariantFactory()
    stock_with(variant=variant, on_hand=5)
    stock_reserve(holder="checkout:1", lines=[ReserveLine(variant.pk, 2)])

    def work(i: int) -> str:
        allocations = stock_allocate_reserved(
            holder="checkout:1", order_lines=[AllocateLine(777, variant.pk, 2)]
        )
        return f"{len(allocations)}x{sum(a.quantity for a in allocations)}"

    outcomes = race(8, work)

    assert outcomes == Counter({"1x2": 8})
    assert Allocation.objects.count() == 1
    assert Stock.objects.get(variant=variant).allocated == 2
    assert counters_agree_with_rows() == []


def test_mixed_operations_with_the_sweeper_keep_the_invariant():
    """Reserve, release, convert, ship, cancel and sweep at once, on overlapping rows."""
    variants = [ProductVariantFactory() for _ in range(3)]
    for v in variants:
        seller = v.product.seller
        for priority in range(2):
            stock_with(
                variant=v, warehouse=WarehouseFactory(seller=seller, priority=priority), on_hand=6
            )

    def work(i: int) -> str:
        rng = random.Random(i)
        done = Counter()
        for step in range(12):
            holder = f"w{i}"
            chosen = rng.sample(variants, k=rng.randint(1, 3))
            try:
                stock_reserve(
                    holder=holder,
                    lines=[ReserveLine(v.pk, rng.randint(1, 3)) for v in chosen],
                    ttl_seconds=rng.choice([1, 900]),
                )
            except InsufficientStock:
                done["short"] += 1
                continue
            action = rng.choice(["release", "convert", "keep", "sweep"])
            if action == "release":
                stock_release(holder=holder)
            elif action == "sweep":
                stock_reservations_expire()
            elif action == "convert":
                line_id = i * 1000 + step
                try:
                    stock_allocate_reserved(
                        holder=holder,
                        order_lines=[AllocateLine(line_id, chosen[0].pk, 1)],
                    )
                except (InsufficientStock, ReservationExpired):
                    done["lapsed"] += 1
                    continue
                if rng.random() < 0.5:
                    stock_ship(order_line_id=line_id)
                else:
                    stock_deallocate(order_line_ids=[line_id])
            done[action] += 1
        return "ok"

    outcomes = race(16, work)

    assert outcomes == Counter({"ok": 16}), outcomes
    assert counters_agree_with_rows() == []
