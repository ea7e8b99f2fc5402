"""What leaves the database after placement and cancellation goes through the outbox: a broker
outage at commit never undoes a paid order, and every payment void is a retried task."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from inventory.models import Reservation, Stock
from orders.models import Order, OrderStatus
from orders.services import order_cancel, order_place
from orders.services.placement import (
    ORDER_EMAIL_TASK,
    ORDER_FRAUD_CHECK_TASK,
    PAYMENT_RELEASE_UNUSED_TASK,
    PAYMENT_VOID_TASK,
)
from orders.services.transitions import order_transition
from payments.gateways import IntentStatus
from payments.models import Payment
from payments.tasks import payment_release_unused_task, payment_void_task
from shop.core.errors import ServiceError
from shop.core.outbox import OutboxMessage, outbox_relay
from tests.factories import UserFactory
from tests.orders.test_api import client_for

pytestmark = pytest.mark.django_db


def outbox_tasks() -> list[str]:
    return list(OutboxMessage.objects.order_by("pk").values_list("task", flat=True))


def test_broker_down_at_commit_leaves_the_order_paid_and_its_email_queued(
    market, broker, django_capture_on_commit_callbacks
):
    user = UserFactory()
    checkout = market.ready_checkout(user=user)
    OutboxMessage.objects.all().delete()  # the catalog's own search refreshes
    broker.stop()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).post(
            f"/api/v1/checkouts/{checkout.token}/place/",
            {"payment_token": "tok_visa"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k1",
        )
    assert response.status_code == 201, response.content
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID
    # the email and the fraud check wait in the outbox; nothing asks to release the payment
    assert outbox_tasks() == [ORDER_EMAIL_TASK, ORDER_FRAUD_CHECK_TASK]
    for waiting in OutboxMessage.objects.all():
        assert waiting.sent_at is None and waiting.last_error

    broker.start()  # restarted empty: both are still there to publish
    OutboxMessage.objects.update(available_at=timezone.now())
    assert outbox_relay().sent == 2
    # CELERY_TASK_ROUTES: mails have their own queue, the fraud check goes with the money
    (email,) = broker.queued("email")
    (check,) = broker.queued("money")
    assert (email["headers"]["task"], check["headers"]["task"]) == (
        ORDER_EMAIL_TASK,
        ORDER_FRAUD_CHECK_TASK,
    )
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def test_a_failed_placement_queues_the_release_of_its_payment(market):
    checkout = market.ready_checkout(lines=[(market.a1, 3)])
    Reservation.objects.all().delete()
    Stock.objects.filter(pk=market.stocks[market.a1.pk].pk).update(reserved=0, allocated=9)
    OutboxMessage.objects.all().delete()
    with pytest.raises(ServiceError):
        order_place(checkout=checkout, payment_token="tok_visa")
    assert Order.objects.count() == 0
    assert outbox_tasks() == [PAYMENT_RELEASE_UNUSED_TASK]
    payment = Payment.objects.get()
    assert OutboxMessage.objects.get().kwargs == {"payment_id": payment.pk}
    # captured at once (no capture at shipment): released means refunded in full
    assert payment_release_unused_task.apply(kwargs={"payment_id": payment.pk}).get()
    payment.refresh_from_db()
    assert payment.amount_refunded == payment.amount_captured == payment.amount


def test_the_release_never_touches_a_payment_that_funds_a_placed_order(market):
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    payment = Payment.objects.get(order_id=order.pk)
    assert payment_release_unused_task.apply(kwargs={"payment_id": payment.pk}).get() == "kept"
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (IntentStatus.CAPTURED, 0)


def test_cancel_writes_the_void_and_the_email_with_the_cancellation(market, settings):
    settings.PAYMENTS_CAPTURE_LATER = True  # authorised at placement, nothing taken yet
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    payment = Payment.objects.get(order_id=order.pk)
    OutboxMessage.objects.all().delete()
    order_cancel(order=order, reason="Changed my mind")
    assert outbox_tasks() == [PAYMENT_VOID_TASK, ORDER_EMAIL_TASK]
    assert OutboxMessage.objects.first().kwargs == {"payment_id": payment.pk}
    assert payment_void_task.apply(kwargs={"payment_id": payment.pk}).get() == "canceled"


def test_a_refused_cancel_queues_nothing(market):
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    seller_order = order.seller_orders.first()
    order_transition(order=order, seller_order=seller_order, to=OrderStatus.PROCESSING)
    order_transition(order=order, seller_order=seller_order, to=OrderStatus.SHIPPED)
    OutboxMessage.objects.all().delete()
    with pytest.raises(Exception, match="shipped"):
        order_cancel(order=order)
    assert outbox_tasks() == []


def test_a_hung_broker_delays_placement_by_seconds_not_minutes(
    market, broker, django_capture_on_commit_callbacks
):
    """A Redis that stops answering (SIGSTOP) without closing its socket: the publish after the
    commit gives up after the broker timeout and the relay takes the row later."""
    user = UserFactory()
    checkout = market.ready_checkout(user=user)
    OutboxMessage.objects.all().delete()
    broker.freeze()
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).post(
            f"/api/v1/checkouts/{checkout.token}/place/",
            {"payment_token": "tok_visa"},
            format="json",
        )
    elapsed = time.monotonic() - started
    broker.thaw()
    assert response.status_code == 201
    assert Order.objects.get().status == OrderStatus.PAID
    assert not OutboxMessage.objects.filter(sent_at__isnull=False).exists()
    # the settings bound it (CELERY_BROKER_TIMEOUT_SECONDS): generous for a loaded CI machine
    assert elapsed < 15, f"placement waited {elapsed:.1f} s on a hung broker"
