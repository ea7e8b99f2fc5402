"""Purchase orders: draft (editable), sent (an inventory inbound shipment holds what is still
expected, so it counts as incoming), partially received, received, cancelled.

Receiving books units through `inventory.services.inbound_shipment_receive` (ledger rows,
counters under the stock locks); a short receipt leaves the order partially received with a new
inbound shipment for the rest."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inventory.models import InboundShipment, Warehouse
from inventory.services import (
    ExpectedLine,
    inbound_shipment_cancel,
    inbound_shipment_create,
    inbound_shipment_receive,
)
from purchasing import locks
from purchasing.models import (
    DemandForecast,
    ForecastRun,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    PurchasingSettings,
    Supplier,
    SupplierItem,
)
from purchasing.policy import order_quantity_round
from sellers.models import Seller
from shop.core.errors import Conflict, NotFound, ValidationError
from shop.core.outbox import outbox_enqueue

OPEN_STATUSES = (
    PurchaseOrderStatus.DRAFT,
    PurchaseOrderStatus.SENT,
    PurchaseOrderStatus.PARTIALLY_RECEIVED,
)
MAX_PO_LINES = 200


@dataclass(frozen=True)
class OrderLineInput:
    variant_id: int
    quantity: int


def _items(supplier: Supplier, variant_ids: Sequence[int]) -> dict[int, SupplierItem]:
    items = {
        i.variant_id: i
        for i in SupplierItem.objects.filter(supplier=supplier, variant_id__in=variant_ids)
    }
    missing = sorted(set(variant_ids) - set(items))
    if missing:
        raise ValidationError(
            f"{supplier.name} does not sell variant(s) {missing}: add them to the supplier first.",
            fields={"lines": ["Every variant must be sold by the supplier."]},
        )
    return items


def _quantity_check(item: SupplierItem, quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 100_000:
        raise ValidationError(
            "Quantities must be whole numbers from 1 to 100000.",
            fields={"quantity": ["Enter 1 to 100000."]},
        )
    if quantity != order_quantity_round(
        quantity=quantity, min_order_quantity=item.min_order_quantity, case_pack=item.case_pack
    ):
        raise ValidationError(
            f"Order at least {item.min_order_quantity} and in whole cases of {item.case_pack} "
            f"(variant {item.variant_id}).",
            fields={
                "quantity": [
                    f"Minimum {item.min_order_quantity}, in multiples of {item.case_pack}."
                ]
            },
        )
    return quantity


def purchase_order_create(
    *,
    seller: Seller,
    supplier: Supplier,
    warehouse: Warehouse,
    lines: Sequence[OrderLineInput],
    note: str = "",
    from_suggestion: bool = False,
) -> PurchaseOrder:
    """A draft order to `supplier` for `warehouse`; quantities respect each item's MOQ and case
    pack, unit costs are the supplier's."""
    if supplier.seller_id != seller.pk or warehouse.seller_id != seller.pk:
        raise NotFound("No such supplier or warehouse.")
    if not lines:
        raise ValidationError("Add at least one line.", fields={"lines": ["Add a line."]})
    if len(lines) > MAX_PO_LINES:
        raise ValidationError(f"An order may have at most {MAX_PO_LINES} lines.")
    variant_ids = [line.variant_id for line in lines]
    if len(set(variant_ids)) != len(variant_ids):
        raise ValidationError("Each variant may appear only once in an order.")
    if len(note) > 500:
        raise ValidationError("The note is too long.", fields={"note": ["At most 500."]})
    items = _items(supplier, variant_ids)
    quantities = [_quantity_check(items[line.variant_id], line.quantity) for line in lines]
    with transaction.atomic():
        order = PurchaseOrder.objects.create(
            seller=seller,
            supplier=supplier,
            warehouse=warehouse,
            currency=supplier.currency,
            note=note,
            from_suggestion=from_suggestion,
        )
        PurchaseOrderLine.objects.bulk_create(
            PurchaseOrderLine(
                order=order,
                variant_id=line.variant_id,
                quantity=quantity,
                unit_cost=items[line.variant_id].cost_price,
            )
            for line, quantity in zip(lines, quantities, strict=True)
        )
    return order


