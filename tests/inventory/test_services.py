from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import Allocation, MovementReason, Reservation, Stock, StockMovement
from inventory.services import (
    AllocateLine,
    Destination,
    InsufficientStock,
    ReservationExpired,
    ReserveLine,
    stock_adjust,
    stock_allocate_reserved,
    stock_backorder_sync,
    stock_deallocate,
    stock_receive,
    stock_reconcile,
    stock_release,
    stock_reservation_extend,
    stock_reservations_expire,
    stock_reserve,
    stock_return,
    stock_ship,
    stock_transfer,
    stock_write_off,
)
from shop.core.errors import Conflict, ErrorCode, NotFound, ValidationError
from tests.factories import ProductVariantFactory
from tests.factories.inventory import WarehouseFactory, stock_with

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(Stock.objects.order_by("pk").values_list("on_hand", "allocated", "reserved")),
        list(Reservation.objects.order_by("pk").values_list("holder", "stock_id", "quantity")),
        Allocation.objects.count(),
        StockMovement.objects.count(),
    )


def expire_all():
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def variant():
    return ProductVariantFactory(sku="MUG-1")


# --- reserve ------------------------------------------------------------------------------------


def test_reserve_writes_one_row_per_warehouse_in_five_queries(
    variant, django_assert_max_num_queries, assert_consistent
):
    """A hold split over two warehouses: one row each, with expiry and timestamps. The round trips
    are pinned: lock, take back old holds, two guarded UPDATEs, one INSERT for all rows."""
    first = stock_with(variant=variant, on_hand=2)
    second = stock_with(variant=variant, on_hand=5)
    with django_assert_max_num_queries(10) as captured:
        result = stock_reserve(holder="cart:split", lines=[ReserveLine(variant.pk, 4)])
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 5, statements
    rows = list(Reservation.objects.order_by("stock_id"))
    assert [(r.holder, r.stock_id, r.quantity) for r in rows] == [
        ("cart:split", first.pk, 2),
        ("cart:split", second.pk, 2),
    ]
    assert all(r.expires_at == result.expires_at for r in rows)
    # now() of the surrounding transaction: in a test that is the test's own, so no lower bound
    assert all(r.created_at == r.updated_at <= timezone.now() for r in rows)
    assert_consistent()


def test_reserve_holds_units_until_the_ttl(variant, settings, assert_consistent):
    settings.INVENTORY_RESERVATION_TTL_SECONDS = 600
    stock = stock_with(variant=variant, on_hand=5)
    before = timezone.now()

    result = stock_reserve(holder="checkout:a", lines=[ReserveLine(variant.pk, 2)])

    stock.refresh_from_db()
    assert stock.reserved == 2 and stock.available == 3
    assert timedelta(seconds=599) < result.expires_at - before <= timedelta(seconds=601)
    assert result.line_for(variant.pk).splits[0].quantity == 2
    assert_consistent()


def test_short_lines_are_all_reported_and_nothing_changes(variant, assert_consistent):
    other = ProductVariantFactory(sku="CUP-9")
    stock_with(variant=variant, on_hand=1)
    stock_with(variant=other, on_hand=0)
    ok = ProductVariantFactory()
    stock_with(variant=ok, on_hand=10)
    before = snapshot()

    with pytest.raises(InsufficientStock) as err:
        stock_reserve(
            holder="c",
            lines=[ReserveLine(variant.pk, 3), ReserveLine(ok.pk, 1), ReserveLine(other.pk, 2)],
        )

    assert err.value.code == ErrorCode.INSUFFICIENT_STOCK and err.value.http_status == 409
    assert err.value.details == [
        {"variant_id": variant.pk, "sku": "MUG-1", "requested": 3, "available": 1},
        {"variant_id": other.pk, "sku": "CUP-9", "requested": 2, "available": 0},
    ]
    assert "MUG-1: 3 requested, 1 available" in err.value.message
    assert snapshot() == before
    assert_consistent()


