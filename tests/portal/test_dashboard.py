"""Portal home: sales (shop time zone, window edges), orders to ship (late first), low stock,
pending returns, the ledger balance, roles, bounded queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from ledger.services import Sale, SaleLine, ledger_post_sales
from orders.models import OrderStatus as S
from orders.selectors import seller_sales_by_day
from sellers.models import MemberRole
from tests.factories import ProductFactory, ProductVariantFactory, SellerMemberFactory
from tests.factories.inventory import WarehouseFactory, stock_with
from tests.factories.orders import sold_seller_order

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def test_sales_today_and_30_days_count_only_sold_orders_in_the_window(owner, other_owner):
    seller = owner.seller
    now = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    midnight = datetime(2026, 6, 15, 0, 0, tzinfo=UTC)

    def sale(at, total, **kwargs):
        sold_seller_order(seller=seller, placed_at=at, total=Decimal(total), **kwargs)

    sale(midnight, "10.00")  # today's first second
    sale(now - timedelta(minutes=5), "5.50", status=S.SHIPPED)
    sale(midnight - 29 * DAY, "7.00")  # first day of the 30
    sale(midnight - 29 * DAY - timedelta(seconds=1), "99.00")  # the day before: outside
    sale(now - 10 * DAY, "3.00", status=S.PARTIALLY_REFUNDED)
    sale(now - 2 * DAY, "50.00", status=S.CANCELLED)
    sale(now - 2 * DAY, "60.00", status=S.REFUNDED)
    sale(now - 2 * DAY, "70.00", status=S.PENDING_PAYMENT)
    sale(now - 2 * DAY, "80.00", currency="EUR")
    sold_seller_order(seller=other_owner.seller, placed_at=now, total=Decimal("1000.00"))

    summary = seller_sales_by_day(seller=seller, now=now)
    assert len(summary.days) == 30
    assert summary.days[0].day.isoformat() == "2026-05-17"
    assert (summary.today.total, summary.today.orders) == (Decimal("15.50"), 2)
    assert (summary.total, summary.orders) == (Decimal("25.50"), 4)
    assert summary.days[0].total == Decimal("7.00")


def test_days_follow_the_shop_time_zone_at_midnight(owner, settings):
    settings.TIME_ZONE = "America/New_York"
    now = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 12:00 in New York (EDT, UTC-4)
    sold_seller_order(
        seller=owner.seller, placed_at=datetime(2026, 3, 10, 3, 59, tzinfo=UTC), total=Decimal("4")
    )  # 23:59 on the 9th in New York
    sold_seller_order(
        seller=owner.seller, placed_at=datetime(2026, 3, 10, 4, 0, tzinfo=UTC), total=Decimal("6")
    )  # 00:00 on the 10th in New York
    summary = seller_sales_by_day(seller=owner.seller, now=now)
    assert summary.today.day.isoformat() == "2026-03-10"
    assert summary.today.total == Decimal("6.00")
    assert summary.days[-2].total == Decimal("4.00")


def post_sale(seller_order, *, commission: Decimal) -> None:
    """What placement posts to the seller ledger for a paid seller order."""
    ledger_post_sales(
        sales=[
            Sale(
                seller_id=seller_order.seller_id,
                order_id=seller_order.order_id,
                order_number=seller_order.order.number,
                seller_order_id=seller_order.pk,
                currency=seller_order.currency,
                shipping=Decimal("0"),
                lines=tuple(
                    SaleLine(order_line_id=line.pk, amount=line.total, commission=commission)
                    for line in seller_order.lines.all()
                ),
            )
        ]
    )


def test_owner_sees_money_panels_and_an_accessible_svg_chart(owner, portal_client):
    seller_order = sold_seller_order(
        seller=owner.seller, placed_at=timezone.now(), total=Decimal("12.00")
    )
    post_sale(seller_order, commission=Decimal("1.20"))
    body = portal_client(owner).get(reverse("portal:home")).content.decode()
    assert 'data-figure="sales-today">USD 12.00<' in body
    assert 'data-figure="sales-30">USD 12.00<' in body
    # from the ledger: 12.00 sold less 1.20 commission, not delivered yet
    assert 'data-figure="pending">USD 10.80<' in body
    assert 'data-figure="available">USD 0.00<' in body
    assert '<svg role="img" aria-labelledby="sales-chart-title sales-chart-desc"' in body
    assert body.count('class="chart-bar"') == 30
    assert "Sales per day as a table" in body
    assert "<script" not in body


@pytest.mark.parametrize("role", [MemberRole.MANAGER, MemberRole.FULFILMENT])
def test_other_roles_see_operations_but_no_money(portal_client, role):
    member = SellerMemberFactory(role=role)
    sold_seller_order(seller=member.seller, placed_at=timezone.now(), total=Decimal("12.00"))
    response = portal_client(member).get(reverse("portal:home"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Orders to ship" in body and "Low stock" in body
    assert "12.00" not in body and "Earned" not in body and "<svg" not in body


def test_orders_to_ship_list_late_ones_first(owner, other_owner, portal_client):
    seller = owner.seller
    seller.handling_time_days = 2
    seller.save(update_fields=["handling_time_days"])
    now = timezone.now()
    fresh = sold_seller_order(seller=seller, placed_at=now - DAY)
    just_late = sold_seller_order(seller=seller, placed_at=now - 2 * DAY - timedelta(minutes=1))
    very_late = sold_seller_order(seller=seller, placed_at=now - 5 * DAY, status=S.PROCESSING)
    sold_seller_order(seller=seller, placed_at=now - 6 * DAY, status=S.SHIPPED)
    sold_seller_order(seller=seller, placed_at=now - 6 * DAY, status=S.PENDING_PAYMENT)
    sold_seller_order(seller=other_owner.seller, placed_at=now - 9 * DAY)
    response = portal_client(owner).get(reverse("portal:home"))
    rows = list(response.context["to_ship"])
    assert [so.pk for so in rows] == [very_late.pk, just_late.pk, fresh.pk]
    assert [so.late for so in rows] == [True, True, False]
    # none of them was approved by a fraud check yet: all on hold
    assert response.context["to_ship_counts"] == {"total": 3, "late": 2, "on_hold": 3}
    assert [so.on_hold for so in rows] == [True, True, True]
    assert b'data-figure="late">2 late' in response.content
    assert other_owner.seller.name.encode() not in response.content


def test_low_stock_lists_the_sellers_own_rows_at_or_below_the_threshold(
    owner, other_owner, portal_client
):
    seller = owner.seller
    seller.low_stock_threshold = 5
    seller.save(update_fields=["low_stock_threshold"])
    warehouse = WarehouseFactory(seller=seller)
    product = ProductFactory(seller=seller)
    empty = stock_with(variant=ProductVariantFactory(product=product), warehouse=warehouse)
    low = stock_with(variant=ProductVariantFactory(product=product), warehouse=warehouse, on_hand=5)
    stock_with(variant=ProductVariantFactory(product=product), warehouse=warehouse, on_hand=6)
    stock_with(
        variant=ProductVariantFactory(product=product, is_active=False),
        warehouse=warehouse,
        on_hand=1,
    )
    stock_with(variant=ProductVariantFactory(product=ProductFactory(seller=other_owner.seller)))
    response = portal_client(owner).get(reverse("portal:home"))
    assert [s.pk for s in response.context["low_stock"]] == [empty.pk, low.pk]
    assert response.context["low_stock_count"] == 2


def test_pending_returns_are_counted(owner, portal_client):
    body = portal_client(owner).get(reverse("portal:home")).content.decode()
    assert "Pending returns" in body
    assert '<span data-figure="returns">0</span> waiting for you' in body


def test_dashboard_queries_do_not_grow_with_data(owner, portal_client, django_assert_num_queries):
    client = portal_client(owner)
    client.get(reverse("portal:home"))
    with django_assert_num_queries(11) as empty:
        client.get(reverse("portal:home"))
    seller = owner.seller
    warehouse = WarehouseFactory(seller=seller)
    now = timezone.now()
    for days_ago in range(25):
        post_sale(
            sold_seller_order(seller=seller, placed_at=now - days_ago * DAY),
            commission=Decimal("1.00"),
        )
        stock_with(
            variant=ProductVariantFactory(product=ProductFactory(seller=seller)),
            warehouse=warehouse,
            on_hand=1,
        )
    # one more once the ledger owes something: which of the owed seller orders are payable
    # (with nothing owed that query is not made)
    with django_assert_num_queries(len(empty.captured_queries) + 1):
        response = client.get(reverse("portal:home"))
    assert response.context["balance"].pending == Decimal("225.00")  # 25 x (10.00 - 1.00)
    assert response.context["to_ship_counts"]["total"] == 25
    assert len(response.context["to_ship"]) == 10
