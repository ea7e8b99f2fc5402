"""Fulfilment writes. Import from here.

shipments.py: packing and shipping (per warehouse, partial), capture at shipment, fraud gate.
tracking.py: carrier news (beat polling, signed webhook), delivery.
returns.py: return requests, decisions, receipt with restock and refund.
status.py: order and seller-order statuses following shipments.
bulk.py: shipping from a CSV of tracking numbers.
labels.py: labels bought from EasyPost (once per reference, cost to the ledger), rate quotes.
cancel.py: cancelling unshipped units (the seller, a line) and unshipped seller orders (beat).
"""

from fulfilment.services.bulk import BulkShipResult, shipments_import_csv
from fulfilment.services.cancel import seller_order_line_cancel, seller_orders_cancel_unshipped
from fulfilment.services.labels import label_purchase, label_rates
from fulfilment.services.returns import (
    ReturnLineSpec,
    return_approve,
    return_receive,
    return_reject,
    return_request_create,
)
from fulfilment.services.shipments import (
    ShipLine,
    fulfilment_ready_check,
    seller_order_line_reroute,
    seller_order_pack,
    shipment_create,
)
from fulfilment.services.tracking import (
    shipment_tracking_apply,
    shipments_track,
    tracking_signature,
    tracking_webhook_receive,
)

__all__ = [
    "BulkShipResult",
    "ReturnLineSpec",
    "ShipLine",
    "fulfilment_ready_check",
    "label_purchase",
    "label_rates",
    "return_approve",
    "return_receive",
    "return_reject",
    "return_request_create",
    "seller_order_line_cancel",
    "seller_order_line_reroute",
    "seller_order_pack",
    "seller_orders_cancel_unshipped",
    "shipment_create",
    "shipment_tracking_apply",
    "shipments_import_csv",
    "shipments_track",
    "tracking_signature",
    "tracking_webhook_receive",
]
