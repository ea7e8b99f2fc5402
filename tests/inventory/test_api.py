from __future__ import annotations

import pytest

from accounts.services import api_token_create
from inventory.models import MovementReason, Stock, StockMovement, Warehouse
from inventory.services import ReserveLine, stock_reserve
from sellers.models import MemberRole
from tests.factories import ProductVariantFactory, SellerMemberFactory, UserFactory
from tests.factories.inventory import WarehouseFactory, stock_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return SellerMemberFactory(role=MemberRole.OWNER)


@pytest.fixture
def client_for(api_client):
    def make(user):
        _, token = api_token_create(user=user)
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return api_client

    return make


@pytest.fixture
def client(member, client_for):
    return client_for(member.user)


def test_anonymous_is_refused(api_client):
    response = api_client.get("/api/v1/seller/warehouses/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_warehouse_crud(client, member):
    created = client.post(
        "/api/v1/seller/warehouses/",
        {"code": "ber-1", "name": "Berlin", "country": "DE", "latitude": "52.52", "priority": 1},
        format="json",
    )
    assert created.status_code == 201, created.json()
    wh_id = created.json()["id"]
    assert Warehouse.objects.get(pk=wh_id).seller == member.seller

    duplicate = client.post(
        "/api/v1/seller/warehouses/", {"code": "ber-1", "name": "Again"}, format="json"
    )
    assert duplicate.status_code == 400 and "code" in duplicate.json()["fields"]

    patched = client.patch(
        f"/api/v1/seller/warehouses/{wh_id}/", {"priority": 5, "is_active": False}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["priority"] == 5
    listed = client.get("/api/v1/seller/warehouses/").json()
    assert [w["code"] for w in listed["results"]] == ["ber-1"]
    assert client.delete(f"/api/v1/seller/warehouses/{wh_id}/").status_code == 204


def test_bad_coordinates_are_refused(client):
    response = client.post(
        "/api/v1/seller/warehouses/",
        {"code": "x", "name": "X", "latitude": "123"},
        format="json",
    )
    assert response.status_code == 400 and "latitude" in response.json()["fields"]
    assert not Warehouse.objects.exists()


def test_warehouse_with_stock_history_cannot_be_deleted(client, member):
    wh = WarehouseFactory(seller=member.seller)
    stock_with(
        variant=ProductVariantFactory(product__seller=member.seller), warehouse=wh, on_hand=1
    )
    response = client.delete(f"/api/v1/seller/warehouses/{wh.pk}/")
    assert response.status_code == 409 and "deactivate" in response.json()["message"]


def test_another_sellers_objects_are_not_found(client, member):
    foreign_stock = stock_with(on_hand=3)
    foreign_wh = foreign_stock.warehouse
    own_wh = WarehouseFactory(seller=member.seller)
    own_variant = ProductVariantFactory(product__seller=member.seller)
    before = StockMovement.objects.count()
    for method, url, body in [
        ("get", f"/api/v1/seller/warehouses/{foreign_wh.pk}/", None),
        ("patch", f"/api/v1/seller/warehouses/{foreign_wh.pk}/", {"name": "mine"}),
        ("delete", f"/api/v1/seller/warehouses/{foreign_wh.pk}/", None),
        ("get", f"/api/v1/seller/stock/{foreign_stock.pk}/", None),
        ("post", f"/api/v1/seller/stock/{foreign_stock.pk}/adjust/", {"delta": 1, "reason": "x"}),
        (
            "post",
            "/api/v1/seller/stock/receive/",
            {"warehouse": foreign_wh.pk, "variant": own_variant.pk, "quantity": 1},
        ),
        (
            "post",
            "/api/v1/seller/stock/receive/",
            {"warehouse": own_wh.pk, "variant": foreign_stock.variant_id, "quantity": 1},
        ),
    ]:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 404, (url, response.json())
        assert response.json()["code"] == "not_found"
    assert StockMovement.objects.count() == before
    assert client.get("/api/v1/seller/stock/").json()["count"] == 0
    assert client.get("/api/v1/seller/stock-movements/").json()["count"] == 0


def test_x_seller_id_of_a_seller_you_do_not_belong_to_is_not_found(client):
    other = SellerMemberFactory()
    response = client.get("/api/v1/seller/warehouses/", HTTP_X_SELLER_ID=str(other.seller_id))
    assert response.status_code == 404
    response = client.get("/api/v1/seller/warehouses/", HTTP_X_SELLER_ID="abc")
    assert response.status_code == 404


def test_x_seller_id_picks_among_several_memberships(client, member):
    second = SellerMemberFactory(user=member.user)
    WarehouseFactory(seller=second.seller, code="second")
    response = client.get("/api/v1/seller/warehouses/", HTTP_X_SELLER_ID=str(second.seller_id))
    assert [w["code"] for w in response.json()["results"]] == ["second"]


def test_fulfilment_staff_may_read_but_not_change_stock(client_for):
    staff = SellerMemberFactory(role=MemberRole.FULFILMENT)
    stock = stock_with(
        variant=ProductVariantFactory(product__seller=staff.seller),
        warehouse=WarehouseFactory(seller=staff.seller),
        on_hand=2,
    )
    client = client_for(staff.user)
    assert client.get("/api/v1/seller/stock/").status_code == 200
    response = client.post(
        f"/api/v1/seller/stock/{stock.pk}/adjust/", {"delta": 5, "reason": "x"}, format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    stock.refresh_from_db()
    assert stock.on_hand == 2


def test_fulfilment_staff_may_receive_goods(client_for):
    staff = SellerMemberFactory(role=MemberRole.FULFILMENT)
    variant = ProductVariantFactory(product__seller=staff.seller)
    warehouse = WarehouseFactory(seller=staff.seller)
    response = client_for(staff.user).post(
        "/api/v1/seller/stock/receive/",
        {"warehouse": warehouse.pk, "variant": variant.pk, "quantity": 4},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["actor"] == staff.user.email
    assert Stock.objects.get(variant=variant, warehouse=warehouse).on_hand == 4


def test_receive_adjust_transfer_write_off_and_history(client, member):
    seller = member.seller
    variant = ProductVariantFactory(product__seller=seller, sku="TEE-M")
    a, b = WarehouseFactory(seller=seller, code="a"), WarehouseFactory(seller=seller, code="b")

    received = client.post(
        "/api/v1/seller/stock/receive/",
        {"warehouse": a.pk, "variant": variant.pk, "quantity": 10, "reference": "PO-1"},
        format="json",
    )
    assert received.status_code == 201, received.json()
    assert received.json()["on_hand_after"] == 10
    assert received.json()["actor"] == member.user.email
    stock = Stock.objects.get(variant=variant, warehouse=a)

    adjusted = client.post(
        f"/api/v1/seller/stock/{stock.pk}/adjust/", {"delta": -2, "reason": "count"}, format="json"
    )
    assert adjusted.status_code == 201 and adjusted.json()["delta"] == -2
    moved = client.post(
        f"/api/v1/seller/stock/{stock.pk}/transfer/",
        {"to_warehouse": b.pk, "quantity": 3},
        format="json",
    )
    assert moved.status_code == 201 and [m["delta"] for m in moved.json()] == [-3, 3]
    written = client.post(
        f"/api/v1/seller/stock/{stock.pk}/write-off/",
        {"quantity": 1, "reason": "torn"},
        format="json",
    )
    assert written.status_code == 201

    levels = client.get("/api/v1/seller/stock/", {"sku": "tee"}).json()["results"]
    assert {(s["warehouse_code"], s["on_hand"], s["available"]) for s in levels} == {
        ("a", 4, 4),
        ("b", 3, 3),
    }
    history = client.get("/api/v1/seller/stock-movements/", {"warehouse": a.pk}).json()
    assert [m["reason"] for m in history["results"]] == [
        MovementReason.WRITE_OFF,
        MovementReason.TRANSFER_OUT,
        MovementReason.ADJUSTMENT,
        MovementReason.RECEIVE,
    ]
    only_receipts = client.get("/api/v1/seller/stock-movements/", {"reason": "receive"}).json()
    assert only_receipts["count"] == 1


def test_stock_status_filter_and_live_reservations(client, member):
    seller = member.seller
    seller.low_stock_threshold = 2
    seller.save()
    wh = WarehouseFactory(seller=seller)
    plenty = stock_with(
        variant=ProductVariantFactory(product__seller=seller), warehouse=wh, on_hand=9
    )
    low = stock_with(variant=ProductVariantFactory(product__seller=seller), warehouse=wh, on_hand=3)
    stock_reserve(holder="c", lines=[ReserveLine(low.variant_id, 1)])
    out = stock_with(variant=ProductVariantFactory(product__seller=seller), warehouse=wh, on_hand=0)

    def ids(status):
        response = client.get("/api/v1/seller/stock/", {"status": status})
        return {s["id"] for s in response.json()["results"]}

    assert ids("low") == {low.pk}
    assert ids("out") == {out.pk}
    assert ids("in_stock") == {plenty.pk, low.pk}
    assert client.get("/api/v1/seller/stock/", {"status": "nope"}).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"delta": 0, "reason": "x"},
        {"delta": 5},
        {"delta": "many", "reason": "x"},
        {"delta": -100, "reason": "too many"},
        {"delta": 10**9, "reason": "huge"},
    ],
)
def test_bad_adjustments_change_nothing(client, member, body):
    stock = stock_with(
        variant=ProductVariantFactory(product__seller=member.seller),
        warehouse=WarehouseFactory(seller=member.seller),
        on_hand=5,
    )
    response = client.post(f"/api/v1/seller/stock/{stock.pk}/adjust/", body, format="json")
    assert response.status_code in (400, 409)
    assert set(response.json()) >= {"code", "message"}
    stock.refresh_from_db()
    assert stock.on_hand == 5 and stock.movements.count() == 1


def test_stock_list_query_count_does_not_grow(client, member, django_assert_max_num_queries):
    seller = member.seller
    wh = WarehouseFactory(seller=seller)
    for _ in range(3):
        stock_with(variant=ProductVariantFactory(product__seller=seller), warehouse=wh, on_hand=1)
    with django_assert_max_num_queries(8) as few:
        client.get("/api/v1/seller/stock/")
    for _ in range(10):
        stock_with(variant=ProductVariantFactory(product__seller=seller), warehouse=wh, on_hand=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/seller/stock/").json()["count"] == 13
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/api/v1/seller/stock-movements/")


def test_user_without_seller_gets_not_found(client_for):
    response = client_for(UserFactory()).get("/api/v1/seller/stock/")
    assert response.status_code == 404


def test_stock_list_shows_incoming_and_the_effective_low_stock_limit(client, member):
    from inventory.services import ExpectedLine, inbound_shipment_create, stock_threshold_set

    seller = member.seller
    wh = WarehouseFactory(seller=seller)
    variant = ProductVariantFactory(product__seller=seller, product__name="Blue kettle")
    stock = stock_with(variant=variant, warehouse=wh, on_hand=3)
    inbound_shipment_create(warehouse=wh, lines=[ExpectedLine(variant.pk, 9)])
    row = client.get("/api/v1/seller/stock/", {"q": "kettle"}).json()["results"][0]
    assert (row["incoming"], row["low_stock_threshold"], row["low_stock_limit"]) == (9, None, 5)
    assert client.get("/api/v1/seller/stock/", {"status": "low_or_out"}).json()["count"] == 1
    stock_threshold_set(stock=stock, threshold=2)
    assert client.get("/api/v1/seller/stock/", {"status": "low_or_out"}).json()["count"] == 0
    assert client.get("/api/v1/seller/stock/", {"q": "teapot"}).json()["count"] == 0


def test_openapi_schema_has_no_inventory_warnings(tmp_path, capsys):
    from django.core.management import call_command
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    call_command("spectacular", "--validate", "--file", str(tmp_path / "schema.yaml"))
    stderr = capsys.readouterr().err
    assert [line for line in stderr.splitlines() if "/inventory/" in line] == []
