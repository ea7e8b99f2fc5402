"""A mobile app's journey on a freshly seeded demo, through documented endpoints only: every
request's path and method must be in the OpenAPI schema served at /api/v1/schema/. A guest
buys with a cart token (no account); then a shopper signs up, brings a guest cart along,
keeps an address book, uses a voucher and follows the order."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db

ADDRESS = {
    "full_name": "Grace Guest",
    "line1": "Invalidenstraße 117",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
    "phone": "030 2093 0",
}


class DocumentedClient:
    """An API client that refuses to call anything the schema does not document."""

    def __init__(self) -> None:
        self.client = APIClient()
        schema = self.client.get("/api/v1/schema/", {"format": "json"}).json()
        self.operations = [
            (method.upper(), re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"))
            for path, item in schema["paths"].items()
            for method in item
        ]
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, data=None, **headers):
        bare = path.split("?")[0]
        assert any(m == method and p.match(bare) for m, p in self.operations), (
            f"{method} {bare} is not documented in /api/v1/schema/"
        )
        send = getattr(self.client, method.lower())
        extra = {
            f"HTTP_{k.upper().replace('-', '_')}": v for k, v in {**self.headers, **headers}.items()
        }
        response = (
            send(path, data, format="json", **extra) if data is not None else send(path, **extra)
        )
        return response


def _buyable_variant(api: DocumentedClient):
    """Search as a shopper would and open products until one can be bought."""
    results = api.call("GET", "/api/v1/search/?q=jacket&page_size=24").json()["results"]
    if not results:
        results = api.call("GET", "/api/v1/products/?page_size=24").json()["results"]
    for card in results:
        assert {"rating", "thumbnail", "slug"} <= set(card)
        detail = api.call("GET", f"/api/v1/products/{card['slug']}/").json()
        for variant in detail["variants"]:
            if variant["can_buy"] and variant["available"] >= 2:
                return detail, variant
    pytest.fail("no buyable product in the seeded catalog")


def _checkout(api: DocumentedClient, *, address=None, address_id=None, email=""):
    started = api.call("POST", "/api/v1/checkouts/")
    assert started.status_code == 201, started.json()
    token = started.json()["token"]
    body = {"email": email} if email else {}
    body.update({"address": address} if address else {"address_id": address_id})
    patched = api.call("PATCH", f"/api/v1/checkouts/{token}/", body)
    assert patched.status_code == 200, patched.json()
    options = patched.json()["shipping_options"]
    assert options and all(options.values())  # the seed ships every seller's goods to DE
    choice = {seller: methods[0]["id"] for seller, methods in options.items()}
    priced = api.call("PATCH", f"/api/v1/checkouts/{token}/", {"shipping": choice})
    assert priced.status_code == 200, priced.json()
    totals = priced.json()["totals"]
    assert Decimal(totals["tax_total"]) > 0  # German VAT from the seeded tax table
    placed = api.call(
        "POST",
        f"/api/v1/checkouts/{token}/place/",
        {"payment_token": "tok_visa", "expected_total": totals["total"]},
    )
    assert placed.status_code == 201, placed.json()
    return placed.json(), totals


def test_guest_checkout_then_sign_up_and_buy_through_documented_endpoints():
    call_command("seed_demo", "--products", "80", stdout=io.StringIO())
    api = DocumentedClient()

    # --- a guest: cart token, search, product, cart, checkout, pay, follow the order
    cart_token = api.call("POST", "/api/v1/carts/").json()["cart_token"]
    api.headers["X-Cart-Token"] = cart_token
    product, variant = _buyable_variant(api)
    added = api.call("POST", "/api/v1/cart/lines/", {"variant_id": variant["id"], "quantity": 1})
    assert added.status_code == 201, added.json()
    (line,) = added.json()["lines"]
    assert line["product_slug"] == product["slug"]
    assert line["thumbnail"].startswith("http://testserver/media/")
    order, totals = _checkout(api, address=ADDRESS, email="grace@example.com")
    assert order["status"] == OrderStatus.PAID and order["total"] == totals["total"]
    assert order["payment_method"].startswith("Test payment")
    assert order["seller_orders"][0]["lines"][0]["product_slug"] == product["slug"]
    tracked = api.call("GET", f"/api/v1/orders/guest/{order['guest_token']}/").json()
    assert tracked["number"] == order["number"] and tracked["events"]
    found = api.call(
        "POST", "/api/v1/orders/lookup/", {"number": order["number"], "email": "grace@example.com"}
    )
    assert found.status_code == 200 and found.json()["number"] == order["number"]
    assert Order.objects.get(number=order["number"]).user_id is None

    # --- a new guest cart, then sign up and bring it along
    api.headers["X-Cart-Token"] = api.call("POST", "/api/v1/carts/").json()["cart_token"]
    api.call("POST", "/api/v1/cart/lines/", {"variant_id": variant["id"], "quantity": 1})
    signed = api.call(
        "POST",
        "/api/v1/auth/signup/",
        {"email": "new@example.com", "password": "correct-horse-battery", "full_name": "Nia"},
    )
    assert signed.status_code == 201, signed.json()
    api.headers["Authorization"] = f"Token {signed.json()['token']}"
    merged = api.call("POST", "/api/v1/cart/merge/").json()
    assert merged["cart"]["count"] == 1
    del api.headers["X-Cart-Token"]
    refused = api.call("POST", "/api/v1/addresses/", {**ADDRESS, "country": "XX"})
    assert refused.status_code == 400 and "country" in refused.json()["fields"]
    address = api.call("POST", "/api/v1/addresses/", ADDRESS).json()
    assert address["is_default"] and address["phone"] == "+493020930"
    book = api.call("GET", "/api/v1/addresses/").json()
    assert book["count"] == 1 and book["results"][0]["id"] == address["id"]
    voucher = api.call("POST", "/api/v1/cart/voucher/", {"code": "WELCOME10"})
    assert voucher.status_code == 200, voucher.json()
    order, totals = _checkout(api, address_id=address["id"])
    assert Decimal(order["discount_total"]) > 0

    mine = api.call("GET", "/api/v1/orders/").json()
    assert [o["number"] for o in mine["results"]] == [order["number"]]
    assert {"count", "next", "previous"} <= set(mine)
    detail = api.call("GET", f"/api/v1/orders/{order['number']}/").json()
    assert detail["guest_token"] is None and detail["status"] == OrderStatus.PAID
