"""Storefront cart: works without JS, fragment responses for JS, session carts merge at
sign-in, foreign lines are 404."""

from __future__ import annotations

import pytest
from django.test import Client

from cart.models import Cart, CartLine
from tests.factories import PASSWORD, UserFactory
from tests.orders.conftest import Market

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(db):
    return Market(stock=5)


def test_add_to_cart_form_on_the_product_page_works_without_js(market, client):
    page = client.get(f"/{market.a1.product.slug}/") if False else None
    response = client.post("/cart/add/", {"variant": market.a1.pk, "quantity": "2"})
    assert response.status_code == 302 and response["Location"] == "/cart/"
    page = client.get("/cart/")
    assert page.status_code == 200
    html = page.content.decode()
    assert market.a1.product.name in html
    assert "$20.00" in html or "20.00" in html
    assert "Only 5 left" in html


def test_product_page_has_the_add_to_cart_form(market, client):
    from django.urls import reverse

    html = client.get(reverse("catalog:product", args=[market.a1.product.slug])).content.decode()
    assert 'action="/cart/add/"' in html
    assert f'name="variant" value="{market.a1.pk}"' in html


def test_quantity_change_with_js_returns_the_re_rendered_cart_body(market, client):
    client.post("/cart/add/", {"variant": market.a1.pk, "quantity": "1"})
    line = CartLine.objects.get()
    response = client.post(
        f"/cart/lines/{line.pk}/",
        {"quantity": "3", "action": "update"},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert 'value="3"' in response.content.decode()
    line.refresh_from_db()
    assert line.quantity == 3


@pytest.mark.parametrize("quantity", ["-1", "abc", "2.5", "999"])
def test_invalid_quantity_shows_an_error_and_changes_nothing(market, client, quantity):
    client.post("/cart/add/", {"variant": market.a1.pk, "quantity": "1"})
    line = CartLine.objects.get()
    response = client.post(
        f"/cart/lines/{line.pk}/", {"quantity": quantity, "action": "update"}, follow=True
    )
    assert response.status_code == 200
    assert list(response.context["messages"])
    line.refresh_from_db()
    assert line.quantity == 1


def test_another_sessions_cart_line_is_not_found(market, client):
    other = Client()
    other.post("/cart/add/", {"variant": market.a1.pk, "quantity": "1"})
    client.post("/cart/add/", {"variant": market.b1.pk, "quantity": "1"})
    foreign = CartLine.objects.get(variant=market.a1)
    response = client.post(f"/cart/lines/{foreign.pk}/", {"action": "remove"})
    assert response.status_code == 404
    assert CartLine.objects.filter(pk=foreign.pk).exists()


def test_anonymous_cart_merges_into_the_users_cart_at_sign_in(market, client):
    user = UserFactory()
    # the user's own cart already has 4 of a1 (from another device)
    from cart.services import cart_get_or_create, cart_line_add

    cart_line_add(cart=cart_get_or_create(user=user), variant_id=market.a1.pk, quantity=4)
    client.post("/cart/add/", {"variant": market.a1.pk, "quantity": "3"})
    client.post("/cart/add/", {"variant": market.b1.pk, "quantity": "1"})

    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302

    cart = Cart.objects.get(user=user, status="active")
    quantities = {line.variant_id: line.quantity for line in cart.lines.all()}
    assert quantities == {market.a1.pk: 5, market.b1.pk: 1}  # 4 + 3 capped at the 5 in stock
    assert not Cart.objects.filter(user__isnull=True).exists()


def test_shared_cart_is_read_only_and_can_be_copied(market, client):
    client.post("/cart/add/", {"variant": market.a1.pk, "quantity": "2"})
    cart = Cart.objects.get()
    visitor = Client()
    page = visitor.get(f"/cart/shared/{cart.share_token}/")
    assert page.status_code == 200
    assert 'action="/cart/lines/' not in page.content.decode()
    visitor.post(f"/cart/shared/{cart.share_token}/")
    assert Cart.objects.count() == 2
    copied = Cart.objects.exclude(pk=cart.pk).get()
    assert copied.lines.get().quantity == 2
    assert cart.lines.get().quantity == 2
    assert visitor.get("/cart/shared/not-a-token/").status_code == 404


def _queries_for(fn) -> int:
    """Statements sent to PostgreSQL while `fn` runs (counted at the cursor, so independent of
    the debug query log, which each request resets)."""
    from django.db import connection

    sent: list[str] = []

    def count(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        fn()
    return len(sent)


def test_cart_page_query_count_does_not_grow_with_lines(market, client):
    client.post("/cart/add/", {"variant": market.a1.pk, "quantity": "1"})
    client.get("/cart/")
    one_line = _queries_for(lambda: client.get("/cart/"))
    client.post("/cart/add/", {"variant": market.a2.pk, "quantity": "1"})
    client.post("/cart/add/", {"variant": market.b1.pk, "quantity": "1"})
    assert one_line > 0
    assert _queries_for(lambda: client.get("/cart/")) == one_line
