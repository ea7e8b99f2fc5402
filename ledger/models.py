"""Commission rules, the double-entry seller ledger, and payouts (Stripe Connect transfers).

Like payments, the ledger refers to orders by plain ids (`order_id`, `seller_order_id`,
`order_line_id`): it sits below orders, which calls it at the moments money moves (an order
paid, a dispute) and decides which seller orders may be paid out.

The ledger is append-only: a balance is the sum of entries, never a number kept and edited.
Every posting is a journal (`journal`, a key naming what it records: `sale:so:12`,
`refund:7`, `payout:3`) of legs (`leg` 0, 1, ...) whose amounts sum to zero; the key and leg
are unique together, so posting the same thing twice writes nothing the second time."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from shop.core.models import BaseModel
from shop.core.money import money_field


class CommissionRule(BaseModel):
    """The platform's commission on a line: `rate` of the line's amount before tax (after
    discounts) plus `fixed` per unit. A rule names a seller, a category (it covers the
    category's subtree), both, or neither (the platform default). The most specific active rule
    wins: seller and category, then seller, then category (the deepest), then the default; with
    no rule, the seller's own `commission_rate`."""

    seller = models.ForeignKey(
        "sellers.Seller", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="A fraction of the line's amount before tax: 0.1200 = 12%.",
    )
    fixed = money_field(
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="A fixed amount per unit sold, in the shop's currency.",
    )
    is_active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["seller_id", "category_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "category"],
                condition=Q(is_active=True),
                nulls_distinct=False,
                name="ledger_commission_one_active_rule",
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=1) & Q(fixed__gte=0),
                name="ledger_commission_bounds",
            ),
        ]

    def __str__(self) -> str:
        scope = (
            " / ".join(str(x) for x in (self.seller, self.category) if x is not None)
            or "platform default"
        )
        return f"{scope}: {self.rate:%} + {self.fixed}"


class EntryKind(models.TextChoices):
    SALE = "sale", "Sale"
    COMMISSION = "commission", "Commission"
    REFUND = "refund", "Refund"
    DISPUTE = "dispute", "Dispute"
    DISPUTE_REVERSAL = "dispute_reversal", "Dispute reversal"
    PAYOUT = "payout", "Payout"
    ADJUSTMENT = "adjustment", "Adjustment"


class Account(models.TextChoices):
    """Whose money a leg moves. A positive amount on `seller` is owed to the seller."""

    SELLER = "seller", "Seller balance"
    COMMISSION = "commission", "Platform commission"
    FUNDS = "funds", "Shoppers' money held by the platform"
    ADJUSTMENTS = "adjustments", "Platform adjustments"


class LedgerEntry(models.Model):
    """One leg of a posting. Never updated or deleted."""

    journal = models.CharField(max_length=100)
    leg = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    account = models.CharField(max_length=20, choices=Account.choices)
    # the seller the posting concerns (on every leg); none for the platform's own postings
    seller = models.ForeignKey(
        "sellers.Seller", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    seller_order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    order_line_id = models.BigIntegerField(null=True, blank=True)
    order_number = models.CharField(max_length=20, blank=True)
    amount = money_field()
    currency = models.CharField(max_length=3)
    memo = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(fields=["journal", "leg"], name="ledger_entry_journal_leg"),
        ]
        indexes = [
            models.Index(
                fields=["seller", "account", "-created_at"], name="ledger_entry_seller_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.journal}#{self.leg} {self.account} {self.amount} {self.currency}"


class PayoutKind(models.TextChoices):
    TRANSFER = "transfer", "Transfer"
    REVERSAL = "reversal", "Transfer reversal"


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "Sending"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"


class Payout(BaseModel):
    """Money sent to a seller for one seller order (a Stripe Connect transfer from the order's
    charge, grouped by order), or taken back from it (a transfer reversal, after a refund or a
    dispute). With the built-in test gateway, a test transfer: recorded, no money moves."""

    seller = models.ForeignKey("sellers.Seller", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=PayoutKind.choices, default=PayoutKind.TRANSFER)
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    order_id = models.BigIntegerField(db_index=True)
    order_number = models.CharField(max_length=20, blank=True)
    seller_order_id = models.BigIntegerField(db_index=True)
    amount = money_field()
    currency = models.CharField(max_length=3)
    gateway = models.CharField(max_length=20)
    status = models.CharField(
        max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    destination = models.CharField(max_length=100, blank=True)
    transfer_group = models.CharField(max_length=100, blank=True)
    source_transaction = models.CharField(max_length=100, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_payout_positive"),
            # one transfer in flight per seller order: concurrent runs cannot pay twice
            models.UniqueConstraint(
                fields=["seller_order_id"],
                condition=Q(status="pending", kind="transfer"),
                name="ledger_payout_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} ({self.status})"

    @property
    def is_test(self) -> bool:
        return self.gateway == "test"
