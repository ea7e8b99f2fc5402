"""Inbound shipments: stock a seller expects at one of its warehouses. Open shipments are the
"incoming" column of the stock table; receiving one books what arrived through `stock_receive`
(ledger rows included) and closes it."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

from django.db import transaction
from django.utils import timezone

from catalog.models import ProductVariant
from inventory import locks
from inventory.models import (
    InboundShipment,
    InboundShipmentLine,
    InboundStatus,
    Stock,
    StockMovement,
    Warehouse,
)
from inventory.services.common import id_validate, quantity_validate
from inventory.services.contracts import MAX_LINE_QUANTITY, ExpectedLine
from inventory.services.stock import stock_receive, stock_rows_create
from shop.core.errors import Conflict, NotFound, ValidationError

MAX_INBOUND_LINES = 200


def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def inbound_shipment_create(
    *,
    warehouse: Warehouse,
    lines: Sequence[ExpectedLine],
    reference: str = "",
    expected_on: datetime.date | None = None,
    actor=None,
) -> InboundShipment:
    """Expect `lines` at `warehouse`. Every variant must belong to the warehouse's seller and
    appear once. The stock rows are created now (empty) so the stock table shows the incoming
    units before anything arrives."""
    if not lines:
        raise ValidationError(
            "Add at least one line.", fields={"lines": ["Add at least one SKU and quantity."]}
        )
    if len(lines) > MAX_INBOUND_LINES:
        raise ValidationError(f"A shipment may have at most {MAX_INBOUND_LINES} lines.")
    if len(reference) > 100:
        raise ValidationError(
            "The reference is too long.", fields={"reference": ["Use at most 100 characters."]}
        )
    for line in lines:
        id_validate(line.variant_id, field="variant")
        quantity_validate(line.quantity)
    variant_ids = [line.variant_id for line in lines]
    if len(set(variant_ids)) != len(variant_ids):
        raise ValidationError("Each variant may appear only once in a shipment.")
    variants = {
        v.pk: v
        for v in ProductVariant.objects.filter(
            pk__in=variant_ids, product__seller_id=warehouse.seller_id
        ).select_related("product")
    }
    missing = sorted(set(variant_ids) - set(variants))
    if missing:
        raise NotFound(f"No such product variant(s) in this shop: {missing}.")
    with transaction.atomic():
        shipment = InboundShipment.objects.create(
            warehouse=warehouse,
            reference=reference.strip(),
            expected_on=expected_on,
            created_by=_actor(actor),
        )
        InboundShipmentLine.objects.bulk_create(
            InboundShipmentLine(
                shipment=shipment, variant_id=line.variant_id, expected_quantity=line.quantity
            )
            for line in lines
        )
        stock_rows_create(pairs=[(warehouse, variants[pk]) for pk in variant_ids])
    return shipment


def _received_validate(
    lines: list[InboundShipmentLine], received: Mapping[int, int]
) -> dict[int, int]:
    unknown = set(received) - {line.pk for line in lines}
    if unknown:
        raise ValidationError(f"Line(s) {sorted(unknown)} are not on this shipment.")
    quantities = {}
    for line in lines:
        value = received.get(line.pk, 0)
        field = f"line_{line.pk}"
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(
                "Received quantities must be whole numbers of at least 0.",
                fields={field: ["Enter 0 or more."]},
            )
        if value > MAX_LINE_QUANTITY:
            raise ValidationError(
                f"At most {MAX_LINE_QUANTITY} units per line.",
                fields={field: [f"Enter at most {MAX_LINE_QUANTITY}."]},
            )
        quantities[line.pk] = value
    if not any(quantities.values()):
        raise ValidationError(
            "Nothing was entered as received. Enter the units that arrived, or cancel the "
            "shipment if nothing is coming."
        )
    return quantities


def inbound_shipment_receive(
    *, shipment: InboundShipment, received: Mapping[int, int], actor=None
) -> list[StockMovement]:
    """Book what arrived: `received` maps line ids to units (a missing line is 0; more than
    expected is accepted, suppliers over-deliver). Each non-zero line goes through
    `stock_receive` (one `receive` ledger row, reference `inbound:<id>`), then the shipment is
    closed, even when short. The shipment is locked first, so a second receipt is refused."""
    with transaction.atomic():
        shipment = locks.inbound_shipment_lock(pk=shipment.pk)
        if shipment.status != InboundStatus.OPEN:
            raise Conflict(
                f"This shipment is already {shipment.get_status_display().lower()}; nothing "
                "was booked."
            )
        lines = list(shipment.lines.select_related("variant__product").order_by("pk"))
        quantities = _received_validate(lines, received)
        # Take every stock row this receipt touches in one pk-ordered lock before the
        # per-line receives re-lock them one by one (already held: no deadlock window).
        stock_ids = Stock.objects.filter(
            warehouse=shipment.warehouse, variant_id__in=[line.variant_id for line in lines]
        ).values_list("pk", flat=True)
        list(locks.stocks_lock(stock_ids=list(stock_ids)))
        movements = []
        for line in lines:
            line.received_quantity = quantities[line.pk]
            if line.received_quantity:
                movements.append(
                    stock_receive(
                        warehouse=shipment.warehouse,
                        variant=line.variant,
                        quantity=line.received_quantity,
                        actor=actor,
                        reason=f"Inbound shipment {shipment.pk}",
                        reference=f"inbound:{shipment.pk}",
                    )
                )
        InboundShipmentLine.objects.bulk_update(lines, ["received_quantity"])
        _close(shipment, status=InboundStatus.RECEIVED, actor=actor)
    return movements


def inbound_shipment_cancel(*, shipment: InboundShipment, actor=None) -> InboundShipment:
    """Nothing (more) is coming: the shipment stops counting as incoming. Stock is untouched."""
    with transaction.atomic():
        shipment = locks.inbound_shipment_lock(pk=shipment.pk)
        if shipment.status != InboundStatus.OPEN:
            raise Conflict(f"This shipment is already {shipment.get_status_display().lower()}.")
        _close(shipment, status=InboundStatus.CANCELLED, actor=actor)
    return shipment


def _close(shipment: InboundShipment, *, status: InboundStatus, actor) -> None:
    shipment.status = status
    shipment.closed_at = timezone.now()
    shipment.closed_by = _actor(actor)
    shipment.save(update_fields=["status", "closed_at", "closed_by", "updated_at"])
