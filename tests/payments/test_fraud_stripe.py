"""Fraud checks on Stripe payments, through the real SDK against the local fake: Radar's risk
level of the charge, the billing address the shopper gave, and early fraud warnings arriving
by webhook, which score a checked order again."""

from __future__ import annotations

import pytest
from django.test import TestCase

from orders.models import FraudStatus, Order, OrderStatus
from orders.services import order_place
from orders.services.fraud import order_fraud_review
from payments.models import FraudCheck, FraudCheckStatus, Payment
from tests.orders.conftest import Market
from tests.payments.test_stripe_checkout import deliver


@pytest.fixture
def market(db):
    return Market()


@pytest.fixture
def stripe_live(stripe_settings, celery_eager, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return stripe_settings


def place(market, method: str) -> Order:
    checkout = market.ready_checkout(lines=[(market.a2, 1)])
    with TestCase.captureOnCommitCallbacks(execute=True):
        order = order_place(checkout=checkout, payment_token=method)
    return Order.objects.get(pk=order.pk)


def check_of(order: Order) -> FraudCheck:
    return FraudCheck.objects.get(order_id=order.pk)


def test_radar_elevated_risk_and_a_foreign_card_hold_the_order(market, stripe_live):
    order = place(market, "pm_card_riskLevelElevated")  # a US card, shipped to DE
    assert Payment.objects.get(order_id=order.pk).risk_level == "elevated"
    check = check_of(order)
    assert check.rules.get(rule="radar_risk").reason == (
        "Stripe Radar rates the payment's risk elevated."
    )
    assert (check.score, check.status) == (60, FraudCheckStatus.REVIEW)
    assert order.fraud_status == FraudStatus.REVIEW


def test_normal_risk_passes_and_a_billing_address_in_the_shipping_country_matches(
    market, stripe_live
):
    method = stripe_live.create_payment_method("pm_card_visa", country="US", billing_country="DE")
    order = place(market, method)
    assert Payment.objects.get(order_id=order.pk).billing_country == "DE"
    check = check_of(order)
    assert not check.rules.filter(tripped=True).exists()
    assert check.rules.get(rule="radar_risk").reason == "Stripe Radar's risk level: normal."
    assert check.rules.get(rule="country_mismatch").reason == (
        "Shipping to DE; the billing address is DE."
    )
    assert (check.score, order.fraud_status) == (0, FraudStatus.APPROVED)


def test_an_early_fraud_warning_puts_an_approved_order_back_in_review(market, stripe_live, client):
    order = place(market, "pm_card_visa")
    assert order.fraud_status == FraudStatus.APPROVED
    payment = Payment.objects.get(order_id=order.pk)
    stripe_live.create_early_fraud_warning(payment.reference, fraud_type="made_with_stolen_card")
    (hook,) = stripe_live.webhooks("radar.early_fraud_warning.created")
    for _ in range(3):  # redelivered: still one check
        assert deliver(client, hook) == 200
    order.refresh_from_db()
    assert (order.status, order.fraud_status) == (OrderStatus.PAID, FraudStatus.REVIEW)
    check = check_of(order)
    warning = check.rules.get(rule="early_fraud_warning")
    assert warning.tripped and "made with stolen card" in warning.reason
    assert list(check.events.values_list("kind", flat=True)) == ["scored", "rescored"]
    assert FraudCheck.objects.count() == 1

    # staff decide: the refund goes back to the card through Stripe
    with TestCase.captureOnCommitCallbacks(execute=True):
        order_fraud_review(check=check, approve=False, by=None, note="Issuer says stolen.")
    order.refresh_from_db()
    assert (order.status, order.fraud_status) == (OrderStatus.CANCELLED, FraudStatus.REJECTED)
    (refund,) = stripe_live.requests_to("POST", "/v1/refunds")
    assert refund.params["payment_intent"] == payment.reference
    assert Payment.objects.get(pk=payment.pk).amount_refunded == order.total


def test_a_rejected_order_stays_rejected_on_a_late_warning(market, stripe_live, client, settings):
    settings.FRAUD_WEIGHTS = {"country_mismatch": 100}
    order = place(market, "pm_card_visa")
    assert check_of(order).status == FraudCheckStatus.REJECTED
    payment = Payment.objects.get(order_id=order.pk)
    stripe_live.create_early_fraud_warning(payment.reference)
    (hook,) = stripe_live.webhooks("radar.early_fraud_warning.created")
    assert deliver(client, hook) == 200
    assert check_of(order).events.count() == 1
    assert Order.objects.get(pk=order.pk).fraud_status == FraudStatus.REJECTED
