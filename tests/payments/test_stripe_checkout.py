"""Paying with Stripe, through the real SDK against the local fake (docs/testing-stripe.md):
request shapes and idempotency keys, declines, 3-D Secure, manual capture, refunds, outages,
and webhooks (signature, replays, out-of-order and concurrent deliveries)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from inventory.models import Stock
from orders.models import Checkout, Order, OrderStatus
from orders.services import PaymentActionRequired, PaymentFailed, order_place
from orders.services.payments import RefundRequest, order_refund
from payments.gateways import IntentStatus
from payments.models import Dispute, DisputeStatus, Payment, Refund, RefundStatus, WebhookEvent
from shop.core.errors import ServiceUnavailable
from shop.core.outbox import OutboxMessage
from tests.orders.conftest import Market

WEBHOOK_URL = "/payments/webhooks/stripe/"


@pytest.fixture
def market(db):
    return Market()


@pytest.fixture
def stripe_live(stripe_settings, celery_eager, settings):
    """Stripe is the live gateway (pointed at the fake); outbox tasks run inline."""
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return stripe_settings


def deliver(client: Client, hook) -> int:
    """One delivery, its outbox tasks run as after a commit (the test's transaction never
    commits)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            WEBHOOK_URL, data=hook.payload, content_type="application/json", headers=hook.headers
        )
    return response.status_code


def test_a_card_pays_through_a_payment_intent_with_keys_from_our_records(
    market, stripe_live, django_capture_on_commit_callbacks
):
    checkout = market.ready_checkout()
    with django_capture_on_commit_callbacks(execute=True):
        order = order_place(checkout=checkout, payment_token="pm_card_visa")
    assert order.status == OrderStatus.PAID
    payment = Payment.objects.get(order_id=order.pk)
    assert (payment.gateway, payment.status) == ("stripe", IntentStatus.CAPTURED)
    assert payment.amount_captured == order.total
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    assert payment.reference == order.payment_reference and payment.reference.startswith("pi_")

    (create,) = stripe_live.requests_to("POST", "/v1/payment_intents")
    assert create.idempotency_key == f"payment:{payment.pk}:create"
    assert create.params["amount"] == str(int(order.total * 100))
    assert create.params["currency"] == "usd"
    assert create.params["automatic_payment_methods"] == {"enabled": "true"}
    assert create.params["capture_method"] == "automatic"
    assert create.params["metadata"]["checkout_id"] == str(checkout.pk)
    (confirm,) = stripe_live.requests_to("POST", "/v1/payment_intents/*/confirm")
    assert confirm.idempotency_key.startswith(f"payment:{payment.pk}:confirm:")
    assert confirm.params["payment_method"] == "pm_card_visa"
    assert confirm.params["return_url"]


def test_a_declined_card_places_nothing_and_the_checkout_stays_payable(market, stripe_live):
    checkout = market.ready_checkout()
    with pytest.raises(PaymentFailed, match="declined"):
        order_place(checkout=checkout, payment_token="pm_card_chargeDeclined")
    assert not Order.objects.exists()
    payment = Payment.objects.get()
    assert payment.status == IntentStatus.NEEDS_METHOD and payment.failure_code
    # the stock hold stays: another card pays on the same intent
    order = order_place(checkout=Checkout.objects.get(pk=checkout.pk), payment_token="pm_card_visa")
    assert order.status == OrderStatus.PAID
    assert Payment.objects.count() == 1  # the same attempt, confirmed again


def test_a_double_submitted_card_is_charged_once(market, stripe_live):
    checkout = market.ready_checkout()
    first = order_place(checkout=checkout, payment_token="pm_card_visa")
    again = order_place(checkout=Checkout.objects.get(pk=checkout.pk), payment_token="pm_card_visa")
    assert first.number == again.number
    assert len(stripe_live.requests_to("POST", "/v1/payment_intents/*/confirm")) == 1


def test_three_d_secure_keeps_the_hold_and_places_the_order_on_return(market, stripe_live):
    checkout = market.ready_checkout()
    with pytest.raises(PaymentActionRequired) as asked:
        order_place(checkout=checkout, payment_token="pm_card_authenticationRequired")
    details = asked.value.details
    assert details["client_secret"].startswith("pi_") and "_secret_" in details["client_secret"]
    payment = Payment.objects.get(pk=details["payment_id"])
    assert payment.status == IntentStatus.REQUIRES_ACTION
    assert Stock.objects.get(pk=market.stocks[market.a1.pk].pk).reserved == 2  # still held

    stripe_live.authenticate(payment.reference, succeed=True)  # the shopper, at their bank
    order = order_place(checkout=Checkout.objects.get(pk=checkout.pk), payment_id=payment.pk)
    assert order.status == OrderStatus.PAID


