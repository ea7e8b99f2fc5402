"""The seller portal's orders pages: scoped to the seller, shipping and returns through the
services, a double-submitted form ships once, the list's queries do not grow with its rows."""

from __future__ import annotations

import pytest
from django.test import Client

from fulfilment.models import ReturnStatus, Shipment
from fulfilment.services import ReturnLineSpec, ShipLine, return_request_create, shipment_create
from inventory.models import Stock
from orders.models import OrderStatus
from tests.factories import SellerMemberFactory
from tests.fulfilment.conftest import Placed, key

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ship_form(placed: Placed, page: str, **values) -> dict:
    import re

    form_key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)
    return {
        "warehouse": placed.w_a1.pk,
        "carrier": "sim",
        "tracking_number": "SIM000777",
        "key": form_key,
        f"qty_{placed.a1_line.pk}": 2,
        **values,
    }


def test_a_seller_ships_from_the_portal_and_a_double_submit_ships_once(placed, market):
    client = signed_in(placed.alpha_user)
    page = client.get(f"/seller/orders/{placed.alpha_order.pk}/")
    assert page.status_code == 200
    assert placed.order.number in page.content.decode()
    data = ship_form(placed, page.content.decode())
    url = f"/seller/orders/{placed.alpha_order.pk}/ship/"
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the same form again
    assert Shipment.objects.count() == 1
    assert Stock.objects.get(pk=placed.stock[market.a1.pk].pk).on_hand == 8
    placed.refresh()
    assert placed.alpha_order.status == OrderStatus.PARTIALLY_SHIPPED
    page = client.get(f"/seller/orders/{placed.alpha_order.pk}/").content.decode()
    assert "SIM000777" in page


def test_bad_ship_input_is_a_form_error_and_ships_nothing(placed):
    client = signed_in(placed.alpha_user)
    page = client.get(f"/seller/orders/{placed.alpha_order.pk}/").content.decode()
    url = f"/seller/orders/{placed.alpha_order.pk}/ship/"
    response = client.post(url, ship_form(placed, page, carrier="ups", tracking_number="nope"))
    assert response.status_code == 400
    assert "UPS tracking number" in response.content.decode()
    response = client.post(url, ship_form(placed, page, **{f"qty_{placed.a1_line.pk}": 3}))
    assert response.status_code == 400
    assert not Shipment.objects.exists()


def test_a_seller_cannot_see_or_ship_another_sellers_order(placed):
    client = signed_in(placed.beta_user)
    assert client.get(f"/seller/orders/{placed.alpha_order.pk}/").status_code == 404
    assert client.get(f"/seller/orders/{placed.alpha_order.pk}/pick-list/").status_code == 404
    response = client.post(
        f"/seller/orders/{placed.alpha_order.pk}/ship/",
        {"warehouse": placed.w_a1.pk, "carrier": "sim", "tracking_number": "SIM000001"},
    )
    assert response.status_code == 404
    assert client.post(f"/seller/orders/{placed.alpha_order.pk}/pack/").status_code == 404
    listing = client.get("/seller/orders/").content.decode()
    assert f"/seller/orders/{placed.beta_order.pk}/" in listing
    assert f"/seller/orders/{placed.alpha_order.pk}/" not in listing
    assert not Shipment.objects.exists()


def test_the_list_filters_and_searches(placed, market):
    client = signed_in(placed.alpha_user)
    number = placed.order.number
    assert number in client.get("/seller/orders/?view=new").content.decode()
    assert number not in client.get("/seller/orders/?view=shipped").content.decode()
    assert number in client.get(f"/seller/orders/?q={number.lower()}").content.decode()
    assert number not in client.get("/seller/orders/?q=nobody-at-all").content.decode()
    held = Placed(market, approve=False)
    on_hold = client.get("/seller/orders/?view=on_hold").content.decode()
    assert held.order.number in on_hold and number not in on_hold


def test_the_list_makes_a_fixed_number_of_queries(placed, market, django_assert_max_num_queries):
    client = signed_in(placed.alpha_user)
    client.get("/seller/orders/")
    for _ in range(4):
        Placed(market)
    with django_assert_max_num_queries(12):
        response = client.get("/seller/orders/")
    assert response.content.decode().count("/seller/orders/") >= 5


def test_a_fulfilment_member_packs_and_a_seller_handles_a_return(placed):
    packer = SellerMemberFactory(seller=placed.market.alpha, role="fulfilment").user
    client = signed_in(packer)
    assert client.post(f"/seller/orders/{placed.alpha_order.pk}/pack/").status_code == 302
    placed.refresh()
    assert placed.alpha_order.status == OrderStatus.PROCESSING
    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 2)],
        carrier="sim",
        tracking_number="SIM000001",
        key=key(),
    )
    request = return_request_create(
        order=placed.order,
        seller_order_id=placed.alpha_order.pk,
        lines=[ReturnLineSpec(placed.a1_line.pk, 1)],
        reason="Wrong colour",
        key=key(),
    )
    # another seller cannot act on it
    other = signed_in(placed.beta_user)
    assert other.post(f"/seller/returns/{request.pk}/approve/").status_code == 404
    assert client.post(f"/seller/returns/{request.pk}/reject/", {"reason": ""}).status_code == 302
    request.refresh_from_db()
    assert request.status == ReturnStatus.REQUESTED  # a rejection needs a reason
    client.post(f"/seller/returns/{request.pk}/approve/", {"instructions": "Box it"})
    client.post(f"/seller/returns/{request.pk}/receive/", {f"restock_{placed.a1_line.pk}": "1"})
    request.refresh_from_db()
    assert request.status == ReturnStatus.RECEIVED
    page = client.get(f"/seller/orders/{placed.alpha_order.pk}/").content.decode()
    assert "Received and refunded" in page and "restocked" in page
    printable = client.get(f"/seller/orders/{placed.alpha_order.pk}/pick-list/")
    assert printable.status_code == 200


