"""The stock hold follows the checkout's destination: nearest warehouse, re-taken whenever the
shipping address moves (storefront service and API PATCH alike)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from cart.services import cart_get_or_create, cart_line_add
from inventory.models import Reservation
from inventory.services import warehouse_create
from orders.services import checkout_set_address, checkout_start
from tests.factories import ProductFactory, ProductVariantFactory, SellerFactory, UserFactory
from tests.factories.inventory import stock_with

pytestmark = pytest.mark.django_db

BERLIN = {"full_name": "Ada", "line1": "Invalidenstr. 1", "city": "Berlin", "postal_code": "10115"}
CHICAGO = {
    "full_name": "Ada",
    "line1": "1 Main St",
    "city": "Chicago",
    "postal_code": "60601",
    "region": "IL",
}


@pytest.fixture
def two_warehouses():
    seller = SellerFactory()
    variant = ProductVariantFactory(product=ProductFactory(seller=seller), price=Decimal("9"))
    # warehouses typed in without coordinates: the service geocodes them from their city
    chicago = warehouse_create(
        seller=seller,
        code="chi",
        name="Chicago",
        city="Chicago",
        postal_code="60601",
        country="US",
        priority=10,
    )
    berlin = warehouse_create(
        seller=seller,
        code="ber",
        name="Berlin",
        city="Berlin",
        postal_code="10115",
        country="DE",
        priority=20,
    )
    for warehouse in (chicago, berlin):
        assert warehouse.latitude is not None
        stock_with(variant=variant, warehouse=warehouse, on_hand=5)
    return variant, chicago, berlin


def _held_in(checkout) -> dict[int, int]:
    return {
        r.stock.warehouse_id: r.quantity
        for r in Reservation.objects.filter(holder=checkout.holder).select_related("stock")
    }


def test_the_hold_moves_to_the_warehouse_nearest_the_new_address(two_warehouses):
    variant, chicago, berlin = two_warehouses
    user = UserFactory()
    cart = cart_get_or_create(user=user)
    cart_line_add(cart=cart, variant_id=variant.pk, quantity=2)
    checkout = checkout_start(cart=cart, user=user)
    assert _held_in(checkout) == {chicago.pk: 2}  # no address yet: the seller's priority

    checkout_set_address(checkout=checkout, email=user.email, country="DE", **BERLIN)
    assert _held_in(checkout) == {berlin.pk: 2}

    client = APIClient()
    client.force_authenticate(user)
    response = client.patch(
        f"/api/v1/checkouts/{checkout.token}/",
        {"address": {**CHICAGO, "country": "US"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert _held_in(checkout) == {chicago.pk: 2}