def test_repeat_reserve_replaces_the_previous_hold(variant, assert_consistent):
    stock = stock_with(variant=variant, on_hand=5)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 4)])

    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 5)])

    stock.refresh_from_db()
    assert stock.reserved == 5  # not 9: one hold per holder
    assert Reservation.objects.filter(holder="c").count() == 1
    assert_consistent()


def test_failed_replacement_keeps_the_previous_hold(variant, assert_consistent):
    stock_with(variant=variant, on_hand=5)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 2)])
    before = snapshot()
    with pytest.raises(InsufficientStock):
        stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 6)])
    assert snapshot() == before


def test_repeated_variant_lines_are_added_together(variant):
    stock = stock_with(variant=variant, on_hand=5)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 2), ReserveLine(variant.pk, 3)])
    stock.refresh_from_db()
    assert stock.reserved == 5


@pytest.mark.parametrize("quantity", [0, -1, 10**9, 1.5, "2", True, None])
def test_bad_quantities_are_refused_and_change_nothing(variant, quantity):
    stock_with(variant=variant, on_hand=5)
    before = snapshot()
    with pytest.raises(ValidationError) as err:
        stock_reserve(holder="c", lines=[ReserveLine(variant.pk, quantity)])
    assert err.value.code == ErrorCode.INVALID and "quantity" in err.value.message
    assert snapshot() == before


def test_unknown_variant_is_a_clear_error(variant):
    stock_with(variant=variant, on_hand=5)
    before = snapshot()
    with pytest.raises(ValidationError) as err:
        stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 1), ReserveLine(99999999, 1)])
    assert "Unknown product variant id(s): 99999999" in err.value.message
    assert snapshot() == before


def test_bad_holder_ttl_and_empty_lines_are_refused(variant):
    stock_with(variant=variant, on_hand=5)
    for kwargs in (
        {"holder": "", "lines": [ReserveLine(variant.pk, 1)]},
        {"holder": "x" * 101, "lines": [ReserveLine(variant.pk, 1)]},
        {"holder": "c", "lines": []},
        {"holder": "c", "lines": [ReserveLine(variant.pk, 1)], "ttl_seconds": 0},
        {"holder": "c", "lines": [ReserveLine(variant.pk, 1)], "strategy": "cheapest"},
    ):
        with pytest.raises(ValidationError):
            stock_reserve(**kwargs)
    assert Reservation.objects.count() == 0


def test_inactive_variant_cannot_be_reserved():
    variant = ProductVariantFactory(is_active=False)
    stock_with(variant=variant, on_hand=5)
    with pytest.raises(ValidationError, match="no longer sold"):
        stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 1)])


def test_another_sellers_warehouse_is_never_used(variant):
    foreign = WarehouseFactory()  # another seller
    stock = Stock.objects.create(variant=variant, warehouse=foreign, on_hand=0)
    Stock.objects.filter(pk=stock.pk).update(on_hand=50)  # even if such a row existed
    with pytest.raises(InsufficientStock):
        stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 1)])


def test_inactive_warehouse_is_not_used(variant):
    wh = WarehouseFactory(seller=variant.product.seller)
    stock_with(variant=variant, warehouse=wh, on_hand=5)
    wh.is_active = False
    wh.save()
    with pytest.raises(InsufficientStock):
        stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 1)])


def test_receiving_into_a_foreign_warehouse_is_not_found(variant):
    with pytest.raises(NotFound):
        stock_receive(warehouse=WarehouseFactory(), variant=variant, quantity=5)
    assert Stock.objects.count() == 0


# --- expiry and extension -----------------------------------------------------------------------


def test_expired_hold_is_free_for_others_and_released_lazily(variant, assert_consistent):
    stock = stock_with(variant=variant, on_hand=1)
    stock_reserve(holder="slow", lines=[ReserveLine(variant.pk, 1)])
    expire_all()

    stock_reserve(holder="fast", lines=[ReserveLine(variant.pk, 1)])

    stock.refresh_from_db()
    assert stock.reserved == 1
    assert list(Reservation.objects.values_list("holder", flat=True)) == ["fast"]
    assert_consistent()


