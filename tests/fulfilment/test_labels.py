"""Labels bought from EasyPost (through the real SDK, against the local fake) when the seller
ships: rates, one label per request key, its cost posted to the ledger once, errors."""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from django.db import connection

from fulfilment.models import LabelPurchase, Shipment
from fulfilment.services import ShipLine, shipment_create
from inventory.models import Warehouse
from ledger.models import LedgerEntry
from shop.core.errors import ValidationError
from tests.fulfilment.conftest import key

BUY = r"/v2/shipments/shp_\w+/buy"


@pytest.fixture
def addressed(placed):
    Warehouse.objects.filter(seller__in=[placed.market.alpha, placed.market.beta]).update(
        line1="2 Dock Rd", city="Berlin", postal_code="10115", country="DE"
    )
    placed.w_a1.refresh_from_db()
    return placed


def ship(placed, k, **extra):
    return shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 2)],
        carrier="easypost",
        tracking_number="",
        key=k,
        **extra,
    )


def label_entries(seller_order):
    return LedgerEntry.objects.filter(seller_order_id=seller_order.pk, journal__startswith="label:")


def test_cheapest_label_bought_once_cost_posted_once(easypost, addressed):
    k = key()
    shipment = ship(addressed, k)
    again = ship(addressed, k)  # a double submit: the first parcel, nothing bought again
    assert again.pk == shipment.pk
    assert easypost.count("POST", BUY) == 1 and easypost.count("POST", "/v2/shipments") == 1
    label = shipment.label
    assert shipment.carrier == "easypost" and shipment.tracking_number == label.tracking_number
    assert shipment.service == "USPS GroundAdvantage"  # the cheapest
    bought = easypost.shipments[label.quote_id]
    assert bought["selected_rate"]["rate"] == str(label.cost)
    assert label.label_url == bought["postage_label"]["label_url"]
    assert bought["to_address"]["zip"] == addressed.order.shipping_address["postal_code"]
    assert bought["from_address"]["street1"] == "2 Dock Rd"
    entries = label_entries(addressed.alpha_order)
    seller_leg = entries.get(account="seller")
    assert seller_leg.kind == "adjustment" and seller_leg.amount == -label.cost
    assert seller_leg.memo.startswith("Shipping label USPS GroundAdvantage EZ")
    assert sum(e.amount for e in entries) == 0 and entries.count() == 2


def test_chosen_service(easypost, addressed):
    with pytest.raises(ValidationError, match="does not offer Overnight"):
        ship(addressed, key(), service="Overnight")
    assert easypost.count("POST", BUY) == 0 and not Shipment.objects.exists()
    shipment = ship(addressed, key(), service="UPS Ground")
    assert shipment.service == "UPS Ground"


def test_lost_answer_retry_buys_no_second_label(easypost, addressed):
    k = key()
    easypost.lose_next_answer("POST", BUY)
    with pytest.raises(ValidationError, match="EasyPost refused"):
        ship(addressed, k)
    assert not Shipment.objects.exists() and not label_entries(addressed.alpha_order).exists()
    shipment = ship(addressed, k)  # the retry reads the label bought the first time
    assert easypost.count("POST", "/v2/shipments") == 1  # the same quote
    bought = easypost.shipments[shipment.label.quote_id]
    assert shipment.tracking_number == bought["tracking_code"]
    assert len([s for s in easypost.shipments.values() if s["postage_label"]]) == 1
    assert label_entries(addressed.alpha_order).filter(account="seller").count() == 1


def test_easypost_error_ships_nothing(easypost, addressed):
    easypost.fail_next(
        "POST", BUY, status=402, code="PAYMENT_REQUIRED", message="Insufficient funds."
    )
    with pytest.raises(ValidationError) as error:
        ship(addressed, key())
    assert "Insufficient funds" in str(error.value)
    assert not Shipment.objects.exists() and not label_entries(addressed.alpha_order).exists()
    addressed.refresh()
    assert addressed.alpha_order.status == "paid"
    assert LabelPurchase.objects.get().status == "quoted"


