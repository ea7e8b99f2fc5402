"""The fake EasyPost answers the real `easypost` SDK with EasyPost's shapes, and the carrier
interface reads them (rates, a label bought once, tracking, errors)."""

from __future__ import annotations

from decimal import Decimal

import easypost
import pytest
from easypost.errors import ApiError

from fulfilment.carriers import Address, EasyPostCarrier, Parcel, carrier_choices, label_carrier
from shop.core.errors import ValidationError

TO = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="62701", country="US")
FROM = Address(name="Shop", line1="2 Dock Rd", city="Chicago", postal_code="60601", country="US")


def client(server) -> easypost.EasyPostClient:
    return easypost.EasyPostClient(server.api_key, api_base=server.api_base)


def test_sdk_shapes(easypost_server):
    c = client(easypost_server)
    shipment = c.shipment.create(
        to_address={"street1": "1 Main St", "city": "X", "zip": "1", "country": "US"},
        from_address={"street1": "2 Dock", "city": "Y", "zip": "2", "country": "US"},
        parcel={"weight": 10.0},
    )
    assert shipment.object == "Shipment" and shipment.id.startswith("shp_")
    assert {r.object for r in shipment.rates} == {"Rate"}
    rate = shipment.lowest_rate()
    assert isinstance(rate.rate, str) and rate.currency == "USD" and rate.delivery_days
    bought = c.shipment.buy(shipment.id, rate=rate)
    assert bought.postage_label.object == "PostageLabel"
    assert bought.postage_label.label_url.startswith("https://")
    assert bought.tracking_code and bought.selected_rate.id == rate.id
    assert easypost_server.requests[-1].body == {"rate": {"id": rate.id}}
    with pytest.raises(ApiError) as again:
        c.shipment.buy(shipment.id, rate=rate)
    assert again.value.code == "SHIPMENT.POSTAGE.EXISTS" and again.value.http_status == 422
    easypost_server.tracker_advance(bought.tracking_code, "in_transit", "Departed")
    tracker = c.tracker.create(tracking_code=bought.tracking_code, carrier="USPS")
    assert tracker.object == "Tracker" and tracker.status == "in_transit"
    assert tracker.tracking_details[0].object == "TrackingDetail"
    assert c.tracker.retrieve(tracker.id).id == tracker.id  # one tracker per code


def test_sdk_errors(easypost_server):
    with pytest.raises(ApiError) as bad:
        client(easypost_server).shipment.create(
            to_address={"street1": ""}, from_address={}, parcel={"weight": 1}
        )
    assert bad.value.code == "ADDRESS.VERIFY.FAILURE"
    assert bad.value.errors[0]["field"].startswith("to_address.")
    with pytest.raises(ApiError) as unauthorised:
        easypost.EasyPostClient("nope", api_base=easypost_server.api_base).tracker.create(
            tracking_code="EZ1"
        )
    assert unauthorised.value.http_status == 401


def test_carrier_offered_only_with_key(settings, easypost_server):
    settings.EASYPOST_API_KEY = ""
    assert label_carrier() is None
    assert "easypost" not in dict(carrier_choices())
    settings.EASYPOST_API_KEY = easypost_server.api_key
    settings.EASYPOST_API_BASE = easypost_server.api_base
    assert isinstance(label_carrier(), EasyPostCarrier)
    assert "easypost" not in dict(carrier_choices())  # picked as "buy a label", not typed


def test_rates_and_label_through_the_interface(easypost):
    carrier = label_carrier()
    rates = carrier.rates(parcel=Parcel(weight_grams=500), from_address=FROM, to_address=TO)
    assert [r.service for r in rates] == ["GroundAdvantage", "Priority", "Ground"]
    assert rates[0].amount == Decimal("6.51")  # 4.75 + 0.10 x 17.6 oz
    assert all(r.quote_id == rates[0].quote_id for r in rates)
    label = carrier.label_buy(rate=rates[1])
    assert (label.carrier, label.service, label.cost, label.currency) == (
        "USPS",
        "Priority",
        rates[1].amount,
        "USD",
    )
    assert label.label_url.endswith(".png") and label.tracking_number.startswith("EZ")
    # bought again (a retry): the same label, not a second one
    assert carrier.label_buy(rate=rates[1]) == label


def test_errors_become_validation_errors(easypost):
    carrier = label_carrier()
    with pytest.raises(ValidationError, match="EasyPost refused: Unable to verify to_address"):
        carrier.rates(parcel=Parcel(weight_grams=5), from_address=FROM, to_address=Address())
    easypost.fail_next(
        "POST", "/v2/shipments", status=402, code="PAYMENT_REQUIRED", message="Add funds."
    )
    with pytest.raises(ValidationError, match="Add funds"):
        carrier.rates(parcel=Parcel(weight_grams=5), from_address=FROM, to_address=TO)
