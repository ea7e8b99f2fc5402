"""Bulk shipping from a CSV of tracking numbers (the portal's "ship from a file").

Columns: order_number, sku, quantity, warehouse (code), carrier, tracking_number, service
(optional). Rows with the same order, warehouse, carrier and tracking number are one parcel.
Every row is checked first: any error ships nothing and lists every error with its row number.
Then each parcel ships through `shipment_create`, keyed by its carrier and tracking number, so
uploading the same file again ships nothing twice. A parcel the service refuses (fraud hold,
units no longer allocated) is reported; the others ship. At most MAX_ROWS rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field

from fulfilment.carriers import carrier_get
from fulfilment.models import Shipment
from fulfilment.services.shipments import ShipLine, shipment_create
from inventory.models import Warehouse
from orders.models import SellerOrder
from sellers.models import Seller
from shop.core.errors import ServiceError, ValidationError
from shop.core.numbers import NumberError, integer_parse

MAX_ROWS = 500
COLUMNS = ("order_number", "sku", "quantity", "warehouse", "carrier", "tracking_number")


@dataclass
class BulkShipResult:
    shipped: list[str] = field(default_factory=list)  # tracking numbers
    already: list[str] = field(default_factory=list)  # shipped by an earlier upload
    refused: list[str] = field(default_factory=list)  # "<tracking>: why"
    errors: list[str] = field(default_factory=list)  # "row N: why" (then nothing shipped)


@dataclass
class _Parcel:
    seller_order: SellerOrder
    warehouse_id: int
    carrier: str
    tracking_number: str
    service: str
    lines: dict[int, int] = field(default_factory=dict)


def shipments_import_csv(*, seller: Seller, text: str, by=None) -> BulkShipResult:
    result = BulkShipResult()
    if "\x00" in text:
        raise ValidationError("The file is not a text CSV.")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(f"Missing column(s): {', '.join(missing)}.")
    rows = list(reader)
    if not rows:
        raise ValidationError("The file has no rows.")
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"At most {MAX_ROWS} rows per file; split it.")
    numbers = {str(r.get("order_number") or "").strip().upper() for r in rows}
    seller_orders = {
        so.order.number.upper(): so
        for so in SellerOrder.objects.filter(seller=seller, order__number__in=numbers)
        .select_related("order")
        .prefetch_related("lines")
    }
    warehouses = {w.code.lower(): w.pk for w in Warehouse.objects.filter(seller=seller)}
    parcels: dict[tuple[int, int, str, str], _Parcel] = {}
    for index, row in enumerate(rows, start=2):  # the header is row 1
        problems = []
        seller_order = seller_orders.get(str(row.get("order_number") or "").strip().upper())
        if seller_order is None:
            problems.append("no such order of yours")
        warehouse_id = warehouses.get(str(row.get("warehouse") or "").strip().lower())
        if warehouse_id is None:
            problems.append("no such warehouse code")
        try:
            quantity = integer_parse(row.get("quantity") or "", min_value=1, max_value=100_000)
        except NumberError as exc:
            problems.append(f"quantity: {exc}")
            quantity = 0
        try:
            carrier = carrier_get(str(row.get("carrier") or ""))
            if carrier.sells_labels:  # a file lists numbers already printed; labels are bought
                raise ValidationError(  # one parcel at a time in the portal or the API
                    f"{carrier.name} labels are bought on the order page, not from a file."
                )
            number = carrier.tracking_number_check(str(row.get("tracking_number") or ""))
        except ValidationError as exc:
            problems.append(exc.message)
            carrier, number = None, ""
        line_id = None
        if seller_order is not None:
            sku = str(row.get("sku") or "").strip()
            line_id = next((x.pk for x in seller_order.lines.all() if x.sku == sku), None)
            if line_id is None:
                problems.append(f"SKU {sku!r} is not in order {seller_order.order.number}")
        if problems:
            result.errors.append(f"row {index}: {'; '.join(problems)}")
            continue
        assert seller_order is not None and carrier is not None and warehouse_id is not None
        assert line_id is not None
        parcel = parcels.setdefault(
            (seller_order.pk, warehouse_id, carrier.code, number),
            _Parcel(
                seller_order=seller_order,
                warehouse_id=warehouse_id,
                carrier=carrier.code,
                tracking_number=number,
                service=str(row.get("service") or "")[:60],
            ),
        )
        parcel.lines[line_id] = parcel.lines.get(line_id, 0) + quantity
    if result.errors:
        return result
    for parcel in parcels.values():
        key = hashlib.sha256(f"csv:{parcel.carrier}:{parcel.tracking_number}".encode()).hexdigest()
        if Shipment.objects.filter(seller_order=parcel.seller_order, key=key).exists():
            result.already.append(parcel.tracking_number)
            continue
        try:
            shipment_create(
                seller_order=parcel.seller_order,
                warehouse_id=parcel.warehouse_id,
                lines=[ShipLine(line_id, qty) for line_id, qty in parcel.lines.items()],
                carrier=parcel.carrier,
                tracking_number=parcel.tracking_number,
                service=parcel.service,
                key=key,
                by=by,
            )
        except ServiceError as exc:
            result.refused.append(f"{parcel.tracking_number}: {exc.message}")
        else:
            result.shipped.append(parcel.tracking_number)
    return result
