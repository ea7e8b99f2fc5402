"""Portal inventory: the stock table (counters, incoming, search, filters, low-stock marks, a fixed
query count), receive / adjust / write-off / transfer / thresholds through the inventory services
(ledger rows), warehouses, movement history, inbound shipments, role refusals, scoping (404) and
CSRF. Bad input changes nothing and says why beside the field."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inventory.models import (
    InboundShipment,
    InboundStatus,
    MovementReason,
    Stock,
    StockMovement,
    Warehouse,
)
from inventory.services import (
    ExpectedLine,
    ReserveLine,
    inbound_shipment_create,
    stock_reserve,
)
from sellers.models import MemberRole
from tests.factories import ProductVariantFactory, SellerMemberFactory
from tests.factories.inventory import WarehouseFactory, stock_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(owner):
    """The owner's shop: two warehouses and a variant with 10 units in the first."""
    seller = owner.seller
    main = WarehouseFactory(seller=seller, code="main", name="Main", priority=1)
    spare = WarehouseFactory(seller=seller, code="spare", name="Spare", priority=2)
    variant = ProductVariantFactory(
        product__seller=seller, product__name="Linen shirt", sku="SHIRT-M"
    )
    stock = stock_with(variant=variant, warehouse=main, on_hand=10)
    return {"main": main, "spare": spare, "variant": variant, "stock": stock}


@pytest.fixture
def foreign(other_owner):
    """Another shop's warehouse, variant, stock row and open inbound shipment."""
    seller = other_owner.seller
    warehouse = WarehouseFactory(seller=seller, code="theirs")
    variant = ProductVariantFactory(product__seller=seller, sku="THEIRS-1")
    stock = stock_with(variant=variant, warehouse=warehouse, on_hand=4)
    shipment = inbound_shipment_create(
        warehouse=warehouse, lines=[ExpectedLine(variant.pk, 3)], reference="their-po"
    )
    return {"warehouse": warehouse, "variant": variant, "stock": stock, "shipment": shipment}


def _counters(stock: Stock) -> tuple[int, int, int]:
    stock.refresh_from_db()
    return stock.on_hand, stock.allocated, stock.reserved


# --- stock table ------------------------------------------------------------------------------


def test_stock_table_shows_counters_and_incoming_of_own_rows_only(
    owner, shop, foreign, portal_client
):
    stock_reserve(holder="checkout:1", lines=[ReserveLine(shop["variant"].pk, 3)])
    inbound_shipment_create(warehouse=shop["main"], lines=[ExpectedLine(shop["variant"].pk, 7)])
    inbound_shipment_create(warehouse=shop["main"], lines=[ExpectedLine(shop["variant"].pk, 5)])
    body = portal_client(owner).get(reverse("portal:stock")).content.decode()
    assert "SHIRT-M" in body and "Linen shirt" in body
    assert "THEIRS-1" not in body
    row = body[body.index("SHIRT-M") : body.index("</tr>", body.index("SHIRT-M"))]
    cells = [
        row.split(f'data-label="{label}">')[1].split("<")[0]
        for label in ("Available", "Reserved", "Allocated", "On hand", "Incoming")
    ]
    assert cells == ["7", "3", "0", "10", "12"]


def test_stock_table_search_warehouse_filter_and_low_stock_only(owner, shop, portal_client):
    seller = owner.seller
    seller.low_stock_threshold = 5
    seller.save()
    low = stock_with(
        variant=ProductVariantFactory(product__seller=seller, product__name="Wool hat", sku="HAT"),
        warehouse=shop["spare"],
        on_hand=2,
    )
    client = portal_client(owner)
    url = reverse("portal:stock")

    by_name = client.get(url, {"q": "wool"}).content.decode()
    assert "HAT" in by_name and "SHIRT-M" not in by_name
    by_sku = client.get(url, {"q": "shirt-"}).content.decode()
    assert "SHIRT-M" in by_sku and ">HAT<" not in by_sku
    spare_only = client.get(url, {"warehouse": shop["spare"].pk}).content.decode()
    assert ">HAT<" in spare_only and "SHIRT-M" not in spare_only

    low_only = client.get(url, {"low": "on"}).content.decode()
    assert ">HAT<" in low_only and "SHIRT-M" not in low_only
    assert 'class="low-stock"' in low_only

    # A per-row threshold overrides the shop's default.
    client.post(reverse("portal:stock_threshold", args=[low.pk]), {"low_stock_threshold": "1"})
    assert ">HAT<" not in client.get(url, {"low": "on"}).content.decode()
    client.post(
        reverse("portal:stock_threshold", args=[shop["stock"].pk]), {"low_stock_threshold": "10"}
    )
    assert "SHIRT-M" in client.get(url, {"low": "on"}).content.decode()
    client.post(reverse("portal:stock_threshold", args=[low.pk]), {"low_stock_threshold": ""})
    low.refresh_from_db()
    assert low.low_stock_threshold is None


