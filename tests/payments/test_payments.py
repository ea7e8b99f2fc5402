"""Payments with the built-in test gateway through every face: fail closed, deterministic
tokens, 3-D Secure on the storefront and the API, polling, reconciliation, and refunds that can
never give back more than was bought or captured, even when they race."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from accounts.services import api_token_create
from inventory.models import Stock
from inventory.services import InsufficientStock
from orders.models import Checkout, Order, OrderStatus, SellerOrder
from orders.services import PaymentActionRequired, order_place
from orders.services.payments import RefundRequest, order_refund, payments_reconcile
from payments.gateways import IntentStatus
from payments.gateways.test import TestGateway
from payments.models import Payment, Refund
from shop.core.errors import Conflict, ServiceUnavailable, ValidationError
from tests.factories import UserFactory
from tests.orders.conftest import Market

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture
def market(db):
    return Market()


def api_client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[1]}")
    return client


# --- fail closed ---------------------------------------------------------------------------------

PROBE = (
    "import django; django.setup(); from payments.gateways import gateway_describe; "
    "print(gateway_describe())"
)


def _start(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "SHOP_TEST"))}
    clean.update(
        DATABASE_URL="postgres://probe@127.0.0.1:1/probe",
        DJANGO_SETTINGS_MODULE="shop.settings",
        DJANGO_SECRET_KEY="probe-only-not-a-secret",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_a_gateway_the_shop_refuses_to_start_outside_debug():
    refused = _start(DJANGO_DEBUG="0")
    assert refused.returncode != 0
    assert "No payment gateway" in refused.stderr
    test_mode = _start(DJANGO_DEBUG="0", SHOP_TEST_PAYMENTS="1")
    assert test_mode.returncode == 0, test_mode.stderr
    assert "test gateway" in test_mode.stdout
    stripe = _start(DJANGO_DEBUG="0", STRIPE_SECRET_KEY="sk_live_probe")
    assert stripe.returncode == 0, stripe.stderr
    assert "Stripe (live keys)" in stripe.stdout


def test_every_page_says_test_mode_and_readyz_names_the_gateway(client, market):
    page = client.get("/").content.decode()
    assert "Test mode:" in page and "no money moves" in page
    assert "test gateway" in client.get("/readyz").json()["payments"]


def test_an_empty_or_unknown_token_is_refused_and_nothing_is_placed(market):
    checkout = market.ready_checkout()
    with pytest.raises(ValidationError, match="Choose how to pay"):
        order_place(checkout=checkout, payment_token="")
    with pytest.raises(ValidationError, match="Unknown test payment token"):
        order_place(checkout=Checkout.objects.get(pk=checkout.pk), payment_token="tok_anything")
    assert not Order.objects.exists()


def test_a_gateway_outage_charges_nothing_and_answers_503_over_the_api(market):
    user = UserFactory()
    checkout = market.ready_checkout(user=user)
    response = api_client(user).post(
        f"/api/v1/checkouts/{checkout.token}/place/",
        {"payment_token": "tok_unavailable"},
        format="json",
    )
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable" and response["Retry-After"]
    assert not Order.objects.exists()
    with pytest.raises(ServiceUnavailable):
        order_place(checkout=Checkout.objects.get(pk=checkout.pk), payment_token="tok_unavailable")


# --- 3-D Secure ----------------------------------------------------------------------------------


def test_three_d_secure_on_the_storefront_goes_to_the_bank_and_back_to_the_order(
    market, client, django_capture_on_commit_callbacks
):
    user = UserFactory()
    client.force_login(user)
    checkout = market.ready_checkout(user=user)
    placed = client.post(
        reverse("orders:checkout_place", args=[checkout.token]), {"payment_token": "tok_3ds"}
    )
    payment = Payment.objects.get()
    assert placed.status_code == 302
    assert placed["Location"].endswith(f"/payments/test/authenticate/{payment.reference}/")
    assert not Order.objects.exists()

    check = client.get(placed["Location"])
    assert "Approve the payment" in check.content.decode()
    approved = client.post(placed["Location"], {"decision": "approve"})
    assert approved["Location"].endswith(f"/checkout/{checkout.token}/payment/return/")
    with django_capture_on_commit_callbacks(execute=True):
        back = client.get(approved["Location"])
    assert back["Location"].endswith(f"/checkout/{checkout.token}/confirmation/")
    assert Order.objects.get().status == OrderStatus.PAID


def test_a_failed_bank_check_returns_to_review_payable_again(market, client):
    user = UserFactory()
    client.force_login(user)
    checkout = market.ready_checkout(user=user)
    placed = client.post(
        reverse("orders:checkout_place", args=[checkout.token]), {"payment_token": "tok_3ds"}
    )
    failed = client.post(placed["Location"], {"decision": "fail"})
    back = client.get(failed["Location"], follow=True)
    assert "authentication failed" in back.content.decode()
    assert not Order.objects.exists()
    paid = client.post(
        reverse("orders:checkout_place", args=[checkout.token]), {"payment_token": "tok_visa"}
    )
    assert paid["Location"].endswith("/confirmation/")
    assert Order.objects.get().status == OrderStatus.PAID


def test_three_d_secure_over_the_api_then_place_with_the_payment(market):
    user = UserFactory()
    client = api_client(user)
    checkout = market.ready_checkout(user=user)
    url = f"/api/v1/checkouts/{checkout.token}/place/"
    asked = client.post(url, {"payment_token": "tok_3ds"}, format="json")
    assert asked.status_code == 402
    body = asked.json()
    assert body["code"] == "payment_action_required"
    payment_id = body["details"]["payment_id"]
    assert body["details"]["action_url"].startswith("http")
    assert body["details"]["client_secret"]
    payment = Payment.objects.get(pk=payment_id)
    TestGateway().authenticate(reference=payment.reference, succeed=True)

    polled = client.get(f"/api/v1/checkouts/{checkout.token}/payments/{payment_id}/")
    assert polled.json()["status"] == IntentStatus.CAPTURED
    placed = client.post(url, {"payment_id": payment_id}, format="json")
    assert placed.status_code == 201, placed.json()
    again = client.get(f"/api/v1/checkouts/{checkout.token}/payments/{payment_id}/")
    assert again.json()["order_number"] == placed.json()["number"]


def test_an_app_prepares_a_payment_and_a_stranger_cannot_see_it(market):
    user = UserFactory()
    checkout = market.ready_checkout(user=user)
    prepared = api_client(user).post(f"/api/v1/checkouts/{checkout.token}/payment/")
    assert prepared.status_code == 200, prepared.json()
    body = prepared.json()
    assert body["gateway"] == "test" and body["status"] == IntentStatus.NEEDS_METHOD
    assert body["client_secret"] and Decimal(body["amount"]) > 0
    assert body["publishable_key"] == "" and body["ephemeral_key"] is None
    # calling again while the total is unchanged gives the same payment
    again = api_client(user).post(f"/api/v1/checkouts/{checkout.token}/payment/").json()
    assert again["id"] == body["id"]
    stranger = api_client(UserFactory())
    assert stranger.post(f"/api/v1/checkouts/{checkout.token}/payment/").status_code == 404
    poll = f"/api/v1/checkouts/{checkout.token}/payments/{body['id']}/"
    assert stranger.get(poll).status_code == 404


# --- pending payments, reconciliation -----------------------------------------------------------


def test_the_reconciliation_finds_a_settled_payment_no_webhook_reported(market, settings):
    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 0
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_pending")
    assert order.status == OrderStatus.PENDING_PAYMENT
    payment = Payment.objects.get(order_id=order.pk)
    TestGateway().settle(reference=payment.reference, succeed=True)
    assert payments_reconcile() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert payments_reconcile() == 0  # nothing left waiting


# --- refunds -------------------------------------------------------------------------------------


def _pay_with_bank_check(market, lines):
    """A shopper pays with 3-D Secure and their stock hold runs out while they are at the bank."""
    from datetime import timedelta

    from django.utils import timezone

    from inventory.models import Reservation

    checkout = market.ready_checkout(lines=lines)
    with pytest.raises(PaymentActionRequired):
        order_place(checkout=checkout, payment_token="tok_3ds")
    payment = Payment.objects.get(checkout_id=checkout.pk)
    past = timezone.now() - timedelta(seconds=1)
    Reservation.objects.filter(holder=checkout.holder).update(expires_at=past)
    Checkout.objects.filter(pk=checkout.pk).update(reserved_until=past)
    return Checkout.objects.get(pk=checkout.pk), payment


def test_stock_sold_while_the_shopper_paid_is_refunded_and_the_rest_placed(
    market, mailoutbox, celery_eager, django_capture_on_commit_callbacks
):
    checkout, payment = _pay_with_bank_check(market, [(market.a1, 3), (market.b1, 1)])
    # another buyer takes the lapsed units: 1 of a1 is left, none of b1
    market.ready_checkout(lines=[(market.a1, 9), (market.b1, 10)])
    TestGateway().authenticate(reference=payment.reference, succeed=True)

    with django_capture_on_commit_callbacks(execute=True):
        order = order_place(checkout=checkout, payment_id=payment.pk)

    alpha = order.seller_orders.get(seller=market.alpha)
    beta = order.seller_orders.get(seller=market.beta)
    assert (alpha.status, beta.status) == (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    # hand-computed: 2 x 10.00 + 19% = 23.80 for a1; b1 20.00 + 19% = 23.80 plus its shipping
    refunds = {r.seller_order_id: r for r in Refund.objects.all()}
    assert refunds[alpha.pk].amount == Decimal("23.80")
    assert refunds[beta.pk].amount == Decimal("23.80") + beta.shipping_total
    assert refunds[beta.pk].shipping_amount == beta.shipping_total
    a1 = Stock.objects.get(pk=market.stocks[market.a1.pk].pk)
    b1 = Stock.objects.get(pk=market.stocks[market.b1.pk].pk)
    assert (a1.allocated, a1.reserved, b1.allocated, b1.reserved) == (1, 9, 0, 10)
    assert a1.on_hand - a1.allocated - a1.reserved == 0  # nothing sold twice
    subjects = [m.subject for m in mailoutbox]
    assert f"A refund for your order {order.number}" in subjects
    refunded = next(m for m in mailoutbox if m.subject.startswith("A refund"))
    assert "Sold out while you paid" in refunded.body
    refunded_total = refunds[alpha.pk].amount + refunds[beta.pk].amount
    assert Payment.objects.get(pk=payment.pk).amount_refunded == refunded_total


def test_stock_kept_elsewhere_after_the_hold_lapsed_places_the_whole_order(market):
    checkout, payment = _pay_with_bank_check(market, [(market.a1, 2), (market.b1, 1)])
    TestGateway().authenticate(reference=payment.reference, succeed=True)
    order = order_place(checkout=checkout, payment_id=payment.pk)
    assert order.status == OrderStatus.PAID
    assert not Refund.objects.exists()
    assert Stock.objects.get(pk=market.stocks[market.a1.pk].pk).allocated == 2


def test_nothing_left_after_the_hold_lapsed_places_nothing_and_releases_the_payment(
    market, celery_eager, django_capture_on_commit_callbacks
):
    checkout, payment = _pay_with_bank_check(market, [(market.b1, 2)])
    market.ready_checkout(lines=[(market.b1, 10)])
    TestGateway().authenticate(reference=payment.reference, succeed=True)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InsufficientStock):
        order_place(checkout=checkout, payment_id=payment.pk)
    assert not Order.objects.exists()
    payment.refresh_from_db()  # the money was taken at the bank's check: all of it goes back
    assert payment.status == IntentStatus.CAPTURED
    assert payment.amount_refunded == payment.amount


def test_refunds_never_give_back_more_units_or_shipping_than_were_bought(market):
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    seller_order = order.seller_orders.get(seller=market.alpha)
    line = seller_order.lines.get(variant=market.a1)  # 2 units
    with pytest.raises(ValidationError, match="at most 2"):
        order_refund(
            seller_order=seller_order, lines=[RefundRequest(order_line_id=line.pk, quantity=3)]
        )
    order_refund(seller_order=seller_order, lines=[RefundRequest(line.pk, 2, restock=False)])
    with pytest.raises(ValidationError, match="at most 0"):
        order_refund(seller_order=seller_order, lines=[RefundRequest(line.pk, 1)])
    with pytest.raises(ValidationError, match="of the shipping"):
        order_refund(seller_order=seller_order, shipping_amount=seller_order.shipping_total + 1)
    other = order.seller_orders.get(seller=market.beta).lines.get()
    with pytest.raises(ValidationError, match="not part of this seller order"):
        order_refund(seller_order=seller_order, lines=[RefundRequest(other.pk, 1)])
    assert Refund.objects.count() == 1


def test_a_whole_seller_order_refunded_releases_its_stock_and_says_refunded(market):
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    seller_order = order.seller_orders.get(seller=market.beta)
    line = seller_order.lines.get()
    order_refund(
        seller_order=seller_order,
        lines=[RefundRequest(line.pk, line.quantity)],
        shipping_amount=seller_order.shipping_total,
    )
    seller_order.refresh_from_db()
    assert seller_order.status == OrderStatus.REFUNDED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PARTIALLY_REFUNDED
    assert Stock.objects.get(pk=market.stocks[market.b1.pk].pk).allocated == 0
    assert Refund.objects.get().amount == seller_order.total


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refunds_that_together_exceed_the_capture_cannot_both_pass():
    market = Market()
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    seller_order = SellerOrder.objects.get(order=order, seller=market.alpha)
    payment = Payment.objects.get(order_id=order.pk)
    # another refund already took most of the payment (made at the gateway's dashboard, say)
    from payments.services import refund_book

    refund_book(payment=payment, order_id=order.pk, amount=payment.amount - Decimal("15.00"))
    lines = list(seller_order.lines.order_by("pk"))  # one unit of each: 11.90 and 5.95
    start, outcomes = threading.Barrier(2), []

    def refund(line) -> None:
        try:
            start.wait()
            order_refund(
                seller_order=SellerOrder.objects.get(pk=seller_order.pk),
                lines=[RefundRequest(line.pk, 1)],
            )
            outcomes.append("refunded")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    units = [line.total / line.quantity for line in lines]
    assert sum(units) > Decimal("15.00") and all(u <= Decimal("15.00") for u in units)
    threads = [threading.Thread(target=refund, args=(line,)) for line in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refunded", "refused"]
    total = sum(r.amount for r in Refund.objects.all())
    assert total <= Payment.objects.get(pk=payment.pk).amount_captured


def test_staff_refund_lines_from_the_seller_order_admin_page(market, admin_client):
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    seller_order = order.seller_orders.get(seller=market.alpha)
    line = seller_order.lines.get(variant=market.a1)
    url = reverse("admin:orders_sellerorder_refund", args=[seller_order.pk])
    assert line.sku in admin_client.get(url).content.decode()
    response = admin_client.post(
        url, {f"qty_{line.pk}": "1", f"restock_{line.pk}": "on", "reason": "Broken"}
    )
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert refund.lines.get().quantity == 1 and refund.created_by is not None
