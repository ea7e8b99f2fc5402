"""Carriers behind one interface: check a tracking number, quote rates, buy a label, and read a
parcel's tracking.

- Manual carriers (DHL, UPS, FedEx, USPS, other): the seller types the tracking number, checked
  against the carrier's number format; news arrives through the signed tracking webhook.
- `sim`, the simulated carrier for development and tests: no network; its tracking advances with
  time (in transit, out for delivery, delivered, one step every
  FULFILMENT_SIMULATED_STEP_SECONDS after shipping), read by the `shipments_track_task` beat.

- `easypost`, a real aggregator through its official SDK (`easypost` 10.7), offered only when
  EASYPOST_API_KEY is set (EASYPOST_API_BASE points the SDK elsewhere: the local fake in tests).
  It quotes rates (`rates`: one EasyPost shipment per call, its rates), buys a label (`label_buy`:
  EasyPost sells one postage per shipment, so buying again returns the label already bought) and
  is polled for tracking by the beat (`track`: POST /v2/trackers, which EasyPost de-duplicates
  per tracking code). Its errors become a `ValidationError` naming EasyPost's message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime

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


@dataclass(frozen=True)
class Address:
    name: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Parcel:
    weight_grams: int


@dataclass(frozen=True)
class Rate:
    """A price a carrier quoted; `quote_id` is the carrier's quote (an EasyPost shipment) the rate
    belongs to, needed to buy it."""

    id: str
    carrier: str
    service: str
    amount: Decimal
    currency: str
    delivery_days: int | None = None
    quote_id: str = ""


@dataclass(frozen=True)
class Label:
    tracking_number: str
    label_url: str
    cost: Decimal
    currency: str
    carrier: str
    service: str
    quote_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


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

    sells_labels: bool = False

    def available(self) -> bool:
        return True

    def rates(
        self, *, parcel: Parcel, from_address: Address, to_address: Address, is_return: bool = False
    ) -> list[Rate]:
        raise ValidationError(f"{self.name} does not quote rates; type a tracking number.")

    def label_buy(self, *, rate: Rate) -> Label:
        raise ValidationError(f"{self.name} does not sell labels; type a tracking number.")

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


# EasyPost tracker statuses -> ours (pre_transit/unknown carry no news for the shopper)
EASYPOST_STATUSES = {
    "in_transit": ShipmentStatus.IN_TRANSIT,
    "out_for_delivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "delivered": ShipmentStatus.DELIVERED,
    "available_for_pickup": ShipmentStatus.OUT_FOR_DELIVERY,
    "return_to_sender": ShipmentStatus.EXCEPTION,
    "failure": ShipmentStatus.EXCEPTION,
    "error": ShipmentStatus.EXCEPTION,
    "cancelled": ShipmentStatus.EXCEPTION,
}


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError("EasyPost answered with a price that is not a number.") from exc


class EasyPostCarrier(Carrier):
    """EasyPost through its official SDK; each call builds a client from the settings (so a test
    or a deployment changing them is followed)."""

    code = "easypost"
    name = "EasyPost"
    pattern = re.compile(r"^[A-Z0-9]{6,40}$")
    example = "EZ1000000001"
    polls = True
    sells_labels = True

    def available(self) -> bool:
        return bool(settings.EASYPOST_API_KEY)

    def client(self):
        import easypost

        if not self.available():
            raise ValidationError("EasyPost is not configured (EASYPOST_API_KEY).")
        if settings.EASYPOST_API_BASE:
            return easypost.EasyPostClient(
                settings.EASYPOST_API_KEY, api_base=settings.EASYPOST_API_BASE.rstrip("/")
            )
        return easypost.EasyPostClient(settings.EASYPOST_API_KEY)

    @staticmethod
    def _refused(exc: Exception) -> ValidationError:
        message = str(getattr(exc, "message", "") or exc) or "no reason given"
        error = ValidationError(
            f"EasyPost refused: {message}",
            fields={"carrier": [f"EasyPost refused: {message}"]},
        )
        error.easypost_code = getattr(exc, "code", None)  # type: ignore[attr-defined]
        return error

    @staticmethod
    def _address(address: Address) -> dict[str, str]:
        return {
            "name": address.name,
            "street1": address.line1,
            "street2": address.line2,
            "city": address.city,
            "state": address.region,
            "zip": address.postal_code,
            "country": address.country,
            "phone": address.phone,
        }

    @staticmethod
    def _rate(rate: Any, quote_id: str) -> Rate:
        days = rate.get("delivery_days") if hasattr(rate, "get") else None
        return Rate(
            id=str(rate["id"]),
            carrier=str(rate["carrier"]),
            service=str(rate["service"]),
            amount=_money(rate["rate"]),
            currency=str(rate["currency"]).upper(),
            delivery_days=int(days) if days is not None else None,
            quote_id=quote_id,
        )

    def rates(
        self, *, parcel: Parcel, from_address: Address, to_address: Address, is_return: bool = False
    ) -> list[Rate]:
        """Create an EasyPost shipment (its rates come back with it), cheapest first."""
        from easypost.errors import EasyPostError

        ounces = max(round(parcel.weight_grams / 28.349523125, 1), 0.1)
        try:
            quote = self.client().shipment.create(
                to_address=self._address(to_address),
                from_address=self._address(from_address),
                parcel={"weight": ounces},
                is_return=is_return,
            )
        except EasyPostError as exc:
            raise self._refused(exc) from exc
        rates = [self._rate(rate, str(quote["id"])) for rate in quote.get("rates") or []]
        if not rates:
            messages = "; ".join(str(m.get("message", "")) for m in quote.get("messages") or [])
            raise ValidationError(
                f"EasyPost quoted no rates{': ' + messages if messages else ''}.",
                fields={"carrier": ["No rates for this parcel and address."]},
            )
        return sorted(rates, key=lambda r: (r.amount, r.carrier, r.service))

    def _label(self, shipment: Any) -> Label:
        rate = shipment.get("selected_rate")
        label = shipment.get("postage_label")
        if not rate or not label or not shipment.get("tracking_code"):
            raise ValidationError("EasyPost returned a shipment without its label.")
        return Label(
            tracking_number=str(shipment["tracking_code"]).upper(),
            label_url=str(label["label_url"]),
            cost=_money(rate["rate"]),
            currency=str(rate["currency"]).upper(),
            carrier=str(rate["carrier"]),
            service=str(rate["service"]),
            quote_id=str(shipment["id"]),
        )

    def label_buy(self, *, rate: Rate) -> Label:
        """Buy the rate's label. EasyPost sells one postage per shipment: a retry after a buy
        whose answer was lost is refused, and the label already bought is read instead."""
        from easypost.errors import EasyPostError

        client = self.client()
        try:
            bought = client.shipment.buy(rate.quote_id, rate={"id": rate.id})
        except EasyPostError as exc:
            if getattr(exc, "code", None) != "SHIPMENT.POSTAGE.EXISTS":
                raise self._refused(exc) from exc
            try:
                bought = client.shipment.retrieve(rate.quote_id)
            except EasyPostError as again:
                raise self._refused(again) from again
        return self._label(bought)

    def track(self, *, shipment: Shipment, now: datetime) -> list[TrackingUpdate]:
        from easypost.errors import EasyPostError

        try:
            tracker = self.client().tracker.create(
                tracking_code=shipment.tracking_number,
                carrier=shipment.label.carrier if shipment.label is not None else "",
            )
        except EasyPostError as exc:
            raise self._refused(exc) from exc
        updates = []
        for detail in tracker.get("tracking_details") or []:
            status = EASYPOST_STATUSES.get(str(detail.get("status") or ""))
            at = parse_datetime(str(detail.get("datetime") or ""))
            if status is None or at is None:
                continue
            place = detail.get("tracking_location") or {}
            location = ", ".join(
                str(place.get(k)) for k in ("city", "state", "country") if place.get(k)
            )
            updates.append(
                TrackingUpdate(
                    external_id=f"easypost:{shipment.tracking_number}:{at.isoformat()}:{status}",
                    status=status,
                    occurred_at=at,
                    description=str(detail.get("message") or ""),
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
        EasyPostCarrier(),
    )
}


def carrier_get(code: str) -> Carrier:
    carrier = CARRIERS.get(str(code or "").lower())
    if carrier is None or not carrier.available():
        raise ValidationError(
            "Choose a carrier.", fields={"carrier": [f"One of: {', '.join(CARRIERS)}."]}
        )
    return carrier


def carrier_choices() -> list[tuple[str, str]]:
    """Carriers a seller types a tracking number for (label sellers are picked apart)."""
    return [(code, carrier.name) for code, carrier in CARRIERS.items() if not carrier.sells_labels]


def label_carrier() -> Carrier | None:
    """The carrier that sells labels when it is configured (EasyPost with its key), else None."""
    carrier = CARRIERS["easypost"]
    return carrier if carrier.available() else None


def carrier_name(code: str) -> str:
    carrier = CARRIERS.get(code)
    return carrier.name if carrier else code