def test_not_offered_without_key(settings, addressed):
    settings.EASYPOST_API_KEY = ""
    with pytest.raises(ValidationError, match="Choose a carrier"):
        ship(addressed, key())


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_buys_once(easypost, market):
    from tests.fulfilment.conftest import Placed

    placed = Placed(market)
    Warehouse.objects.update(line1="2 Dock Rd", city="Berlin", postal_code="10115", country="DE")
    k = key()
    results, errors = [], []
    start = threading.Barrier(3)

    def go():
        try:
            start.wait()
            results.append(ship(placed, k).pk)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1
    assert len([s for s in easypost.shipments.values() if s["postage_label"]]) == 1
    assert LedgerEntry.objects.filter(journal__startswith="label:", account="seller").count() == 1
    assert (
        Decimal(0) > LedgerEntry.objects.get(journal__startswith="label:", account="seller").amount
    )


# --- faces -------------------------------------------------------------------------------------


def test_portal_buys_a_label_once_and_shows_print_label(easypost, addressed):
    from tests.fulfilment.test_portal import ship_form, signed_in

    client = signed_in(addressed.alpha_user)
    url = f"/seller/orders/{addressed.alpha_order.pk}/"
    page = client.get(url).content.decode()
    assert "Buy a label (EasyPost)" in page
    data = ship_form(addressed, page, carrier="easypost", tracking_number="")
    ship_url = f"{url}ship/"
    assert client.post(ship_url, data).status_code == 302
    assert client.post(ship_url, data).status_code == 302  # double submit
    shipment = Shipment.objects.get()
    assert easypost.count("POST", BUY) == 1
    page = client.get(url).content.decode()
    assert "Print label" in page and shipment.label.label_url in page
    assert label_entries(addressed.alpha_order).filter(account="seller").count() == 1
    # another seller cannot see it
    beta = signed_in(addressed.beta_user)
    assert beta.get(url).status_code == 404
    assert beta.post(ship_url, data).status_code == 404
    assert easypost.count("POST", BUY) == 1


def test_portal_easypost_error_is_a_form_error(easypost, addressed):
    from tests.fulfilment.test_portal import ship_form, signed_in

    client = signed_in(addressed.alpha_user)
    url = f"/seller/orders/{addressed.alpha_order.pk}/"
    page = client.get(url).content.decode()
    easypost.fail_next(
        "POST",
        "/v2/shipments",
        status=422,
        code="ADDRESS.VERIFY.FAILURE",
        message="Unable to verify to_address.",
    )
    response = client.post(f"{url}ship/", ship_form(addressed, page, carrier="easypost"))
    assert response.status_code == 400
    assert "EasyPost refused: Unable to verify to_address." in response.content.decode()
    assert not Shipment.objects.exists()


def test_portal_without_key_offers_no_label(settings, addressed):
    from tests.fulfilment.test_portal import ship_form, signed_in

    settings.EASYPOST_API_KEY = ""
    client = signed_in(addressed.alpha_user)
    url = f"/seller/orders/{addressed.alpha_order.pk}/"
    page = client.get(url).content.decode()
    assert "Buy a label" not in page
    response = client.post(f"{url}ship/", ship_form(addressed, page, carrier="easypost"))
    assert response.status_code == 400 and not Shipment.objects.exists()


def test_api_buys_a_label_once_per_key(easypost, addressed):
    from tests.fulfilment.test_api_and_storefront import api

    client = api(addressed.alpha_user)
    url = f"/api/v1/seller/orders/{addressed.alpha_order.pk}/shipments/"
    body = {
        "warehouse_id": addressed.w_a1.pk,
        "carrier": "easypost",
        "service": "USPS Priority",
        "lines": [{"order_line_id": addressed.a1_line.pk, "quantity": 2}],
    }
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="label-1")
    assert first.status_code == 201, first.content
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="label-1")
    assert again.json()["id"] == first.json()["id"]
    label = first.json()["label"]
    assert label["service"] == "Priority" and label["label_url"].endswith(".png")
    assert first.json()["tracking_number"] == label["tracking_number"]
    assert easypost.count("POST", BUY) == 1
    detail = client.get(f"/api/v1/seller/orders/{addressed.alpha_order.pk}/").json()
    assert detail["shipments"][0]["label"]["cost"] == label["cost"]
    other = api(addressed.beta_user)
    assert other.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="x").status_code == 404
    assert easypost.count("POST", BUY) == 1


# --- returns and tracking ------------------------------------------------------------------------