def purchase_order_line_set(*, order: PurchaseOrder, variant_id: int, quantity: int) -> None:
    """Edit a draft: set a line's quantity (adding the line), 0 removes it."""
    with transaction.atomic():
        order = locks.purchase_order_lock(pk=order.pk)
        if order.status != PurchaseOrderStatus.DRAFT:
            raise Conflict("Only a draft purchase order can be edited.")
        if quantity == 0:
            PurchaseOrderLine.objects.filter(order=order, variant_id=variant_id).delete()
            return
        item = _items(order.supplier, [variant_id])[variant_id]
        PurchaseOrderLine.objects.update_or_create(
            order=order,
            variant_id=variant_id,
            defaults={"quantity": _quantity_check(item, quantity), "unit_cost": item.cost_price},
        )


def _inbound_for_open_lines(order: PurchaseOrder, actor) -> InboundShipment | None:
    open_lines = [
        ExpectedLine(variant_id=line.variant_id, quantity=line.open_quantity)
        for line in order.lines.order_by("pk")
        if line.open_quantity
    ]
    if not open_lines:
        return None
    return inbound_shipment_create(
        warehouse=order.warehouse,
        lines=open_lines,
        reference=order.number,
        expected_on=order.expected_on,
        actor=actor,
    )


def purchase_order_send(*, order: PurchaseOrder, actor=None) -> PurchaseOrder:
    """Draft -> sent: the lines become an inbound shipment (incoming stock) expected after the
    supplier's lead time, and the order is emailed to the supplier (PDF and CSV attached)."""
    with transaction.atomic():
        order = locks.purchase_order_lock(pk=order.pk)
        if order.status != PurchaseOrderStatus.DRAFT:
            raise Conflict(f"This purchase order is already {order.get_status_display().lower()}.")
        if not order.lines.exists():
            raise ValidationError("Add at least one line before sending.")
        order.expected_on = timezone.localdate() + datetime.timedelta(
            days=order.supplier.lead_time_days
        )
        order.inbound_shipment = _inbound_for_open_lines(order, actor)
        order.status = PurchaseOrderStatus.SENT
        order.sent_at = timezone.now()
        order.save(
            update_fields=["expected_on", "inbound_shipment", "status", "sent_at", "updated_at"]
        )
        if order.supplier.email:
            outbox_enqueue(
                task="purchasing.tasks.purchase_order_email_task", kwargs={"order_id": order.pk}
            )
    return order


def purchase_order_receive(
    *, order: PurchaseOrder, received: Mapping[int, int], actor=None
) -> PurchaseOrder:
    """Book what arrived: `received` maps purchase-order line ids to units (missing: 0). Units go
    on hand through the inventory inbound shipment; the order is received when every line is,
    else partially received with a new inbound shipment for the rest."""
    with transaction.atomic():
        order = locks.purchase_order_lock(pk=order.pk)
        if order.status not in (PurchaseOrderStatus.SENT, PurchaseOrderStatus.PARTIALLY_RECEIVED):
            raise Conflict(
                f"This purchase order is {order.get_status_display().lower()}; nothing was booked."
            )
        lines = {line.pk: line for line in order.lines.order_by("pk")}
        unknown = set(received) - set(lines)
        if unknown:
            raise ValidationError(f"Line(s) {sorted(unknown)} are not on this order.")
        shipment = order.inbound_shipment
        if shipment is None:
            raise Conflict("Nothing is expected on this order any more.")
        inbound_lines = {line.variant_id: line.pk for line in shipment.lines.all()}
        by_inbound = {}
        for line_id, units in received.items():
            if isinstance(units, bool) or not isinstance(units, int) or units < 0:
                raise ValidationError(
                    "Received quantities must be whole numbers of at least 0.",
                    fields={f"line_{line_id}": ["Enter 0 or more."]},
                )
            variant_id = lines[line_id].variant_id
            if units and variant_id not in inbound_lines:
                raise ValidationError(
                    f"Line {line_id} is fully received already.",
                    fields={f"line_{line_id}": ["Nothing more is expected on this line."]},
                )
            if units:
                by_inbound[inbound_lines[variant_id]] = units
        inbound_shipment_receive(shipment=shipment, received=by_inbound, actor=actor)
        for line_id, units in received.items():
            if units:
                line = lines[line_id]
                line.received_quantity += units
        PurchaseOrderLine.objects.bulk_update(lines.values(), ["received_quantity"])
        order.inbound_shipment = _inbound_for_open_lines(order, actor)
        order.status = (
            PurchaseOrderStatus.PARTIALLY_RECEIVED
            if order.inbound_shipment
            else PurchaseOrderStatus.RECEIVED
        )
        order.save(update_fields=["inbound_shipment", "status", "updated_at"])
    return order


