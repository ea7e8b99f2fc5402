"""Abandonment: idle carts are marked, signed-in owners get one reminder, a later order counts
as a recovery, and admin shows the rates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cart.models import Cart, CartStatus
from cart.selectors import cart_abandonment_stats
from cart.services import cart_get_or_create, cart_line_add, carts_mark_abandoned
from orders.services import order_place
from tests.factories import UserFactory
from tests.orders.conftest import Market

pytestmark = pytest.mark.django_db


@pytest.fixture
def celery_eager():
    from shop.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_idle_cart_is_marked_reminded_once_and_recovered_on_order(
    settings, celery_eager, django_capture_on_commit_callbacks
):
    settings.CART_ABANDON_AFTER_SECONDS = 3600
    market = Market()
    user = UserFactory()
    cart = cart_get_or_create(user=user)
    cart_line_add(cart=cart, variant_id=market.a1.pk, quantity=1)
    anonymous = cart_get_or_create(session_key="anon-session")
    cart_line_add(cart=anonymous, variant_id=market.a1.pk, quantity=1)
    Cart.objects.update(last_activity_at=timezone.now() - timedelta(hours=2))

    with django_capture_on_commit_callbacks(execute=True):
        assert carts_mark_abandoned() == 2
    cart.refresh_from_db()
    assert cart.status == CartStatus.ABANDONED
    assert [m.to for m in mail.outbox] == [[user.email]]  # anonymous owners get no email

    Cart.objects.filter(pk=cart.pk).update(
        status=CartStatus.ACTIVE, last_activity_at=timezone.now() - timedelta(hours=3)
    )
    with django_capture_on_commit_callbacks(execute=True):
        carts_mark_abandoned()
    assert len(mail.outbox) == 1  # one reminder per cart, ever

    checkout = market.ready_checkout(user=user)
    assert checkout.cart_id == cart.pk  # coming back revives the abandoned cart
    order_place(checkout=checkout, payment_token="tok_visa")
    cart.refresh_from_db()
    assert cart.status == CartStatus.CONVERTED
    assert cart.recovered_at is not None
    stats = cart_abandonment_stats()
    assert (stats.carts, stats.abandoned, stats.recovered) == (2, 2, 1)
    assert stats.recovery_rate == 0.5


def test_admin_shows_abandonment_and_recovery_rates(admin_client):
    response = admin_client.get("/admin/cart/cart/")
    assert response.status_code == 200
    assert "abandonment 0.0%" in response.content.decode()


def test_order_admin_pages_render(admin_client):
    market = Market()
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    for url in (
        "/admin/orders/order/",
        f"/admin/orders/order/{order.pk}/change/",
        "/admin/orders/sellerorder/",
        "/admin/orders/orderevent/",
        "/admin/orders/voucher/",
        "/admin/orders/promotion/",
        "/admin/orders/taxrate/",
        "/admin/orders/shippingmethod/",
    ):
        assert admin_client.get(url).status_code == 200, url
