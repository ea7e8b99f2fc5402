"""Seller portal pages of purchasing: the reorder list with one-click ordering, suppliers,
purchase orders (draft, send, receive), pricing preview/apply; another shop's ids are 404 and
list pages make a fixed number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Stock
from purchasing.models import DemandForecast, PurchaseOrder, PurchaseOrderStatus
from purchasing.services import (
    OrderLineInput,
    forecast_run_execute,
    forecast_run_start,
    pricing_rule_save,
    purchase_order_create,
    supplier_item_set,
    supplier_save,
)
from sellers.models import MemberRole
from tests.factories import ProductVariantFactory, SellerMemberFactory
from tests.factories.inventory import WarehouseFactory, stock_with
from tests.purchasing.conftest import sell


@pytest.fixture
def signed_in(shop, client):
    member = SellerMemberFactory(seller=shop.seller, role=MemberRole.OWNER)
    client.force_login(member.user)
    return client


@pytest.fixture
def foreign(db):
    """Another shop with a supplier, an order, a forecast and a rule of its own."""
    member = SellerMemberFactory(role=MemberRole.OWNER)
    seller = member.seller
    warehouse = WarehouseFactory(seller=seller)
    variant = ProductVariantFactory(product__seller=seller)
    stock = stock_with(variant=variant, warehouse=warehouse, on_hand=5)
    supplier = supplier_save(seller=seller, name="Theirs")
    supplier_item_set(supplier=supplier, variant_id=variant.pk, cost_price=Decimal("1"))
    order = purchase_order_create(
        seller=seller, supplier=supplier, warehouse=warehouse, lines=[OrderLineInput(variant.pk, 3)]
    )
    sell(stock, 1, days_ago=2)
    forecast_run_execute(run_id=forecast_run_start(seller=seller).pk)
    rule = pricing_rule_save(
        seller=seller,
        variant_id=variant.pk,
        strategy="raise_low_cover",
        floor_price=Decimal("5"),
        ceiling_price=Decimal("50"),
    )
    return {
        "supplier": supplier,
        "order": order,
        "forecast": DemandForecast.objects.get(stock=stock),
        "rule": rule,
        "run": order.seller.forecast_runs.get(),
    }


def test_another_shops_objects_are_404(signed_in, foreign):
    urls = [
        reverse("portal:supplier", args=[foreign["supplier"].pk]),
        reverse("portal:purchase_order", args=[foreign["order"].pk]),
        reverse("portal:purchase_order_pdf", args=[foreign["order"].pk]),
        reverse("portal:forecast", args=[foreign["forecast"].pk]),
        reverse("portal:forecast_run_progress", args=[foreign["run"].pk]),
    ]
    for url in urls:
        assert signed_in.get(url).status_code == 404, url
    posts = [
        reverse("portal:purchase_order_send", args=[foreign["order"].pk]),
        reverse("portal:purchase_order_cancel", args=[foreign["order"].pk]),
        reverse("portal:forecast_order", args=[foreign["forecast"].pk]),
        reverse("portal:pricing_rule_remove", args=[foreign["rule"].pk]),
    ]
    for url in posts:
        assert signed_in.post(url).status_code == 404, url
    foreign["order"].refresh_from_db()
    assert foreign["order"].status == PurchaseOrderStatus.DRAFT
    # and nothing of theirs is listed
    assert b"Theirs" not in signed_in.get(reverse("portal:suppliers")).content


def test_reorder_list_one_click_order_is_sent_and_incoming(signed_in, shop):
    for days_ago in range(30, 0, -1):
        sell(shop.stock, 30, days_ago=days_ago)  # 900 of 1000 sold: 100 left, 30 a day
    assert signed_in.post(reverse("portal:forecast_run_new")).status_code == 302
    forecast_run_execute(run_id=shop.seller.forecast_runs.get().pk)
    PurchaseOrder.objects.all().delete()  # the run drafted one; order by hand instead
    page = signed_in.get(reverse("portal:reorder"))
    fc = DemandForecast.objects.get(stock=shop.stock)
    assert fc.suggested_quantity > 0
    assert f"Order {fc.suggested_quantity} now".encode() in page.content
    response = signed_in.post(reverse("portal:forecast_order", args=[fc.pk]))
    order = PurchaseOrder.objects.get()
    assert response.status_code == 302 and order.status == PurchaseOrderStatus.SENT
    assert order.lines.get().quantity == fc.suggested_quantity
    detail = signed_in.get(reverse("portal:forecast", args=[fc.pk]))
    assert detail.status_code == 200 and order.number.encode() in detail.content
    assert b"<svg" in detail.content
    progress = signed_in.get(
        reverse("portal:forecast_run_progress", args=[shop.seller.forecast_runs.get().pk])
    ).json()
    assert progress["status"] == "done" and progress["percent"] == 100


def test_draft_edit_send_and_receive_through_the_portal(signed_in, shop):
    response = signed_in.post(
        reverse("portal:purchase_order_new"),
        {
            "supplier": shop.supplier.pk,
            "warehouse": shop.warehouse.pk,
            "variant": shop.variant.pk,
            "quantity": 13,  # not whole cases of 12 / under the MOQ of 50
        },
    )
    assert response.status_code == 400 and b"Minimum 50" in response.content
    assert not PurchaseOrder.objects.exists()
    signed_in.post(
        reverse("portal:purchase_order_new"),
        {
            "supplier": shop.supplier.pk,
            "warehouse": shop.warehouse.pk,
            "variant": shop.variant.pk,
            "quantity": 60,
        },
    )
    order = PurchaseOrder.objects.get()
    url = reverse("portal:purchase_order", args=[order.pk])
    signed_in.post(url, {"form": "line", "variant": shop.variant.pk, "quantity": 72})
    assert order.lines.get().quantity == 72
    signed_in.post(reverse("portal:purchase_order_send", args=[order.pk]))
    line = order.lines.get()
    signed_in.post(url, {"form": "receive", f"line_{line.pk}": 72})
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED
    assert Stock.objects.get(pk=shop.stock.pk).on_hand == 1072
    pdf = signed_in.get(reverse("portal:purchase_order_pdf", args=[order.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content[:4] == b"%PDF"


def _add_rows(shop, count: int) -> None:
    """`count` more variants, each with stock, a supplier item, a pricing rule and an order."""
    for i in range(count):
        variant = ProductVariantFactory(product__seller=shop.seller)
        stock_with(variant=variant, warehouse=shop.warehouse, on_hand=1)
        supplier_item_set(supplier=shop.supplier, variant_id=variant.pk, cost_price=Decimal("2"))
        pricing_rule_save(
            seller=shop.seller,
            variant_id=variant.pk,
            strategy="markdown_ageing",
            floor_price=Decimal("5"),
            ceiling_price=Decimal("50"),
        )
        purchase_order_create(
            seller=shop.seller,
            supplier=shop.supplier,
            warehouse=shop.warehouse,
            lines=[OrderLineInput(variant.pk, 12 * (i + 1))],
        )
    forecast_run_execute(run_id=forecast_run_start(seller=shop.seller).pk)


PAGES = (
    ("portal:reorder", "?all=1"),
    ("portal:purchase_orders", ""),
    ("portal:suppliers", ""),
    ("portal:pricing", ""),
)


def test_list_pages_make_a_fixed_number_of_queries(signed_in, shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def counts():
        result = {}
        for name, query in PAGES:
            with CaptureQueriesContext(connection) as ctx:
                assert signed_in.get(reverse(name) + query).status_code == 200
            result[name] = len(ctx.captured_queries)
        return result

    _add_rows(shop, 1)
    few = counts()
    _add_rows(shop, 6)
    assert counts() == few
    assert max(few.values()) <= 14


def test_pricing_page_previews_before_and_after_then_applies(signed_in, shop):
    pricing_rule_save(
        seller=shop.seller,
        variant_id=shop.variant.pk,
        strategy="markdown_ageing",
        floor_price=Decimal("15.00"),
        ceiling_price=Decimal("30.00"),
        step_percent=Decimal("10"),
        max_change_percent=Decimal("10"),
    )
    # 1000 on hand and no sales: no demand, ageing stock
    forecast_run_execute(run_id=forecast_run_start(seller=shop.seller).pk)
    page = signed_in.get(reverse("portal:pricing"))
    assert b"<strong>18.00</strong>" in page.content  # 20.00 marked down 10%
    signed_in.post(reverse("portal:pricing_apply"))
    page = signed_in.get(reverse("portal:pricing"))
    assert b"20.00" in page.content and b"18.00" in page.content  # the history row
    shop.variant.refresh_from_db()
    assert shop.variant.price == Decimal("18.00")