def test_sweeper_releases_expired_holds_only(variant, assert_consistent):
    stock = stock_with(variant=variant, on_hand=5)
    other = stock_with(on_hand=5)
    stock_reserve(holder="old", lines=[ReserveLine(variant.pk, 2)])
    expire_all()
    stock_reserve(holder="live", lines=[ReserveLine(other.variant_id, 1)])

    assert stock_reservations_expire() == 2
    assert stock_reservations_expire() == 0

    stock.refresh_from_db()
    other.refresh_from_db()
    assert (stock.reserved, other.reserved) == (0, 1)
    assert_consistent()


def test_extend_pushes_expiry_and_refuses_a_lapsed_hold(variant):
    stock_with(variant=variant, on_hand=5)
    first = stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 1)], ttl_seconds=60)
    later = stock_reservation_extend(holder="c", ttl_seconds=600)
    assert later > first.expires_at
    assert Reservation.objects.get().expires_at == later

    expire_all()
    with pytest.raises(ReservationExpired) as err:
        stock_reservation_extend(holder="c")
    assert err.value.code == ErrorCode.RESERVATION_EXPIRED
    with pytest.raises(ReservationExpired):
        stock_reservation_extend(holder="nobody")


def test_release_is_idempotent(variant, assert_consistent):
    stock_with(variant=variant, on_hand=5)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 3)])
    assert stock_release(holder="c") == 3
    assert stock_release(holder="c") == 0
    assert_consistent()


# --- strategies and splitting -------------------------------------------------------------------


def _three_warehouses(variant):
    seller = variant.product.seller
    berlin = WarehouseFactory(
        seller=seller, code="ber", priority=3, latitude=Decimal("52.52"), longitude=Decimal("13.40")
    )
    paris = WarehouseFactory(
        seller=seller,
        code="par",
        priority=1,
        country="FR",
        latitude=Decimal("48.85"),
        longitude=Decimal("2.35"),
    )
    madrid = WarehouseFactory(
        seller=seller,
        code="mad",
        priority=2,
        country="ES",
        latitude=Decimal("40.41"),
        longitude=Decimal("-3.70"),
    )
    return berlin, paris, madrid


def test_priority_strategy_splits_a_line_in_the_sellers_order(variant):
    berlin, paris, madrid = _three_warehouses(variant)
    for wh, units in ((berlin, 5), (paris, 2), (madrid, 2)):
        stock_with(variant=variant, warehouse=wh, on_hand=units)
    result = stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 5)], strategy="priority")
    splits = [(s.warehouse_id, s.quantity) for s in result.line_for(variant.pk).splits]
    assert splits == [(paris.pk, 2), (madrid.pk, 2), (berlin.pk, 1)]


def test_nearest_strategy_uses_great_circle_distance(variant):
    berlin, paris, madrid = _three_warehouses(variant)
    for wh in (berlin, paris, madrid):
        stock_with(variant=variant, warehouse=wh, on_hand=3)
    warsaw = Destination(latitude=Decimal("52.23"), longitude=Decimal("21.01"))
    result = stock_reserve(
        holder="c", lines=[ReserveLine(variant.pk, 4)], destination=warsaw, strategy="nearest"
    )
    splits = [(s.warehouse_id, s.quantity) for s in result.line_for(variant.pk).splits]
    assert splits == [(berlin.pk, 3), (paris.pk, 1)]
    lisbon = Destination(latitude=Decimal("38.72"), longitude=Decimal("-9.14"))
    result = stock_reserve(holder="d", lines=[ReserveLine(variant.pk, 1)], destination=lisbon)
    assert result.line_for(variant.pk).splits[0].warehouse_id == madrid.pk