def test_a_failed_authentication_leaves_the_checkout_payable(market, stripe_live):
    checkout = market.ready_checkout()
    with pytest.raises(PaymentActionRequired):
        order_place(checkout=checkout, payment_token="pm_card_authenticationRequired")
    payment = Payment.objects.get()
    stripe_live.authenticate(payment.reference, succeed=False)
    with pytest.raises(PaymentFailed):
        order_place(checkout=Checkout.objects.get(pk=checkout.pk), payment_id=payment.pk)
    assert not Order.objects.exists()


def test_manual_capture_authorises_at_placement_and_captures_later(market, stripe_live, settings):
    from payments.services import payment_capture

    settings.PAYMENTS_CAPTURE_LATER = True
    order = order_place(checkout=market.ready_checkout(), payment_token="pm_card_visa")
    payment = Payment.objects.get(order_id=order.pk)
    assert (order.status, payment.status) == (OrderStatus.PAID, IntentStatus.AUTHORISED)
    assert payment.amount_captured == 0
    (create,) = stripe_live.requests_to("POST", "/v1/payment_intents")
    assert create.params["capture_method"] == "manual"

    payment = payment_capture(payment=payment)
    assert (payment.status, payment.amount_captured) == (IntentStatus.CAPTURED, order.total)
    (capture,) = stripe_live.requests_to("POST", "/v1/payment_intents/*/capture")
    assert capture.idempotency_key == f"payment:{payment.pk}:capture"


def test_stripe_down_charges_nothing_and_says_try_again(market, stripe_live):
    stripe_live.fail_next(3, status=500, method="POST", path="/v1/payment_intents*")
    with pytest.raises(ServiceUnavailable, match="Nothing was charged"):
        order_place(checkout=market.ready_checkout(), payment_token="pm_card_visa")
    assert not Order.objects.exists()


