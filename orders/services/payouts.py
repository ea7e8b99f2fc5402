"""Which seller orders may be paid out, and the payout run (beat).

A seller order is payable once the shopper can no longer return it and nothing may still take
its money back: delivered (`delivered_at`, set by fulfilment) more than
PAYOUT_RETURN_WINDOW_DAYS ago, its order approved by the fraud check
(`Order.fraud_status == approved`), no open dispute on it (nor an open dispute on its order
not yet assigned to a seller order), its payment captured, and the ledger owes the seller
something on it. The
ledger (`ledger.services.payout_send`) pays it: a Stripe Connect transfer from the order's
charge, grouped by order; a test transfer with the built-in test gateway."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ledger.models import Payout, PayoutStatus
from ledger.selectors import seller_orders_owed, seller_owed_by_seller_order
from ledger.services import PayoutTarget, payout_send, payouts_retry_pending
from orders.models import FraudStatus, OrderStatus, SellerOrder
from payments.gateways import IntentStatus
from payments.models import Dispute, DisputeStatus, Payment
from sellers.models import Seller

logger = logging.getLogger(__name__)


def seller_orders_payable(*, now: datetime | None = None) -> QuerySet[SellerOrder]:
    """Seller orders past their return window, approved, with no open dispute."""
    now = now or timezone.now()
    window = timedelta(days=settings.PAYOUT_RETURN_WINDOW_DAYS)
    open_dispute = Dispute.objects.filter(status=DisputeStatus.OPEN).filter(
        Q(seller_order_id=OuterRef("pk"))
        | Q(seller_order_id__isnull=True, payment__order_id=OuterRef("order_id"))
    )
    return (
        SellerOrder.objects.filter(
            delivered_at__isnull=False,
            delivered_at__lte=now - window,
            order__fraud_status=FraudStatus.APPROVED,
        )
        .exclude(status__in=(OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED))
        .exclude(Exists(open_dispute))
    )


def payouts_run(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: pay every payable seller order what the ledger owes on it, and send again the
    payouts an outage left pending. Returns how many payouts were sent (a refused one is not)."""
    payouts_retry_pending()
    owed = seller_orders_owed()
    if not owed:
        return 0
    payable = list(
        seller_orders_payable(now=now)
        .filter(pk__in=list(owed))
        .order_by("pk")
        .values_list("pk", "order_id")[:limit]
    )
    payments = {
        p.order_id: p
        for p in Payment.objects.filter(
            order_id__in={order_id for _, order_id in payable}
        ).order_by("attempt")
    }
    sent = 0
    for seller_order_id, order_id in payable:
        payment = payments.get(order_id)
        if payment is None or payment.status != IntentStatus.CAPTURED:
            continue  # never pay out money not taken (an authorisation not captured yet)
        payout: Payout | None = payout_send(
            target=PayoutTarget(
                seller_order_id=seller_order_id,
                gateway=payment.gateway,
                charge=payment.charge_reference,
            )
        )
        if payout is not None and payout.status != PayoutStatus.FAILED:
            sent += 1
    return sent


@dataclass(frozen=True)
class Balance:
    """What the platform owes a seller now, from the ledger: `available` on seller orders that
    may be paid out (the next payout run sends it) and postings on no seller order
    (adjustments); `pending` on seller orders still in their return window, waiting for
    delivery or the fraud check, or disputed."""

    currency: str
    pending: Decimal
    available: Decimal

    @property
    def total(self) -> Decimal:
        return self.pending + self.available


def seller_balance(*, seller: Seller, now: datetime | None = None) -> Balance:
    """Two queries whatever the number of orders: the seller's balance per seller order, then
    which of those are payable."""
    owed = seller_owed_by_seller_order(seller=seller)
    payable = set(
        seller_orders_payable(now=now)
        .filter(seller=seller, pk__in=[pk for pk in owed if pk is not None])
        .values_list("pk", flat=True)
    )
    available, pending = Decimal("0.00"), Decimal("0.00")
    for pk, amount in owed.items():
        if pk is None or pk in payable:
            available += amount
        else:
            pending += amount
    return Balance(currency=settings.SHOP_CURRENCY, pending=pending, available=available)
