"""Checkout and orders over the API, with Idempotency-Key."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from inventory.models import Stock
from orders.models import Order
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


PAY = {"payment_token": "tok_visa"}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ready_checkout_over_api(market, client) -> str:
    for variant, qty in [(market.a1, 2), (market.b1, 1)]:
        response = client.post(
            "/api/v1/cart/lines/", {"variant_id": variant.pk, "quantity": qty}, format="json"
        )
        assert response.status_code == 201, response.json()
    started = client.post("/api/v1/checkouts/")
    assert started.status_code == 201, started.json()
    token = started.json()["token"]
    assert started.json()["reserved_until"]
    options = started.json()["shipping_options"]
    assert set(options) == {str(market.alpha.pk), str(market.beta.pk)}
    patched = client.patch(
        f"/api/v1/checkouts/{token}/",
        {
            "email": "ada@example.com",
            "address": {
                "full_name": "Ada",
                "line1": "1 Main St",
                "city": "Berlin",
                "postal_code": "10115",
                "country": "DE",
            },
            "shipping": {
                str(market.alpha.pk): market.ship_alpha.pk,
                str(market.beta.pk): market.ship_beta.pk,
            },
        },
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    # 20.00 + 20.00, tax 19% = 7.60, shipping 4 + 6
    assert patched.json()["totals"]["total"] == "57.60"
    return token


def test_checkout_and_place_with_idempotency_key(market):
    user = UserFactory()
    client = client_for(user)
    token = ready_checkout_over_api(market, client)
    url = f"/api/v1/checkouts/{token}/place/"
    body = {"payment_token": "tok_visa", "expected_total": "57.60"}

    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "paid"
    assert len(first.json()["seller_orders"]) == 2

    replay = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"

    changed = client.post(
        url, {"payment_token": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert changed.status_code == 409
    assert changed.json()["code"] == "idempotency_conflict"

    # a new key on the same checkout still returns the same order (checkout-level idempotency)
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert again.json()["number"] == first.json()["number"]
    assert Order.objects.count() == 1


@pytest.mark.parametrize("payment_token", ["tok_visa", "tok_pending"])
def test_placement_response_is_the_order_detail_as_stored(market, payment_token):
    """The placement response is built from the rows just written (no read back): it must say
    exactly what the order's detail, read from the database, says - discounts, tax rates,
    seller names, every event in order."""
    from tests.factories.orders import PromotionFactory, VoucherFactory

    PromotionFactory(product=market.a1.product, value=Decimal("15"))
    voucher = VoucherFactory(value=Decimal("7"))
    user = UserFactory()
    client = client_for(user)
    checkout = market.ready_checkout(
        user=user, lines=[(market.a1, 3), (market.a2, 1), (market.b1, 2)]
    )
    checkout.cart.voucher_code = voucher.code
    checkout.cart.save(update_fields=["voucher_code"])
    placed = client.post(
        f"/api/v1/checkouts/{checkout.token}/place/",
        {"payment_token": payment_token},
        format="json",
        HTTP_IDEMPOTENCY_KEY="same",
    )
    assert placed.status_code == 201, placed.json()
    body = placed.json()
    assert body["voucher_code"] == voucher.code
    assert any(line["discount"] != "0.00" for so in body["seller_orders"] for line in so["lines"])
    stored = client.get(f"/api/v1/orders/{body['number']}/")
    assert stored.json() == body


def test_declined_payment_is_402_and_replayed_with_the_same_key(market):
    client = client_for(UserFactory())
    token = ready_checkout_over_api(market, client)
    url = f"/api/v1/checkouts/{token}/place/"
    response = client.post(
        url, {"payment_token": "tok_decline"}, format="json", HTTP_IDEMPOTENCY_KEY="d"
    )
    assert response.status_code == 402
    assert response.json()["code"] == "payment_failed"
    assert Order.objects.count() == 0


def test_tampered_shipping_method_of_another_seller_is_rejected(market):
    client = client_for(UserFactory())
    token = ready_checkout_over_api(market, client)
    response = client.patch(
        f"/api/v1/checkouts/{token}/",
        {
            "shipping": {
                str(market.alpha.pk): market.ship_beta.pk,
                str(market.beta.pk): market.ship_beta.pk,
            }
        },
        format="json",
    )
    assert response.status_code == 400
    assert client.get(f"/api/v1/checkouts/{token}/").json()["shipping_choices"] == {
        str(market.alpha.pk): market.ship_alpha.pk,
        str(market.beta.pk): market.ship_beta.pk,
    }


def test_another_customers_checkout_and_order_are_not_found(market):
    owner = client_for(UserFactory())
    token = ready_checkout_over_api(market, owner)
    stranger = client_for(UserFactory())
    assert stranger.get(f"/api/v1/checkouts/{token}/").status_code == 404
    assert stranger.post(f"/api/v1/checkouts/{token}/place/", PAY, format="json").status_code == 404
    number = owner.post(f"/api/v1/checkouts/{token}/place/", PAY, format="json").json()["number"]
    assert stranger.get(f"/api/v1/orders/{number}/").status_code == 404
    assert stranger.post(f"/api/v1/orders/{number}/cancel/").status_code == 404
    assert stranger.get("/api/v1/orders/").json()["results"] == []
    assert Order.objects.get().status == "paid"


def test_orders_list_detail_and_cancel(market, django_assert_max_num_queries):
    user = UserFactory()
    client = client_for(user)
    token = ready_checkout_over_api(market, client)
    number = client.post(f"/api/v1/checkouts/{token}/place/", PAY, format="json").json()["number"]
    listed = client.get("/api/v1/orders/").json()["results"]
    assert [o["number"] for o in listed] == [number]
    detail = client.get(f"/api/v1/orders/{number}/").json()
    assert [e["to_status"] for e in detail["events"] if e["seller_order"] is None] == [
        "pending_payment",
        "paid",
    ]
    cancelled = client.post(f"/api/v1/orders/{number}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert Stock.objects.get(pk=market.stocks[market.a1.pk].pk).allocated == 0
    assert client.post(f"/api/v1/orders/{number}/cancel/").status_code == 400


# What one placement of a 3-line, 2-seller cart (3 stock rows) costs over the API, so the count
# cannot regrow unnoticed (it was 58 before batching, 36 before the response was built from the
# rows just written). In a test the outer transactions show as SAVEPOINT/RELEASE pairs: 4 of them.
# Idempotency record insert + response update (2); checkout with its order (1); pricing: cart
# lines, variants, promotions, tax rates, shipping methods (5); under the checkout lock: lock,
# order check, order + seller orders + lines + event inserts (6); allocation: savepoint pair,
# stock lock, allocation check, reservations taken, one guarded UPDATE per stock row, allocations
# insert (6 + 3); paid: seller orders, order, events (3); checkout and cart marked (2); the
# confirmation email's outbox row (1). After the commit the row is published and marked sent
# (one more UPDATE, outside this count: a test's transaction never commits).
# The payment: the checkout's current payment read (1), a new one inserted in a transaction of
# its own (1 + a savepoint pair), its intent's reference written (1), the confirmation recorded
# under its lock with an event (3 + a savepoint pair), linked to the order (1): 11. The built-in
# test gateway keeps its intents in the database: created (1), confirmed under a lock (2 + a
# savepoint pair): 5 (Stripe's are HTTP calls instead). The seller ledger (#12): the commission
# rules that may apply to the lines, read once to freeze each line's commission (1), and the
# paid order's sale and commission postings, one INSERT for all seller orders (1): 2.
PLACEMENT_QUERIES = 51


def test_placement_makes_a_fixed_number_of_queries(market, django_assert_num_queries):
    user = UserFactory()
    client = client_for(user)
    checkout = market.ready_checkout(
        user=user, lines=[(market.a1, 1), (market.a2, 1), (market.b1, 1)]
    )
    with django_assert_num_queries(PLACEMENT_QUERIES):
        response = client.post(
            f"/api/v1/checkouts/{checkout.token}/place/",
            {"payment_token": "tok_visa"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="pin",
        )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "paid"
    order = Order.objects.get()
    assert order.lines.count() == 3
    assert order.seller_orders.filter(status="paid").count() == 2
    assert [e.to_status for e in order.events.filter(seller_order=None)] == [
        "pending_payment",
        "paid",
    ]


def test_openapi_schema_documents_checkout_and_cart(client):
    schema = client.get("/api/v1/schema/").content.decode()
    for path in ("/api/v1/cart/lines/", "/api/v1/checkouts/{token}/place/", "/api/v1/orders/"):
        assert path in schema
    assert "Idempotency-Key" in schema


def test_a_placement_whose_worker_died_is_finished_by_a_retry_after_the_lease(market):
    """The worker placed the order, then was killed before storing the response: its key
    must not answer 409 forever. After the lease the retry runs placement again, which finds
    the checkout's order and returns it."""
    from datetime import timedelta

    from django.utils import timezone

    from orders.services import order_place
    from shop.core.idempotency import IdempotencyRecord, request_fingerprint

    user = UserFactory()
    checkout = market.ready_checkout(user=user)
    order = order_place(checkout=checkout, payment_token="tok_visa")
    body = {"payment_token": "tok_visa"}
    record = IdempotencyRecord.objects.create(
        owner=f"user:{user.pk}",
        user=user,
        key="died",
        scope=f"checkout-place:{checkout.token}",
        request_hash=request_fingerprint(scope=f"checkout-place:{checkout.token}", payload=body),
        locked_until=timezone.now() + timedelta(seconds=30),
    )
    client = client_for(user)
    url = f"/api/v1/checkouts/{checkout.token}/place/"

    busy = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="died")
    assert busy.status_code == 409 and busy.json()["code"] == "conflict"
    assert 1 <= int(busy["Retry-After"]) <= 31

    IdempotencyRecord.objects.filter(pk=record.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    taken_over = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="died")
    assert taken_over.status_code == 201
    assert taken_over.json()["number"] == order.number
    assert Order.objects.count() == 1
    replay = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="died")
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["number"] == order.number


def test_a_converted_cart_cannot_start_another_checkout(market):
    client = client_for(UserFactory())
    token = ready_checkout_over_api(market, client)
    placed = client.post(f"/api/v1/checkouts/{token}/place/", PAY, format="json")
    assert placed.status_code == 201, placed.json()

    again = client.post("/api/v1/checkouts/")

    # the converted cart is no longer the shopper's cart: nothing to check out
    assert again.status_code == 400
    assert again.json()["code"] == "invalid"
    assert Order.objects.count() == 1


def test_the_database_refuses_a_second_open_checkout_for_one_cart(market):
    from django.db import IntegrityError, transaction

    from orders.models import Checkout

    user = UserFactory()
    checkout = market.ready_checkout(user=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Checkout.objects.create(cart=checkout.cart, user=user)
