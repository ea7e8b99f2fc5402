"""Carriers behind one interface: check a tracking number, and read a parcel's tracking.

- Manual carriers (DHL, UPS, FedEx, USPS, other): the seller types the tracking number, checked
  against the carrier's number format; news arrives through the signed tracking webhook.
- `sim`, the simulated carrier for development and tests: no network; its tracking advances with
  time (in transit, out for delivery, delivered, one step every
  FULFILMENT_SIMULATED_STEP_SECONDS after shipping), read by the `shipments_track_task` beat.

Rate quotes, labels and a real aggregator (EasyPost/Shippo) are not built yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from fulfilment.models import Shipment, ShipmentStatus
from shop.core.errors import ValidationError


@dataclass(frozen=True)
class TrackingUpdate:
    """One piece of carrier news; `external_id` makes it stored once however often it comes."""

    external_id: str
    status: str
    occurred_at: datetime
    description: str = ""
    location: str = ""


class Carrier:
    code: str = ""
    name: str = ""
    pattern: re.Pattern[str] = re.compile(r"^[A-Z0-9-]{4,40}$")
    example: str = ""
    polls: bool = False  # whether the beat asks it for news (else news comes by webhook)

    def tracking_number_check(self, number: str) -> str:
        """The number, normalised (upper case, no spaces), or a field error."""
        cleaned = re.sub(r"\s+", "", str(number or "")).upper()
        if not self.pattern.fullmatch(cleaned):
            hint = f" (for example {self.example})" if self.example else ""
            raise ValidationError(
                f"That is not a {self.name} tracking number{hint}.",
                fields={"tracking_number": [f"Enter a {self.name} tracking number{hint}."]},
            )
        return cleaned

    def track(self, *, shipment: Shipment, now: datetime) -> list[TrackingUpdate]:
        return []


class ManualCarrier(Carrier):
    def __init__(self, code: str, name: str, pattern: str, example: str) -> None:
        self.code, self.name, self.example = code, name, example
        self.pattern = re.compile(pattern)


class SimulatedCarrier(Carrier):
    code = "sim"
    name = "Simulated carrier"
    pattern = re.compile(r"^SIM[0-9A-Z]{6,20}$")
    example = "SIM000123"
    polls = True
    STEPS = (
        (ShipmentStatus.IN_TRANSIT, "Left the sender's depot", "Hub"),
        (ShipmentStatus.OUT_FOR_DELIVERY, "Out for delivery", "Local depot"),
        (ShipmentStatus.DELIVERED, "Delivered", "Front door"),
    )

    def track(self, *, shipment: Shipment, now: datetime) -> list[TrackingUpdate]:
        step = timedelta(seconds=settings.FULFILMENT_SIMULATED_STEP_SECONDS)
        updates = []
        for index, (status, description, location) in enumerate(self.STEPS, start=1):
            at = shipment.shipped_at + step * index
            if at > now:
                break
            updates.append(
                TrackingUpdate(
                    external_id=f"sim:{shipment.tracking_number}:{status}",
                    status=status,
                    occurred_at=at,
                    description=description,
                    location=location,
                )
            )
        return updates


CARRIERS: dict[str, Carrier] = {
    c.code: c
    for c in (
        ManualCarrier("dhl", "DHL", r"^(\d{10,11}|JJD\d{16,20}|[A-Z]{2}\d{9}DE)$", "1234567890"),
        ManualCarrier("ups", "UPS", r"^1Z[0-9A-Z]{16}$", "1Z999AA10123456784"),
        ManualCarrier("fedex", "FedEx", r"^(\d{12}|\d{15}|\d{20})$", "123456789012"),
        ManualCarrier(
            "usps", "USPS", r"^(9[2-5]\d{20}|\d{20}|[A-Z]{2}\d{9}US)$", "9400100000000000000000"
        ),
        ManualCarrier("other", "Other carrier", r"^[A-Z0-9-]{4,40}$", ""),
        SimulatedCarrier(),
    )
}


def carrier_get(code: str) -> Carrier:
    carrier = CARRIERS.get(str(code or "").lower())
    if carrier is None:
        raise ValidationError(
            "Choose a carrier.", fields={"carrier": [f"One of: {', '.join(CARRIERS)}."]}
        )
    return carrier


def carrier_choices() -> list[tuple[str, str]]:
    return [(code, carrier.name) for code, carrier in CARRIERS.items()]


def carrier_name(code: str) -> str:
    carrier = CARRIERS.get(code)
    return carrier.name if carrier else code
