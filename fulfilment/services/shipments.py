"""Packing and shipping a seller order: per warehouse, one or several lines, in part or whole.

Every step is idempotent and safe to retry: packing an order already packed does nothing, and a
shipment is unique per (seller order, key), so a double-submitted form or a replayed API call
returns the parcel the first one shipped. Concurrent shipments of the same line are serialised on
the seller order's row lock and the inventory service refuses units no longer allocated, so a line
ships once.

Fulfilment waits for the fraud check (`Order.fraud_status == approved`, checked here in
`fulfilment_ready_check`) and, with PAYMENTS_CAPTURE_LATER, takes the authorised money before the
first parcel leaves (the gateway is called before any lock is taken).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fulfilment.carriers import carrier_get
from fulfilment.models import Shipment, ShipmentLine
from fulfilment.services.labels import (
    address_of_order,
    address_of_warehouse,
    label_purchase,
    parcel_for,
)
from fulfilment.services.status import seller_order_follow, status_advance
from inventory.models import Allocation, Warehouse
from inventory.services import stock_reallocate, stock_ship
from orders.models import FraudStatus, Order, OrderEvent, OrderStatus, SellerOrder
from payments.gateways import IntentStatus
from payments.services.payments import payment_capture, payment_for_order
from shop.core.errors import Conflict, NotFound, ValidationError
from shop.core.outbox import outbox_enqueue

ORDER_EMAIL_TASK = "orders.tasks.order_email_send_task"
SHIPPABLE = (
    OrderStatus.PAID,
    OrderStatus.PROCESSING,
    OrderStatus.PARTIALLY_SHIPPED,
    # some units refunded (a line cancelled in part): the rest still ships
    OrderStatus.PARTIALLY_REFUNDED,
)
MAX_KEY = 64


@dataclass(frozen=True)
class ShipLine:
    order_line_id: int
    quantity: int


def fulfilment_ready_check(*, order: Order) -> None:
    """Nothing is packed or shipped before the fraud check approved the order."""
    if order.fraud_status != FraudStatus.APPROVED:
        # sellers see "on hold", never where the check stands or why (docs/fraud.md)
        raise Conflict(
            f"Order {order.number} is on hold: do not pack or ship it yet. "
            "It can be packed and shipped once the marketplace releases it."
        )


def seller_order_pack(*, seller_order: SellerOrder, by=None) -> SellerOrder:
    """The seller picked and is packing: paid becomes processing (the order follows). Again on
    an order already packed or shipped: nothing changes."""
    with transaction.atomic():
        locked = SellerOrder.objects.select_for_update().get(pk=seller_order.pk)
        order = Order.objects.select_for_update().get(pk=locked.order_id)
        fulfilment_ready_check(order=order)
        if locked.status == OrderStatus.PAID:
            status_advance(
                order=order,
                seller_order=locked,
                to=OrderStatus.PROCESSING,
                by=by,
                reason="Packing.",
            )
            status_advance(order=order, to=OrderStatus.PROCESSING, by=by, reason="Packing.")
        elif locked.status not in SHIPPABLE and locked.status not in (
            OrderStatus.SHIPPED,
            OrderStatus.DELIVERED,
        ):
            raise Conflict(f"A {locked.get_status_display().lower()} order cannot be packed.")
    return locked


def _capture_before_shipping(order: Order) -> None:
    """Capture-later payments are taken when the first parcel ships (no lock held: the gateway
    call may be slow; its idempotency key makes a repeat capture nothing)."""
    payment = payment_for_order(order_id=order.pk)
    if payment is None:
        raise Conflict(f"Order {order.number} has no payment; it cannot ship.")
    if payment.status == IntentStatus.AUTHORISED:
        payment = payment_capture(payment=payment)
    if payment.status != IntentStatus.CAPTURED:
        raise Conflict(
            f"The payment of order {order.number} is {payment.status}, not captured; "
            "it cannot ship."
        )


def _lines_parse(seller_order: SellerOrder, lines: Sequence[ShipLine]) -> list[ShipLine]:
    ours = set(seller_order.lines.values_list("pk", flat=True))
    wanted = [line for line in lines if line.quantity]
    if not wanted:
        raise ValidationError(
            "Choose at least one line and how many units to ship.",
            fields={"lines": ["Enter a quantity for at least one line."]},
        )
    seen: set[int] = set()
    for line in wanted:
        if line.order_line_id not in ours:
            raise NotFound("That line is not part of this order.")
        if line.order_line_id in seen:
            raise ValidationError("Each line may appear once in a shipment.")
        if (
            isinstance(line.quantity, bool)
            or not isinstance(line.quantity, int)
            or line.quantity < 0
        ):
            raise ValidationError(
                "Quantities are whole numbers of units.", fields={"lines": ["Enter whole units."]}
            )
        seen.add(line.order_line_id)
    return wanted


def _units_check(lines: Sequence[ShipLine], warehouse: Warehouse) -> None:
    waiting: dict[int, int] = {}
    for allocation in Allocation.objects.filter(
        order_line_id__in=[x.order_line_id for x in lines], stock__warehouse=warehouse
    ):
        waiting[allocation.order_line_id] = (
            waiting.get(allocation.order_line_id, 0) + allocation.outstanding
        )
    for line in lines:
        left = waiting.get(line.order_line_id, 0)
        if line.quantity > left:
            raise ValidationError(
                f"Only {left} unit(s) of that line wait to ship from {warehouse.name}.",
                fields={"lines": [f"At most {left} from {warehouse.name}."]},
            )


def shipment_create(
    *,
    seller_order: SellerOrder,
    warehouse_id: int,
    lines: Sequence[ShipLine],
    carrier: str,
    tracking_number: str,
    key: str,
    service: str = "",
    by=None,
) -> Shipment:
    """Ship units of the seller order's lines from one of its seller's warehouses (with carrier
    `easypost`, when configured, a label is bought instead of a typed number): stock leaves
    through `inventory.services.stock_ship` (allocated -> shipped, one ledger row per warehouse),
    the statuses follow the shipped quantities, and the shopper's email is queued."""
    key = str(key or "").strip()[:MAX_KEY]
    if not key:
        raise ValidationError("A shipment needs a request key.")
    existing = Shipment.objects.filter(seller_order_id=seller_order.pk, key=key).first()
    if existing is not None:
        return existing
    courier = carrier_get(carrier)
    # a label-selling carrier (EasyPost) gives the number when the label is bought
    number = "" if courier.sells_labels else courier.tracking_number_check(tracking_number)
    wanted = _lines_parse(seller_order, lines)
    warehouse = Warehouse.objects.filter(pk=warehouse_id, seller_id=seller_order.seller_id).first()
    if warehouse is None:
        raise NotFound("No such warehouse.")
    order = Order.objects.get(pk=seller_order.order_id)
    fulfilment_ready_check(order=order)
    if seller_order.status not in SHIPPABLE:
        raise Conflict(f"A {seller_order.get_status_display().lower()} order cannot ship.")
    _units_check(wanted, warehouse)  # before the money is taken; again under the lock
    _capture_before_shipping(order)
    label = None
    if courier.sells_labels:  # bought once per request key, its cost posted to the ledger
        label = label_purchase(
            reference=f"ship:{seller_order.pk}:{key}",
            seller_order=seller_order,
            parcel=parcel_for([(x.order_line_id, x.quantity) for x in wanted]),
            from_address=address_of_warehouse(warehouse, seller_order.seller.name),
            to_address=address_of_order(seller_order),
            service=service,
        )
        number, service = label.tracking_number, f"{label.carrier} {label.service}"
    with transaction.atomic():
        locked = SellerOrder.objects.select_for_update().get(pk=seller_order.pk)
        order = Order.objects.select_for_update().get(pk=locked.order_id)
        existing = Shipment.objects.filter(seller_order_id=locked.pk, key=key).first()
        if existing is not None:  # the same request, run twice at once: the first one won
            return existing
        fulfilment_ready_check(order=order)
        if locked.status not in SHIPPABLE:
            raise Conflict(f"A {locked.get_status_display().lower()} order cannot ship.")
        if Shipment.objects.filter(carrier=courier.code, tracking_number=number).exists():
            raise ValidationError(
                "That tracking number is already used by another shipment.",
                fields={"tracking_number": ["Already used; check the number."]},
            )
        shipment = Shipment.objects.create(
            seller_order=locked,
            warehouse=warehouse,
            key=key,
            carrier=courier.code,
            service=str(service or "")[:60],
            tracking_number=number,
            shipped_at=timezone.now(),
            shipped_by=by if by is not None and by.is_authenticated else None,
            label=label,
        )
        for line in wanted:
            stock_ship(
                order_line_id=line.order_line_id, quantity=line.quantity, warehouse_id=warehouse.pk
            )
            ShipmentLine.objects.create(
                shipment=shipment, order_line_id=line.order_line_id, quantity=line.quantity
            )
        seller_order_follow(
            order=order,
            seller_order=locked,
            by=by,
            reason=f"Shipped with {courier.name} {number}.",
        )
        outbox_enqueue(task=ORDER_EMAIL_TASK, kwargs={"order_id": order.pk, "kind": "shipped"})
    return shipment