def test_stock_table_refuses_a_foreign_warehouse_filter(owner, shop, foreign, portal_client):
    response = portal_client(owner).get(
        reverse("portal:stock"), {"warehouse": foreign["warehouse"].pk}
    )
    assert response.status_code == 400
    assert b"Choose one of your warehouses." in response.content
    assert b"THEIRS-1" not in response.content


def test_stock_table_query_count_does_not_grow_with_rows(
    owner, shop, portal_client, django_assert_max_num_queries, django_assert_num_queries
):
    client = portal_client(owner)
    url = reverse("portal:stock")
    client.get(url)  # warm the session

    def rows(n):
        for _ in range(n):
            variant = ProductVariantFactory(product__seller=owner.seller)
            stock_with(variant=variant, warehouse=shop["spare"], on_hand=1)
            inbound_shipment_create(warehouse=shop["main"], lines=[ExpectedLine(variant.pk, 2)])

    rows(2)
    # (session unless it is in Redis), user, membership, memberships (switcher), warehouses
    # (filter), count, page
    with django_assert_max_num_queries(7) as few:
        assert client.get(url).status_code == 200
    rows(30)
    with django_assert_num_queries(len(few.captured_queries)):
        body = client.get(url, {"low": "on"}).content.decode()
    # 32 rows of 1 unit in "spare" and 32 empty rows awaiting their inbound units in "main"
    assert body.count('class="low-stock"') == 50 and "Page 1 of 2" in body


# --- receive, adjust, write-off, transfer -----------------------------------------------------


