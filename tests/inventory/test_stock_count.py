"""stock_count_set: a stock take books the difference as one adjustment, writes nothing when the
count matches, and cannot count away units promised to checkouts."""

from __future__ import annotations

import pytest

from inventory.models import MovementReason, Stock, StockMovement
from inventory.services import stock_count_set, stock_reserve
from inventory.services.contracts import ReserveLine
from shop.core.errors import Conflict, ValidationError
from tests.factories import ProductVariantFactory
from tests.factories.inventory import WarehouseFactory, stock_with

pytestmark = pytest.mark.django_db


def test_count_books_the_difference_as_an_adjustment():
    stock = stock_with(on_hand=5)
    movement = stock_count_set(
        warehouse=stock.warehouse, variant=stock.variant, on_hand=2, reason="count", reference="r1"
    )
    stock.refresh_from_db()
    assert stock.on_hand == 2
    assert (movement.reason, movement.delta, movement.on_hand_after) == (
        MovementReason.ADJUSTMENT,
        -3,
        2,
    )
    assert (movement.note, movement.reference) == ("count", "r1")


def test_matching_count_and_zero_for_a_new_row_write_nothing():
    stock = stock_with(on_hand=5)
    before = StockMovement.objects.count()
    assert (
        stock_count_set(warehouse=stock.warehouse, variant=stock.variant, on_hand=5, reason="c")
        is None
    )
    variant = ProductVariantFactory()
    warehouse = WarehouseFactory(seller=variant.product.seller)
    assert stock_count_set(warehouse=warehouse, variant=variant, on_hand=0, reason="c") is None
    assert not Stock.objects.filter(variant=variant).exists()
    assert StockMovement.objects.count() == before


def test_count_creates_the_row_of_a_new_variant():
    variant = ProductVariantFactory()
    warehouse = WarehouseFactory(seller=variant.product.seller)
    stock_count_set(warehouse=warehouse, variant=variant, on_hand=4, reason="first count")
    assert Stock.objects.get(variant=variant, warehouse=warehouse).on_hand == 4


def test_promised_units_cannot_be_counted_away():
    stock = stock_with(on_hand=5)
    stock_reserve(holder="h", lines=[ReserveLine(variant_id=stock.variant_id, quantity=4)])
    with pytest.raises(Conflict):
        stock_count_set(warehouse=stock.warehouse, variant=stock.variant, on_hand=3, reason="c")
    stock.refresh_from_db()
    assert stock.on_hand == 5


@pytest.mark.parametrize("bad", [-1, 100_001, 2.5, True])
def test_bad_counts_are_refused(bad):
    stock = stock_with(on_hand=1)
    with pytest.raises(ValidationError):
        stock_count_set(warehouse=stock.warehouse, variant=stock.variant, on_hand=bad, reason="c")


def test_another_sellers_warehouse_is_refused():
    stock = stock_with(on_hand=1)
    foreign = WarehouseFactory()
    with pytest.raises(Exception, match="No such warehouse"):
        stock_count_set(warehouse=foreign, variant=stock.variant, on_hand=3, reason="c")