def seller_order_line_reroute(
    *,
    seller_order: SellerOrder,
    order_line_id: int,
    from_warehouse_id: int,
    to_warehouse_id: int,
    quantity: int,
    by=None,
) -> SellerOrder:
    """Ship unshipped units of a line from another of the seller's warehouses: the allocation
    moves through `inventory.services.stock_reallocate` (both stock rows locked, the target's
    free units re-checked: no oversell), and the order's history notes it."""
    with transaction.atomic():
        locked = SellerOrder.objects.select_for_update().get(pk=seller_order.pk)
        order = Order.objects.select_for_update().get(pk=locked.order_id)
        if locked.status not in SHIPPABLE:
            raise Conflict(f"A {locked.get_status_display().lower()} order cannot be re-routed.")
        line = locked.lines.filter(pk=order_line_id).first()
        if line is None:
            raise NotFound("That line is not part of this order.")
        if not Warehouse.objects.filter(pk=to_warehouse_id, seller_id=locked.seller_id).exists():
            raise NotFound("No such warehouse.")
        stock_reallocate(
            order_line_id=line.pk,
            from_warehouse_id=from_warehouse_id,
            to_warehouse_id=to_warehouse_id,
            quantity=quantity,
        )
        target = Warehouse.objects.get(pk=to_warehouse_id)
        OrderEvent.objects.create(
            order=order,
            seller_order=locked,
            actor=by if by is not None and by.is_authenticated else None,
            from_status=locked.status,
            to_status=locked.status,
            reason=f"{quantity} × {line.sku} re-routed to {target.name}."[:255],
        )
    return locked
