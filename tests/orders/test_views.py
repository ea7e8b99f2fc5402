"""Storefront checkout steps and order pages."""

from __future__ import annotations

import pytest
from django.test import Client

from orders.models import Checkout, Order
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def checkout_to_review(market, client) -> str:
    client.post("/cart/add/", {"variant": market.a1.pk, "quantity": "1"})
    client.post("/cart/add/", {"variant": market.b1.pk, "quantity": "1"})
    response = client.post("/checkout/")
    assert response.status_code == 302, response
    token = str(Checkout.objects.latest("created_at").token)
    assert response["Location"] == f"/checkout/{token}/address/"
    page = client.get(f"/checkout/{token}/address/")
    assert "held for you until" in page.content.decode()
    response = client.post(
        f"/checkout/{token}/address/",
        {
            "email": "guest@example.com",
            "full_name": "Guest",
            "line1": "1 Main St",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
    )
    assert response["Location"] == f"/checkout/{token}/shipping/"
    response = client.post(
        f"/checkout/{token}/shipping/",
        {
            f"seller_{market.alpha.pk}": market.ship_alpha.pk,
            f"seller_{market.beta.pk}": market.ship_beta.pk,
        },
    )
    assert response["Location"] == f"/checkout/{token}/review/"
    return token


def test_guest_completes_a_two_seller_checkout(market, client):
    token = checkout_to_review(market, client)
    review = client.get(f"/checkout/{token}/review/").content.decode()
    # 10 + 20 = 30, tax 5.70, shipping 4 + 6 = 10 -> 45.70
    assert "45.70" in review
    response = client.post(
        f"/checkout/{token}/place/", {"payment_token": "tok_visa", "expected_total": "45.70"}
    )
    assert response["Location"] == f"/checkout/{token}/confirmation/"
    order = Order.objects.get()
    assert order.seller_orders.count() == 2
    confirmation = client.get(f"/checkout/{token}/confirmation/").content.decode()
    assert order.number in confirmation
    # a double click on "Place order" lands on the same order
    client.post(
        f"/checkout/{token}/place/", {"payment_token": "tok_visa", "expected_total": "45.70"}
    )
    assert Order.objects.count() == 1


def test_tampered_total_places_nothing(market, client):
    token = checkout_to_review(market, client)
    response = client.post(
        f"/checkout/{token}/place/",
        {"payment_token": "tok_visa", "expected_total": "0.01"},
        follow=True,
    )
    assert Order.objects.count() == 0
    assert "total changed" in response.content.decode()


def test_another_visitors_checkout_is_not_found(market, client):
    token = checkout_to_review(market, client)
    stranger = Client()
    for step in ("address", "shipping", "review", "confirmation"):
        assert stranger.get(f"/checkout/{token}/{step}/").status_code == 404
    assert stranger.post(f"/checkout/{token}/place/", {}).status_code == 404
    assert Order.objects.count() == 0


def test_order_history_detail_timeline_and_cancel(market, client):
    user = UserFactory()
    client.force_login(user)
    token = checkout_to_review(market, client)
    client.post(f"/checkout/{token}/place/", {"payment_token": "tok_visa"})
    order = Order.objects.get()
    assert order.user == user
    listing = client.get("/orders/").content.decode()
    assert order.number in listing
    detail = client.get(f"/orders/{order.number}/").content.decode()
    assert "Timeline" in detail and "Paid" in detail
    client.post(f"/orders/{order.number}/cancel/")
    order.refresh_from_db()
    assert order.status == "cancelled"

    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(f"/orders/{order.number}/").status_code == 404
    assert stranger.post(f"/orders/{order.number}/cancel/").status_code == 404


def test_order_list_queries_do_not_grow_with_orders(market, django_assert_num_queries):
    user = UserFactory()
    client = Client()
    client.force_login(user)
    from orders.services import order_place

    order_place(checkout=market.ready_checkout(user=user), payment_token="tok_visa")
    client.get("/orders/")
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # a request ends by resetting the log, which would hide the capture
    with CaptureQueriesContext(connection) as one:
        client.get("/orders/")
    for _ in range(3):
        order_place(checkout=market.ready_checkout(user=user), payment_token="tok_visa")
    with django_assert_num_queries(len(one.captured_queries)):
        client.get("/orders/")


def test_review_re_takes_the_hold_after_the_cart_changed(market, client):
    from inventory.models import Stock

    token = checkout_to_review(market, client)
    line = Checkout.objects.get().cart.lines.get(variant=market.a1)
    client.post(f"/cart/lines/{line.pk}/", {"quantity": "3", "action": "update"})
    client.get(f"/checkout/{token}/review/")
    assert Stock.objects.get(pk=market.stocks[market.a1.pk].pk).reserved == 3
    client.post(f"/cart/lines/{line.pk}/", {"quantity": "1", "action": "update"})
    client.get(f"/checkout/{token}/review/")
    assert Stock.objects.get(pk=market.stocks[market.a1.pk].pk).reserved == 1