def returned(placed):
    from fulfilment.services import ReturnLineSpec, return_request_create

    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 2)],
        carrier="sim",
        tracking_number="SIM000555",
        key=key(),
    )
    placed.refresh()
    return return_request_create(
        order=placed.order,
        seller_order_id=placed.alpha_order.pk,
        lines=[ReturnLineSpec(placed.a1_line.pk, 1)],
        reason="Too small",
        key=key(),
        by=placed.customer,
    )


def test_return_label_bought_once_on_approval(easypost, addressed):
    from fulfilment.services import return_approve

    request = returned(addressed)
    approved = return_approve(return_request=request)
    return_approve(return_request=request)  # again: nothing more bought
    approved.refresh_from_db()
    assert approved.status == "approved" and approved.return_label is not None
    label = approved.return_label
    assert "Print the return label" in approved.decision_note
    assert easypost.count("POST", BUY) == 1
    quote = easypost.shipments[label.quote_id]
    assert quote["is_return"] is True
    assert quote["to_address"]["street1"] == "2 Dock Rd"  # back to the warehouse that shipped
    seller_leg = label_entries(addressed.alpha_order).get(account="seller")
    assert seller_leg.amount == -label.cost and "label (return)" in seller_leg.memo
    # the shopper sees it on the order page and in the API
    from tests.fulfilment.test_api_and_storefront import api

    data = api(addressed.customer).get(f"/api/v1/orders/{addressed.order.number}/fulfilment/")
    returns = [r for part in data.json() for r in part["returns"]]
    assert returns[0]["return_label"]["label_url"] == label.label_url
    assert "cost" not in returns[0]["return_label"]


def test_return_label_error_approves_nothing(easypost, addressed):
    from fulfilment.services import return_approve

    request = returned(addressed)
    easypost.fail_next("POST", BUY, status=402, code="PAYMENT_REQUIRED", message="No funds.")
    with pytest.raises(ValidationError, match="No funds"):
        return_approve(return_request=request)
    request.refresh_from_db()
    assert request.status == "requested" and request.return_label is None
    approved = return_approve(return_request=request)  # retried: the same quote is bought
    assert approved.return_label is not None and easypost.count("POST", "/v2/shipments") == 1


def test_return_without_easypost_keeps_instructions(settings, addressed):
    from fulfilment.services import return_approve

    settings.EASYPOST_API_KEY = ""
    request = returned(addressed)
    approved = return_approve(return_request=request, instructions="Send it to Berlin.")
    assert approved.decision_note == "Send it to Berlin." and approved.return_label is None


def test_tracking_polled_from_easypost_stored_once(easypost, addressed, settings):
    from fulfilment.models import ShipmentStatus, TrackingEvent
    from fulfilment.tasks import shipments_track_task

    shipment = ship(addressed, key())
    code = shipment.tracking_number
    easypost.tracker_advance(code, "pre_transit", "Label created", at="2026-01-05T09:00:00Z")
    easypost.tracker_advance(code, "in_transit", "Departed facility", at="2026-01-05T18:00:00Z")
    assert shipments_track_task() == 1
    assert shipments_track_task() == 1  # again: nothing new stored
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.IN_TRANSIT
    events = list(TrackingEvent.objects.filter(shipment=shipment))
    assert [(e.status, e.description) for e in events] == [("in_transit", "Departed facility")]
    assert events[0].location == "Springfield, IL, US"
    tracked = [r for r in easypost.requests if r.path == "/v2/trackers"]
    assert tracked[-1].body == {"tracker": {"tracking_code": code, "carrier": "USPS"}}
    easypost.tracker_advance(code, "delivered", "Delivered", at="2026-01-06T10:00:00Z")
    shipments_track_task()
    shipments_track_task()
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 2
    before = easypost.count("POST", "/v2/trackers")
    shipments_track_task()  # delivered parcels are not asked about again
    assert easypost.count("POST", "/v2/trackers") == before


def test_tracking_error_skips_the_parcel(easypost, addressed, settings):
    from fulfilment.models import TrackingEvent
    from fulfilment.services import shipments_track

    shipment = ship(addressed, key())
    easypost.fail_next(
        "POST", "/v2/trackers", status=503, code="SERVICE_UNAVAILABLE", message="Try later."
    )
    assert shipments_track() == 1
    assert not TrackingEvent.objects.filter(shipment=shipment).exists()
    settings.EASYPOST_API_KEY = ""  # not configured: EasyPost parcels are not polled
    asked = easypost.count("POST", "/v2/trackers")
    shipments_track()
    assert easypost.count("POST", "/v2/trackers") == asked


