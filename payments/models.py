"""Money records: payments (one row per attempt, with an append-only event log), refunds,
disputes, the gateway webhooks received, and the built-in test gateway's intents.

Orders are referred to by plain ids (`checkout_id`, `order_id`, `seller_order_id`,
`order_line_id`), as inventory does: payments sits below orders (orders orchestrates placement,
refunds and webhooks' effects on orders; this app knows gateways and money)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from payments.gateways.base import IntentStatus
from shop.core.models import BaseModel
from shop.core.money import money_field


class PaymentStatus(models.TextChoices):
    """Where a payment stands (payments.gateways.IntentStatus, as stored)."""

    NEEDS_METHOD = IntentStatus.NEEDS_METHOD.value, "Waiting for a payment method"
    REQUIRES_ACTION = IntentStatus.REQUIRES_ACTION.value, "Waiting for the shopper's bank"
    PROCESSING = IntentStatus.PROCESSING.value, "Processing"
    AUTHORISED = IntentStatus.AUTHORISED.value, "Authorised"
    CAPTURED = IntentStatus.CAPTURED.value, "Captured"
    CANCELED = IntentStatus.CANCELED.value, "Voided"


class Payment(BaseModel):
    """One attempt to pay for a checkout: an intent at a gateway. A checkout may have several
    (a declined card, then another); the order records the one that paid."""

    checkout_id = models.BigIntegerField(db_index=True)
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    attempt = models.PositiveSmallIntegerField()
    gateway = models.CharField(max_length=20)
    reference = models.CharField(max_length=100, blank=True, help_text="The gateway's intent id.")
    status = models.CharField(max_length=20, choices=PaymentStatus.choices)
    amount = money_field()
    currency = models.CharField(max_length=3)
    capture_later = models.BooleanField(default=False)
    amount_captured = money_field(default=Decimal("0"))
    amount_refunded = money_field(default=Decimal("0"))
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    # who paid, for fraud checks (velocity per customer, address, card)
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    email = models.EmailField(blank=True, db_index=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_country = models.CharField(max_length=2, blank=True)
    card_fingerprint = models.CharField(max_length=100, blank=True, db_index=True)
    # the country of the billing address the shopper gave, when the gateway has one
    billing_country = models.CharField(max_length=2, blank=True)
    risk_level = models.CharField(max_length=20, blank=True)
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    charge_reference = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkout_id", "attempt"], name="payments_payment_checkout_attempt"
            ),
            models.UniqueConstraint(
                fields=["gateway", "reference"],
                condition=~Q(reference=""),
                name="payments_payment_reference",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payments_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=F("amount_captured")),
                name="payments_payment_refunded_le_captured",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="payments_payment_open")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.reference or '(new)'} {self.amount} {self.currency}"

    @property
    def refundable(self) -> Decimal:
        return self.amount_captured - self.amount_refunded


class PaymentEvent(models.Model):
    """What happened to a payment, in order, never edited: created, confirmed, authorised,
    captured, failed, voided, refunded, a webhook's news."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    status = models.CharField(max_length=20, blank=True)
    amount = money_field(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.kind}"


class WebhookEvent(models.Model):
    """A gateway's webhook, stored once (its id is unique) before anything is done with it."""

    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="payments_webhook_once")
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.type} {self.event_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Failed"


class Refund(BaseModel):
    """Money given back on a payment: for lines of one seller order and/or its shipping. Booked
    (pending) under the payment's row lock, so concurrent refunds can never give back more than
    was captured; the gateway is called after the commit."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    order_id = models.BigIntegerField(db_index=True)
    seller_order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    amount = money_field()
    shipping_amount = money_field(default=Decimal("0"))
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    reference = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_refund_positive"),
            models.CheckConstraint(
                condition=Q(shipping_amount__gte=0) & Q(shipping_amount__lte=F("amount")),
                name="payments_refund_shipping_within",
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} {self.currency} of payment {self.payment_id}"


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    order_line_id = models.BigIntegerField(db_index=True)
    quantity = models.PositiveIntegerField()
    amount = money_field()
    restock = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="payments_refundline_qty")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x line {self.order_line_id}"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Dispute(BaseModel):
    """A chargeback on a payment. While open it freezes the payout of the seller order it
    concerns; its outcome posts to that seller's ledger."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    reference = models.CharField(max_length=100, unique=True)
    seller_order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    amount = money_field()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=100, blank=True)
    gateway_status = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    funds_withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"dispute {self.reference} ({self.status})"


# --- fraud checks (payments.services.fraud; docs/fraud.md) ----------------------------------------


class FraudOutcome(models.TextChoices):
    """What the rules say: the score against the thresholds in settings."""

    APPROVE = "approve", "Approve"
    REVIEW = "review", "Review"
    REJECT = "reject", "Reject"


class FraudCheckStatus(models.TextChoices):
    """Where a check stands: decided by the rules, or waiting for staff (the review queue)."""

    REVIEW = "review", "Waiting for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class FraudCheck(BaseModel):
    """The fraud check of one paid order: its score, what the rules said, every rule's reason
    and weight (`rules`), and where it stands (`status`; staff decide those in review). The
    order's own `fraud_status` follows it, set by orders in the same transaction."""

    order_id = models.BigIntegerField(unique=True)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="fraud_checks"
    )
    score = models.IntegerField()
    outcome = models.CharField(max_length=10, choices=FraudOutcome.choices)
    status = models.CharField(max_length=10, choices=FraudCheckStatus.choices, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"fraud check of order {self.order_id}: {self.score} ({self.status})"


class FraudRuleResult(models.Model):
    """One rule's verdict in a check: whether it tripped, the weight it added, and why."""

    fraud_check = models.ForeignKey(FraudCheck, on_delete=models.CASCADE, related_name="rules")
    rule = models.CharField(max_length=40)
    tripped = models.BooleanField()
    weight = models.IntegerField()
    reason = models.CharField(max_length=255)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.rule}: {self.weight}"


class FraudCheckEvent(models.Model):
    """What happened to a check, in order, never edited: scored, scored again (an early fraud
    warning), approved or rejected by staff with their note."""

    fraud_check = models.ForeignKey(FraudCheck, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    score = models.IntegerField()
    status = models.CharField(max_length=10, choices=FraudCheckStatus.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.fraud_check_id}: {self.kind}"


class TestIntent(models.Model):
    """An intent of the built-in test gateway (payments.gateways.test): no network, no money,
    deterministic by the token it is confirmed with."""

    __test__ = False  # not a pytest test class despite the name

    reference = models.CharField(max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount = money_field()
    currency = models.CharField(max_length=3)
    capture_later = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=PaymentStatus.choices)
    token = models.CharField(max_length=100, blank=True)
    amount_captured = money_field(default=Decimal("0"))
    amount_refunded = money_field(default=Decimal("0"))
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    return_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"
