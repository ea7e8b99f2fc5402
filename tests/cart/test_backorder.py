"""Backorders: the cart decides "may this be bought past its stock" the way checkout does, from the
variant's stock rows (`inventory.selectors.variant_supply`), not from the variant's flag alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cart.selectors import cart_view
from cart.services import cart_get_or_create, cart_line_add
from inventory.models import Stock
from orders.services import checkout_start
from shop.core.errors import ValidationError
from tests.factories import ProductVariantFactory, UserFactory
from tests.factories.inventory import WarehouseFactory, stock_with

pytestmark = pytest.mark.django_db


def _backorder_variant():
    return ProductVariantFactory(price=Decimal("10"), allow_backorder=True)


def test_a_backorder_variant_without_a_stock_row_cannot_be_added():
    """Checkout could reserve nothing for it: the cart says so up front."""
    variant = _backorder_variant()
    cart = cart_get_or_create(user=UserFactory())
    with pytest.raises(ValidationError, match="out of stock"):
        cart_line_add(cart=cart, variant_id=variant.pk, quantity=1)
    assert not cart.lines.exists()


def test_a_backorder_stock_row_lets_the_cart_and_checkout_go_past_stock():
    variant = _backorder_variant()
    stock = stock_with(variant=variant, on_hand=1)
    assert stock.backorder_allowed
    user = UserFactory()
    cart = cart_get_or_create(user=user)
    cart_line_add(cart=cart, variant_id=variant.pk, quantity=3)

    (item,) = cart_view(cart=cart).lines
    assert (item.available, item.backorderable, item.low_stock) == (1, True, False)
    checkout_start(cart=cart, user=user)  # checkout agrees: 3 held against 1 on hand
    assert Stock.objects.get(pk=stock.pk).reserved == 3


def test_a_backorder_row_in_a_closed_warehouse_does_not_count():
    variant = _backorder_variant()
    warehouse = WarehouseFactory(seller=variant.product.seller, is_active=False)
    stock_with(variant=variant, warehouse=warehouse)
    cart = cart_get_or_create(user=UserFactory())
    with pytest.raises(ValidationError, match="out of stock"):
        cart_line_add(cart=cart, variant_id=variant.pk, quantity=1)


def test_the_cart_page_says_backorder_not_out_of_stock(client):
    variant = _backorder_variant()
    stock_with(variant=variant)  # a backorder row with nothing on hand
    client.post("/cart/add/", {"variant": variant.pk, "quantity": "2"})
    html = client.get("/cart/").content.decode()
    assert "Ships on backorder" in html
    assert "Out of stock" not in html


def test_the_cart_api_tells_apps_a_line_is_backorderable(client):
    variant = _backorder_variant()
    stock_with(variant=variant)
    created = client.post("/api/v1/carts/", content_type="application/json")
    token = created.json()["cart_token"]
    added = client.post(
        "/api/v1/cart/lines/",
        {"variant_id": variant.pk, "quantity": 2},
        content_type="application/json",
        HTTP_X_CART_TOKEN=token,
    )
    assert added.status_code in (200, 201), added.json()
    (line,) = client.get("/api/v1/cart/", HTTP_X_CART_TOKEN=token).json()["lines"]
    assert (line["available"], line["backorderable"]) == (0, True)
