"""Tracking: carrier news stored once per event, a shipment's status from its latest event, and
delivery recorded on the seller order (`SellerOrder.delivered_at`, which the return window and
payouts count from).

News comes two ways, both idempotent: the beat asks polling carriers (`shipments_track`), and
carriers post to the signed webhook (`tracking_webhook_receive`: HMAC-SHA256 over
"<timestamp>.<body>" with FULFILMENT_TRACKING_WEBHOOK_SECRET, timestamps older than
FULFILMENT_TRACKING_WEBHOOK_TOLERANCE_SECONDS refused, each event id stored once).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from fulfilment.carriers import CARRIERS, TrackingUpdate, carrier_get
from fulfilment.models import Shipment, ShipmentStatus, TrackingEvent
from fulfilment.services.status import seller_order_follow, units_outstanding
from orders.models import Order, SellerOrder
from shop.core.errors import NotFound, PermissionDenied, ServiceUnavailable, ValidationError
from shop.core.outbox import outbox_enqueue

logger = logging.getLogger(__name__)
ORDER_EMAIL_TASK = "orders.tasks.order_email_send_task"
# the shopper is told about these (shipped is told when the parcel leaves)
EMAILED = {
    ShipmentStatus.OUT_FOR_DELIVERY: "out_for_delivery",
    ShipmentStatus.DELIVERED: "delivered",
    ShipmentStatus.EXCEPTION: "delivery_exception",
}


def shipment_tracking_apply(*, shipment_id: int, updates: Sequence[TrackingUpdate]) -> Shipment:
    """Store the news (an event already stored is skipped), set the shipment's status to its
    latest event's, and on delivery set delivered_at here and on the seller order once all its
    parcels arrived. Running it again with the same news changes nothing."""
    with transaction.atomic():
        # the order of locks every fulfilment write takes: seller order, order, then its parts
        seller_order_id = Shipment.objects.values_list("seller_order_id", flat=True).get(
            pk=shipment_id
        )
        seller_order = SellerOrder.objects.select_for_update().get(pk=seller_order_id)
        order = Order.objects.select_for_update().get(pk=seller_order.order_id)
        shipment = Shipment.objects.select_for_update().get(pk=shipment_id)
        TrackingEvent.objects.bulk_create(
            [
                TrackingEvent(
                    shipment=shipment,
                    external_id=u.external_id[:100],
                    status=u.status,
                    description=u.description[:255],
                    location=u.location[:120],
                    occurred_at=u.occurred_at,
                )
                for u in updates
            ],
            ignore_conflicts=True,
        )
        latest = shipment.events.order_by("-occurred_at", "-id").first()
        if latest is None or latest.status == shipment.status:
            return shipment
        if shipment.status == ShipmentStatus.DELIVERED:
            return shipment  # delivered stays delivered: late news of the way there is history
        shipment.status = latest.status
        fields = ["status", "updated_at"]
        if latest.status == ShipmentStatus.DELIVERED:
            shipment.delivered_at = latest.occurred_at
            fields.append("delivered_at")
        shipment.save(update_fields=fields)
        seller_order_follow(
            order=order,
            seller_order=seller_order,
            reason=f"{shipment.get_status_display()}: {shipment.tracking_number}.",
        )
        if (
            latest.status == ShipmentStatus.DELIVERED
            and seller_order.delivered_at is None
            and not seller_order.shipments.exclude(status=ShipmentStatus.DELIVERED).exists()
            and not units_outstanding(seller_order=seller_order)
        ):
            SellerOrder.objects.filter(pk=seller_order.pk).update(delivered_at=latest.occurred_at)
        kind = EMAILED.get(ShipmentStatus(latest.status))
        if kind:
            outbox_enqueue(task=ORDER_EMAIL_TASK, kwargs={"order_id": order.pk, "kind": kind})
    return shipment


def shipments_track(*, now: datetime | None = None, limit: int = 200) -> int:
    """Beat: ask polling carriers about parcels not delivered yet (no lock held while asking).
    Returns how many shipments were asked about."""
    now = now or timezone.now()
    polling = [code for code, c in CARRIERS.items() if c.polls and c.available()]
    asked = 0
    for shipment in (
        Shipment.objects.filter(carrier__in=polling)
        .exclude(status=ShipmentStatus.DELIVERED)
        .select_related("label")
        .order_by("updated_at", "pk")[:limit]
    ):
        try:
            updates = CARRIERS[shipment.carrier].track(shipment=shipment, now=now)
        except (ValidationError, ServiceUnavailable) as exc:  # one parcel's carrier error
            logger.warning("Tracking %s failed: %s", shipment.pk, exc)
            asked += 1
            continue
        if updates:
            shipment_tracking_apply(shipment_id=shipment.pk, updates=updates)
        asked += 1
    return asked


def tracking_signature(*, body: bytes, timestamp: str, secret: str | None = None) -> str:
    key = (secret if secret is not None else settings.FULFILMENT_TRACKING_WEBHOOK_SECRET).encode()
    return hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def tracking_webhook_receive(*, body: bytes, timestamp: str, signature: str) -> Shipment:
    """A carrier's signed news: {"id", "carrier", "tracking_number", "status", "occurred_at",
    "description"?, "location"?}. A bad signature or an old timestamp is refused before anything
    is read; an event id already stored changes nothing (replays are harmless)."""
    if not settings.FULFILMENT_TRACKING_WEBHOOK_SECRET:
        raise PermissionDenied("Tracking webhooks are not configured.")
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError) as exc:
        raise PermissionDenied("Missing or malformed timestamp.") from exc
    if abs(time.time() - sent_at) > settings.FULFILMENT_TRACKING_WEBHOOK_TOLERANCE_SECONDS:
        raise PermissionDenied("The timestamp is too old or in the future.")
    expected = tracking_signature(body=body, timestamp=str(sent_at))
    if not hmac.compare_digest(expected, str(signature or "")):
        raise PermissionDenied("Bad signature.")
    try:
        data = json.loads(body)
        event_id = str(data["id"])
        carrier = carrier_get(data["carrier"])
        status = ShipmentStatus(data["status"])
        occurred_at = parse_datetime(str(data["occurred_at"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(
            "A tracking event needs id, carrier, tracking_number, status and occurred_at."
        ) from exc
    if occurred_at is None or timezone.is_naive(occurred_at) or not event_id:
        raise ValidationError("occurred_at must be an ISO 8601 time with its offset.")
    shipment = Shipment.objects.filter(
        carrier=carrier.code, tracking_number=str(data.get("tracking_number", "")).upper()
    ).first()
    if shipment is None:
        raise NotFound("No shipment with that tracking number.")
    update = TrackingUpdate(
        external_id=f"{carrier.code}:{event_id}",
        status=status,
        occurred_at=occurred_at,
        description=str(data.get("description", "")),
        location=str(data.get("location", "")),
    )
    return shipment_tracking_apply(shipment_id=shipment.pk, updates=[update])
