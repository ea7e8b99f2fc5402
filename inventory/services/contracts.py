"""The inventory services' contracts: inputs, results and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from shop.core.errors import ErrorCode, ServiceError

# No single line may ask for more than this; bigger numbers are typing mistakes or attacks.
MAX_LINE_QUANTITY = 100_000


@dataclass(frozen=True)
class ReserveLine:
    variant_id: int
    quantity: int


@dataclass(frozen=True)
class AllocateLine:
    order_line_id: int
    variant_id: int
    quantity: int


@dataclass(frozen=True)
class ExpectedLine:
    """A line of an inbound shipment: units of a variant the seller expects to arrive."""

    variant_id: int
    quantity: int


@dataclass(frozen=True)
class Destination:
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    country: str = ""

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class WarehouseSplit:
    """Part of a line served from one warehouse."""

    warehouse_id: int
    stock_id: int
    quantity: int


@dataclass(frozen=True)
class ReservedLine:
    variant_id: int
    quantity: int
    splits: tuple[WarehouseSplit, ...]


@dataclass(frozen=True)
class ReservationResult:
    holder: str
    expires_at: datetime
    lines: tuple[ReservedLine, ...] = field(default_factory=tuple)

    def line_for(self, variant_id: int) -> ReservedLine:
        return next(line for line in self.lines if line.variant_id == variant_id)


class InsufficientStock(ServiceError):
    """Some lines cannot be served. `details` has one entry per short line:
    `{"variant_id", "sku", "requested", "available"}`."""

    code = ErrorCode.INSUFFICIENT_STOCK
    http_status = 409

    def __init__(self, shortages: list[dict[str, Any]], message: str | None = None) -> None:
        if message is None:
            parts = [
                f"{s['sku'] or s['variant_id']}: {s['requested']} requested, "
                f"{s['available']} available"
                for s in shortages
            ]
            message = "Not enough stock. " + "; ".join(parts) + "."
        super().__init__(message, details=shortages)
        self.shortages = shortages


class ReservationExpired(ServiceError):
    code = ErrorCode.RESERVATION_EXPIRED
    http_status = 409
