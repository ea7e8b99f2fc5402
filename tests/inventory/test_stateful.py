"""Property-based: random sequences of receive / reserve / release / expire / sweep / allocate /
ship / cancel / return, checked step by step against a small model of what must be true. After
every step the invariant holds and the counters equal the rows and the ledger."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from inventory.models import Reservation, Stock
from inventory.services import (
    AllocateLine,
    InsufficientStock,
    ReservationExpired,
    ReserveLine,
    stock_allocate_reserved,
    stock_deallocate,
    stock_receive,
    stock_release,
    stock_reservations_expire,
    stock_reserve,
    stock_return,
    stock_ship,
)
from tests.factories import ProductVariantFactory
from tests.factories.inventory import WarehouseFactory
from tests.inventory.conftest import counters_agree_with_rows

HOLDERS = ["a", "b", "c"]
_line_ids = itertools.count(1)
_runs = itertools.count(1)


class InventoryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        run = next(_runs)
        self.holder_prefix = f"run{run}:"
        v0 = ProductVariantFactory()
        v1 = ProductVariantFactory(product=v0.product)
        seller = v0.product.seller
        near, far = (WarehouseFactory(seller=seller, priority=p) for p in (1, 2))
        self.variants = [v0, v1]
        # v0 lives in two warehouses (lines split), v1 in one
        self.places = [(v0, near), (v0, far), (v1, far)]
        self.on_hand: dict[int, int] = defaultdict(int)
        self.allocated: dict[int, int] = defaultdict(int)
        self.holds: dict[str, dict[int, int]] = {}
        self.expired: set[str] = set()
        self.lines: dict[int, dict] = {}

    def _h(self, holder: str) -> str:
        return self.holder_prefix + holder

    def _live_others(self, holder: str, variant_id: int) -> int:
        return sum(
            held.get(variant_id, 0)
            for h, held in self.holds.items()
            if h != holder and h not in self.expired
        )

    def _drop_expired_others(self, holder: str, touched: set[int]) -> None:
        for h in list(self.expired):
            if h == holder:
                continue
            for v in touched:
                self.holds[h].pop(v, None)
            if not self.holds[h]:
                del self.holds[h]
                self.expired.discard(h)

    @rule(place=st.integers(0, 2), quantity=st.integers(1, 4))
    def receive(self, place, quantity):
        variant, warehouse = self.places[place]
        stock_receive(warehouse=warehouse, variant=variant, quantity=quantity, reason="delivery")
        self.on_hand[variant.pk] += quantity

    @rule(
        holder=st.sampled_from(HOLDERS),
        wanted=st.dictionaries(st.integers(0, 1), st.integers(1, 4), min_size=1),
    )
    def reserve(self, holder, wanted):
        wanted = {self.variants[i].pk: q for i, q in wanted.items()}
        free = {
            v: self.on_hand[v] - self.allocated[v] - self._live_others(holder, v) for v in wanted
        }
        expect_ok = all(q <= free[v] for v, q in wanted.items())
        try:
            stock_reserve(
                holder=self._h(holder), lines=[ReserveLine(v, q) for v, q in wanted.items()]
            )
        except InsufficientStock as exc:
            assert not expect_ok, (wanted, free)
            assert {d["variant_id"]: d["available"] for d in exc.details} == {
                v: free[v] for v, q in wanted.items() if q > free[v]
            }
            return
        assert expect_ok, (wanted, free)
        self._drop_expired_others(holder, set(wanted) | set(self.holds.get(holder, {})))
        self.holds[holder] = wanted
        self.expired.discard(holder)

    @rule(holder=st.sampled_from(HOLDERS))
    def release(self, holder):
        released = stock_release(holder=self._h(holder))
        assert released == sum(self.holds.pop(holder, {}).values())
        self.expired.discard(holder)

    @rule(holder=st.sampled_from(HOLDERS))
    def expire(self, holder):
        Reservation.objects.filter(holder=self._h(holder)).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        if holder in self.holds:
            self.expired.add(holder)

    @rule()
    def sweep(self):
        stock_reservations_expire()
        for h in self.expired:
            self.holds.pop(h, None)
        self.expired.clear()

    @rule(holder=st.sampled_from(HOLDERS), less=st.integers(0, 1))
    def allocate(self, holder, less):
        own = self.holds.get(holder, {})
        wanted = {v: max(q - less, 1) for v, q in own.items()} or {self.variants[0].pk: 1}
        ids = {v: next(_line_ids) for v in wanted}
        can = all(
            q <= self.on_hand[v] - self.allocated[v] - self._live_others(holder, v)
            for v, q in wanted.items()
        )
        try:
            stock_allocate_reserved(
                holder=self._h(holder),
                order_lines=[AllocateLine(ids[v], v, q) for v, q in wanted.items()],
            )
        except ReservationExpired:
            assert not can and not own
            return
        except InsufficientStock:
            assert not can and own
            return
        assert can
        self._drop_expired_others(holder, set(wanted) | set(own))
        self.holds.pop(holder, None)
        self.expired.discard(holder)
        for v, q in wanted.items():
            self.allocated[v] += q
            self.lines[ids[v]] = {"variant": v, "outstanding": q, "returnable": 0}

    @precondition(lambda self: any(line["outstanding"] for line in self.lines.values()))
    @rule(data=st.data())
    def ship(self, data):
        line_id = data.draw(st.sampled_from(sorted(self.lines)))
        line = self.lines[line_id]
        if not line["outstanding"]:
            assert stock_ship(order_line_id=line_id) == []
            return
        quantity = data.draw(st.integers(1, line["outstanding"]))
        moves = stock_ship(order_line_id=line_id, quantity=quantity)
        assert -sum(m.delta for m in moves) == quantity
        line["outstanding"] -= quantity
        line["returnable"] += quantity
        self.on_hand[line["variant"]] -= quantity
        self.allocated[line["variant"]] -= quantity

    @precondition(lambda self: bool(self.lines))
    @rule(data=st.data())
    def cancel(self, data):
        line_id = data.draw(st.sampled_from(sorted(self.lines)))
        line = self.lines[line_id]
        assert stock_deallocate(order_line_ids=[line_id]) == line["outstanding"]
        self.allocated[line["variant"]] -= line["outstanding"]
        line["outstanding"] = 0

    @precondition(lambda self: any(line["returnable"] for line in self.lines.values()))
    @rule(data=st.data(), restock=st.booleans())
    def give_back(self, data, restock):
        line_id = data.draw(
            st.sampled_from(sorted(i for i, line in self.lines.items() if line["returnable"]))
        )
        line = self.lines[line_id]
        quantity = data.draw(st.integers(1, line["returnable"]))
        stock_return(order_line_id=line_id, quantity=quantity, restock=restock)
        line["returnable"] -= quantity
        if restock:
            self.on_hand[line["variant"]] += quantity

    @invariant()
    def counters_match_model_rows_and_ledger(self):
        assert counters_agree_with_rows(Stock.objects.filter(variant__in=self.variants)) == []
        for variant in self.variants:
            totals = Stock.objects.filter(variant=variant).aggregate(
                on_hand=Sum("on_hand"), allocated=Sum("allocated"), reserved=Sum("reserved")
            )
            held = sum(h.get(variant.pk, 0) for h in self.holds.values())
            assert (totals["on_hand"] or 0) == self.on_hand[variant.pk]
            assert (totals["allocated"] or 0) == self.allocated[variant.pk]
            assert (totals["reserved"] or 0) == held


@pytest.mark.django_db
def test_inventory_state_machine():
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        InventoryMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
