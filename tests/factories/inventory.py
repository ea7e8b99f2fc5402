"""Inventory factories: warehouses, and stock that is received through the service so the ledger
and the counters agree from the start."""

from __future__ import annotations

import factory

from inventory.models import Stock, Warehouse
from tests.factories import ProductVariantFactory, SellerFactory


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    seller = factory.SubFactory(SellerFactory)
    code = factory.Sequence(lambda n: f"wh-{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    country = "DE"
    priority = 100


def stock_with(*, variant=None, warehouse=None, on_hand: int = 0) -> Stock:
    """A stock row holding `on_hand` units, received through `stock_receive` (ledger included).
    The warehouse defaults to a new one of the variant's seller."""
    from inventory.services import stock_receive

    variant = variant or ProductVariantFactory()
    warehouse = warehouse or WarehouseFactory(seller=variant.product.seller)
    if on_hand:
        movement = stock_receive(
            warehouse=warehouse, variant=variant, quantity=on_hand, reason="test stock"
        )
        return Stock.objects.get(pk=movement.stock_id)
    stock, _ = Stock.objects.get_or_create(
        variant=variant,
        warehouse=warehouse,
        defaults={"backorder_allowed": variant.allow_backorder},
    )
    return stock
