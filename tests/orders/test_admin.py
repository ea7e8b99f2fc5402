"""Orders in the admin are records: no add (it was a 500), no delete; state changes through the
order services only. Shipping methods are saved with the portal's services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from orders.models import Order, OrderStatus
from orders.services import order_place
from pricing.models import ShippingMethod
from tests.factories import SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def paid_order(market):
    return order_place(checkout=market.ready_checkout(), payment_token="tok_visa")


@pytest.mark.parametrize("model", ["order", "sellerorder", "orderevent", "checkout"])
def test_records_cannot_be_added_or_deleted(staff_client, paid_order, model):
    assert staff_client.get(reverse(f"admin:orders_{model}_add")).status_code == 403
    changelist = staff_client.get(reverse(f"admin:orders_{model}_changelist"))
    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.content.decode()
    obj = {
        "order": paid_order,
        "sellerorder": paid_order.seller_orders.first(),
        "orderevent": paid_order.events.first(),
        "checkout": paid_order.checkout,
    }[model]
    assert (
        staff_client.get(reverse(f"admin:orders_{model}_change", args=[obj.pk])).status_code == 200
    )
    delete = reverse(f"admin:orders_{model}_delete", args=[obj.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    bulk = staff_client.post(
        reverse(f"admin:orders_{model}_changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_an_order_change_page_edits_nothing_and_cancel_goes_through_the_service(
    staff_client, paid_order
):
    url = reverse("admin:orders_order_change", args=[paid_order.pk])
    staff_client.post(url, {"status": OrderStatus.SHIPPED, "total": "0"})
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PAID
    staff_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "cancel_orders", "_selected_action": [paid_order.pk]},
    )
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.CANCELLED
    assert paid_order.events.filter(to_status=OrderStatus.CANCELLED).exists()
    assert Order.objects.count() == 1


def test_shipping_methods_in_the_admin_go_through_the_shipping_service(staff_client):
    seller = SellerFactory()
    url = reverse("admin:orders_shippingmethod_add")
    base = {
        "seller": seller.pk,
        "name": "Courier",
        "kind": "flat",
        "price": "5.00",
        "price_per_kg": "0",
        "free_above": "",
        "countries": ["DE", "AT"],
        "is_active": "on",
    }
    assert staff_client.post(url, base).status_code == 302
    method = ShippingMethod.objects.get(seller=seller)
    assert method.countries == ["AT", "DE"] and method.position == 0

    # the portal's rules: a flat rate has no price per kg, names are unique per seller
    refused = staff_client.post(url, {**base, "name": "Other", "price_per_kg": "2.00"})
    assert any(
        "A flat rate has no price per kilogram" in str(m)
        for m in get_messages(refused.wsgi_request)
    )
    staff_client.post(url, {**base, "name": "courier"})
    assert ShippingMethod.objects.filter(seller=seller).count() == 1

    change = reverse("admin:orders_shippingmethod_change", args=[method.pk])
    staff_client.post(change, {**base, "price": "6.50", "countries": []})
    method.refresh_from_db()
    assert (method.price, method.countries, method.is_active) == (Decimal("6.50"), [], True)