def test_receive_books_units_and_writes_a_ledger_row(owner, shop, portal_client):
    client = portal_client(owner)
    response = client.post(
        reverse("portal:stock_receive"),
        {
            "warehouse": shop["spare"].pk,
            "sku": "SHIRT-M",
            "quantity": "6",
            "reason": "Supplier delivery",
            "reference": "DN-42",
        },
    )
    stock = Stock.objects.get(warehouse=shop["spare"], variant=shop["variant"])
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:stock_detail", args=[stock.pk])
    assert stock.on_hand == 6
    movement = stock.movements.get()
    assert (movement.reason, movement.delta, movement.actor, movement.reference) == (
        MovementReason.RECEIVE,
        6,
        owner.user,
        "DN-42",
    )


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "greater than or equal to 1"),
        ("-4", "greater than or equal to 1"),
        ("100001", "less than or equal to 100000"),
        ("99999999999999999999999", "less than or equal to 100000"),
        ("two", "Enter a whole number."),
    ],
)
def test_receive_refuses_bad_quantities_beside_the_field(
    owner, shop, portal_client, quantity, message
):
    before = StockMovement.objects.count()
    response = portal_client(owner).post(
        reverse("portal:stock_receive"),
        {"warehouse": shop["main"].pk, "sku": "SHIRT-M", "quantity": quantity},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_quantity-errors"' in body and message in body
    assert StockMovement.objects.count() == before
    assert _counters(shop["stock"]) == (10, 0, 0)


def test_receive_refuses_a_foreign_warehouse_and_a_foreign_sku(owner, shop, foreign, portal_client):
    client = portal_client(owner)
    before = StockMovement.objects.count()
    response = client.post(
        reverse("portal:stock_receive"),
        {"warehouse": foreign["warehouse"].pk, "sku": "SHIRT-M", "quantity": "1"},
    )
    assert response.status_code == 400 and b"Choose one of your warehouses." in response.content
    response = client.post(
        reverse("portal:stock_receive"),
        {"warehouse": shop["main"].pk, "sku": "THEIRS-1", "quantity": "1"},
    )
    assert response.status_code == 400
    assert b"No product variant with this SKU in your shop." in response.content
    assert StockMovement.objects.count() == before
    assert _counters(foreign["stock"]) == (4, 0, 0)


def test_adjust_write_off_and_transfer_write_ledger_rows(owner, shop, portal_client):
    client = portal_client(owner)
    stock = shop["stock"]
    adjust = client.post(
        reverse("portal:stock_adjust", args=[stock.pk]), {"delta": "-2", "reason": "Count"}
    )
    assert adjust.status_code == 302
    write_off = client.post(
        reverse("portal:stock_write_off", args=[stock.pk]), {"quantity": "1", "reason": "Torn"}
    )
    assert write_off.status_code == 302
    transfer = client.post(
        reverse("portal:stock_transfer", args=[stock.pk]),
        {"to_warehouse": shop["spare"].pk, "quantity": "3", "reason": "Rebalance"},
    )
    assert transfer.status_code == 302
    assert _counters(stock) == (4, 0, 0)
    target = Stock.objects.get(warehouse=shop["spare"], variant=shop["variant"])
    assert target.on_hand == 3
    rows = list(
        StockMovement.objects.filter(stock__variant=shop["variant"])
        .order_by("id")
        .values_list("stock__warehouse__code", "reason", "delta", "note", "actor")
    )
    assert rows[1:] == [
        ("main", MovementReason.ADJUSTMENT, -2, "Count", owner.user.pk),
        ("main", MovementReason.WRITE_OFF, -1, "Torn", owner.user.pk),
        ("main", MovementReason.TRANSFER_OUT, -3, "Rebalance", owner.user.pk),
        ("spare", MovementReason.TRANSFER_IN, 3, "Rebalance", owner.user.pk),
    ]
    page = client.get(reverse("portal:stock_detail", args=[stock.pk])).content.decode()
    assert "Transfer out" in page and "Write-off" in page and "Torn" in page


@pytest.mark.parametrize(
    ("action", "data", "field", "message"),
    [
        ("stock_adjust", {"delta": "0", "reason": "Count"}, "delta", "other than 0"),
        ("stock_adjust", {"delta": "5"}, "reason", "This field is required."),
        ("stock_adjust", {"delta": "-100001", "reason": "x"}, "delta", "greater than or equal"),
        ("stock_adjust", {"delta": "-11", "reason": "x"}, "delta", "Only 10 on hand"),
        ("stock_write_off", {"quantity": "0", "reason": "x"}, "quantity", "greater than or"),
        ("stock_write_off", {"quantity": "1"}, "reason", "This field is required."),
        ("stock_write_off", {"quantity": "8", "reason": "x"}, "quantity", "Only 7 of 10"),
        ("stock_transfer", {"quantity": "-1"}, "quantity", "greater than or equal to 1"),
        ("stock_transfer", {"quantity": "11"}, "quantity", "Only 10 on hand"),
    ],
)
def test_bad_stock_actions_change_nothing_and_say_why_beside_the_field(
    owner, shop, portal_client, action, data, field, message
):
    stock = shop["stock"]
    if data.get("quantity") == "8":
        stock_reserve(holder="checkout:x", lines=[ReserveLine(shop["variant"].pk, 3)])
    if action == "stock_transfer":
        data = {"to_warehouse": shop["spare"].pk, **data}
    before = StockMovement.objects.count()
    on_hand_before = _counters(stock)
    response = portal_client(owner).post(reverse(f"portal:{action}", args=[stock.pk]), data)
    assert response.status_code == 400
    body = response.content.decode()
    errors = body.split(f'id="id_{field}-errors">')[1].split("</div>")[0]
    assert message in errors
    assert StockMovement.objects.count() == before
    assert _counters(stock) == on_hand_before
    assert not Stock.objects.filter(warehouse=shop["spare"]).exists()


def test_transfer_to_the_same_or_a_foreign_warehouse_is_refused(
    owner, shop, foreign, portal_client
):
    client = portal_client(owner)
    url = reverse("portal:stock_transfer", args=[shop["stock"].pk])
    same = client.post(url, {"to_warehouse": shop["main"].pk, "quantity": "1"})
    assert same.status_code == 400
    assert b"Choose a warehouse other than the one the stock is in." in same.content
    theirs = client.post(url, {"to_warehouse": foreign["warehouse"].pk, "quantity": "1"})
    assert theirs.status_code == 400 and b"Choose one of your warehouses." in theirs.content
    assert _counters(shop["stock"]) == (10, 0, 0)
    assert _counters(foreign["stock"]) == (4, 0, 0)
    assert not Stock.objects.filter(warehouse=foreign["warehouse"], variant=shop["variant"])


def test_threshold_refuses_negative_and_huge_values(owner, shop, portal_client):
    client = portal_client(owner)
    url = reverse("portal:stock_threshold", args=[shop["stock"].pk])
    for value in ("-1", "100001", "lots"):
        assert client.post(url, {"low_stock_threshold": value}).status_code == 400
    assert Stock.objects.get(pk=shop["stock"].pk).low_stock_threshold is None


# --- warehouses -------------------------------------------------------------------------------


def test_warehouse_create_edit_and_field_errors(owner, shop, portal_client):
    client = portal_client(owner)
    base = {"code": "north", "name": "North", "country": "se", "priority": "3", "is_active": "on"}
    created = client.post(
        reverse("portal:warehouse_new"), {**base, "latitude": "59.33", "longitude": "18.06"}
    )
    assert created.status_code == 302
    north = Warehouse.objects.get(seller=owner.seller, code="north")
    assert (north.country, north.priority, str(north.latitude)) == ("SE", 3, "59.330000")

    duplicate = client.post(reverse("portal:warehouse_new"), {**base, "name": "Again"})
    assert duplicate.status_code == 400
    assert b"This code is already used by another of your warehouses." in duplicate.content
    bad = client.post(
        reverse("portal:warehouse_new"), {**base, "code": "x", "latitude": "91", "longitude": "0"}
    )
    assert bad.status_code == 400 and b"less than or equal to 90" in bad.content
    half = client.post(reverse("portal:warehouse_new"), {**base, "code": "y", "latitude": "1"})
    assert half.status_code == 400 and b"Enter both latitude and longitude" in half.content
    assert Warehouse.objects.filter(seller=owner.seller).count() == 3

    edit_url = reverse("portal:warehouse_edit", args=[north.pk])
    assert b'value="north"' in client.get(edit_url).content
    edited = client.post(edit_url, {**base, "name": "North hub", "priority": "9"})
    assert edited.status_code == 302
    north.refresh_from_db()
    assert (north.name, north.priority, north.is_active) == ("North hub", 9, True)
    # coordinates left empty come from the warehouse's place: no city given, Sweden's capital
    assert (round(north.latitude), round(north.longitude)) == (59, 18)
    client.post(edit_url, {**base, "code": "main"})
    north.refresh_from_db()
    assert north.code == "north"
    listing = client.get(reverse("portal:warehouses")).content.decode()
    assert "North hub" in listing and "Spare" in listing


# --- movement history -------------------------------------------------------------------------


def test_movement_history_filters_and_paginates(owner, shop, foreign, portal_client):
    client = portal_client(owner)
    stock = shop["stock"]
    client.post(reverse("portal:stock_adjust", args=[stock.pk]), {"delta": "1", "reason": "A"})
    client.post(
        reverse("portal:stock_transfer", args=[stock.pk]),
        {"to_warehouse": shop["spare"].pk, "quantity": "2"},
    )
    old = StockMovement.objects.filter(stock=stock, reason=MovementReason.RECEIVE)
    old.update(created_at=timezone.now() - datetime.timedelta(days=40))
    url = reverse("portal:movements")

    everything = client.get(url).content.decode()
    assert everything.count("<tr>") == 1 + 4  # header + receive, adjust, out, in
    assert "THEIRS-1" not in everything
    by_reason = client.get(url, {"reason": "transfer_in"}).content.decode()
    assert by_reason.count("<tr>") == 2 and "Transfer in" in by_reason
    by_warehouse = client.get(url, {"warehouse": shop["spare"].pk}).content.decode()
    assert by_warehouse.count("<tr>") == 2
    assert client.get(url, {"sku": "nope"}).content.decode().count("<tr>") == 0
    today = timezone.localdate()
    recent = client.get(url, {"date_from": today - datetime.timedelta(days=1), "date_to": today})
    assert recent.content.decode().count("<tr>") == 1 + 3
    past = client.get(url, {"date_to": today - datetime.timedelta(days=30)}).content.decode()
    assert past.count("<tr>") == 2 and "Received" in past

    backwards = client.get(url, {"date_from": today, "date_to": today - datetime.timedelta(1)})
    assert backwards.status_code == 400 and b"The end date is before the start date." in (
        backwards.content
    )
    foreign_filter = client.get(url, {"warehouse": foreign["warehouse"].pk})
    assert foreign_filter.status_code == 400


def test_movement_history_query_count_does_not_grow(
    owner, shop, portal_client, django_assert_max_num_queries, django_assert_num_queries
):
    client = portal_client(owner)
    url = reverse("portal:movements")
    client.get(url)
    with django_assert_max_num_queries(7) as few:
        client.get(url)
    for _ in range(30):
        stock_with(
            variant=ProductVariantFactory(product__seller=owner.seller),
            warehouse=shop["main"],
            on_hand=1,
        )
    with django_assert_num_queries(len(few.captured_queries)):
        body = client.get(url).content.decode()
    assert body.count("<tr>") == 1 + 31
    assert b"Page 1 of 1" not in client.get(url, {"page": "2"}).content


# --- inbound shipments ------------------------------------------------------------------------


def _inbound_payload(warehouse, lines, **extra):
    data = {
        "warehouse": warehouse.pk,
        "reference": "PO-7",
        "expected_on": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        **extra,
    }
    for i, (sku, quantity) in enumerate(lines):
        data[f"lines-{i}-sku"] = sku
        data[f"lines-{i}-quantity"] = quantity
    return data


def test_inbound_shipment_is_incoming_until_received_partly_then_closed(owner, shop, portal_client):
    seller = owner.seller
    hat = ProductVariantFactory(product__seller=seller, sku="HAT")
    client = portal_client(owner)
    response = client.post(
        reverse("portal:inbound_new"),
        _inbound_payload(shop["spare"], [("SHIRT-M", "6"), ("HAT", "4"), ("", "")]),
    )
    assert response.status_code == 302
    shipment = InboundShipment.objects.get(warehouse__seller=seller)
    assert shipment.status == InboundStatus.OPEN and shipment.created_by == owner.user

    table = client.get(reverse("portal:stock"), {"warehouse": shop["spare"].pk}).content.decode()
    assert "SHIRT-M" in table and "HAT" in table  # rows exist before anything arrives
    assert table.count('data-label="Incoming">6<') == 1
    assert table.count('data-label="Incoming">4<') == 1

    lines = {line.variant.sku: line for line in shipment.lines.select_related("variant")}
    receive_url = reverse("portal:inbound_receive", args=[shipment.pk])
    received = client.post(
        receive_url, {f"line_{lines['SHIRT-M'].pk}": "5", f"line_{lines['HAT'].pk}": "0"}
    )
    assert received.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == InboundStatus.RECEIVED and shipment.closed_by == owner.user
    spare_shirt = Stock.objects.get(warehouse=shop["spare"], variant=shop["variant"])
    assert spare_shirt.on_hand == 5
    assert not Stock.objects.get(warehouse=shop["spare"], variant=hat).movements.exists()
    movement = spare_shirt.movements.get()
    assert (movement.reason, movement.reference, movement.actor) == (
        MovementReason.RECEIVE,
        f"inbound:{shipment.pk}",
        owner.user,
    )
    table = client.get(reverse("portal:stock"), {"warehouse": shop["spare"].pk}).content.decode()
    assert table.count('data-label="Incoming">0<') == 2

    again = client.post(receive_url, {f"line_{lines['SHIRT-M'].pk}": "5"})
    assert again.status_code == 400 and b"already received" in again.content
    assert Stock.objects.get(pk=spare_shirt.pk).on_hand == 5
    assert StockMovement.objects.filter(reference=f"inbound:{shipment.pk}").count() == 1


def test_inbound_bad_input_changes_nothing(owner, shop, foreign, portal_client):
    client = portal_client(owner)
    url = reverse("portal:inbound_new")
    cases = [
        (_inbound_payload(shop["main"], [("THEIRS-1", "2")]), b"No product variant with this SKU"),
        (_inbound_payload(shop["main"], [("SHIRT-M", "0")]), b"greater than or equal to 1"),
        (_inbound_payload(shop["main"], [("SHIRT-M", "100001")]), b"less than or equal to 100000"),
        (
            _inbound_payload(shop["main"], [("SHIRT-M", "1"), ("SHIRT-M", "2")]),
            b"This SKU is already on the shipment.",
        ),
        (_inbound_payload(shop["main"], [("", "")]), b"Add at least one SKU and quantity."),
        (
            _inbound_payload(foreign["warehouse"], [("SHIRT-M", "1")]),
            b"Choose one of your warehouses.",
        ),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 400, message
        assert message in response.content
    assert not InboundShipment.objects.filter(warehouse__seller=owner.seller).exists()

    shipment = inbound_shipment_create(
        warehouse=shop["main"], lines=[ExpectedLine(shop["variant"].pk, 3)]
    )
    line = shipment.lines.get()
    receive_url = reverse("portal:inbound_receive", args=[shipment.pk])
    for value, message in (
        ("0", b"Nothing was entered as received"),
        ("-1", b"greater than or equal to 0"),
        ("100001", b"less than or equal to 100000"),
    ):
        response = client.post(receive_url, {f"line_{line.pk}": value})
        assert response.status_code == 400 and message in response.content
    shipment.refresh_from_db()
    assert shipment.status == InboundStatus.OPEN
    assert _counters(shop["stock"]) == (10, 0, 0)


def test_inbound_cancel_stops_counting_as_incoming(owner, shop, portal_client):
    shipment = inbound_shipment_create(
        warehouse=shop["main"], lines=[ExpectedLine(shop["variant"].pk, 9)]
    )
    client = portal_client(owner)
    detail = client.get(reverse("portal:inbound_detail", args=[shipment.pk])).content.decode()
    assert "Receive and close" in detail and "Cancel shipment" in detail
    assert client.post(reverse("portal:inbound_cancel", args=[shipment.pk])).status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == InboundStatus.CANCELLED
    table = client.get(reverse("portal:stock")).content.decode()
    assert 'data-label="Incoming">0<' in table
    listing = client.get(reverse("portal:inbound"), {"status": "cancelled"}).content.decode()
    assert f">{shipment.pk}</a>" in listing
    refused = client.post(reverse("portal:inbound_receive", args=[shipment.pk]), {})
    assert refused.status_code == 400
    assert _counters(shop["stock"]) == (10, 0, 0)


# --- scoping, roles, CSRF ---------------------------------------------------------------------


def test_another_sellers_ids_are_404_and_change_nothing(owner, shop, foreign, portal_client):
    client = portal_client(owner)
    stock, shipment = foreign["stock"], foreign["shipment"]
    line = shipment.lines.get()
    gets = [
        reverse("portal:stock_detail", args=[stock.pk]),
        reverse("portal:warehouse_edit", args=[foreign["warehouse"].pk]),
        reverse("portal:inbound_detail", args=[shipment.pk]),
        # past bigint: no URL matches (`<id:...>` takes at most 18 digits)
        reverse("portal:stock_detail", args=[1]).replace("/1/", f"/{10**30}/"),
        reverse("portal:inbound_detail", args=[1]).replace("/1/", f"/{10**30}/"),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        (reverse("portal:stock_adjust", args=[stock.pk]), {"delta": "5", "reason": "x"}),
        (reverse("portal:stock_write_off", args=[stock.pk]), {"quantity": "1", "reason": "x"}),
        (
            reverse("portal:stock_transfer", args=[stock.pk]),
            {"to_warehouse": shop["spare"].pk, "quantity": "1"},
        ),
        (reverse("portal:stock_threshold", args=[stock.pk]), {"low_stock_threshold": "2"}),
        (
            reverse("portal:warehouse_edit", args=[foreign["warehouse"].pk]),
            {"code": "mine", "name": "Mine", "priority": "1"},
        ),
        (reverse("portal:inbound_receive", args=[shipment.pk]), {f"line_{line.pk}": "3"}),
        (reverse("portal:inbound_cancel", args=[shipment.pk]), {}),
    ]
    before = StockMovement.objects.count()
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert StockMovement.objects.count() == before
    assert _counters(stock) == (4, 0, 0)
    stock.refresh_from_db()
    assert stock.low_stock_threshold is None
    foreign["warehouse"].refresh_from_db()
    assert foreign["warehouse"].code == "theirs"
    shipment.refresh_from_db()
    assert shipment.status == InboundStatus.OPEN
    assert b"their-po" not in client.get(reverse("portal:inbound")).content


def test_fulfilment_staff_view_and_receive_but_cannot_change_anything_else(
    owner, shop, portal_client
):
    staff = SellerMemberFactory(seller=owner.seller, role=MemberRole.FULFILMENT)
    client = portal_client(staff)
    stock = shop["stock"]
    shipment = inbound_shipment_create(
        warehouse=shop["main"], lines=[ExpectedLine(shop["variant"].pk, 2)]
    )
    for name, args in (
        ("stock", []),
        ("stock_detail", [stock.pk]),
        ("movements", []),
        ("warehouses", []),
        ("inbound", []),
        ("inbound_detail", [shipment.pk]),
        ("stock_receive", []),
    ):
        assert client.get(reverse(f"portal:{name}", args=args)).status_code == 200, name
    page = client.get(reverse("portal:stock_detail", args=[stock.pk])).content.decode()
    assert "Write off" not in page and "Receive more" in page

    refused = [
        (reverse("portal:stock_adjust", args=[stock.pk]), {"delta": "5", "reason": "x"}),
        (reverse("portal:stock_write_off", args=[stock.pk]), {"quantity": "1", "reason": "x"}),
        (
            reverse("portal:stock_transfer", args=[stock.pk]),
            {"to_warehouse": shop["spare"].pk, "quantity": "1"},
        ),
        (reverse("portal:stock_threshold", args=[stock.pk]), {"low_stock_threshold": "2"}),
        (reverse("portal:warehouse_new"), {"code": "x", "name": "X", "priority": "1"}),
        (
            reverse("portal:warehouse_edit", args=[shop["main"].pk]),
            {"code": "main", "name": "Renamed", "priority": "1"},
        ),
        (reverse("portal:inbound_new"), _inbound_payload(shop["main"], [("SHIRT-M", "1")])),
        (reverse("portal:inbound_cancel", args=[shipment.pk]), {}),
    ]
    for url, data in refused:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert b"does not allow this action" in response.content
    assert _counters(stock) == (10, 0, 0)
    assert Warehouse.objects.filter(seller=owner.seller).count() == 2
    assert InboundShipment.objects.filter(warehouse__seller=owner.seller).count() == 1
    shop["main"].refresh_from_db()
    assert shop["main"].name == "Main"

    received = client.post(
        reverse("portal:stock_receive"),
        {"warehouse": shop["main"].pk, "sku": "SHIRT-M", "quantity": "2"},
    )
    assert received.status_code == 302
    line = shipment.lines.get()
    url = reverse("portal:inbound_receive", args=[shipment.pk])
    assert client.post(url, {f"line_{line.pk}": "2"}).status_code == 302
    assert _counters(stock) == (14, 0, 0)
    actors = set(stock.movements.filter(reason="receive").values_list("actor", flat=True))
    assert staff.user.pk in actors


def test_managers_manage_inventory(shop, owner, portal_client):
    manager = SellerMemberFactory(seller=owner.seller, role=MemberRole.MANAGER)
    client = portal_client(manager)
    response = client.post(
        reverse("portal:stock_write_off", args=[shop["stock"].pk]),
        {"quantity": "2", "reason": "Water damage"},
    )
    assert response.status_code == 302
    assert client.get(reverse("portal:warehouse_new")).status_code == 200
    assert _counters(shop["stock"]) == (8, 0, 0)


def test_inventory_forms_enforce_csrf(owner, shop):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    stock = shop["stock"]
    for url, data in (
        (reverse("portal:stock_adjust", args=[stock.pk]), {"delta": "5", "reason": "x"}),
        (reverse("portal:stock_write_off", args=[stock.pk]), {"quantity": "1", "reason": "x"}),
        (reverse("portal:stock_receive"), {"warehouse": shop["main"].pk, "sku": "SHIRT-M"}),
        (reverse("portal:warehouse_new"), {"code": "x", "name": "X", "priority": "1"}),
    ):
        assert client.post(url, data).status_code == 403, url
    assert _counters(stock) == (10, 0, 0)
    assert Warehouse.objects.filter(seller=owner.seller).count() == 2
    page = client.get(reverse("portal:stock_detail", args=[stock.pk])).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 4


def test_inventory_pages_escape_user_content(owner, shop, portal_client):
    client = portal_client(owner)
    client.post(
        reverse("portal:stock_adjust", args=[shop["stock"].pk]),
        {"delta": "1", "reason": "<script>alert(1)</script>"},
    )
    body = client.get(reverse("portal:movements")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