def test_fewest_shipments_strategy_prefers_one_warehouse_for_the_whole_order(variant):
    other = ProductVariantFactory(product=variant.product)
    berlin, paris, madrid = _three_warehouses(variant)
    stock_with(variant=variant, warehouse=paris, on_hand=5)  # preferred by priority...
    stock_with(variant=variant, warehouse=berlin, on_hand=5)
    stock_with(variant=other, warehouse=madrid, on_hand=5)
    stock_with(variant=other, warehouse=berlin, on_hand=5)  # ...but Berlin has both
    result = stock_reserve(
        holder="c",
        lines=[ReserveLine(variant.pk, 2), ReserveLine(other.pk, 2)],
        strategy="fewest_shipments",
    )
    warehouses = {s.warehouse_id for line in result.lines for s in line.splits}
    assert warehouses == {berlin.pk}


# --- allocation, shipping, cancel, return -------------------------------------------------------


def test_conversion_is_idempotent_and_releases_the_rest_of_the_hold(variant, assert_consistent):
    stock = stock_with(variant=variant, on_hand=5)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 3)])
    lines = [AllocateLine(order_line_id=41, variant_id=variant.pk, quantity=2)]

    first = stock_allocate_reserved(holder="c", order_lines=lines)
    again = stock_allocate_reserved(holder="c", order_lines=lines)

    assert [a.pk for a in first] == [a.pk for a in again]
    stock.refresh_from_db()
    assert (stock.allocated, stock.reserved) == (2, 0)
    with pytest.raises(Conflict) as err:
        stock_allocate_reserved(holder="c", order_lines=[AllocateLine(41, variant.pk, 3)])
    assert err.value.code == ErrorCode.IDEMPOTENCY_CONFLICT
    assert_consistent()


def test_conversion_after_expiry_re_reserves_if_stock_remains(variant, assert_consistent):
    stock_with(variant=variant, on_hand=5)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 2)])
    expire_all()
    stock_reservations_expire()
    allocations = stock_allocate_reserved(holder="c", order_lines=[AllocateLine(1, variant.pk, 2)])
    assert sum(a.quantity for a in allocations) == 2
    assert_consistent()


def test_conversion_after_expiry_fails_cleanly_when_stock_is_gone(variant, assert_consistent):
    stock_with(variant=variant, on_hand=1)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 1)])
    expire_all()
    stock_reserve(holder="other", lines=[ReserveLine(variant.pk, 1)])
    before = snapshot()
    with pytest.raises(ReservationExpired) as err:
        stock_allocate_reserved(holder="c", order_lines=[AllocateLine(1, variant.pk, 1)])
    assert err.value.details[0]["available"] == 0
    assert snapshot() == before
    assert_consistent()


def test_conversion_with_part_of_the_hold_gone_is_insufficient_stock(variant):
    stock_with(variant=variant, on_hand=2)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 2)])
    with pytest.raises(InsufficientStock):
        stock_allocate_reserved(holder="c", order_lines=[AllocateLine(1, variant.pk, 3)])


def test_ship_cancel_and_return(variant, assert_consistent):
    stock = stock_with(variant=variant, on_hand=10)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 4)])
    stock_allocate_reserved(
        holder="c", order_lines=[AllocateLine(1, variant.pk, 3), AllocateLine(2, variant.pk, 1)]
    )

    moves = stock_ship(order_line_id=1, quantity=2)
    assert [m.delta for m in moves] == [-2]
    assert stock_ship(order_line_id=1) and stock_ship(order_line_id=1) == []
    assert stock_deallocate(order_line_ids=[2]) == 1
    assert stock_deallocate(order_line_ids=[2]) == 0
    stock.refresh_from_db()
    assert (stock.on_hand, stock.allocated, stock.reserved) == (7, 0, 0)

    back = stock_return(order_line_id=1, quantity=1)
    assert back.reason == MovementReason.RETURN and back.delta == 1
    off = stock_return(order_line_id=1, quantity=1, restock=False)
    assert off.reason == MovementReason.WRITE_OFF
    stock.refresh_from_db()
    assert stock.on_hand == 8
    with pytest.raises(ValidationError, match="only 1 shipped and not yet returned"):
        stock_return(order_line_id=1, quantity=2)
    with pytest.raises(ValidationError):
        stock_ship(order_line_id=2, quantity=1)
    assert_consistent()


