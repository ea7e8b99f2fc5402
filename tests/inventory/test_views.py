"""What shoppers see: availability on the product page and the "in stock only" filter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.selectors import ProductFilters
from inventory.models import Reservation
from inventory.selectors import variant_availability
from inventory.services import ReserveLine, stock_reserve
from search.base import SearchQuery
from search.services import listing_run
from tests.factories import ProductFactory, ProductVariantFactory
from tests.factories.inventory import WarehouseFactory, stock_with

pytestmark = pytest.mark.django_db


def _page(client, product):
    response = client.get(f"/p/{product.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def test_product_page_shows_stock_per_variant_and_disables_sold_out(client):
    product = ProductFactory()
    plenty = ProductVariantFactory(product=product, name="Large", position=0)
    few = ProductVariantFactory(product=product, name="Medium", position=1)
    gone = ProductVariantFactory(product=product, name="Small", position=2)
    wh = WarehouseFactory(seller=product.seller)
    stock_with(variant=plenty, warehouse=wh, on_hand=50)
    stock_with(variant=few, warehouse=wh, on_hand=3)
    stock_with(variant=gone, warehouse=wh, on_hand=1)
    stock_reserve(holder="someone", lines=[ReserveLine(gone.pk, 1), ReserveLine(few.pk, 1)])

    html = _page(client, product)

    assert 'data-stock="in_stock">In stock<' in html  # the selected (first) variant
    assert f'id="stock-{few.pk}">Only 2 left<' in html
    assert f'id="stock-{gone.pk}">Out of stock<' in html
    assert f'value="{gone.pk}" disabled' in html
    assert f'value="{few.pk}" disabled' not in html


def test_an_expired_hold_does_not_make_a_variant_look_sold_out(client):
    variant = ProductVariantFactory()
    stock_with(variant=variant, on_hand=1)
    stock_reserve(holder="gone", lines=[ReserveLine(variant.pk, 1)])
    assert variant_availability(variant_ids=[variant.pk]) == {variant.pk: 0}
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert variant_availability(variant_ids=[variant.pk]) == {variant.pk: 1}
    assert "Only 1 left" in _page(client, variant.product)


def test_product_page_queries_do_not_grow_with_variants(client, django_assert_max_num_queries):
    product = ProductFactory()
    wh = WarehouseFactory(seller=product.seller)
    stock_with(variant=ProductVariantFactory(product=product), warehouse=wh, on_hand=5)
    with django_assert_max_num_queries(30) as few:
        _page(client, product)
    for _ in range(6):
        stock_with(variant=ProductVariantFactory(product=product), warehouse=wh, on_hand=5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        _page(client, product)


def test_in_stock_filter_counts_only_free_units_in_active_warehouses():
    in_stock, sold_out, inactive_only, no_stock = (ProductFactory() for _ in range(4))
    stock_with(variant=ProductVariantFactory(product=in_stock), on_hand=2)
    held = stock_with(variant=ProductVariantFactory(product=sold_out), on_hand=1)
    stock_reserve(holder="c", lines=[ReserveLine(held.variant_id, 1)])
    closed = WarehouseFactory(seller=inactive_only.seller, is_active=False)
    stock_with(variant=ProductVariantFactory(product=inactive_only), warehouse=closed, on_hand=9)
    ProductVariantFactory(product=no_stock)

    def listed(filters: ProductFilters) -> set[int]:
        return set(listing_run(query=SearchQuery(filters=filters)).product_ids)

    assert listed(ProductFilters(in_stock=True)) == {in_stock.pk}
    assert len(listed(ProductFilters())) == 4


def test_availability_reads_ignore_other_sellers_warehouses():
    variant = ProductVariantFactory()
    stock_with(variant=variant, on_hand=2)
    foreign = WarehouseFactory()
    from inventory.models import Stock

    Stock.objects.create(variant=variant, warehouse=foreign, on_hand=7)
    assert variant_availability(variant_ids=[variant.pk, 10**9]) == {variant.pk: 2, 10**9: 0}