def purchase_order_cancel(*, order: PurchaseOrder, actor=None) -> PurchaseOrder:
    """Nothing (more) is coming: the open inbound shipment is cancelled; stock is untouched."""
    with transaction.atomic():
        order = locks.purchase_order_lock(pk=order.pk)
        if order.status not in OPEN_STATUSES:
            raise Conflict(f"This purchase order is already {order.get_status_display().lower()}.")
        if order.inbound_shipment is not None:
            inbound_shipment_cancel(shipment=order.inbound_shipment, actor=actor)
        order.inbound_shipment = None
        order.status = PurchaseOrderStatus.CANCELLED
        order.save(update_fields=["inbound_shipment", "status", "updated_at"])
    return order


def _ordered_already(seller_ids) -> set[tuple[int, int]]:
    """(warehouse, variant) pairs on an open purchase order: not suggested twice."""
    return set(
        PurchaseOrderLine.objects.filter(
            order__seller_id__in=seller_ids, order__status__in=OPEN_STATUSES
        ).values_list("order__warehouse_id", "variant_id")
    )


def purchase_orders_draft_from_suggestions(*, run: ForecastRun) -> int:
    """Draft one purchase order per (supplier, warehouse) for the run's suggestions, for sellers
    with auto-draft on, skipping what an open order already covers; the seller is alerted by
    email. Returns the number of orders drafted."""
    found = DemandForecast.objects.filter(
        suggested_quantity__gt=0, supplier__isnull=False, run=run
    ).select_related("stock", "supplier")
    if run.seller_id is not None:
        found = found.filter(seller_id=run.seller_id)
    suggestions = list(found.order_by("pk"))
    seller_ids = {s.seller_id for s in suggestions}
    manual = set(
        PurchasingSettings.objects.filter(seller_id__in=seller_ids, auto_draft=False).values_list(
            "seller_id", flat=True
        )
    )
    covered = _ordered_already(seller_ids)
    groups: dict[tuple[int, int | None, int], list[DemandForecast]] = defaultdict(list)
    for s in suggestions:
        if s.seller_id in manual or (s.stock.warehouse_id, s.stock.variant_id) in covered:
            continue
        groups[(s.seller_id, s.supplier_id, s.stock.warehouse_id)].append(s)
    drafted_for: dict[int, list[int]] = defaultdict(list)
    for (seller_id, _supplier_id, warehouse_id), rows in groups.items():
        supplier = rows[0].supplier
        assert supplier is not None  # filtered above
        order = PurchaseOrder.objects.create(
            seller_id=seller_id,
            supplier=supplier,
            warehouse_id=warehouse_id,
            currency=supplier.currency,
            from_suggestion=True,
            note="Drafted from the reorder suggestions.",
        )
        items = _items(supplier, [r.stock.variant_id for r in rows])
        PurchaseOrderLine.objects.bulk_create(
            PurchaseOrderLine(
                order=order,
                variant_id=r.stock.variant_id,
                quantity=r.suggested_quantity,
                unit_cost=items[r.stock.variant_id].cost_price,
            )
            for r in rows
        )
        drafted_for[seller_id].append(order.pk)
    for seller_id, order_ids in drafted_for.items():
        outbox_enqueue(
            task="purchasing.tasks.reorder_alert_task",
            kwargs={"seller_id": seller_id, "order_ids": order_ids},
        )
    return sum(len(ids) for ids in drafted_for.values())


def purchase_order_from_suggestion(*, forecast: DemandForecast, actor=None) -> PurchaseOrder:
    """One click: the suggestion's quantity as a purchase order to its supplier, sent."""
    with transaction.atomic():
        # the suggestion's row lock makes a double click order once
        locked = DemandForecast.objects.select_for_update().filter(pk=forecast.pk).first()
        if locked is None or not locked.suggested_quantity or forecast.supplier is None:
            raise ValidationError("There is nothing to order for this item.")
        stock = forecast.stock
        if (stock.warehouse_id, stock.variant_id) in _ordered_already([forecast.seller_id]):
            raise Conflict("An open purchase order already covers this item.")
        order = purchase_order_create(
            seller=forecast.seller,
            supplier=forecast.supplier,
            warehouse=stock.warehouse,
            lines=[OrderLineInput(stock.variant_id, locked.suggested_quantity)],
            from_suggestion=True,
            note=forecast.reason[:500],
        )
        DemandForecast.objects.filter(pk=forecast.pk).update(suggested_quantity=0)
        return purchase_order_send(order=order, actor=actor)
