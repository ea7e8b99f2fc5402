"""Every paid order is scored before a seller may ship it: the check runs from the outbox when an
order is paid (placement, or a pending payment settling later), once; approve releases it,
review holds it for staff (approve or reject with a note in the admin), reject cancels it,
refunds the payment and releases the stock. Sellers see "On hold", never why; shoppers see
nothing of it."""

from __future__ import annotations

import pytest
from django.test import TestCase
from django.urls import reverse

from inventory.models import Stock
from orders.models import FraudStatus, Order, OrderStatus
from orders.services import order_place
from orders.services.fraud import order_fraud_check, order_fraud_facts, order_fraud_review
from orders.services.payments import RefundRequest, order_payment_settle, order_refund
from orders.services.placement import ORDER_FRAUD_CHECK_TASK
from orders.tasks import order_fraud_check_task
from payments.gateways.test import TestGateway
from payments.models import FraudCheck, FraudCheckStatus, FraudOutcome, Payment
from payments.services.fraud import fraud_facts
from sellers.models import MemberRole
from shop.core.errors import ValidationError
from shop.core.outbox import OutboxMessage
from tests.factories import SellerMemberFactory, UserFactory
from tests.orders.test_api import client_for

pytestmark = pytest.mark.django_db

IP = "198.51.100.7"


def place(market, *, user=None, token="tok_visa", lines=None, client_ip=None) -> Order:
    """Place an order and run what its commit starts (the fraud check among it)."""
    checkout = market.ready_checkout(user=user, lines=lines or [(market.a2, 1)])
    with TestCase.captureOnCommitCallbacks(execute=True):
        order = order_place(checkout=checkout, payment_token=token, client_ip=client_ip)
    return Order.objects.get(pk=order.pk)


def tripped(check: FraudCheck) -> set[str]:
    return set(check.rules.filter(tripped=True).values_list("rule", flat=True))


@pytest.fixture
def review_weights(settings):
    """Shipping to DE on the test gateway's US card alone puts an order in review."""
    settings.FRAUD_WEIGHTS = {"country_mismatch": 50}


@pytest.fixture
def staff_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


def test_a_paid_order_waits_unchecked_until_its_task_runs_once(market):
    checkout = market.ready_checkout(lines=[(market.a2, 1)])
    order = order_place(checkout=checkout, payment_token="tok_visa")  # commit hooks not run
    assert Order.objects.get(pk=order.pk).fraud_status == FraudStatus.PENDING
    (queued,) = OutboxMessage.objects.filter(task=ORDER_FRAUD_CHECK_TASK)
    assert queued.kwargs == {"order_id": order.pk}

    assert order_fraud_check_task.apply(kwargs=queued.kwargs).get() == "approved"
    assert order_fraud_check_task.apply(kwargs=queued.kwargs).get() == "approved"  # redelivered
    check = FraudCheck.objects.get()
    assert check.events.count() == 1 and check.rules.count() == 9
    assert Order.objects.get(pk=order.pk).fraud_status == FraudStatus.APPROVED


def test_approve_records_every_rules_reason_and_weight(market, celery_eager):
    order = place(market)
    check = FraudCheck.objects.get(order_id=order.pk)
    assert (check.status, check.outcome, check.score) == ("approved", FraudOutcome.APPROVE, 20)
    assert order.fraud_status == FraudStatus.APPROVED
    mismatch = check.rules.get(rule="country_mismatch")
    assert mismatch.tripped and mismatch.weight == 20
    assert mismatch.reason == "Shipping to DE; the card's issuing country is US."
    assert check.rules.get(rule="velocity_customer").reason.startswith("0 other paid orders")
    assert check.payment == Payment.objects.get(order_id=order.pk)