def test_a_lost_answer_is_retried_by_the_sdk_and_charges_once(market, stripe_live, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    stripe_live.drop_next(
        method="POST", path="/v1/payment_intents/*/confirm", after_processing=True
    )
    order = order_place(checkout=market.ready_checkout(), payment_token="pm_card_visa")
    assert order.status == OrderStatus.PAID
    confirms = stripe_live.requests_to("POST", "/v1/payment_intents/*/confirm")
    assert len(confirms) == 2 and confirms[1].replayed  # the retry was answered from the first
    assert len(stripe_live.events("charge.succeeded")) == 1


def test_refunds_of_lines_and_shipping_go_back_to_the_card(
    market, stripe_live, django_capture_on_commit_callbacks
):
    order = order_place(checkout=market.ready_checkout(), payment_token="pm_card_visa")
    seller_order = order.seller_orders.get(seller=market.alpha)
    line = seller_order.lines.get(variant=market.a1)  # 2 units
    with django_capture_on_commit_callbacks(execute=True):
        order = order_refund(
            seller_order=seller_order,
            lines=[RefundRequest(order_line_id=line.pk, quantity=1)],
            shipping_amount=Decimal("1.00"),
            reason="One arrived broken.",
        )
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.SUCCEEDED and refund.reference.startswith("re_")
    assert refund.amount == (line.total / 2).quantize(Decimal("0.01")) + Decimal("1.00")
    (sent,) = stripe_live.requests_to("POST", "/v1/refunds")
    assert sent.idempotency_key == f"refund:{refund.pk}"
    assert sent.params["amount"] == str(int(refund.amount * 100))
    assert Payment.objects.get(order_id=order.pk).amount_refunded == refund.amount
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    # the unshipped unit went back to stock
    assert Stock.objects.get(pk=market.stocks[market.a1.pk].pk).allocated == 1


# --- webhooks -----------------------------------------------------------------------------------


def _paid_elsewhere(market, stripe_server):
    """A shopper who confirmed the payment in the app, then never came back to place."""
    from orders.services import checkout_payment_prepare

    checkout = market.ready_checkout()
    payment = checkout_payment_prepare(checkout=checkout)
    stripe_server.client().v1.payment_intents.confirm(
        payment.reference,
        {"payment_method": "pm_card_visa", "return_url": "https://app.example/return"},
    )
    return checkout, payment


def test_a_webhook_places_the_order_of_a_shopper_who_never_came_back(market, stripe_live, client):
    checkout, payment = _paid_elsewhere(market, stripe_live)
    (hook,) = stripe_live.webhooks("payment_intent.succeeded")
    assert deliver(client, hook) == 200
    order = Order.objects.get(checkout=checkout)
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get(pk=payment.pk).order_id == order.pk
    assert WebhookEvent.objects.get().processed_at is not None


def test_a_bad_signature_or_a_stale_timestamp_is_refused_and_nothing_stored(
    market, stripe_live, client
):
    _paid_elsewhere(market, stripe_live)
    event = stripe_live.last_event("payment_intent.succeeded")
    forged = stripe_live.webhook(event, secret="whsec_someone_else")
    stale = stripe_live.webhook(event, timestamp=int(time.time()) - 3600)
    assert deliver(client, forged) == 400
    assert deliver(client, stale) == 400
    assert not WebhookEvent.objects.exists() and not Order.objects.exists()


def test_an_event_replayed_ten_times_has_one_effect(market, stripe_live, client):
    _paid_elsewhere(market, stripe_live)
    hook = stripe_live.webhook(stripe_live.last_event("payment_intent.succeeded"))
    assert [deliver(client, hook) for _ in range(10)] == [200] * 10
    assert Order.objects.count() == 1
    assert WebhookEvent.objects.get().deliveries == 10


def test_events_out_of_order_leave_the_truth_in_place(market, stripe_live, client):
    checkout = market.ready_checkout()
    with pytest.raises(PaymentFailed):
        order_place(checkout=checkout, payment_token="pm_card_chargeDeclined")
    order_place(checkout=Checkout.objects.get(pk=checkout.pk), payment_token="pm_card_visa")
    failed = stripe_live.webhook(stripe_live.last_event("payment_intent.payment_failed"))
    succeeded = stripe_live.webhook(stripe_live.last_event("payment_intent.succeeded"))
    assert deliver(client, succeeded) == 200
    assert deliver(client, failed) == 200  # older news, arriving last
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID  # read from Stripe, not from the stale event
    assert Payment.objects.get().status == IntentStatus.CAPTURED


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_deliveries_of_one_event_have_one_effect(stripe_settings, settings):
    from shop.celery import app

    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    market = Market()
    checkout, _ = _paid_elsewhere(market, stripe_settings)
    hook = stripe_settings.webhook(stripe_settings.last_event("payment_intent.succeeded"))
    start, statuses = threading.Barrier(10), []

    def deliver_once() -> None:
        try:
            start.wait()
            statuses.append(deliver(Client(), hook))
        finally:
            connection.close()

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        threads = [threading.Thread(target=deliver_once) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        app.conf.task_always_eager = previous
    assert statuses == [200] * 10
    assert WebhookEvent.objects.count() == 1
    assert (
        OutboxMessage.objects.filter(task="orders.tasks.payment_webhook_process_task").count() == 1
    )
    assert Order.objects.filter(checkout=checkout).count() == 1


def test_a_dispute_is_recorded_against_its_seller_order_with_its_deadline(
    market, stripe_live, client
):
    order = order_place(
        checkout=market.ready_checkout(lines=[(market.a1, 1)]), payment_token="pm_card_visa"
    )
    payment = Payment.objects.get(order_id=order.pk)
    dispute_id = stripe_live.open_dispute(payment.reference, reason="fraudulent")["id"]
    for hook in stripe_live.webhooks("charge.dispute.*"):
        assert deliver(client, hook) == 200
    dispute = Dispute.objects.get()
    assert dispute.reference == dispute_id and dispute.status == DisputeStatus.OPEN
    assert dispute.seller_order_id == order.seller_orders.get().pk
    assert dispute.evidence_due_by is not None and dispute.funds_withdrawn
    stripe_live.close_dispute(dispute_id, won=False)
    for hook in stripe_live.webhooks("charge.dispute.closed"):
        deliver(client, hook)
    assert Dispute.objects.get().status == DisputeStatus.LOST


def test_a_refund_made_in_stripes_dashboard_is_booked(market, stripe_live, client):
    order = order_place(checkout=market.ready_checkout(), payment_token="pm_card_visa")
    payment = Payment.objects.get(order_id=order.pk)
    stripe_live.client().v1.refunds.create({"payment_intent": payment.reference, "amount": 500})
    for hook in stripe_live.webhooks("charge.refunded"):
        deliver(client, hook)
    refund = Refund.objects.get()
    assert refund.amount == Decimal("5.00") and refund.status == RefundStatus.SUCCEEDED
    assert Payment.objects.get(pk=payment.pk).amount_refunded == Decimal("5.00")
