"""Labels bought from EasyPost (through the real SDK, against the local fake) when the seller
ships: rates, one label per request key, its cost posted to the ledger once, errors."""

from __future__ import annotations

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

    def go():
        try:
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
    assert easypost.count("POST", BUY) == 1
    assert LedgerEntry.objects.filter(journal__startswith="label:", account="seller").count() == 1
    assert (
        Decimal(0) > LedgerEntry.objects.get(journal__startswith="label:", account="seller").amount
    )
