"""The shopper's order page and API show parcels and tracking and take return requests; the
seller API ships and handles returns; carriers' signed webhook updates tracking once."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from fulfilment.models import ReturnRequest, ReturnStatus, Shipment, ShipmentStatus, TrackingEvent
from fulfilment.services import ShipLine, shipment_create, tracking_signature
from inventory.models import Stock
from orders.models import OrderStatus
from tests.factories import UserFactory
from tests.fulfilment.conftest import Placed, key

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ship_a1(placed: Placed, number: str = "SIM000001") -> Shipment:
    shipment = shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 2)],
        carrier="sim",
        tracking_number=number,
        key=key(),
    )
    placed.refresh()
    return shipment


def test_the_seller_api_ships_once_per_key_and_scopes_to_the_seller(placed, market):
    client = api(placed.alpha_user)
    url = f"/api/v1/seller/orders/{placed.alpha_order.pk}/shipments/"
    body = {
        "warehouse_id": placed.w_a1.pk,
        "carrier": "sim",
        "tracking_number": "SIM000042",
        "lines": [{"order_line_id": placed.a1_line.pk, "quantity": 2}],
    }
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="ship-1")
    assert first.status_code == 201, first.content
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="ship-1")
    assert again.json()["id"] == first.json()["id"]
    assert Stock.objects.get(pk=placed.stock[market.a1.pk].pk).on_hand == 8
    bad = client.post(
        url,
        {**body, "lines": [{"order_line_id": placed.a2_line.pk, "quantity": "x"}]},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    listing = client.get("/api/v1/seller/orders/?view=partially_shipped").json()
    assert [row["number"] for row in listing["results"]] == [placed.order.number]
    detail = client.get(f"/api/v1/seller/orders/{placed.alpha_order.pk}/").json()
    assert detail["shipments"][0]["tracking_number"] == "SIM000042"
    other = api(placed.beta_user)
    assert other.get(f"/api/v1/seller/orders/{placed.alpha_order.pk}/").status_code == 404
    assert other.post(url, body, format="json").status_code == 404
    assert other.post(f"/api/v1/seller/orders/{placed.alpha_order.pk}/pack/").status_code == 404
    assert api(placed.customer).get("/api/v1/seller/orders/").status_code == 404


def test_the_shopper_sees_tracking_and_asks_for_a_return_over_the_api(placed, settings):
    settings.FULFILMENT_SIMULATED_STEP_SECONDS = 1
    ship_a1(placed)
    from fulfilment.services import shipments_track

    shipments_track(now=timezone.now() + timedelta(minutes=1))
    client = api(placed.customer)
    parts = client.get(f"/api/v1/orders/{placed.order.number}/fulfilment/").json()
    alpha = next(p for p in parts if p["seller_order_id"] == placed.alpha_order.pk)
    timeline = [e["status"] for e in alpha["shipments"][0]["events"]]
    assert timeline == ["in_transit", "out_for_delivery", "delivered"]
    assert alpha["can_return"] and alpha["returnable"][0]["quantity"] == 2
    url = f"/api/v1/orders/{placed.order.number}/returns/"
    body = {
        "seller_order_id": placed.alpha_order.pk,
        "lines": [{"order_line_id": placed.a1_line.pk, "quantity": 1}],
        "reason": "Too big",
    }
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="ret-1")
    assert first.status_code == 201, first.content
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="ret-1")
    assert again.json()["id"] == first.json()["id"]
    assert ReturnRequest.objects.count() == 1
    too_many = client.post(
        url, {**body, "lines": [{"order_line_id": placed.a1_line.pk, "quantity": 2}]}, format="json"
    )
    assert too_many.status_code == 400
    # another customer: not found, nothing created
    stranger = api(UserFactory())
    assert stranger.get(f"/api/v1/orders/{placed.order.number}/fulfilment/").status_code == 404
    assert stranger.post(url, body, format="json").status_code == 404
    # the seller decides and receives over the API
    seller = api(placed.alpha_user)
    return_id = first.json()["id"]
    approved = seller.post(f"/api/v1/seller/returns/{return_id}/approve/", {}, format="json")
    assert approved.json()["status"] == ReturnStatus.APPROVED
    received = seller.post(
        f"/api/v1/seller/returns/{return_id}/receive/", {"restock": True}, format="json"
    )
    assert received.json()["status"] == ReturnStatus.RECEIVED
    assert (
        api(placed.beta_user)
        .post(f"/api/v1/seller/returns/{return_id}/reject/", {"reason": "no"}, format="json")
        .status_code
        == 404
    )


def test_the_order_page_shows_parcels_and_takes_a_return(placed):
    shipment = ship_a1(placed)
    client = Client()
    client.force_login(placed.customer)
    page = client.get(f"/orders/{placed.order.number}/").content.decode()
    assert shipment.tracking_number in page and "Request a return" in page
    import re

    form_key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)
    data = {
        "seller_order": placed.alpha_order.pk,
        "key": form_key,
        f"qty_{placed.a1_line.pk}": "1",
        "reason": "Scratched",
    }
    url = f"/orders/{placed.order.number}/returns/"
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # submitted twice: one return
    assert ReturnRequest.objects.count() == 1
    page = client.get(f"/orders/{placed.order.number}/").content.decode()
    assert "Return " in page and "Requested" in page
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.post(url, {**data, "key": "other"}).status_code == 404
    assert ReturnRequest.objects.count() == 1


def _signed(client: APIClient, body: dict, *, secret: str = "s3cret", at: int | None = None):
    raw = json.dumps(body).encode()
    stamp = str(at if at is not None else int(time.time()))
    return client.post(
        "/api/v1/fulfilment/tracking/webhook/",
        raw,
        content_type="application/json",
        HTTP_X_TRACKING_TIMESTAMP=stamp,
        HTTP_X_TRACKING_SIGNATURE=tracking_signature(body=raw, timestamp=stamp, secret=secret),
    )


def test_the_signed_tracking_webhook_is_replay_safe(placed, settings):
    settings.FULFILMENT_TRACKING_WEBHOOK_SECRET = "s3cret"
    shipment = shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 2)],
        carrier="ups",
        tracking_number="1Z999AA10123456784",
        key=key(),
    )
    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a2.pk,
        lines=[ShipLine(placed.a2_line.pk, 1)],
        carrier="ups",
        tracking_number="1Z999AA10123456785",
        key=key(),
    )
    client = APIClient()
    event = {
        "id": "evt-1",
        "carrier": "ups",
        "tracking_number": "1Z999AA10123456784",
        "status": "delivered",
        "occurred_at": timezone.now().isoformat(),
    }
    assert _signed(client, event, secret="wrong").status_code == 403
    assert _signed(client, event, at=int(time.time()) - 3600).status_code == 403
    assert not TrackingEvent.objects.exists()
    assert _signed(client, event).status_code == 200
    assert _signed(client, event).status_code == 200  # replayed
    assert TrackingEvent.objects.count() == 1
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    placed.refresh()
    assert placed.alpha_order.status == OrderStatus.SHIPPED  # the other parcel is on its way
    assert placed.alpha_order.delivered_at is None
    _signed(client, {**event, "id": "evt-2", "tracking_number": "1Z999AA10123456785"})
    placed.refresh()
    assert placed.alpha_order.status == OrderStatus.DELIVERED
    assert placed.alpha_order.delivered_at is not None
    unknown = _signed(client, {**event, "id": "evt-3", "tracking_number": "1Z999AA10123456799"})
    assert unknown.status_code == 404
    assert _signed(client, {"id": "x"}).status_code == 400


def test_the_seller_order_list_api_makes_a_fixed_number_of_queries(
    placed, market, django_assert_max_num_queries
):
    client = api(placed.alpha_user)
    client.get("/api/v1/seller/orders/")
    for _ in range(4):
        Placed(market)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/seller/orders/")
    assert response.json()["count"] == 5


def test_a_guest_asks_for_a_return_through_the_orders_signed_link(placed):
    import re

    from orders.models import Order
    from orders.selectors import order_guest_token

    Order.objects.filter(pk=placed.order.pk).update(user=None)
    placed.order.refresh_from_db()
    ship_a1(placed)
    token = order_guest_token(order=placed.order)
    client = Client()
    page = client.get(f"/orders/guest/{token}/").content.decode()
    assert "SIM000001" in page and f"/orders/guest/{token}/returns/" in page
    form_key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)
    data = {
        "seller_order": placed.alpha_order.pk,
        "key": form_key,
        f"qty_{placed.a1_line.pk}": "1",
        "reason": "Not as described",
    }
    assert client.post(f"/orders/guest/{token}/returns/", data).status_code == 302
    assert ReturnRequest.objects.get().requested_by is None
    assert client.post(f"/orders/guest/{token}x/returns/", data).status_code == 404
    assert ReturnRequest.objects.count() == 1


def test_return_photos_are_checked_stored_and_shown_to_the_seller(placed):
    import io
    import re

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    ship_a1(placed)
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (200, 30, 30)).save(buffer, format="PNG")
    client = Client()
    client.force_login(placed.customer)
    page = client.get(f"/orders/{placed.order.number}/").content.decode()
    form_key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)
    data = {
        "seller_order": placed.alpha_order.pk,
        "key": form_key,
        f"qty_{placed.a1_line.pk}": "1",
        "reason": "Broken on arrival",
    }
    url = f"/orders/{placed.order.number}/returns/"
    not_an_image = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    client.post(url, {**data, "photos": [not_an_image]})
    assert not ReturnRequest.objects.exists()  # a bad photo: nothing asked
    photo = SimpleUploadedFile("broken.png", buffer.getvalue(), content_type="image/png")
    assert client.post(url, {**data, "photos": [photo]}).status_code == 302
    request = ReturnRequest.objects.get()
    assert request.photos.count() == 1
    seller = Client()
    seller.force_login(placed.alpha_user)
    detail = seller.get(f"/seller/orders/{placed.alpha_order.pk}/").content.decode()
    assert request.photos.get().image.url in detail
    parts = api(placed.customer).get(f"/api/v1/orders/{placed.order.number}/fulfilment/").json()
    alpha = next(p for p in parts if p["seller_order_id"] == placed.alpha_order.pk)
    assert alpha["returns"][0]["photos"] == [request.photos.get().image.url]


def test_the_seller_api_cancels_and_reroutes_lines_of_its_own_orders_only(placed, market):
    from tests.factories.inventory import stock_with

    other = stock_with(variant=market.a1, warehouse=placed.w_a2, on_hand=5)
    client = api(placed.alpha_user)
    base = f"/api/v1/seller/orders/{placed.alpha_order.pk}/lines/{placed.a1_line.pk}"
    moved = client.post(
        f"{base}/reroute/",
        {"from_warehouse_id": placed.w_a1.pk, "to_warehouse_id": placed.w_a2.pk, "quantity": 1},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    other.refresh_from_db()
    assert other.allocated == 1
    cancelled = client.post(f"{base}/cancel/", {"quantity": 1}, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == OrderStatus.PARTIALLY_REFUNDED
    assert client.post(f"{base}/cancel/", {"quantity": 5}, format="json").status_code == 400
    stranger = api(placed.beta_user)
    assert stranger.post(f"{base}/cancel/", {"quantity": 1}, format="json").status_code == 404


def test_the_seller_api_says_on_hold_and_never_where_the_fraud_check_stands(placed):
    from orders.models import FraudStatus, Order

    Order.objects.filter(pk=placed.order.pk).update(fraud_status=FraudStatus.REVIEW)
    client = api(placed.alpha_user)
    (row,) = client.get("/api/v1/seller/orders/?view=on_hold").json()["results"]
    assert row["on_hold"] is True and "fraud_status" not in row
    detail = client.get(f"/api/v1/seller/orders/{placed.alpha_order.pk}/")
    assert detail.json()["on_hold"] is True
    refused = client.post(f"/api/v1/seller/orders/{placed.alpha_order.pk}/pack/")
    assert refused.status_code == 409
    message = refused.content.decode().lower()
    assert "on hold" in message and "review" not in message and "fraud" not in message
    assert client.get("/api/v1/seller/orders/?view=new").json()["results"] == []


def test_the_portal_says_on_hold_without_where_the_check_stands(placed):
    from django.test import Client
    from django.urls import reverse

    from orders.models import FraudStatus, Order

    Order.objects.filter(pk=placed.order.pk).update(fraud_status=FraudStatus.REVIEW)
    browser = Client()
    browser.force_login(placed.alpha_user)
    for url in (
        reverse("portal:orders"),
        reverse("portal:order_detail", args=[placed.alpha_order.pk]),
    ):
        page = browser.get(url).content.decode()
        assert "On hold" in page
        assert "review" not in page.lower().replace("reviews", "")
        assert "fraud" not in page.lower()
