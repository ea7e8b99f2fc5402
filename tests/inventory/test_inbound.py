"""Inbound shipments (expected stock): create, receive (through `stock_receive`, ledger rows),
cancel, bad input, "incoming" in the stock selector, and two people receiving the same delivery
at once."""

from __future__ import annotations

from collections import Counter

import pytest

from inventory.models import InboundShipment, InboundStatus, Stock, StockMovement
from inventory.selectors import stock_list_for_seller
from inventory.services import (
    MAX_LINE_QUANTITY,
    ExpectedLine,
    inbound_shipment_cancel,
    inbound_shipment_create,
    inbound_shipment_receive,
)
from shop.core.errors import Conflict, NotFound, ValidationError
from tests.factories import ProductVariantFactory
from tests.factories.inventory import WarehouseFactory, stock_with
from tests.inventory.conftest import counters_agree_with_rows
from tests.inventory.test_concurrency import race


@pytest.fixture
def warehouse(db):
    return WarehouseFactory()


@pytest.fixture
def variants(warehouse):
    return [ProductVariantFactory(product__seller=warehouse.seller) for _ in range(2)]


def _incoming(warehouse) -> dict[str, int]:
    rows = stock_list_for_seller(seller=warehouse.seller, warehouse_id=warehouse.pk)
    return {row.variant.sku: row.incoming for row in rows}


def test_open_shipments_are_incoming_and_receiving_closes_them(warehouse, variants, db):
    a, b = variants
    first = inbound_shipment_create(
        warehouse=warehouse, lines=[ExpectedLine(a.pk, 5), ExpectedLine(b.pk, 2)]
    )
    inbound_shipment_create(warehouse=warehouse, lines=[ExpectedLine(a.pk, 3)])
    assert _incoming(warehouse) == {a.sku: 8, b.sku: 2}
    assert Stock.objects.filter(warehouse=warehouse, on_hand=0).count() == 2

    lines = {line.variant_id: line.pk for line in first.lines.all()}
    movements = inbound_shipment_receive(shipment=first, received={lines[a.pk]: 6})
    assert [(m.stock.variant_id, m.delta, m.reference) for m in movements] == [
        (a.pk, 6, f"inbound:{first.pk}")
    ]
    first.refresh_from_db()
    assert first.status == InboundStatus.RECEIVED and first.closed_at is not None
    assert sorted(first.lines.values_list("expected_quantity", "received_quantity")) == [
        (2, 0),
        (5, 6),
    ]
    assert _incoming(warehouse) == {a.sku: 3, b.sku: 0}
    assert Stock.objects.get(warehouse=warehouse, variant=a).on_hand == 6
    assert counters_agree_with_rows() == []


def test_a_closed_shipment_cannot_be_received_or_cancelled_again(warehouse, variants):
    shipment = inbound_shipment_create(warehouse=warehouse, lines=[ExpectedLine(variants[0].pk, 1)])
    line = shipment.lines.get()
    inbound_shipment_cancel(shipment=shipment)
    with pytest.raises(Conflict, match="already cancelled"):
        inbound_shipment_receive(shipment=shipment, received={line.pk: 1})
    with pytest.raises(Conflict):
        inbound_shipment_cancel(shipment=shipment)
    assert not StockMovement.objects.exists()
    assert _incoming(warehouse) == {variants[0].sku: 0}


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ([], ValidationError),
        ([ExpectedLine(1, 0)], ValidationError),
        ([ExpectedLine(1, MAX_LINE_QUANTITY + 1)], ValidationError),
        ([ExpectedLine(1, True)], ValidationError),
        ([ExpectedLine(-1, 1)], ValidationError),
    ],
)
def test_bad_lines_are_refused(warehouse, lines, error):
    with pytest.raises(error):
        inbound_shipment_create(warehouse=warehouse, lines=lines)
    assert not InboundShipment.objects.exists()


def test_duplicate_and_foreign_variants_are_refused(warehouse, variants):
    a = variants[0]
    with pytest.raises(ValidationError, match="only once"):
        inbound_shipment_create(
            warehouse=warehouse, lines=[ExpectedLine(a.pk, 1), ExpectedLine(a.pk, 2)]
        )
    foreign = ProductVariantFactory()
    with pytest.raises(NotFound):
        inbound_shipment_create(
            warehouse=warehouse, lines=[ExpectedLine(a.pk, 1), ExpectedLine(foreign.pk, 2)]
        )
    assert not InboundShipment.objects.exists() and not Stock.objects.exists()


@pytest.mark.parametrize("received", [{}, {"zero": 0}, {"line": -1}, {"line": 10**6}, {999: 1}])
def test_bad_receipts_change_nothing(warehouse, variants, received):
    shipment = inbound_shipment_create(warehouse=warehouse, lines=[ExpectedLine(variants[0].pk, 4)])
    line = shipment.lines.get()
    mapped = {line.pk if key in ("zero", "line") else key: v for key, v in received.items()}
    with pytest.raises(ValidationError):
        inbound_shipment_receive(shipment=shipment, received=mapped)
    shipment.refresh_from_db()
    assert shipment.status == InboundStatus.OPEN
    assert not StockMovement.objects.exists()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_people_receiving_the_same_delivery_book_it_once():
    warehouse = WarehouseFactory()
    variant = ProductVariantFactory(product__seller=warehouse.seller)
    stock_with(variant=variant, warehouse=warehouse, on_hand=1)
    shipment = inbound_shipment_create(warehouse=warehouse, lines=[ExpectedLine(variant.pk, 5)])
    line_id = shipment.lines.get().pk

    def work(i: int) -> str:
        try:
            inbound_shipment_receive(shipment=shipment, received={line_id: 5})
        except Conflict:
            return "refused"
        return "ok"

    assert race(8, work) == Counter({"ok": 1, "refused": 7})
    assert Stock.objects.get(variant=variant).on_hand == 6
    assert counters_agree_with_rows() == []
