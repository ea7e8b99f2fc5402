"""Gateway webhooks: the signature is verified on the raw body, each event is stored once (its id
is unique), and its processing is written to the outbox in the same transaction. A redelivered
or concurrently delivered event finds its row and does nothing more; processing reads the
payment's state from the gateway (not from the event), so events arriving out of order leave
the truth in place.

What an event means for money (refunds made at the gateway, disputes, fraud warnings) is
recorded here (`webhook_money_apply`); what it means for orders (place, pay, cancel, hold) is
the orders app's, which runs the processing task.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from payments.gateways.base import from_minor
from payments.models import (
    Dispute,
    DisputeStatus,
    Payment,
    PaymentEvent,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from shop.core.errors import ServiceError
from shop.core.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

# orders owns what payment events do to orders (payments does not import orders)
PROCESS_TASK = "orders.tasks.payment_webhook_process_task"
LEDGER_REFUND_TASK = "ledger.tasks.ledger_refund_post_task"


class WebhookRejected(ServiceError):
    http_status = 400


def webhook_receive(*, gateway: str, payload: bytes, signature: str) -> WebhookEvent:
    """Verify and store one delivery; queue its processing unless it was stored before."""
    if gateway != "stripe":
        raise WebhookRejected(f"No webhooks for gateway {gateway!r}.")
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookRejected("Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET).")
    try:
        event = stripe.Webhook.construct_event(
            payload,
            signature,
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        )
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise WebhookRejected(f"Invalid webhook: {exc}") from exc
    data = event.to_dict()
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                gateway=gateway,
                event_id=str(data["id"])[:100],
                type=str(data.get("type", ""))[:100],
                payload=data,
            )
            outbox_enqueue(task=PROCESS_TASK, kwargs={"event_id": stored.pk})
    except IntegrityError:  # delivered before (or right now, concurrently): one effect only
        WebhookEvent.objects.filter(gateway=gateway, event_id=data["id"]).update(
            deliveries=F("deliveries") + 1
        )
        stored = WebhookEvent.objects.get(gateway=gateway, event_id=data["id"])
    return stored


def webhook_payment(*, event: WebhookEvent) -> Payment | None:
    """The payment an event is about, whatever its object (intent, charge, dispute, warning)."""
    obj: dict[str, Any] = event.payload.get("data", {}).get("object", {}) or {}
    if event.type.startswith("payment_intent."):
        reference = obj.get("id", "")
    else:
        reference = obj.get("payment_intent") or ""
        if isinstance(reference, dict):
            reference = reference.get("id", "")
    if not reference:
        charge = obj.get("charge")
        charge_id = charge.get("id") if isinstance(charge, dict) else charge
        if charge_id:
            return Payment.objects.filter(gateway=event.gateway, charge_reference=charge_id).first()
        return None
    return Payment.objects.filter(gateway=event.gateway, reference=reference).first()


def webhook_money_apply(*, event: WebhookEvent, payment: Payment) -> Dispute | None:
    """Record what a charge-side event means for money; returns the dispute it opened or
    changed, if any. Idempotent (a replay finds the rows it would write)."""
    obj: dict[str, Any] = event.payload.get("data", {}).get("object", {}) or {}
    if event.type == "charge.refunded":
        _refunds_made_at_gateway(payment=payment, charge=obj)
        return None
    if event.type.startswith("charge.dispute."):
        return _dispute_sync(payment=payment, dispute=obj, event_type=event.type)
    if event.type == "radar.early_fraud_warning.created":
        PaymentEvent.objects.get_or_create(
            payment=payment,
            kind="early_fraud_warning",
            created_at__gte=payment.created_at,  # the partition key: the payment's months only
            detail={"warning": obj.get("id", ""), "fraud_type": obj.get("fraud_type", "")},
        )
    return None


def _refunds_made_at_gateway(*, payment: Payment, charge: dict[str, Any]) -> None:
    """A refund made outside the shop (Stripe's dashboard) becomes a refund row, so the books
    still add up; our own refunds are already there."""
    refunded = from_minor(int(charge.get("amount_refunded") or 0), payment.currency)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        known = locked.refunds.exclude(status=RefundStatus.FAILED).exclude(reference="")
        ours = sum((r.amount for r in known), Decimal("0"))
        extra = refunded - ours
        if extra <= 0:
            return
        made = Refund.objects.create(
            payment=locked,
            order_id=locked.order_id or 0,
            amount=extra,
            currency=locked.currency,
            reason="Refunded at the payment gateway.",
            status=RefundStatus.SUCCEEDED,
            reference=f"gateway:{charge.get('id', '')}:{refunded}",
        )
        locked.amount_refunded = min(locked.amount_captured, locked.amount_refunded + extra)
        locked.save(update_fields=["amount_refunded", "updated_at"])
        PaymentEvent.objects.create(
            payment=locked, kind="refunded_at_gateway", status=locked.status, amount=extra
        )
        outbox_enqueue(task=LEDGER_REFUND_TASK, kwargs={"refund_id": made.pk})


_DISPUTE_STATUSES = {"won": DisputeStatus.WON, "lost": DisputeStatus.LOST}


def _dispute_sync(*, payment: Payment, dispute: dict[str, Any], event_type: str) -> Dispute:
    due = (dispute.get("evidence_details") or {}).get("due_by")
    values: dict[str, Any] = {
        "payment": payment,
        "amount": from_minor(int(dispute.get("amount") or 0), payment.currency),
        "currency": payment.currency,
        "reason": str(dispute.get("reason", ""))[:100],
        "gateway_status": str(dispute.get("status", ""))[:40],
        "status": _DISPUTE_STATUSES.get(dispute.get("status", ""), DisputeStatus.OPEN),
        "evidence_due_by": datetime.fromtimestamp(due, tz=UTC) if due else None,
    }
    if event_type == "charge.dispute.funds_withdrawn":
        values["funds_withdrawn"] = True
    elif event_type == "charge.dispute.funds_reinstated":
        values["funds_withdrawn"] = False
    with transaction.atomic():
        found, created = Dispute.objects.select_for_update().get_or_create(
            reference=str(dispute.get("id", ""))[:100], defaults=values
        )
        if not created:
            for name, value in values.items():
                setattr(found, name, value)
            found.save()
        PaymentEvent.objects.create(
            payment=payment,
            kind=event_type.removeprefix("charge."),
            status=payment.status,
            amount=found.amount,
            detail={"dispute": found.reference, "status": found.gateway_status},
        )
    return found


def webhook_mark_processed(*, event: WebhookEvent, error: str = "") -> None:
    from django.utils import timezone

    WebhookEvent.objects.filter(pk=event.pk).update(
        processed_at=None if error else timezone.now(), error=error[:2000]
    )
