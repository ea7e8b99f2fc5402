"""Purchase orders end to end: draft -> edit -> send (incoming stock) -> receive in parts
(on_hand through the inventory ledger) -> received; MOQ and case pack enforced."""

from __future__ import annotations

import pytest
from django.core import mail

from inventory.models import InboundStatus, MovementReason, Stock, StockMovement
from inventory.selectors import stock_list_for_seller
from purchasing.models import PurchaseOrderStatus
from purchasing.services import (
    OrderLineInput,
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_line_set,
    purchase_order_receive,
    purchase_order_send,
)
from shop.core.errors import Conflict, NotFound, ValidationError
from tests.factories import ProductVariantFactory, SellerFactory
from tests.inventory.conftest import counters_agree_with_rows


def _incoming(shop) -> int:
    return stock_list_for_seller(seller=shop.seller).get(pk=shop.stock.pk).incoming


def test_quantities_must_respect_moq_and_case_pack(shop):
    for bad in (12, 55, 0):  # under the MOQ, not whole cases, nothing
        with pytest.raises(ValidationError):
            purchase_order_create(
                seller=shop.seller,
                supplier=shop.supplier,
                warehouse=shop.warehouse,
                lines=[OrderLineInput(shop.variant.pk, bad)],
            )
    order = purchase_order_create(
        seller=shop.seller,
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[OrderLineInput(shop.variant.pk, 60)],
    )
    assert order.status == PurchaseOrderStatus.DRAFT
    assert order.lines.get().unit_cost == shop.item.cost_price


def test_send_then_receive_in_parts_books_stock_through_the_ledger(
    shop, django_capture_on_commit_callbacks, celery_eager
):
    order = purchase_order_create(
        seller=shop.seller,
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[OrderLineInput(shop.variant.pk, 60)],
    )
    purchase_order_line_set(order=order, variant_id=shop.variant.pk, quantity=72)
    with django_capture_on_commit_callbacks(execute=True):
        order = purchase_order_send(order=order)
    assert order.status == PurchaseOrderStatus.SENT
    assert _incoming(shop) == 72
    # the supplier got the order as PDF and CSV
    [email] = [m for m in mail.outbox if "orders@acme.test" in m.to]
    assert {a[0] for a in email.attachments} == {f"{order.number}.pdf", f"{order.number}.csv"}
    assert email.attachments[0][1][:4] == b"%PDF"
    with pytest.raises(Conflict):
        purchase_order_line_set(order=order, variant_id=shop.variant.pk, quantity=84)

    line = order.lines.get()
    order = purchase_order_receive(order=order, received={line.pk: 30})
    assert order.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert Stock.objects.get(pk=shop.stock.pk).on_hand == 1030
    assert _incoming(shop) == 42
    order = purchase_order_receive(order=order, received={line.pk: 42})
    assert order.status == PurchaseOrderStatus.RECEIVED and order.inbound_shipment is None
    assert Stock.objects.get(pk=shop.stock.pk).on_hand == 1072
    assert _incoming(shop) == 0
    receipts = StockMovement.objects.filter(stock=shop.stock, reason=MovementReason.RECEIVE)
    assert sorted(receipts.values_list("delta", flat=True)) == [30, 42, 1000]
    assert counters_agree_with_rows() == []
    with pytest.raises(Conflict):
        purchase_order_receive(order=order, received={line.pk: 1})


def test_cancelling_a_sent_order_stops_the_incoming_units(shop):
    order = purchase_order_create(
        seller=shop.seller,
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[OrderLineInput(shop.variant.pk, 60)],
    )
    order = purchase_order_send(order=order)
    shipment = order.inbound_shipment
    order = purchase_order_cancel(order=order)
    shipment.refresh_from_db()
    assert order.status == PurchaseOrderStatus.CANCELLED
    assert shipment.status == InboundStatus.CANCELLED
    assert _incoming(shop) == 0
    assert Stock.objects.get(pk=shop.stock.pk).on_hand == 1000


def test_another_sellers_supplier_or_warehouse_is_refused(shop):
    other = SellerFactory()
    with pytest.raises(NotFound):
        purchase_order_create(
            seller=other,
            supplier=shop.supplier,
            warehouse=shop.warehouse,
            lines=[OrderLineInput(shop.variant.pk, 60)],
        )


def test_demo_seed_gives_the_first_seller_a_supplier_and_a_rule(shop):
    from purchasing.demo import demo_purchasing_seed
    from purchasing.models import PricingRule, SupplierItem

    seller = SellerFactory()
    for _ in range(3):
        ProductVariantFactory(product__seller=seller)
    result = demo_purchasing_seed(sellers=[seller])
    assert (result.suppliers, result.items, result.rules) == (1, 3, 1)
    assert SupplierItem.objects.filter(supplier__seller=seller).count() == 3
    assert PricingRule.objects.filter(seller=seller).count() == 1
    assert demo_purchasing_seed(sellers=[seller]).suppliers == 0  # once