def test_backorder_is_the_explicit_exception(assert_consistent):
    variant = ProductVariantFactory(allow_backorder=True)
    stock = stock_with(variant=variant, on_hand=1)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 3)])
    stock_allocate_reserved(holder="c", order_lines=[AllocateLine(9, variant.pk, 3)])
    stock.refresh_from_db()
    assert (stock.on_hand, stock.allocated) == (1, 3)
    with pytest.raises(InsufficientStock, match="backordered"):
        stock_ship(order_line_id=9)
    variant.allow_backorder = False
    with pytest.raises(Conflict):
        stock_backorder_sync(variant=variant)
    assert_consistent()


def test_database_refuses_an_oversold_row_without_backorder(variant):
    from django.db import IntegrityError, transaction

    stock = stock_with(variant=variant, on_hand=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(pk=stock.pk).update(reserved=2)


# --- receive, adjust, transfer, write-off, reconcile -------------------------------------------


def test_adjust_and_write_off_cannot_remove_promised_units(variant, assert_consistent):
    stock = stock_with(variant=variant, on_hand=5)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 4)])
    with pytest.raises(Conflict, match="Only 1 of 5 on hand are free"):
        stock_adjust(stock=stock, delta=-2, reason="count")
    with pytest.raises(ValidationError):
        stock_adjust(stock=stock, delta=-1, reason="")
    stock_write_off(stock=stock, quantity=1, reason="broken")
    stock_adjust(stock=stock, delta=3, reason="found a box")
    stock.refresh_from_db()
    assert stock.on_hand == 7
    assert_consistent()


def test_transfer_moves_free_units_between_own_warehouses(variant, assert_consistent):
    stock = stock_with(variant=variant, on_hand=5)
    target = WarehouseFactory(seller=variant.product.seller)
    out, into = stock_transfer(stock=stock, to_warehouse=target, quantity=3, reason="rebalance")
    assert (out.delta, into.delta, out.reference) == (-3, 3, into.reference)
    with pytest.raises(NotFound):
        stock_transfer(stock=stock, to_warehouse=WarehouseFactory(), quantity=1)
    with pytest.raises(Conflict):
        stock_transfer(stock=stock, to_warehouse=target, quantity=3)
    assert_consistent()


def test_reconcile_finds_and_repairs_drift(variant, assert_consistent):
    stock = stock_with(variant=variant, on_hand=5)
    stock_reserve(holder="c", lines=[ReserveLine(variant.pk, 2)])
    assert stock_reconcile() == []
    Stock.objects.filter(pk=stock.pk).update(reserved=0, on_hand=6)

    drifts = stock_reconcile()
    assert {(d.field, d.counter, d.expected) for d in drifts} == {
        ("reserved", 0, 2),
        ("on_hand", 6, 5),
    }
    repaired = stock_reconcile(repair=True)
    assert all(d.repaired for d in repaired)
    assert stock_reconcile() == []
    assert_consistent()


def test_stock_rows_create_adds_missing_rows_only_and_only_for_the_sellers_warehouses():
    from inventory.services import stock_rows_create

    variant = ProductVariantFactory(allow_backorder=True)
    kept = stock_with(variant=variant, on_hand=4)
    other = WarehouseFactory(seller=variant.product.seller)
    stock_rows_create(pairs=[(kept.warehouse, variant), (other, variant)])
    rows = Stock.objects.filter(variant=variant).order_by("pk")
    assert [(s.on_hand, s.backorder_allowed) for s in rows] == [(4, True), (0, True)]
    with pytest.raises(NotFound):
        stock_rows_create(pairs=[(WarehouseFactory(), variant)])
    assert rows.count() == 2