def test_a_seller_cancels_a_line_from_the_portal_and_not_another_sellers(placed, market):
    client = signed_in(placed.alpha_user)
    url = f"/seller/orders/{placed.alpha_order.pk}/lines/{placed.a2_line.pk}/cancel/"
    assert client.post(url, {"quantity": "x"}).status_code == 302
    assert Stock.objects.get(pk=placed.stock[market.a2.pk].pk).allocated == 1
    assert client.post(url, {"quantity": "1"}).status_code == 302
    assert Stock.objects.get(pk=placed.stock[market.a2.pk].pk).allocated == 0
    other = signed_in(placed.beta_user)
    foreign = f"/seller/orders/{placed.alpha_order.pk}/lines/{placed.a1_line.pk}/cancel/"
    assert other.post(foreign, {"quantity": "1"}).status_code == 404
    assert Stock.objects.get(pk=placed.stock[market.a1.pk].pk).allocated == 2


def test_a_seller_reroutes_a_line_in_the_portal_and_not_to_another_sellers_warehouse(
    placed, market
):
    from tests.factories.inventory import stock_with

    other = stock_with(variant=market.a1, warehouse=placed.w_a2, on_hand=5)
    client = signed_in(placed.alpha_user)
    page = client.get(f"/seller/orders/{placed.alpha_order.pk}/").content.decode()
    assert "Re-route" in page
    url = f"/seller/orders/{placed.alpha_order.pk}/lines/{placed.a1_line.pk}/reroute/"
    data = {"from_warehouse": placed.w_a1.pk, "to_warehouse": placed.w_b1.pk, "quantity": "2"}
    client.post(url, data)
    other.refresh_from_db()
    assert other.allocated == 0
    client.post(url, {**data, "to_warehouse": placed.w_a2.pk})
    other.refresh_from_db()
    assert other.allocated == 2
    assert Stock.objects.get(pk=placed.stock[market.a1.pk].pk).allocated == 0


def test_the_dashboard_lists_returns_waiting_for_the_seller(placed):
    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 2)],
        carrier="sim",
        tracking_number="SIM000001",
        key=key(),
    )
    return_request_create(
        order=placed.order,
        seller_order_id=placed.alpha_order.pk,
        lines=[ReturnLineSpec(placed.a1_line.pk, 1)],
        reason="Wrong colour",
        key=key(),
    )
    body = signed_in(placed.alpha_user).get("/seller/").content.decode()
    assert '<span data-figure="returns">1</span> waiting' in body
    assert f"/seller/orders/{placed.alpha_order.pk}/" in body
    other = signed_in(placed.beta_user).get("/seller/").content.decode()
    assert '<span data-figure="returns">0</span> waiting' in other


def test_bulk_ship_from_a_csv_ships_once_and_a_bad_row_ships_nothing(placed, market):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = signed_in(placed.alpha_user)
    number = placed.order.number
    a1, a2 = placed.a1_line.sku, placed.a2_line.sku
    good = (
        "order_number,sku,quantity,warehouse,carrier,tracking_number\n"
        f"{number},{a1},2,{placed.w_a1.code},sim,SIM100001\n"
        f"{number},{a2},1,{placed.w_a2.code},sim,SIM100002\n"
    )
    bad = good + f"{number},{placed.b1_line.sku},1,{placed.w_b1.code},ups,12\n"

    def upload(text: str):
        return client.post(
            "/seller/orders/ship-csv/",
            {"file": SimpleUploadedFile("ship.csv", text.encode(), content_type="text/csv")},
        )

    response = upload(bad)
    assert response.status_code == 400
    body = response.content.decode()
    assert "row 4" in body and "Nothing was shipped" in body
    assert not Shipment.objects.exists()
    assert "2 parcels shipped" in upload(good).content.decode()
    again = upload(good).content.decode()  # each parcel is found by its tracking number
    assert "0 parcels shipped. 2 already shipped" in again
    assert Shipment.objects.count() == 2
    placed.refresh()
    assert placed.alpha_order.status == OrderStatus.SHIPPED
    assert Stock.objects.get(pk=placed.stock[market.a1.pk].pk).on_hand == 8
    # beta sells in the same order but neither alpha's lines nor its warehouses are beta's
    other = signed_in(placed.beta_user)
    body = other.post(
        "/seller/orders/ship-csv/",
        {"file": SimpleUploadedFile("s.csv", good.encode(), content_type="text/csv")},
    ).content.decode()
    assert "no such warehouse code" in body and "is not in order" in body
    assert Shipment.objects.count() == 2