def test_velocity_and_history_are_counted_from_earlier_paid_orders(market, celery_eager):
    user = UserFactory()
    for _ in range(3):
        place(market, user=user, client_ip=IP)
    fourth = place(market, user=user, client_ip=IP)
    check = FraudCheck.objects.get(order_id=fourth.pk)
    # the customer's and the card's 3 earlier orders trip (at 3); the address's do not (at 5)
    assert tripped(check) == {"velocity_customer", "velocity_card", "country_mismatch"}
    assert check.rules.get(rule="velocity_ip").reason.startswith(f"3 other paid orders from {IP}")
    assert (check.score, check.status) == (80, FraudCheckStatus.REVIEW)
    assert fourth.fraud_status == FraudStatus.REVIEW
    # the history is what the customer paid for earlier orders; a similar amount does not trip
    assert not check.rules.get(rule="amount_above_history").tripped
    earlier = Order.objects.filter(user=user).exclude(pk=fourth.pk).order_by("pk")
    facts = fraud_facts(
        order=order_fraud_facts(order=Order.objects.select_related("user").get(pk=fourth.pk)),
        payment=Payment.objects.get(order_id=fourth.pk),
    )
    assert facts.previous_amounts == tuple(o.total for o in earlier)
    assert facts.order.account_created_at == user.date_joined
    assert (facts.orders_by_customer, facts.orders_by_ip, facts.orders_by_card) == (3, 3, 3)


def test_an_order_five_times_the_customers_usual_is_held(market, celery_eager):
    user = UserFactory()
    usual = [place(market, user=user) for _ in range(2)]
    big = place(market, user=user, lines=[(market.b1, 5)])
    assert big.total >= 5 * sum(o.total for o in usual) / 2
    check = FraudCheck.objects.get(order_id=big.pk)
    assert tripped(check) == {"amount_above_history", "country_mismatch"}
    assert big.fraud_status == FraudStatus.REVIEW
    # another customer's history is not this one's
    stranger = place(market, lines=[(market.b1, 4)])
    assert "amount_above_history" not in tripped(FraudCheck.objects.get(order_id=stranger.pk))


def test_declined_attempts_before_paying_count(market, celery_eager):
    checkout = market.ready_checkout(lines=[(market.a2, 1)])
    for _ in range(3):
        with pytest.raises(Exception, match="declined"):
            order_place(checkout=checkout, payment_token="tok_decline")
        checkout.refresh_from_db()
    with TestCase.captureOnCommitCallbacks(execute=True):
        order = order_place(checkout=checkout, payment_token="tok_visa")
    check = FraudCheck.objects.get(order_id=order.pk)
    assert "failed_attempts" in tripped(check)
    assert check.rules.get(rule="failed_attempts").reason.startswith("3 declined")
    assert check.status == FraudCheckStatus.REVIEW  # 30 + 20


def test_rejected_by_the_rules_is_cancelled_refunded_and_restocked(market, celery_eager, settings):
    settings.FRAUD_WEIGHTS = {"country_mismatch": 100}
    order = place(market, lines=[(market.a1, 2), (market.b1, 1)])
    assert (order.status, order.fraud_status) == (OrderStatus.CANCELLED, FraudStatus.REJECTED)
    assert FraudCheck.objects.get(order_id=order.pk).status == FraudCheckStatus.REJECTED
    payment = Payment.objects.get(order_id=order.pk)
    assert payment.amount_refunded == payment.amount_captured == order.total
    for variant in (market.a1, market.b1):
        stock = Stock.objects.get(pk=market.stocks[variant.pk].pk)
        assert (stock.on_hand, stock.allocated, stock.reserved) == (10, 0, 0)


