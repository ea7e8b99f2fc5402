"""Inventory writes. Import from here: `from inventory.services import stock_reserve, ...`.

reservations.py: checkout holds, order allocations, shipping, returns, expiry.
stock.py: warehouses, receive/adjust/transfer/write-off, thresholds, backorder policy,
reconciliation.
inbound.py: inbound shipments (expected stock, "incoming"), received through stock.py.
strategies.py: which warehouses serve an order (pluggable).
"""

from inventory.services.contracts import (
    MAX_LINE_QUANTITY,
    AllocateLine,
    Destination,
    ExpectedLine,
    InsufficientStock,
    ReservationExpired,
    ReservationResult,
    ReservedLine,
    ReserveLine,
    WarehouseSplit,
)
from inventory.services.inbound import (
    MAX_INBOUND_LINES,
    inbound_shipment_cancel,
    inbound_shipment_create,
    inbound_shipment_receive,
)
from inventory.services.reservations import (
    stock_allocate_reserved,
    stock_deallocate,
    stock_deallocate_units,
    stock_reallocate,
    stock_release,
    stock_reservation_extend,
    stock_reservations_expire,
    stock_reserve,
    stock_return,
    stock_ship,
)
from inventory.services.stock import (
    StockDrift,
    stock_adjust,
    stock_backorder_sync,
    stock_count_set,
    stock_movements_carry_forward,
    stock_receive,
    stock_reconcile,
    stock_rows_create,
    stock_threshold_set,
    stock_transfer,
    stock_write_off,
    warehouse_create,
    warehouse_delete,
    warehouse_geocode,
    warehouse_update,
)
from inventory.services.strategies import STRATEGIES, Candidate, great_circle_km

__all__ = [
    "MAX_INBOUND_LINES",
    "MAX_LINE_QUANTITY",
    "STRATEGIES",
    "AllocateLine",
    "Candidate",
    "Destination",
    "ExpectedLine",
    "InsufficientStock",
    "ReservationExpired",
    "ReservationResult",
    "ReserveLine",
    "ReservedLine",
    "StockDrift",
    "WarehouseSplit",
    "great_circle_km",
    "inbound_shipment_cancel",
    "inbound_shipment_create",
    "inbound_shipment_receive",
    "stock_adjust",
    "stock_allocate_reserved",
    "stock_backorder_sync",
    "stock_count_set",
    "stock_deallocate",
    "stock_deallocate_units",
    "stock_movements_carry_forward",
    "stock_reallocate",
    "stock_receive",
    "stock_reconcile",
    "stock_release",
    "stock_reservation_extend",
    "stock_reservations_expire",
    "stock_reserve",
    "stock_return",
    "stock_rows_create",
    "stock_ship",
    "stock_threshold_set",
    "stock_transfer",
    "stock_write_off",
    "warehouse_create",
    "warehouse_delete",
    "warehouse_geocode",
    "warehouse_update",
]
