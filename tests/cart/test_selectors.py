"""Cart reads."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cart.selectors import cart_lines, cart_lines_to_price
from cart.services import cart_get_or_create, cart_line_add, cart_line_save_for_later
from tests.factories import ProductVariantFactory, UserFactory
from tests.factories.inventory import stock_with

pytestmark = pytest.mark.django_db


def test_lines_to_price_are_the_lines_to_buy_in_their_order():
    """Pricing's prepared read restates `cart_lines`: saved-for-later lines and other carts'
    lines are left out, the order is the order added."""
    variants = [ProductVariantFactory(price=Decimal(p)) for p in ("3.00", "1.00", "2.00")]
    for variant in variants:
        stock_with(variant=variant, on_hand=10)
    cart = cart_get_or_create(user=UserFactory())
    other = cart_get_or_create(user=UserFactory())
    lines = [
        cart_line_add(cart=cart, variant_id=v.pk, quantity=i + 1) for i, v in enumerate(variants)
    ]
    cart_line_add(cart=other, variant_id=variants[0].pk, quantity=4)
    cart_line_save_for_later(cart=cart, line_id=lines[1].pk, saved=True)
    expected = [(x.variant_id, x.quantity, x.price_at_add) for x in cart_lines(cart=cart)]
    assert cart_lines_to_price(cart=cart) == expected
    assert expected == [(variants[0].pk, 1, Decimal("3.00")), (variants[2].pk, 3, Decimal("2.00"))]