def test_a_pending_payment_that_settles_later_is_scored_then(market, celery_eager, review_weights):
    checkout = market.ready_checkout(lines=[(market.a2, 1)])
    with TestCase.captureOnCommitCallbacks(execute=True):
        order = order_place(checkout=checkout, payment_token="tok_pending")
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert not FraudCheck.objects.exists()
    assert not OutboxMessage.objects.filter(task=ORDER_FRAUD_CHECK_TASK).exists()
    payment = Payment.objects.get(order_id=order.pk)
    TestGateway().settle(reference=payment.reference, succeed=True)  # the bank settles it
    with TestCase.captureOnCommitCallbacks(execute=True):
        order_payment_settle(payment_id=payment.pk)
    order.refresh_from_db()
    assert (order.status, order.fraud_status) == (OrderStatus.PAID, FraudStatus.REVIEW)
    assert FraudCheck.objects.get(order_id=order.pk).status == FraudCheckStatus.REVIEW


# --- the review queue -----------------------------------------------------------------------


def test_the_queue_lists_orders_in_review_and_shows_their_reasons(
    market, celery_eager, review_weights, staff_client, settings
):
    held = place(market)
    settings.FRAUD_WEIGHTS = {}
    place(market)  # approved: not in the queue
    check = FraudCheck.objects.get(order_id=held.pk)
    queue = staff_client.get(reverse("admin:payments_fraudcheck_changelist")).content.decode()
    assert f"order {held.pk}" in queue and queue.count("Approve or reject") == 1
    everything = staff_client.get(reverse("admin:payments_fraudcheck_changelist") + "?status=all")
    assert everything.content.decode().count('class="field-score"') == 2
    order_page = staff_client.get(reverse("admin:orders_order_change", args=[held.pk]))
    assert f"score {check.score}, review" in order_page.content.decode()
    page = staff_client.get(reverse("admin:payments_fraudcheck_decide", args=[check.pk]))
    assert page.status_code == 200
    assert "Shipping to DE; the card&#x27;s issuing country is US." in page.content.decode()


def test_staff_approve_with_a_note_releases_the_order(
    market, celery_eager, review_weights, staff_client
):
    order = place(market)
    check = FraudCheck.objects.get(order_id=order.pk)
    url = reverse("admin:payments_fraudcheck_decide", args=[check.pk])
    response = staff_client.post(url, {"note": "Called the customer.", "decision": "Approve"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.fraud_status) == (OrderStatus.PAID, FraudStatus.APPROVED)
    check.refresh_from_db()
    assert (check.status, check.reviewed_by) == (FraudCheckStatus.APPROVED, staff_client.staff)
    decided = check.events.last()
    assert (decided.kind, decided.note, decided.actor) == (
        "approved",
        "Called the customer.",
        staff_client.staff,
    )
    # decided once: a second decision is refused
    again = staff_client.post(url, {"note": "Oops.", "decision": "Reject"}, follow=True)
    assert "decided already" in again.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_staff_reject_cancels_refunds_and_releases_stock(
    market, celery_eager, review_weights, staff_client, django_capture_on_commit_callbacks
):
    order = place(market, lines=[(market.a1, 2)])
    assert Stock.objects.get(pk=market.stocks[market.a1.pk].pk).allocated == 2
    check = FraudCheck.objects.get(order_id=order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:payments_fraudcheck_decide", args=[check.pk]),
            {"note": "Stolen card, confirmed by the bank.", "decision": "Reject"},
        )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.fraud_status) == (OrderStatus.CANCELLED, FraudStatus.REJECTED)
    payment = Payment.objects.get(order_id=order.pk)
    assert payment.amount_refunded == payment.amount_captured == order.total
    stock = Stock.objects.get(pk=market.stocks[market.a1.pk].pk)
    assert (stock.allocated, stock.reserved, stock.on_hand) == (0, 0, 10)
    assert check.events.last().note == "Stolen card, confirmed by the bank."