def test_admin_lists_labels(easypost, addressed, client):
    from tests.factories import UserFactory

    shipment = ship(addressed, key())
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    admin_client = client
    page = admin_client.get("/admin/fulfilment/labelpurchase/")
    assert page.status_code == 200 and shipment.tracking_number in page.content.decode()
    detail = admin_client.get(f"/admin/fulfilment/labelpurchase/{shipment.label.pk}/change/")
    assert detail.status_code == 200


def test_a_csv_cannot_buy_labels(easypost, addressed):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.fulfilment.test_portal import signed_in

    client = signed_in(addressed.alpha_user)
    text = (
        "order_number,sku,quantity,warehouse,carrier,tracking_number\n"
        f"{addressed.order.number},{addressed.a1_line.sku},2,{addressed.w_a1.code},"
        "easypost,EZ1000000001\n"
    )
    response = client.post(
        "/seller/orders/ship-csv/",
        {"file": SimpleUploadedFile("ship.csv", text.encode(), content_type="text/csv")},
    )
    assert response.status_code == 400
    assert "labels are bought on the order page" in response.content.decode()
    assert not Shipment.objects.exists() and not easypost.requests


def test_portal_quotes_rates_then_buys_the_chosen_one(easypost, addressed):
    from tests.fulfilment.test_portal import ship_form, signed_in

    client = signed_in(addressed.alpha_user)
    url = f"/seller/orders/{addressed.alpha_order.pk}/"
    page = client.get(url).content.decode()
    data = ship_form(addressed, page, carrier="sim", tracking_number="", quote="1")
    quoted = client.post(f"{url}ship/", data)
    body = quoted.content.decode()
    assert quoted.status_code == 200 and not Shipment.objects.exists()
    assert re.search(r"USPS GroundAdvantage: \d+\.\d\d USD \(4 days\)", body)
    assert 'value="UPS Ground"' in body and easypost.count("POST", BUY) == 0
    del data["quote"]
    data.update(carrier="easypost", service="UPS Ground")
    assert client.post(f"{url}ship/", data).status_code == 302
    assert Shipment.objects.get().service == "UPS Ground"
    # another seller's order: not found, nothing quoted
    beta = signed_in(addressed.beta_user)
    asked = easypost.count("POST", "/v2/shipments")
    assert beta.post(f"{url}ship/", {**data, "quote": "1"}).status_code == 404
    assert easypost.count("POST", "/v2/shipments") == asked


def test_api_lists_rates_scoped_to_the_seller(easypost, addressed, settings):
    from tests.fulfilment.test_api_and_storefront import api

    url = f"/api/v1/seller/orders/{addressed.alpha_order.pk}/rates/"
    body = {
        "warehouse_id": addressed.w_a1.pk,
        "lines": [{"order_line_id": addressed.a1_line.pk, "quantity": 2}],
    }
    answer = api(addressed.alpha_user).post(url, body, format="json")
    assert answer.status_code == 200, answer.content
    rates = answer.json()
    assert [(r["carrier"], r["service"]) for r in rates] == [
        ("USPS", "GroundAdvantage"),
        ("USPS", "Priority"),
        ("UPS", "Ground"),
    ]
    assert float(rates[0]["amount"]) < float(rates[1]["amount"]) and rates[0]["delivery_days"] == 4
    assert easypost.count("POST", BUY) == 0 and not LabelPurchase.objects.exists()
    assert api(addressed.beta_user).post(url, body, format="json").status_code == 404
    settings.EASYPOST_API_KEY = ""
    refused = api(addressed.alpha_user).post(url, body, format="json")
    assert refused.status_code == 400 and "not configured" in str(refused.json())


def test_a_rate_in_another_currency_is_not_bought(easypost, addressed):
    from ledger.services import seller_order_owed

    owed = seller_order_owed(seller_order_id=addressed.alpha_order.pk)
    easypost.currency = "GBP"
    with pytest.raises(ValidationError, match="EasyPost quoted in GBP, but this order is in"):
        ship(addressed, key())
    assert easypost.count("POST", BUY) == 0 and not Shipment.objects.exists()
    easypost.currency = addressed.order.currency
    shipment = ship(addressed, key())
    # the seller is owed the label's cost less
    assert seller_order_owed(seller_order_id=addressed.alpha_order.pk) == owed - shipment.label.cost
