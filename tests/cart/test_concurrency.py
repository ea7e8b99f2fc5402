"""Concurrent adds of one variant to one cart (a double tap, two tabs): real threads, each with
its own database connection."""

from __future__ import annotations

import pytest

from cart.models import CartLine
from cart.services import cart_get_or_create, cart_line_add
from tests.factories import UserFactory
from tests.orders.conftest import Market
from tests.orders.test_concurrency import race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_concurrent_adds_of_one_variant_all_count_and_none_fails():
    market = Market(stock=50)
    cart = cart_get_or_create(user=UserFactory())

    outcomes = race(8, lambda i: str(cart_line_add(cart=cart, variant_id=market.a1.pk).pk))

    (line,) = CartLine.objects.filter(cart=cart)
    assert outcomes == {str(line.pk): 8}
    assert line.quantity == 8


def test_concurrent_adds_past_the_stock_stop_at_the_stock_with_a_clear_error():
    market = Market(stock=3)
    cart = cart_get_or_create(user=UserFactory())

    outcomes = race(6, lambda i: str(cart_line_add(cart=cart, variant_id=market.a1.pk).pk))

    (line,) = CartLine.objects.filter(cart=cart)
    assert line.quantity == 3
    assert outcomes == {str(line.pk): 3, "invalid": 3}
