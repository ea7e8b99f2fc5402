"""Order pages: items with pictures, addresses, payment method, a printable invoice, and a
cancel that asks first."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import OrderStatus
from orders.services import order_place
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_order_pages_show_items_addresses_payment_invoice_and_ask_before_cancelling(client, market):
    user = UserFactory()
    order = order_place(checkout=market.ready_checkout(user=user), payment_token="tok_visa")
    client.force_login(user)
    detail = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "Ada Lovelace" in detail and "Germany" in detail
    assert "Test payment" in detail
    assert reverse("orders:invoice", args=[order.number]) in detail
    invoice = client.get(reverse("orders:invoice", args=[order.number])).content.decode()
    assert f"Invoice {order.number}" in invoice and "19%" in invoice
    cancel = reverse("orders:cancel", args=[order.number])
    assert "Yes, cancel the order" in client.get(cancel).content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # asking changed nothing
    client.post(cancel)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
