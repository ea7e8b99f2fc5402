"""Real races on PostgreSQL: each worker is a thread with its own connection, released at once
by a barrier."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from cart.services import cart_get_or_create, cart_line_add
from inventory.models import Stock
from orders.models import Order, OrderLine, VoucherRedemption
from orders.services import (
    checkout_set_address,
    checkout_set_shipping,
    checkout_start,
    order_place,
)
from pricing.models import Voucher
from tests.factories import UserFactory
from tests.factories.orders import VoucherFactory
from tests.orders.conftest import Market

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def race(n: int, work: Callable[[int], str]) -> Counter:
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait()
            result = work(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test asserts on
            result = getattr(exc, "code", type(exc).__name__)
        finally:
            connection.close()
        with lock:
            outcomes.append(str(result))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Counter(outcomes)


def test_concurrent_submits_of_one_checkout_make_one_order():
    market = Market()
    checkout = market.ready_checkout()

    outcomes = race(8, lambda i: order_place(checkout=checkout, payment_token="tok_visa").number)

    assert Order.objects.count() == 1
    assert outcomes == Counter({Order.objects.get().number: 8})
    stock = Stock.objects.get(pk=market.stocks[market.a1.pk].pk)
    assert (stock.on_hand, stock.reserved, stock.allocated) == (10, 0, 2)


def _full_flow(market, cart, user) -> str:
    checkout = checkout_start(cart=cart, user=user)
    checkout_set_address(
        checkout=checkout,
        email=user.email,
        full_name="Racer",
        line1="1 Track Rd",
        city="Berlin",
        postal_code="10115",
        country="DE",
    )
    checkout_set_shipping(checkout=checkout, choices={market.beta.pk: market.ship_beta.pk})
    return order_place(checkout=checkout, payment_token="tok_visa").number


def _carts_with_last_units(market, shoppers: int):
    """Every shopper put the variant in their cart while it was still in stock."""
    carts = []
    for _ in range(shoppers):
        user = UserFactory()
        cart = cart_get_or_create(user=user)
        cart_line_add(cart=cart, variant_id=market.b1.pk, quantity=1)
        carts.append((cart, user))
    return carts


def test_two_shoppers_racing_for_the_last_unit_get_one_order_and_one_clear_error():
    market = Market(stock=1)
    carts = _carts_with_last_units(market, 2)

    outcomes = race(2, lambda i: _full_flow(market, *carts[i]))

    assert Order.objects.count() == 1
    assert outcomes == Counter({Order.objects.get().number: 1, "insufficient_stock": 1})
    stock = Stock.objects.get(pk=market.stocks[market.b1.pk].pk)
    assert (stock.on_hand, stock.reserved, stock.allocated) == (1, 0, 1)


def test_many_shoppers_for_few_units_never_oversell():
    market = Market(stock=3)
    carts = _carts_with_last_units(market, 12)

    outcomes = race(12, lambda i: _full_flow(market, *carts[i]))

    assert outcomes["insufficient_stock"] == 9
    assert Order.objects.count() == 3
    stock = Stock.objects.get(pk=market.stocks[market.b1.pk].pk)
    assert (stock.on_hand, stock.reserved, stock.allocated) == (3, 0, 3)


def test_voucher_usage_limit_holds_under_concurrency():
    market = Market(stock=50)
    VoucherFactory(code="FIRST3", usage_limit=3)
    checkouts = []
    for _ in range(10):
        checkout = market.ready_checkout(lines=[(market.a1, 1)])
        checkout.cart.voucher_code = "FIRST3"
        checkout.cart.save()
        checkouts.append(checkout)

    outcomes = race(
        10, lambda i: order_place(checkout=checkouts[i], payment_token="tok_visa").number
    )

    assert Voucher.objects.get(code="FIRST3").times_used == 3
    assert VoucherRedemption.objects.count() == 3
    assert Order.objects.count() == 3
    assert outcomes["invalid"] == 7
    assert OrderLine.objects.count() == 3
    stock = Stock.objects.get(pk=market.stocks[market.a1.pk].pk)
    assert stock.allocated == 3


def test_ten_concurrent_checkout_starts_over_the_api_give_one_checkout_and_one_order():
    """A double-tapping (or retrying) app: every start answers the same checkout, only one
    checkout holds stock, and placing every answer makes one order."""
    from rest_framework.test import APIClient

    from orders.models import Checkout, CheckoutStatus

    market = Market(stock=1)
    user = UserFactory()
    cart = cart_get_or_create(user=user)
    cart_line_add(cart=cart, variant_id=market.b1.pk, quantity=1)

    def start(_: int) -> str:
        client = APIClient()
        client.force_authenticate(user)
        response = client.post("/api/v1/checkouts/")
        assert response.status_code == 201, response.json()
        return response.json()["token"]

    tokens = race(10, start)

    assert len(tokens) == 1 and sum(tokens.values()) == 10
    assert Checkout.objects.filter(cart=cart, status=CheckoutStatus.OPEN).count() == 1
    stock = Stock.objects.get(pk=market.stocks[market.b1.pk].pk)
    assert (stock.reserved, stock.allocated) == (1, 0)

    (token,) = tokens
    checkout = Checkout.objects.get(token=token)
    checkout_set_address(
        checkout=checkout,
        email=user.email,
        full_name="Racer",
        line1="1 Track Rd",
        city="Berlin",
        postal_code="10115",
        country="DE",
    )
    checkout_set_shipping(checkout=checkout, choices={market.beta.pk: market.ship_beta.pk})

    def place_then_start_again(i: int) -> str:
        if i % 2:
            return order_place(
                checkout=Checkout.objects.get(token=token), payment_token="tok_visa"
            ).number
        return str(checkout_start(cart=cart, user=user).token)

    outcomes = race(10, place_then_start_again)

    assert Order.objects.count() == 1
    number = Order.objects.get().number
    # a start that ran before the placement committed got the same checkout; later ones are refused
    assert set(outcomes) <= {number, token, "invalid"}
    assert outcomes[number] == 5
    assert not Checkout.objects.filter(cart=cart, status=CheckoutStatus.OPEN).exists()
    stock = Stock.objects.get(pk=market.stocks[market.b1.pk].pk)
    assert (stock.on_hand, stock.allocated) == (1, 1)


def test_concurrent_fraud_checks_of_one_order_record_one_check():
    from orders.services.fraud import order_fraud_check
    from payments.models import FraudCheck, FraudCheckEvent

    market = Market()
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")

    outcomes = race(6, lambda i: order_fraud_check(order_id=order.pk).status)

    assert outcomes == Counter({"approved": 6})
    assert FraudCheck.objects.count() == 1 and FraudCheckEvent.objects.count() == 1
    assert Order.objects.get(pk=order.pk).fraud_status == "approved"
