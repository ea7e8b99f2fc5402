"""Guest order lookup: order number + email, rate-limited, one answer for every miss; a signed
link from the confirmation email; detail, timeline and cancel before shipment."""

from __future__ import annotations

import re

import pytest
from django.core import mail, signing
from django.core.cache import cache
from django.test import Client

from inventory.models import Stock
from orders.models import Order, OrderStatus
from orders.selectors import GUEST_ORDER_NOT_FOUND, order_guest_token
from orders.services import order_place
from tests.orders.test_views import checkout_to_review

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_cache(settings):
    # attempt counters live in the cache: a private one per test keeps the counts exact
    settings.CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "guest-lookup-tests",
        }
        for alias in ("default", "ratelimit")
    }
    cache.clear()


def guest_order(market, client: Client) -> Order:
    token = checkout_to_review(market, client)  # email guest@example.com
    response = client.post(
        f"/checkout/{token}/place/", {"payment_token": "tok_visa", "expected_total": "45.70"}
    )
    assert response.status_code == 302
    return Order.objects.get(checkout__token=token)


def lookup(client: Client, number: str, email: str):
    return client.post("/orders/find/", {"number": number, "email": email})


def test_guest_finds_the_order_by_number_and_email_and_sees_the_timeline(market, client):
    order = guest_order(market, client)
    stranger = Client()  # another browser: nothing in its session
    response = lookup(stranger, order.number.lower(), "  GUEST@example.com ")
    assert response.status_code == 302
    page = stranger.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert order.number in body and "Timeline" in body and "Order placed." in body
    assert "Cancel this order" in body


def test_wrong_email_and_wrong_number_get_the_same_404(market, client):
    order = guest_order(market, client)
    wrong_email = lookup(Client(), order.number, "someone@else.com")
    wrong_number = lookup(Client(), "261129-00000000", "guest@example.com")
    assert wrong_email.status_code == wrong_number.status_code == 404
    assert GUEST_ORDER_NOT_FOUND in wrong_email.content.decode()
    assert GUEST_ORDER_NOT_FOUND in wrong_number.content.decode()


def test_another_orders_number_with_my_email_is_not_found(market, client):
    mine = guest_order(market, client)
    theirs = order_place(
        checkout=market.ready_checkout(lines=[(market.a2, 1)]), payment_token="tok_visa"
    )
    assert theirs.email != mine.email
    response = lookup(Client(), theirs.number, mine.email)
    assert response.status_code == 404
    assert GUEST_ORDER_NOT_FOUND in response.content.decode()
    assert "Timeline" not in response.content.decode()


def test_an_account_holders_order_is_not_found_as_a_guest(market):
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    assert order.user_id is not None
    assert lookup(Client(), order.number, order.email).status_code == 404


def test_attempts_are_rate_limited_even_with_the_right_details(market, client, settings):
    settings.ORDER_LOOKUP_ATTEMPTS = 3
    order = guest_order(market, client)
    guesser = Client()
    for i in range(3):
        assert lookup(guesser, order.number, f"guess{i}@example.com").status_code == 404
    blocked = lookup(guesser, order.number, "guest@example.com")
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.content.decode()


def test_guesses_from_many_addresses_at_one_number_are_limited_too(market, client, settings):
    settings.ORDER_LOOKUP_ATTEMPTS = 3
    order = guest_order(market, client)
    type(order).objects.filter(pk=order.pk).update(number="261129-ABCD1234")  # has letters
    order.refresh_from_db()
    # changing the case of the number does not buy more guesses: the key is the stored form
    for i, number in enumerate([order.number.lower(), order.number, order.number.title()]):
        Client(REMOTE_ADDR=f"10.0.0.{i}").post(
            "/orders/find/", {"number": number, "email": f"x{i}@example.com"}
        )
    response = Client(REMOTE_ADDR="10.0.0.99").post(
        "/orders/find/", {"number": order.number, "email": "guest@example.com"}
    )
    assert response.status_code == 429


def test_behind_a_proxy_each_client_has_its_own_limit_and_cannot_fake_another(
    market, client, settings
):
    settings.ORDER_LOOKUP_ATTEMPTS = 2
    settings.SHOP_TRUSTED_PROXY_COUNT = 1
    order = guest_order(market, client)

    def via_proxy(forwarded_for: str, number: str) -> int:
        proxied = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)
        return lookup(proxied, number, "nobody@example.com").status_code

    # a client prepending a new fake address to every guess is still counted as itself
    statuses = [via_proxy(f"198.51.100.{i}, 203.0.113.7", f"261129-0000000{i}") for i in range(3)]
    assert statuses == [404, 404, 429]
    # another shopper behind the same proxy is not locked out with it
    assert via_proxy("203.0.113.8", order.number) == 404


def test_guest_cancels_before_shipment_and_stock_returns(market, client):
    order = guest_order(market, client)
    token = order_guest_token(order=order)
    response = Client().post(f"/orders/guest/{token}/cancel/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    stock = Stock.objects.get(pk=market.stocks[market.a1.pk].pk)
    assert (stock.allocated, stock.reserved) == (0, 0)
    assert order.events.filter(to_status="cancelled", actor=None).exists()


def test_shipped_guest_order_cannot_be_cancelled(market, client):
    order = guest_order(market, client)
    order.seller_orders.update(status=OrderStatus.SHIPPED)
    token = order_guest_token(order=order)
    page = Client().post(f"/orders/guest/{token}/cancel/", follow=True).content.decode()
    assert "already shipped" in page
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_forged_altered_or_expired_links_are_not_found(market, client, settings):
    order = guest_order(market, client)
    token = order_guest_token(order=order)
    assert Client().get(f"/orders/guest/{token[:-2]}xx/").status_code == 404
    forged = signing.dumps({"order": order.pk, "number": order.number}, salt="other")
    assert Client().get(f"/orders/guest/{forged}/").status_code == 404
    assert Client().post(f"/orders/guest/{forged}/cancel/").status_code == 404
    settings.ORDER_GUEST_LINK_MAX_AGE_SECONDS = -1
    assert Client().get(f"/orders/guest/{token}/").status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_confirmation_email_links_to_the_guest_order(
    market, client, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = guest_order(market, client)
    email = mail.outbox[-1]
    assert email.to == ["guest@example.com"]
    link = re.search(r"http://\S+/orders/guest/\S+/", email.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = Client().get("/" + path)
    assert page.status_code == 200
    assert order.number in page.content.decode()
    confirmation = client.get(f"/checkout/{order.checkout.token}/confirmation/").content.decode()
    assert "/orders/guest/" in confirmation
