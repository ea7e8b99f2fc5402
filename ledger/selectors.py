"""Ledger reads, every one scoped to a seller where a seller asks: balances, entries with
filters, payouts, and the reconciliation of the ledger against the payments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from ledger.models import Account, EntryKind, LedgerEntry, Payout, PayoutStatus
from payments.models import (
    Dispute,
    DisputeStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from sellers.models import Seller
from shop.core.errors import NotFound
from shop.core.money import ZERO


def seller_orders_owed() -> dict[int, Decimal]:
    """Seller orders on which the platform owes their seller something now (one grouped
    query over the seller legs)."""
    rows = (
        LedgerEntry.objects.filter(account=Account.SELLER, seller_order_id__isnull=False)
        .values("seller_order_id")
        .annotate(owed=Sum("amount"))
        .filter(owed__gt=0)
    )
    return {row["seller_order_id"] or 0: row["owed"] for row in rows}


def seller_owed_by_seller_order(*, seller: Seller) -> dict[int | None, Decimal]:
    """The seller's balance per seller order (None: postings on no seller order), non-zero
    only."""
    rows = (
        LedgerEntry.objects.filter(seller=seller, account=Account.SELLER)
        .values("seller_order_id")
        .annotate(owed=Sum("amount"))
        .exclude(owed=0)
    )
    return {row["seller_order_id"]: row["owed"] for row in rows}


def ledger_entries_for_seller(
    *,
    seller: Seller,
    date_from: date | None = None,
    date_to: date | None = None,
    kind: str = "",
) -> QuerySet[LedgerEntry]:
    """The seller's side of its postings, newest first, filtered by day (inclusive) and kind."""
    entries = LedgerEntry.objects.filter(seller=seller, account=Account.SELLER)
    if date_from is not None:
        entries = entries.filter(created_at__date__gte=date_from)
    if date_to is not None:
        entries = entries.filter(created_at__date__lte=date_to)
    if kind:
        if kind not in EntryKind.values:
            raise NotFound("No such kind of entry.")
        entries = entries.filter(kind=kind)
    return entries.order_by("-created_at", "-id")


def payouts_for_seller(*, seller: Seller) -> QuerySet[Payout]:
    return Payout.objects.filter(seller=seller).select_related("reverses").order_by("-pk")


def payout_get_for_seller(*, seller: Seller, pk: int) -> Payout:
    payout = payouts_for_seller(seller=seller).filter(pk=pk).first()
    if payout is None:
        raise NotFound("No such payout.")
    return payout


# --- reconciliation ------------------------------------------------------------------------------


@dataclass
class Reconciliation:
    """What `ledger_reconcile` found: every difference is a line; none means the books agree
    with the payments to the cent."""

    journals: int = 0
    orders: int = 0
    refunds: int = 0
    disputes: int = 0
    payouts: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def ledger_reconcile() -> Reconciliation:
    """Check the ledger against the payments, to the cent:
    - every journal's legs sum to zero;
    - every order's sales are what its payment took (the amount paid or authorised; nothing
      for a voided authorisation);
    - every refund that succeeded is posted, for its amount;
    - every dispute assigned to a seller order is posted (taken; given back if won);
    - every payout's posting is its amount (and a refused one is posted back)."""
    found = Reconciliation()
    unbalanced = (
        LedgerEntry.objects.values("journal", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
    )
    for row in unbalanced:
        found.differences.append(f"journal {row['journal']} sums to {row['total']}, not 0")
    found.journals = LedgerEntry.objects.values("journal").distinct().count()

    sales = {
        row["order_id"]: row["total"]
        for row in LedgerEntry.objects.filter(kind=EntryKind.SALE, account=Account.FUNDS)
        .values("order_id")
        .annotate(total=Sum("amount"))
    }
    paid = Payment.objects.filter(order_id__in=list(sales)).order_by("order_id", "-attempt")
    seen: set[int | None] = set()
    for payment in paid:
        if payment.order_id in seen:
            continue
        seen.add(payment.order_id)
        taken = -sales[payment.order_id]
        # a voided authorisation took nothing: its cancellation unwound the sales
        expected = ZERO if payment.status == PaymentStatus.CANCELED else payment.amount
        if taken != expected:
            found.differences.append(
                f"order {payment.order_id}: sales posted {taken}, payment {payment.pk} took "
                f"{expected}"
            )
    for order_id in set(sales) - seen:
        found.differences.append(f"order {order_id}: sales posted without a payment")
    found.orders = len(sales)

    refunds: dict[str, Decimal] = {}
    for refund_row in (
        LedgerEntry.objects.filter(kind=EntryKind.REFUND, journal__startswith="refund:")
        .exclude(account=Account.FUNDS)
        .values("journal")
        .annotate(total=Sum("amount"))
    ):
        refund_key = ":".join(refund_row["journal"].split(":")[:2])  # refund:<id>[:so:<id>]
        refunds[refund_key] = refunds.get(refund_key, ZERO) + refund_row["total"]
    for refund in Refund.objects.filter(status=RefundStatus.SUCCEEDED).only("pk", "amount"):
        posted = -refunds.pop(f"refund:{refund.pk}", ZERO)
        if posted != refund.amount:
            found.differences.append(
                f"refund {refund.pk}: posted {posted}, refunded {refund.amount}"
            )
        found.refunds += 1
    for journal in refunds:
        found.differences.append(f"{journal}: posted, but the refund did not succeed")

    for dispute in Dispute.objects.filter(seller_order_id__isnull=False):
        taken = _seller_sum(Q(journal__startswith=f"dispute:{dispute.pk}:"))
        expected = ZERO if dispute.status == DisputeStatus.WON else -dispute.amount
        if taken != expected:
            found.differences.append(
                f"dispute {dispute.pk} ({dispute.status}): posted {taken}, expected {expected}"
            )
        found.disputes += 1

    for payout in Payout.objects.all():
        posted = _seller_sum(
            Q(journal=f"payout:{payout.pk}") | Q(journal=f"payout:{payout.pk}:failed")
        )
        sign = -1 if payout.kind == "transfer" else 1
        expected = ZERO if payout.status == PayoutStatus.FAILED else sign * payout.amount
        if posted != expected:
            found.differences.append(
                f"payout {payout.pk} ({payout.status}): posted {posted}, expected {expected}"
            )
        found.payouts += 1
    return found


def _seller_sum(condition: Q) -> Decimal:
    total = LedgerEntry.objects.filter(condition, account=Account.SELLER).aggregate(
        t=Sum("amount")
    )["t"]
    return total or ZERO
