"""Cart and wishlist API: server-side prices, validation that changes nothing, owner scoping."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cart.models import CartLine
from tests.factories import UserFactory
from tests.orders.conftest import Market

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(db):
    return Market(stock=3)


@pytest.fixture
def shopper(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    api_client.user = user
    return api_client


def test_add_line_prices_on_the_server_and_ignores_a_sent_price(market, shopper):
    response = shopper.post(
        "/api/v1/cart/lines/",
        {"variant_id": market.a1.pk, "quantity": 2, "price": "0.01", "unit_price": "0.01"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["lines"][0]["price"]["unit_price"] == "10.00"
    assert body["totals"]["subtotal"] == "20.00"
    assert body["count"] == 2


@pytest.mark.parametrize("quantity", [0, -1, "two", 1.5, None, True])
def test_invalid_quantities_are_rejected_and_nothing_changes(market, shopper, quantity):
    response = shopper.post(
        "/api/v1/cart/lines/", {"variant_id": market.a1.pk, "quantity": quantity}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert CartLine.objects.count() == 0


def test_more_than_available_says_how_many_are_left(market, shopper):
    response = shopper.post(
        "/api/v1/cart/lines/", {"variant_id": market.a1.pk, "quantity": 5}, format="json"
    )
    assert response.status_code == 400
    assert "Only 3 left" in response.json()["message"]
    assert CartLine.objects.count() == 0


def test_per_line_maximum_is_enforced(market, shopper):
    market.a1.max_quantity_per_order = 2
    market.a1.save()
    response = shopper.post(
        "/api/v1/cart/lines/", {"variant_id": market.a1.pk, "quantity": 3}, format="json"
    )
    assert response.status_code == 400
    assert "at most 2" in response.json()["message"]


def test_unknown_or_unpublished_variant_is_not_found(market, shopper):
    market.b1.is_active = False
    market.b1.save()
    for variant_id in (market.b1.pk, 987654):
        response = shopper.post(
            "/api/v1/cart/lines/", {"variant_id": variant_id, "quantity": 1}, format="json"
        )
        assert response.status_code == 404
    assert CartLine.objects.count() == 0


def test_another_shoppers_line_is_not_found_and_unchanged(market, shopper, client):
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_authenticate(UserFactory())
    other.post("/api/v1/cart/lines/", {"variant_id": market.a1.pk, "quantity": 1}, format="json")
    foreign = CartLine.objects.get()

    assert (
        shopper.patch(
            f"/api/v1/cart/lines/{foreign.pk}/", {"quantity": 3}, format="json"
        ).status_code
        == 404
    )
    assert shopper.delete(f"/api/v1/cart/lines/{foreign.pk}/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.quantity == 1


def test_update_and_remove_lines(market, shopper):
    shopper.post("/api/v1/cart/lines/", {"variant_id": market.a1.pk, "quantity": 1}, format="json")
    line = CartLine.objects.get()
    body = shopper.patch(f"/api/v1/cart/lines/{line.pk}/", {"quantity": 3}, format="json").json()
    assert body["lines"][0]["quantity"] == 3
    body = shopper.patch(f"/api/v1/cart/lines/{line.pk}/", {"quantity": 0}, format="json").json()
    assert body["lines"] == []


def test_wishlist_round_trip_to_cart(market, shopper):
    created = shopper.post("/api/v1/wishlist/", {"variant_id": market.b1.pk}, format="json")
    assert created.status_code == 201
    item_id = created.json()["id"]
    listed = shopper.get("/api/v1/wishlist/").json()
    assert listed["count"] == 1  # paginated like every list
    assert [i["variant_id"] for i in listed["results"]] == [market.b1.pk]
    cart = shopper.post(f"/api/v1/wishlist/{item_id}/move-to-cart/").json()
    assert cart["lines"][0]["variant_id"] == market.b1.pk
    assert shopper.get("/api/v1/wishlist/").json()["results"] == []


def test_voucher_apply_and_bad_code(market, shopper):
    from tests.factories.orders import VoucherFactory

    VoucherFactory(code="TEN", value=Decimal("10"))
    shopper.post("/api/v1/cart/lines/", {"variant_id": market.b1.pk, "quantity": 1}, format="json")
    body = shopper.post("/api/v1/cart/voucher/", {"code": "ten"}, format="json").json()
    assert body["totals"]["discount_total"] == "2.00"
    bad = shopper.post("/api/v1/cart/voucher/", {"code": "NOPE"}, format="json")
    assert bad.status_code == 400 and "not valid" in bad.json()["message"]


def test_cart_api_requires_authentication(api_client):
    assert api_client.get("/api/v1/cart/").status_code == 401


def test_a_retried_add_with_its_idempotency_key_adds_once(market, shopper):
    def add():
        return shopper.post(
            "/api/v1/cart/lines/",
            {"variant_id": market.a1.pk, "quantity": 1},
            format="json",
            HTTP_IDEMPOTENCY_KEY="add-1",
        )

    first, retry = add(), add()
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert CartLine.objects.get().quantity == 1
    # a new key is a new add
    shopper.post(
        "/api/v1/cart/lines/",
        {"variant_id": market.a1.pk, "quantity": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="add-2",
    )
    assert CartLine.objects.get().quantity == 2
