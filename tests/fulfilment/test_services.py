"""Fulfilment services: each step run twice has one effect; stock, statuses, money and the
ledger follow what shipped and what came back."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from fulfilment.carriers import TrackingUpdate
from fulfilment.models import ReturnStatus, Shipment, ShipmentStatus, TrackingEvent
from fulfilment.services import (
    ReturnLineSpec,
    ShipLine,
    return_approve,
    return_receive,
    return_reject,
    return_request_create,
    seller_order_pack,
    shipment_create,
    shipment_tracking_apply,
    shipments_track,
)
from inventory.models import Stock
from inventory.services import stock_reconcile
from orders.models import FraudStatus, Order, OrderStatus
from payments.gateways import IntentStatus
from payments.models import Payment, Refund
from shop.core.errors import Conflict, NotFound, ValidationError
from shop.core.outbox import OutboxMessage
from tests.fulfilment.conftest import Placed, key

pytestmark = pytest.mark.django_db
S = OrderStatus


def ship_all_alpha(placed: Placed, carrier="sim", number="SIM000001") -> list[Shipment]:
    first = shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 2)],
        carrier=carrier,
        tracking_number=number,
        key=key(),
    )
    placed.alpha_order.refresh_from_db()
    second = shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a2.pk,
        lines=[ShipLine(placed.a2_line.pk, 1)],
        carrier=carrier,
        tracking_number=number + "9",
        key=key(),
    )
    placed.refresh()
    return [first, second]


def emails() -> list[str]:
    return [
        m.kwargs["kind"]
        for m in OutboxMessage.objects.filter(task="orders.tasks.order_email_send_task")
    ]


def test_nothing_is_packed_or_shipped_before_the_fraud_check_approves(market):
    placed = Placed(market, approve=False)
    with pytest.raises(Conflict, match="on hold"):
        seller_order_pack(seller_order=placed.alpha_order)
    with pytest.raises(Conflict, match="on hold"):
        shipment_create(
            seller_order=placed.alpha_order,
            warehouse_id=placed.w_a1.pk,
            lines=[ShipLine(placed.a1_line.pk, 1)],
            carrier="sim",
            tracking_number="SIM000001",
            key=key(),
        )
    Order.objects.filter(pk=placed.order.pk).update(fraud_status=FraudStatus.REVIEW)
    with pytest.raises(Conflict, match="on hold") as held:
        seller_order_pack(seller_order=placed.alpha_order)
    assert "review" not in str(held.value).lower()  # sellers never learn where the check stands
    assert not Shipment.objects.exists()
    assert Stock.objects.get(pk=placed.stock[market.a1.pk].pk).allocated == 2


def test_packing_twice_moves_once(placed):
    seller_order_pack(seller_order=placed.alpha_order)
    seller_order_pack(seller_order=placed.alpha_order)
    placed.refresh()
    assert placed.alpha_order.status == S.PROCESSING
    assert placed.order.status == S.PROCESSING
    assert placed.alpha_order.events.filter(to_status=S.PROCESSING).count() == 1


def test_partial_shipment_then_the_rest_moves_stock_and_statuses(placed, market):
    stock = Stock.objects.get(pk=placed.stock[market.a1.pk].pk)
    assert (stock.on_hand, stock.allocated) == (10, 2)
    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 1)],
        carrier="ups",
        tracking_number="1z999aa10123456784",
        key=key(),
    )
    placed.refresh()
    stock.refresh_from_db()
    assert (stock.on_hand, stock.allocated) == (9, 1)
    assert placed.alpha_order.status == S.PARTIALLY_SHIPPED
    assert placed.order.status == S.PARTIALLY_SHIPPED
    assert Shipment.objects.get().tracking_number == "1Z999AA10123456784"
    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 1)],
        carrier="sim",
        tracking_number="SIM000002",
        key=key(),
    )
    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a2.pk,
        lines=[ShipLine(placed.a2_line.pk, 1)],
        carrier="sim",
        tracking_number="SIM000003",
        key=key(),
    )
    placed.refresh()
    assert placed.alpha_order.status == S.SHIPPED
    # beta has not shipped: the order as a whole is partly shipped
    assert placed.order.status == S.PARTIALLY_SHIPPED
    assert emails().count("shipped") == 3
    assert stock_reconcile() == []


def test_the_same_request_ships_once(placed, market):
    same = key()
    kwargs = {
        "seller_order": placed.alpha_order,
        "warehouse_id": placed.w_a1.pk,
        "lines": [ShipLine(placed.a1_line.pk, 1)],
        "carrier": "sim",
        "tracking_number": "SIM000001",
        "key": same,
    }
    first = shipment_create(**kwargs)
    placed.alpha_order.refresh_from_db()
    again = shipment_create(**{**kwargs, "seller_order": placed.alpha_order})
    assert first.pk == again.pk
    assert Shipment.objects.count() == 1
    assert Stock.objects.get(pk=placed.stock[market.a1.pk].pk).on_hand == 9


def test_more_than_allocated_or_a_foreign_warehouse_or_line_is_refused(placed):
    base = {
        "seller_order": placed.alpha_order,
        "carrier": "sim",
        "tracking_number": "SIM000001",
        "key": key(),
    }
    with pytest.raises(ValidationError, match="Only 2 unit"):
        shipment_create(warehouse_id=placed.w_a1.pk, lines=[ShipLine(placed.a1_line.pk, 3)], **base)
    with pytest.raises(NotFound):  # beta's warehouse
        shipment_create(warehouse_id=placed.w_b1.pk, lines=[ShipLine(placed.a1_line.pk, 1)], **base)
    with pytest.raises(NotFound):  # beta's line
        shipment_create(warehouse_id=placed.w_a1.pk, lines=[ShipLine(placed.b1_line.pk, 1)], **base)
    with pytest.raises(ValidationError, match="UPS tracking number"):
        shipment_create(
            warehouse_id=placed.w_a1.pk,
            lines=[ShipLine(placed.a1_line.pk, 1)],
            **{**base, "carrier": "ups", "tracking_number": "12"},
        )
    assert not Shipment.objects.exists()
    placed.refresh()
    assert placed.alpha_order.status == S.PAID


@pytest.mark.django_db(transaction=True)
def test_concurrent_ship_requests_for_the_same_line_ship_it_once(market):
    placed = Placed(market)
    barrier = threading.Barrier(4)
    results: list[object] = []

    def ship(n: int) -> None:
        barrier.wait()
        try:
            results.append(
                shipment_create(
                    seller_order=placed.alpha_order,
                    warehouse_id=placed.w_a1.pk,
                    lines=[ShipLine(placed.a1_line.pk, 2)],
                    carrier="sim",
                    tracking_number=f"SIM00000{n}",
                    key=f"k{n}",
                )
            )
        except (ValidationError, Conflict) as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ship, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, Shipment) for r in results) == 1
    assert Shipment.objects.count() == 1
    stock = Stock.objects.get(pk=placed.stock[market.a1.pk].pk)
    assert (stock.on_hand, stock.allocated) == (8, 0)


def test_capture_later_takes_the_money_when_the_first_parcel_ships(market, settings):
    settings.PAYMENTS_CAPTURE_LATER = True
    placed = Placed(market)
    payment = Payment.objects.get(order_id=placed.order.pk)
    assert payment.status == IntentStatus.AUTHORISED and payment.amount_captured == 0
    shipment_create(
        seller_order=placed.beta_order,
        warehouse_id=placed.w_b1.pk,
        lines=[ShipLine(placed.b1_line.pk, 1)],
        carrier="sim",
        tracking_number="SIM000001",
        key=key(),
    )
    payment.refresh_from_db()
    assert payment.status == IntentStatus.CAPTURED
    assert payment.amount_captured == payment.amount


def test_tracking_news_is_stored_once_and_delivery_sets_delivered_at(placed, settings):
    settings.FULFILMENT_SIMULATED_STEP_SECONDS = 60
    shipments = ship_all_alpha(placed)
    later = timezone.now() + timedelta(minutes=2)
    assert shipments_track(now=later) == 2
    assert shipments_track(now=later) == 2  # again: nothing new
    assert TrackingEvent.objects.count() == 4
    assert {s.status for s in Shipment.objects.all()} == {ShipmentStatus.OUT_FOR_DELIVERY}
    placed.refresh()
    assert placed.alpha_order.delivered_at is None
    shipments_track(now=later + timedelta(minutes=5))
    placed.refresh()
    assert placed.alpha_order.status == S.DELIVERED
    assert placed.alpha_order.delivered_at == Shipment.objects.get(pk=shipments[1].pk).delivered_at
    assert placed.order.status == S.PARTIALLY_SHIPPED  # beta has not shipped
    assert emails().count("delivered") == 2
    # late or replayed news of the way there leaves delivered as it is
    shipment_tracking_apply(
        shipment_id=shipments[0].pk,
        updates=[TrackingUpdate("late-1", ShipmentStatus.IN_TRANSIT, later + timedelta(hours=1))],
    )
    assert Shipment.objects.get(pk=shipments[0].pk).status == ShipmentStatus.DELIVERED


def test_a_return_restocks_and_refunds_once_and_the_ledger_reconciles(placed, market, settings):
    settings.FULFILMENT_SIMULATED_STEP_SECONDS = 1
    ship_all_alpha(placed)
    shipments_track(now=timezone.now() + timedelta(minutes=1))
    placed.refresh()
    assert placed.alpha_order.status == S.DELIVERED
    request_key = key()
    request = return_request_create(
        order=placed.order,
        seller_order_id=placed.alpha_order.pk,
        lines=[ReturnLineSpec(placed.a1_line.pk, 1)],
        reason="Too small",
        key=request_key,
        by=placed.customer,
    )
    again = return_request_create(
        order=placed.order,
        seller_order_id=placed.alpha_order.pk,
        lines=[ReturnLineSpec(placed.a1_line.pk, 1)],
        reason="Too small",
        key=request_key,
    )
    assert again.pk == request.pk
    return_approve(return_request=request, instructions="Send it to our Berlin depot.")
    return_approve(return_request=request)
    stock = Stock.objects.get(pk=placed.stock[market.a1.pk].pk)
    assert stock.on_hand == 8
    return_receive(return_request=request, restock=True)
    return_receive(return_request=request, restock=True)
    request.refresh_from_db()
    assert request.status == ReturnStatus.RECEIVED
    stock.refresh_from_db()
    assert stock.on_hand == 9
    refund = Refund.objects.get()
    assert refund.amount == placed.a1_line.total / 2
    placed.refresh()
    assert placed.alpha_order.status == S.PARTIALLY_REFUNDED
    assert stock_reconcile() == []
    assert "return" in emails() and "refunded" in emails()


def test_a_written_off_return_does_not_restock(placed, market, settings):
    settings.FULFILMENT_SIMULATED_STEP_SECONDS = 1
    ship_all_alpha(placed)
    request = return_request_create(
        order=placed.order,
        seller_order_id=placed.alpha_order.pk,
        lines=[ReturnLineSpec(placed.a2_line.pk, 1)],
        reason="Broken",
        key=key(),
    )
    return_approve(return_request=request)
    return_receive(return_request=request, restock={placed.a2_line.pk: False})
    assert Stock.objects.get(pk=placed.stock[market.a2.pk].pk).on_hand == 9
    assert stock_reconcile() == []


def test_returns_never_exceed_shipped_units_and_respect_the_window(placed, market):
    with pytest.raises(Conflict, match="Nothing of this order has shipped"):
        return_request_create(
            order=placed.order,
            seller_order_id=placed.alpha_order.pk,
            lines=[ReturnLineSpec(placed.a1_line.pk, 1)],
            reason="x",
            key=key(),
        )
    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 1)],
        carrier="sim",
        tracking_number="SIM000001",
        key=key(),
    )

    def ask(quantity: int, **extra):
        return return_request_create(
            order=placed.order,
            seller_order_id=placed.alpha_order.pk,
            lines=[ReturnLineSpec(placed.a1_line.pk, quantity)],
            reason="x",
            key=key(),
            **extra,
        )

    with pytest.raises(ValidationError, match="At most 1"):
        ask(2)
    first = ask(1)
    with pytest.raises(ValidationError, match="At most 0"):
        ask(1)
    return_reject(return_request=first, reason="Worn")
    second = ask(1)  # a rejected return frees its units
    with pytest.raises(Conflict, match="Other returns"):
        return_approve(return_request=first, override=True)
    return_reject(return_request=second, reason="Worn too")
    assert return_approve(return_request=first, override=True).status == ReturnStatus.APPROVED
    with pytest.raises(Conflict, match="return window"):
        ask(1, now=timezone.now() + timedelta(days=31))


def test_another_customers_seller_order_is_not_found(placed, market):
    other = Placed(market)
    with pytest.raises(NotFound):
        return_request_create(
            order=placed.order,
            seller_order_id=other.alpha_order.pk,
            lines=[ReturnLineSpec(other.a1_line.pk, 1)],
            reason="x",
            key=key(),
        )


def test_the_scorecards_valid_tracking_rate_counts_parcels_the_carrier_confirmed(placed, settings):
    from sellers.scorecard import seller_scorecard

    settings.FULFILMENT_SIMULATED_STEP_SECONDS = 60
    ship_all_alpha(placed)
    thirty, _ = seller_scorecard(seller_id=placed.market.alpha.pk)
    assert (thirty.metric("valid_tracking").count, thirty.metric("valid_tracking").out_of) == (
        0,
        1,
    )
    shipments_track(now=timezone.now() + timedelta(minutes=2))
    thirty, _ = seller_scorecard(seller_id=placed.market.alpha.pk)
    assert thirty.metric("valid_tracking").rate == 100


def test_an_order_not_shipped_in_time_is_cancelled_refunded_and_released_once(
    placed, market, settings
):
    from fulfilment.services import seller_orders_cancel_unshipped

    settings.FULFILMENT_CANCEL_UNSHIPPED_AFTER_DAYS = 10
    ship_all_alpha(placed)  # alpha shipped; beta did not
    assert seller_orders_cancel_unshipped() == 0  # not due yet
    later = timezone.now() + timedelta(days=11)
    assert seller_orders_cancel_unshipped(now=later) == 1
    assert seller_orders_cancel_unshipped(now=later) == 0  # run again: nothing more
    placed.refresh()
    assert placed.beta_order.status == S.REFUNDED
    assert placed.alpha_order.status == S.SHIPPED
    stock = Stock.objects.get(pk=placed.stock[market.b1.pk].pk)
    assert (stock.on_hand, stock.allocated) == (10, 0)
    refund = Refund.objects.get()
    assert refund.amount == placed.beta_order.total
    assert "refunded" in emails()
    assert stock_reconcile() == []


def test_a_seller_cancels_unshipped_units_of_a_line(placed, market):
    from fulfilment.services import seller_order_line_cancel

    with pytest.raises(ValidationError, match="At most 2"):
        seller_order_line_cancel(
            seller_order=placed.alpha_order, order_line_id=placed.a1_line.pk, quantity=3
        )
    seller_order_line_cancel(
        seller_order=placed.alpha_order, order_line_id=placed.a1_line.pk, quantity=1
    )
    stock = Stock.objects.get(pk=placed.stock[market.a1.pk].pk)
    assert (stock.on_hand, stock.allocated) == (10, 1)
    with pytest.raises(NotFound):
        seller_order_line_cancel(
            seller_order=placed.alpha_order, order_line_id=placed.b1_line.pk, quantity=1
        )


def test_rerouting_moves_the_allocation_without_overselling(placed, market):
    from fulfilment.services import seller_order_line_reroute
    from inventory.services import InsufficientStock
    from tests.factories.inventory import stock_with

    other = stock_with(variant=market.a1, warehouse=placed.w_a2, on_hand=1)
    with pytest.raises(InsufficientStock):
        seller_order_line_reroute(
            seller_order=placed.alpha_order,
            order_line_id=placed.a1_line.pk,
            from_warehouse_id=placed.w_a1.pk,
            to_warehouse_id=placed.w_a2.pk,
            quantity=2,
        )
    with pytest.raises(NotFound):  # beta's warehouse
        seller_order_line_reroute(
            seller_order=placed.alpha_order,
            order_line_id=placed.a1_line.pk,
            from_warehouse_id=placed.w_a1.pk,
            to_warehouse_id=placed.w_b1.pk,
            quantity=1,
        )
    seller_order_line_reroute(
        seller_order=placed.alpha_order,
        order_line_id=placed.a1_line.pk,
        from_warehouse_id=placed.w_a1.pk,
        to_warehouse_id=placed.w_a2.pk,
        quantity=1,
    )
    source = Stock.objects.get(pk=placed.stock[market.a1.pk].pk)
    other.refresh_from_db()
    assert (source.allocated, other.allocated, other.available) == (1, 1, 0)
    # the parcel from the new warehouse ships the moved unit
    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a2.pk,
        lines=[ShipLine(placed.a1_line.pk, 1)],
        carrier="sim",
        tracking_number="SIM000009",
        key=key(),
    )
    other.refresh_from_db()
    assert (other.on_hand, other.allocated) == (0, 0)
    assert stock_reconcile() == []
    assert placed.alpha_order.events.filter(reason__contains="re-routed").exists()


def test_the_fulfilment_emails_render_parcels_and_returns(placed, mailoutbox):
    from orders.emails import order_email_send

    ship_all_alpha(placed)
    request = return_request_create(
        order=placed.order,
        seller_order_id=placed.alpha_order.pk,
        lines=[ReturnLineSpec(placed.a1_line.pk, 1)],
        reason="Too small",
        key=key(),
    )
    return_approve(return_request=request, instructions="Use the prepaid label")
    for kind in ("shipped", "out_for_delivery", "delivered", "delivery_exception", "return"):
        order_email_send(order_id=placed.order.pk, kind=kind)
    assert len(mailoutbox) == 5
    shipped, *_, returned = mailoutbox
    assert "on its way" in shipped.subject and "SIM000001" in shipped.body
    assert "SIM000001" in shipped.alternatives[0][0]
    assert "Approved: send it back (Use the prepaid label)" in returned.body


@pytest.mark.django_db(transaction=True)
def test_concurrent_return_requests_never_exceed_the_shipped_units(market):
    placed = Placed(market)
    ship_all_alpha(placed)  # 2 units of a1 shipped
    barrier = threading.Barrier(4)
    results: list[object] = []

    def ask(n: int) -> None:
        barrier.wait()
        try:
            results.append(
                return_request_create(
                    order=placed.order,
                    seller_order_id=placed.alpha_order.pk,
                    lines=[ReturnLineSpec(placed.a1_line.pk, 1)],
                    reason="race",
                    key=f"r{n}",
                )
            )
        except (ValidationError, Conflict) as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    from fulfilment.models import ReturnRequest

    assert sum(isinstance(r, ReturnRequest) for r in results) == 2
    assert ReturnRequest.objects.count() == 2


def test_after_cancelling_part_of_a_line_the_rest_still_ships_and_nothing_is_captured_early(
    market, settings
):
    from fulfilment.services import seller_order_line_cancel

    settings.PAYMENTS_CAPTURE_LATER = True
    placed = Placed(market)
    seller_order_line_cancel(
        seller_order=placed.alpha_order, order_line_id=placed.a1_line.pk, quantity=1
    )
    placed.refresh()
    assert placed.alpha_order.status == S.PARTIALLY_REFUNDED
    payment = Payment.objects.get(order_id=placed.order.pk)
    with pytest.raises(ValidationError, match="Only 1 unit"):
        shipment_create(
            seller_order=placed.alpha_order,
            warehouse_id=placed.w_a1.pk,
            lines=[ShipLine(placed.a1_line.pk, 2)],
            carrier="sim",
            tracking_number="SIM000001",
            key=key(),
        )
    payment.refresh_from_db()
    assert payment.status == IntentStatus.AUTHORISED  # a refused parcel takes no money
    shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 1)],
        carrier="sim",
        tracking_number="SIM000001",
        key=key(),
    )
    payment.refresh_from_db()
    assert payment.status == IntentStatus.CAPTURED
    assert payment.amount_captured == payment.amount - placed.a1_line.total / 2
    assert stock_reconcile() == []
