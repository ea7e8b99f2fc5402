"""Seller purchasing API: the same services as the portal, scoped to the seller (another
seller's ids are 404), bad input a 400 with the error shape and nothing changed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Stock
from purchasing.models import PricingRule, PurchaseOrder, PurchaseOrderStatus
from purchasing.services import supplier_save
from sellers.models import MemberRole
from tests.factories import SellerMemberFactory


@pytest.fixture
def api(shop, api_client):
    member = SellerMemberFactory(seller=shop.seller, role=MemberRole.OWNER)
    api_client.force_authenticate(member.user)
    return api_client


def test_purchase_order_end_to_end_over_the_api(api, shop):
    response = api.post(
        reverse("seller-purchase-orders"),
        {
            "supplier": shop.supplier.pk,
            "warehouse": shop.warehouse.pk,
            "lines": [{"variant": shop.variant.pk, "quantity": 50}],
        },
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid"  # case of 12
    assert not PurchaseOrder.objects.exists()
    response = api.post(
        reverse("seller-purchase-orders"),
        {
            "supplier": shop.supplier.pk,
            "warehouse": shop.warehouse.pk,
            "lines": [{"variant": shop.variant.pk, "quantity": 60}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    order_id = response.json()["id"]
    assert api.post(reverse("seller-purchase-order-send", args=[order_id])).status_code == 200
    order = api.get(reverse("seller-purchase-order-detail", args=[order_id])).json()
    assert order["status"] == "sent" and order["inbound_shipment"]
    line_id = order["lines"][0]["id"]
    response = api.post(
        reverse("seller-purchase-order-receive", args=[order_id]),
        {"lines": [{"line": line_id, "quantity": 60}]},
        format="json",
    )
    assert response.json()["status"] == PurchaseOrderStatus.RECEIVED
    assert Stock.objects.get(pk=shop.stock.pk).on_hand == 1060


def test_another_sellers_objects_are_404_over_the_api(api, shop):
    other = SellerMemberFactory(role=MemberRole.OWNER).seller
    theirs = supplier_save(seller=other, name="Theirs")
    assert api.get(reverse("seller-supplier-detail", args=[theirs.pk])).status_code == 404
    assert api.get(reverse("seller-supplier-items", args=[theirs.pk])).status_code == 404
    response = api.post(
        reverse("seller-purchase-orders"),
        {
            "supplier": theirs.pk,
            "warehouse": shop.warehouse.pk,
            "lines": [{"variant": shop.variant.pk, "quantity": 60}],
        },
        format="json",
    )
    assert response.status_code == 404
    names = [s["name"] for s in api.get(reverse("seller-suppliers")).json()["results"]]
    assert names == ["Acme Supply"]


def test_forecast_run_and_pricing_over_the_api(api, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(reverse("seller-forecast-runs"))
    assert response.status_code == 202
    run_id = response.json()["id"]
    from purchasing.services import forecast_run_execute

    forecast_run_execute(run_id=run_id)
    run = api.get(reverse("seller-forecast-run-detail", args=[run_id])).json()
    assert (run["status"], run["percent"]) == ("done", 100)
    forecasts = api.get(reverse("seller-forecasts")).json()["results"]
    assert [f["sku"] for f in forecasts] == [shop.variant.sku]

    bad = api.post(
        reverse("seller-pricing-rules"),
        {
            "variant": shop.variant.pk,
            "strategy": "markdown_ageing",
            "floor_price": "7.00",  # under the cost of 8.00
            "ceiling_price": "30.00",
        },
        format="json",
    )
    assert bad.status_code == 400 and "floor_price" in bad.json()["fields"]
    assert not PricingRule.objects.exists()
    created = api.post(
        reverse("seller-pricing-rules"),
        {
            "variant": shop.variant.pk,
            "strategy": "markdown_ageing",
            "floor_price": "19.00",
            "ceiling_price": "30.00",
            "step_percent": "10",
        },
        format="json",
    )
    assert created.status_code == 201
    [proposal] = api.get(reverse("seller-pricing-preview")).json()
    assert (proposal["current"], proposal["proposed"]) == ("20.00", "19.00")
    [change] = api.post(reverse("seller-pricing-apply")).json()
    assert change["new_price"] == "19.00"
    assert api.get(reverse("seller-price-history")).json()["results"][0]["old_price"] == "20.00"
    shop.variant.refresh_from_db()
    assert shop.variant.price == Decimal("19.00")


def test_staff_see_purchasing_in_the_admin_and_cancel_through_the_service(shop, admin_client):
    from purchasing.services import OrderLineInput, purchase_order_create

    order = purchase_order_create(
        seller=shop.seller,
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[OrderLineInput(shop.variant.pk, 60)],
    )
    for name in ("supplier", "purchaseorder", "forecastrun", "demandforecast", "pricingrule"):
        assert admin_client.get(reverse(f"admin:purchasing_{name}_changelist")).status_code == 200
    assert (
        admin_client.get(reverse("admin:purchasing_purchaseorder_change", args=[order.pk]))
    ).status_code == 200
    admin_client.post(
        reverse("admin:purchasing_purchaseorder_changelist"),
        {"action": "cancel_orders", "_selected_action": [order.pk]},
    )
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.CANCELLED


def test_supplier_update_keeps_unsent_fields_and_refuses_a_non_object(api, shop):
    url = reverse("seller-supplier-detail", args=[shop.supplier.pk])
    response = api.patch(url, {"lead_time_days": 12}, format="json")
    assert response.status_code == 200
    assert (response.json()["lead_time_days"], response.json()["name"]) == (12, "Acme Supply")
    assert api.patch(url, [1, 2], format="json").status_code == 400
    shop.supplier.refresh_from_db()
    assert shop.supplier.lead_time_days == 12
