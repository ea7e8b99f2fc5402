"""The shopper's own checkout hold is theirs: the cart neither shows it as taken nor refuses the
units it holds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cart.selectors import cart_view
from cart.services import cart_get_or_create, cart_line_add, cart_line_update
from orders.services import checkout_start
from shop.core.errors import ValidationError
from tests.factories import ProductVariantFactory, UserFactory
from tests.factories.inventory import stock_with

pytestmark = pytest.mark.django_db


def test_the_cart_counts_its_own_checkout_hold_as_available():
    variant = ProductVariantFactory(price=Decimal("10"))
    stock_with(variant=variant, on_hand=3)
    user = UserFactory()
    cart = cart_get_or_create(user=user)
    line = cart_line_add(cart=cart, variant_id=variant.pk, quantity=2)
    checkout_start(cart=cart, user=user)  # holds 2 of the 3

    (item,) = cart_view(cart=cart).lines
    assert item.available == 3  # not "Only 1 left"
    cart_line_update(cart=cart, line_id=line.pk, quantity=3)  # the free unit plus its own two

    # someone else's cart sees only what is free
    other = cart_get_or_create(user=UserFactory())
    with pytest.raises(ValidationError, match="Only 1 left"):
        cart_line_add(cart=other, variant_id=variant.pk, quantity=2)