def test_a_decision_without_a_note_or_a_choice_changes_nothing(
    market, celery_eager, review_weights, staff_client
):
    order = place(market)
    check = FraudCheck.objects.get(order_id=order.pk)
    url = reverse("admin:payments_fraudcheck_decide", args=[check.pk])
    assert staff_client.post(url, {"note": "", "decision": "Reject"}).status_code == 200
    assert staff_client.post(url, {"note": "Why not.", "decision": "Maybe"}).status_code == 200
    with pytest.raises(ValidationError, match="note"):
        order_fraud_review(check=check, approve=False, by=None, note="   ")
    order.refresh_from_db()
    assert (order.status, order.fraud_status) == (OrderStatus.PAID, FraudStatus.REVIEW)
    assert FraudCheck.objects.get(pk=check.pk).status == FraudCheckStatus.REVIEW


def test_staff_who_may_only_look_cannot_decide(market, celery_eager, review_weights, client):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_fraudcheck"))
    client.force_login(viewer)
    order = place(market)
    check = FraudCheck.objects.get(order_id=order.pk)
    url = reverse("admin:payments_fraudcheck_decide", args=[check.pk])
    assert client.get(reverse("admin:payments_fraudcheck_changelist")).status_code == 200
    assert client.post(url, {"note": "Fine.", "decision": "Approve"}).status_code == 403
    assert Order.objects.get(pk=order.pk).fraud_status == FraudStatus.REVIEW


def test_rejecting_an_order_refunded_in_part_refunds_the_rest(
    market, celery_eager, review_weights, django_capture_on_commit_callbacks
):
    order = place(market, lines=[(market.a1, 2), (market.b1, 1)])
    seller_order = order.seller_orders.get(seller=market.alpha)
    line = seller_order.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        order_refund(seller_order=seller_order, lines=[RefundRequest(line.pk, 1)])
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PARTIALLY_REFUNDED
    check = FraudCheck.objects.get(order_id=order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        order_fraud_review(check=check, approve=False, by=None, note="Chargeback ring.")
    order.refresh_from_db()
    assert (order.status, order.fraud_status) == (OrderStatus.REFUNDED, FraudStatus.REJECTED)
    payment = Payment.objects.get(order_id=order.pk)
    assert payment.amount_refunded == payment.amount_captured == order.total
    assert Stock.objects.get(pk=market.stocks[market.a1.pk].pk).allocated == 0


# --- what sellers and shoppers see ------------------------------------------------------------


def test_the_seller_sees_on_hold_without_reasons(market, celery_eager, review_weights, client):
    held = place(market)
    owner = SellerMemberFactory(seller=market.alpha, role=MemberRole.OWNER)
    client.force_login(owner.user)
    page = client.get(reverse("portal:home")).content.decode()
    assert held.number in page and "On hold" in page
    check = FraudCheck.objects.get(order_id=held.pk)
    for secret in ("country", "score", "fraud", "review"):
        assert secret not in page.split('id="ship-heading"')[1].split("</section>")[0].lower()

    assert "still checking the order" in page

    order_fraud_review(check=check, approve=True, by=None, note="Fine.")
    response = client.get(reverse("portal:home"))
    page = response.content.decode()
    assert held.number in page and "On hold" not in page
    assert response.context["to_ship_counts"]["on_hold"] == 0


def test_the_shopper_sees_nothing_of_the_check(market, celery_eager, review_weights):
    user = UserFactory()
    order = place(market, user=user)
    assert order.fraud_status == FraudStatus.REVIEW
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    page = browser.get(reverse("orders:detail", args=[order.number])).content.decode().lower()
    # ("Review this product" links are the reviews feature, not the check)
    assert "on hold" not in page and "fraud" not in page and "under review" not in page
    api = client_for(user).get(f"/api/v1/orders/{order.number}/").content.decode().lower()
    assert "fraud" not in api and "hold" not in api


def test_a_cancelled_order_is_not_checked(market):
    checkout = market.ready_checkout(lines=[(market.a2, 1)])
    order = order_place(checkout=checkout, payment_token="tok_visa")
    from orders.services import order_cancel

    order_cancel(order=order, reason="Changed my mind.")
    assert order_fraud_check(order_id=order.pk) is None
    assert not FraudCheck.objects.exists()
