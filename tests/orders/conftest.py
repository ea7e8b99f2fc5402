from __future__ import annotations

from decimal import Decimal

import pytest

from cart.services import cart_get_or_create, cart_line_add
from orders.services import checkout_set_address, checkout_set_shipping, checkout_start
from tests.factories import ProductFactory, ProductVariantFactory, SellerFactory, UserFactory
from tests.factories.inventory import stock_with
from tests.factories.orders import ShippingMethodFactory, TaxRateFactory


@pytest.fixture
def celery_eager():
    from shop.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


class Market:
    """Two sellers, three variants with stock, a shipping method each, a 19% DE tax rate."""

    def __init__(self, stock: int = 10) -> None:
        self.alpha = SellerFactory(name="Alpha")
        self.beta = SellerFactory(name="Beta")
        self.a1 = ProductVariantFactory(
            product=ProductFactory(seller=self.alpha), price=Decimal("10.00")
        )
        self.a2 = ProductVariantFactory(
            product=ProductFactory(seller=self.alpha), price=Decimal("5.00")
        )
        self.b1 = ProductVariantFactory(
            product=ProductFactory(seller=self.beta), price=Decimal("20.00")
        )
        self.stocks = {
            v.pk: stock_with(variant=v, on_hand=stock) for v in (self.a1, self.a2, self.b1)
        }
        self.ship_alpha = ShippingMethodFactory(seller=self.alpha, price=Decimal("4.00"))
        self.ship_beta = ShippingMethodFactory(seller=self.beta, price=Decimal("6.00"))
        TaxRateFactory(country="DE", tax_class="standard", rate=Decimal("0.19"))

    def ready_checkout(self, user=None, lines=None):
        """A checkout with stock held, address and shipping filled in."""
        user = user or UserFactory()
        cart = cart_get_or_create(user=user)
        for variant, qty in lines or [(self.a1, 2), (self.a2, 1), (self.b1, 1)]:
            cart_line_add(cart=cart, variant_id=variant.pk, quantity=qty)
        checkout = checkout_start(cart=cart, user=user)
        checkout_set_address(
            checkout=checkout,
            email=user.email,
            full_name="Ada Lovelace",
            line1="1 Main St",
            city="Berlin",
            postal_code="10115",
            country="de",
        )
        sellers = {
            variant.product.seller_id for variant, _ in lines or [(self.a1, 0), (self.b1, 0)]
        }
        choices = {
            s: (self.ship_alpha if s == self.alpha.pk else self.ship_beta).pk for s in sellers
        }
        return checkout_set_shipping(checkout=checkout, choices=choices)


@pytest.fixture
def market(db):
    return Market()
