from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import Allocation
from inventory.services import AllocateLine, ReserveLine, stock_allocate_reserved, stock_reserve
from purchasing.services import supplier_item_set, supplier_save
from tests.factories import ProductVariantFactory, SellerFactory
from tests.factories.inventory import WarehouseFactory, stock_with

_line_ids = itertools.count(900_000)


def sell(stock, quantity: int, *, days_ago: int) -> None:
    """A sale through the inventory services (reserve, then allocate to an order line), dated
    `days_ago` days back."""
    holder = f"test-sale-{next(_line_ids)}"
    stock_reserve(holder=holder, lines=[ReserveLine(stock.variant_id, quantity)])
    allocations = stock_allocate_reserved(
        holder=holder, order_lines=[AllocateLine(next(_line_ids), stock.variant_id, quantity)]
    )
    Allocation.objects.filter(pk__in=[a.pk for a in allocations]).update(
        created_at=timezone.now() - datetime.timedelta(days=days_ago)
    )


@pytest.fixture
def shop(db):
    """A seller with a warehouse, a variant with stock and a supplier that sells it."""
    seller = SellerFactory(support_email="shop@example.com")
    warehouse = WarehouseFactory(seller=seller)
    variant = ProductVariantFactory(product__seller=seller, price=Decimal("20.00"))
    stock = stock_with(variant=variant, warehouse=warehouse, on_hand=1000)
    supplier = supplier_save(
        seller=seller, name="Acme Supply", email="orders@acme.test", lead_time_days=5
    )
    item = supplier_item_set(
        supplier=supplier,
        variant_id=variant.pk,
        cost_price=Decimal("8.00"),
        min_order_quantity=50,
        case_pack=12,
    )

    class Shop:
        pass

    s = Shop()
    s.seller, s.warehouse, s.variant, s.stock, s.supplier, s.item = (
        seller,
        warehouse,
        variant,
        stock,
        supplier,
        item,
    )
    return s
