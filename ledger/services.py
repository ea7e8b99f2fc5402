"""Ledger writes: postings at the moments money moves, and payouts.

Postings (each a journal of legs summing to zero, written in one INSERT that skips a journal
already there, so every posting is idempotent):
- sale (an order paid): per line, the seller is owed the line's total and owes its frozen
  commission; the seller order's shipping is the seller's too;
- refund (a refund succeeded): the seller gives back what was refunded, and the platform gives
  back the commission on the refunded part of each line (in proportion, so a whole refund
  returns all of it to the cent);
- dispute (opened, and again when lost: nothing more) and dispute reversal (won): the disputed
  amount is taken from the seller order while the bank has it;
- payout: a transfer to the seller (and its reversal, when a later refund or dispute leaves the
  seller order owing); a transfer the gateway refused is posted back;
- adjustment: staff's correction, with a reason.

Payouts (Stripe Connect, separate charges and transfers): a transfer per seller order, grouped
by order (`transfer_group`) and funded by the order's charge (`source_transaction`). The payout
row and its posting are committed first, then the gateway is called with no lock held and an
idempotency key from the row (`payout:<id>`), so a retry never pays twice. Which seller orders
may be paid is the orders app's decision (`orders.services.payouts`).
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from ledger.models import (
    Account,
    CommissionRule,
    EntryKind,
    LedgerEntry,
    Payout,
    PayoutKind,
    PayoutStatus,
)
from payments.gateways import GatewayRefused, GatewayUnavailable, gateway_get
from payments.models import Dispute, DisputeStatus, Refund, RefundStatus
from sellers.models import Seller
from shop.core.errors import ValidationError
from shop.core.money import ZERO, quantize

logger = logging.getLogger(__name__)


# --- postings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    kind: str
    account: str
    amount: Decimal
    order_line_id: int | None = None
    memo: str = ""


@dataclass(frozen=True)
class Posting:
    """A journal: legs that sum to zero, about one seller order (or none: the platform's)."""

    journal: str
    currency: str
    legs: tuple[Leg, ...]
    seller_id: int | None = None
    order_id: int | None = None
    order_number: str = ""
    seller_order_id: int | None = None


def _pair(kind: str, seller_amount: Decimal, other: str, **extra) -> tuple[Leg, Leg]:
    """A seller leg and its counterpart on a platform account."""
    return (
        Leg(kind=kind, account=Account.SELLER, amount=seller_amount, **extra),
        Leg(kind=kind, account=other, amount=-seller_amount, **extra),
    )


def ledger_post(*, postings: Sequence[Posting]) -> None:
    """Write the postings' legs in one INSERT; a journal already written is skipped whole (its
    key and legs are unique). Refuses a posting whose legs do not sum to zero."""
    rows: list[LedgerEntry] = []
    for posting in postings:
        legs = [leg for leg in posting.legs if leg.amount]
        if sum((leg.amount for leg in legs), ZERO) != 0:
            raise ValueError(f"Posting {posting.journal} does not balance.")
        rows += [
            LedgerEntry(
                journal=posting.journal,
                leg=i,
                kind=leg.kind,
                account=leg.account,
                seller_id=posting.seller_id,
                order_id=posting.order_id,
                order_number=posting.order_number,
                seller_order_id=posting.seller_order_id,
                order_line_id=leg.order_line_id,
                amount=leg.amount,
                currency=posting.currency,
                memo=leg.memo[:255],
            )
            for i, leg in enumerate(legs)
        ]
    if rows:
        LedgerEntry.objects.bulk_create(rows, ignore_conflicts=True)


@dataclass(frozen=True)
class SaleLine:
    order_line_id: int
    amount: Decimal  # the line's total, tax included
    commission: Decimal  # frozen on the line at placement
    label: str = ""


@dataclass(frozen=True)
class Sale:
    """A seller order that was paid for."""

    seller_id: int
    order_id: int
    order_number: str
    seller_order_id: int
    currency: str
    shipping: Decimal
    lines: tuple[SaleLine, ...]


def ledger_post_sales(*, sales: Sequence[Sale]) -> None:
    """Post the sale and commission of seller orders just paid (in the caller's transaction:
    placement, or an order whose payment arrived later). One INSERT."""
    postings = []
    for sale in sales:
        legs: list[Leg] = []
        for line in sale.lines:
            legs += _pair(
                EntryKind.SALE,
                line.amount,
                Account.FUNDS,
                order_line_id=line.order_line_id,
                memo=line.label,
            )
            legs += _pair(
                EntryKind.COMMISSION,
                -line.commission,
                Account.COMMISSION,
                order_line_id=line.order_line_id,
                memo=f"Commission: {line.label}",
            )
        legs += _pair(EntryKind.SALE, sale.shipping, Account.FUNDS, memo="Shipping")
        postings.append(
            Posting(
                journal=_sale_journal(sale.seller_order_id),
                currency=sale.currency,
                legs=tuple(legs),
                seller_id=sale.seller_id,
                order_id=sale.order_id,
                order_number=sale.order_number,
                seller_order_id=sale.seller_order_id,
            )
        )
    ledger_post(postings=postings)


def _sale_journal(seller_order_id: int) -> str:
    return f"sale:so:{seller_order_id}"


@dataclass(frozen=True)
class _SoldOrder:
    seller_id: int | None
    order_id: int | None
    order_number: str
    currency: str


def _sold(seller_order_id: int) -> _SoldOrder | None:
    """Who sold a seller order, read from its sale posting."""
    entry = (
        LedgerEntry.objects.filter(journal=_sale_journal(seller_order_id))
        .only("seller_id", "order_id", "order_number", "currency")
        .first()
    )
    if entry is None:
        return None
    return _SoldOrder(entry.seller_id, entry.order_id, entry.order_number, entry.currency)


def _seller_order_of_order(order_id: int) -> int | None:
    """The seller order of an order that has only one (a refund made at the gateway names no
    seller order)."""
    ids = set(
        LedgerEntry.objects.filter(order_id=order_id, kind=EntryKind.SALE)
        .values_list("seller_order_id", flat=True)
        .distinct()[:2]
    )
    return ids.pop() if len(ids) == 1 else None


@dataclass(frozen=True)
class _Refunded:
    """A line's part of a refund."""

    order_line_id: int
    amount: Decimal
    quantity: int | None = None


def ledger_post_refund(*, refund_id: int) -> None:
    """Post a refund that succeeded (the outbox task payments writes when it does), then take
    back from the seller what was already paid out and is now owed. Idempotent.

    A refund of seller-order lines posts to that seller order. A refund naming no seller order
    (a cancelled order's payment refunded, a refund made in Stripe's dashboard) that gives back
    everything still unrefunded is split over the order's seller orders, line by line, with
    all their commission; any other posts to the order's only seller order, or, with several,
    to the platform's adjustments until staff adjust a seller."""
    refund = Refund.objects.prefetch_related("lines").get(pk=refund_id)
    if refund.status != RefundStatus.SUCCEEDED:
        return
    lines = [_Refunded(x.order_line_id, x.amount, x.quantity) for x in refund.lines.all()]
    targets: list[tuple[int, list[_Refunded], Decimal]] = []
    if refund.seller_order_id is not None:
        rest = refund.amount - sum((x.amount for x in lines), ZERO)
        targets = [(refund.seller_order_id, lines, rest)]
    elif refund.order_id:
        targets = _whole_order_refund(order_id=refund.order_id, amount=refund.amount)
        if not targets:
            single = _seller_order_of_order(refund.order_id)
            targets = [(single, [], refund.amount)] if single else []
    postings = []
    for seller_order_id, refunded, rest in targets:
        sold = _sold(seller_order_id)
        if sold is None:
            continue
        journal = f"refund:{refund.pk}"
        if len(targets) > 1:
            journal += f":so:{seller_order_id}"
        postings.append(
            _refund_posting(
                journal=journal,
                currency=refund.currency,
                sold=sold,
                seller_order_id=seller_order_id,
                lines=refunded,
                rest=rest,
                shipping=refund.shipping_amount,
            )
        )
    if not postings:
        ledger_post(
            postings=[
                Posting(
                    journal=f"refund:{refund.pk}",
                    currency=refund.currency,
                    order_id=refund.order_id or None,
                    legs=(
                        Leg(EntryKind.REFUND, Account.ADJUSTMENTS, -refund.amount, memo="Refund"),
                        Leg(EntryKind.REFUND, Account.FUNDS, refund.amount, memo="Refund"),
                    ),
                )
            ]
        )
        return
    ledger_post(postings=postings)
    for posting in postings:
        assert posting.seller_order_id is not None
        payout_claw_back(seller_order_id=posting.seller_order_id)


def _refund_posting(
    *,
    journal: str,
    currency: str,
    sold: _SoldOrder,
    seller_order_id: int,
    lines: list[_Refunded],
    rest: Decimal,
    shipping: Decimal,
) -> Posting:
    legs: list[Leg] = []
    returned = _commission_returned(seller_order_id=seller_order_id, journal=journal, lines=lines)
    for line in lines:
        units = f"{line.quantity} unit(s)" if line.quantity else "the line"
        legs += _pair(
            EntryKind.REFUND,
            -line.amount,
            Account.FUNDS,
            order_line_id=line.order_line_id,
            memo=f"Refund of {units}",
        )
        legs += _pair(
            EntryKind.COMMISSION,
            returned.get(line.order_line_id, ZERO),
            Account.COMMISSION,
            order_line_id=line.order_line_id,
            memo="Commission returned on the refund",
        )
    legs += _pair(
        EntryKind.REFUND,
        -rest,
        Account.FUNDS,
        memo="Refund of shipping" if shipping == rest else "Refund",
    )
    return Posting(
        journal=journal,
        currency=currency,
        legs=tuple(legs),
        seller_id=sold.seller_id,
        order_id=sold.order_id,
        order_number=sold.order_number,
        seller_order_id=seller_order_id,
    )


def _left_to_refund(*, order_id: int) -> dict[int, tuple[dict[int, Decimal], Decimal]]:
    """Per seller order of the order: what each line and the shipping sold for, less what was
    refunded of them (one grouped query)."""
    rows = (
        LedgerEntry.objects.filter(
            order_id=order_id,
            account=Account.SELLER,
            kind__in=(EntryKind.SALE, EntryKind.REFUND),
            seller_order_id__isnull=False,
        )
        .values("seller_order_id", "order_line_id")
        .annotate(left=Sum("amount"))
    )
    left: dict[int, tuple[dict[int, Decimal], Decimal]] = {}
    for row in rows:
        so_id = row["seller_order_id"] or 0
        lines, shipping = left.get(so_id, ({}, ZERO))
        if row["order_line_id"] is None:
            shipping += row["left"]
        else:
            lines[row["order_line_id"]] = row["left"]
        left[so_id] = (lines, shipping)
    return left


def _whole_order_refund(
    *, order_id: int, amount: Decimal
) -> list[tuple[int, list[_Refunded], Decimal]]:
    """When `amount` is everything still unrefunded on the order, its split per seller order
    (each line's remainder and the shipping's); else nothing."""
    left = _left_to_refund(order_id=order_id)
    total = sum((sum(lines.values(), ZERO) + shipping for lines, shipping in left.values()), ZERO)
    if not left or total != amount:
        return []
    return [
        (
            so_id,
            [_Refunded(line_id, value) for line_id, value in lines.items() if value > 0],
            shipping,
        )
        for so_id, (lines, shipping) in sorted(left.items())
    ]


def ledger_post_cancellation(*, seller_order_ids: Sequence[int]) -> None:
    """A paid seller order cancelled before its money was taken (an authorisation voided):
    everything posted on it is unwound (one journal per seller order, idempotent)."""
    rows = (
        LedgerEntry.objects.filter(seller_order_id__in=list(seller_order_ids))
        .values(
            "seller_order_id",
            "seller_id",
            "order_id",
            "order_number",
            "currency",
            "kind",
            "account",
            "order_line_id",
        )
        .annotate(total=Sum("amount"))
        .exclude(total=0)
    )
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row["seller_order_id"] or 0].append(row)
    postings = [
        Posting(
            journal=f"cancel:so:{seller_order_id}",
            currency=found[0]["currency"],
            seller_id=found[0]["seller_id"],
            order_id=found[0]["order_id"],
            order_number=found[0]["order_number"],
            seller_order_id=seller_order_id,
            legs=tuple(
                Leg(
                    kind=row["kind"],
                    account=row["account"],
                    amount=-row["total"],
                    order_line_id=row["order_line_id"],
                    memo="Order cancelled before payment was taken",
                )
                for row in found
            ),
        )
        for seller_order_id, found in grouped.items()
    ]
    ledger_post(postings=postings)


def _commission_returned(*, seller_order_id: int, journal: str, lines) -> dict[int, Decimal]:
    """The commission to give back per refunded line: the line's commission times the share of
    it refunded so far, less what was given back before (so partial refunds add up to the
    whole commission exactly, with one rounding each)."""
    line_ids = [line.order_line_id for line in lines]
    if not line_ids:
        return {}
    rows = (
        LedgerEntry.objects.filter(
            seller_order_id=seller_order_id, order_line_id__in=line_ids, account=Account.SELLER
        )
        .exclude(journal=journal)
        .values("order_line_id", "kind")
        .annotate(
            plus=Sum("amount", filter=Q(amount__gt=0)),
            minus=Sum("amount", filter=Q(amount__lt=0)),
        )
    )
    sold: dict[int, Decimal] = defaultdict(lambda: ZERO)
    refunded: dict[int, Decimal] = defaultdict(lambda: ZERO)
    commission: dict[int, Decimal] = defaultdict(lambda: ZERO)
    given_back: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        line_id, plus, minus = row["order_line_id"] or 0, row["plus"] or ZERO, row["minus"] or ZERO
        if row["kind"] == EntryKind.SALE:
            sold[line_id] += plus
        elif row["kind"] == EntryKind.REFUND:
            refunded[line_id] -= minus
        elif row["kind"] == EntryKind.COMMISSION:
            commission[line_id] -= minus
            given_back[line_id] += plus
    result: dict[int, Decimal] = {}
    for line in lines:
        line_id = line.order_line_id
        if sold[line_id] <= 0:
            continue
        share = min(Decimal(1), (refunded[line_id] + line.amount) / sold[line_id])
        result[line_id] = max(ZERO, quantize(commission[line_id] * share) - given_back[line_id])
    return result


def ledger_post_dispute(*, dispute_id: int) -> None:
    """Post a dispute's effect on the seller order it concerns: the disputed amount is taken
    when it opens (the bank has withdrawn it), given back if it is won; lost, it stays taken.
    A dispute not assigned to a seller order yet posts nothing (every seller order of its
    order is frozen meanwhile). Idempotent; afterwards takes back what was paid out and is
    now owed."""
    dispute = Dispute.objects.get(pk=dispute_id)
    if dispute.seller_order_id is None:
        return
    sold = _sold(dispute.seller_order_id)
    if sold is None:
        return

    def posting(journal: str, legs: tuple[Leg, Leg]) -> Posting:
        return Posting(
            journal=journal,
            legs=legs,
            currency=dispute.currency,
            seller_id=sold.seller_id,
            order_id=sold.order_id,
            order_number=sold.order_number,
            seller_order_id=dispute.seller_order_id,
        )

    reason = dispute.reason or "no reason given"
    postings = [
        posting(
            f"dispute:{dispute.pk}:opened",
            _pair(EntryKind.DISPUTE, -dispute.amount, Account.FUNDS, memo=f"Dispute ({reason})"),
        )
    ]
    if dispute.status == DisputeStatus.WON:
        postings.append(
            posting(
                f"dispute:{dispute.pk}:won",
                _pair(
                    EntryKind.DISPUTE_REVERSAL, dispute.amount, Account.FUNDS, memo="Dispute won"
                ),
            )
        )
    ledger_post(postings=postings)
    payout_claw_back(seller_order_id=dispute.seller_order_id)


def ledger_post_adjustment(
    *, seller: Seller, amount: Decimal, currency: str, memo: str, seller_order_id=None
) -> str:
    """Staff's correction of a seller's balance (positive: owed to the seller), with a reason.
    Returns the journal's key."""
    if not amount:
        raise ValidationError("An adjustment needs an amount other than zero.")
    if not memo.strip():
        raise ValidationError("Say why the balance is adjusted.", fields={"memo": ["Required."]})
    journal = f"adjustment:{uuid.uuid4().hex}"
    ledger_post(
        postings=[
            Posting(
                journal=journal,
                currency=currency,
                seller_id=seller.pk,
                seller_order_id=seller_order_id,
                legs=_pair(EntryKind.ADJUSTMENT, amount, Account.ADJUSTMENTS, memo=memo),
            )
        ]
    )
    return journal


def ledger_post_label_cost(
    *, seller_order, amount: Decimal, currency: str, reference: str, memo: str
) -> str:
    """A shipping label the platform bought for the seller (EasyPost) is charged to the seller:
    an `adjustment` taking `amount` from the seller order (the platform's adjustments account
    gets it back). Posted once per `reference` (the carrier's label id): the journal is
    `label:<reference>`, so a retry writes nothing more. Returns the journal's key."""
    if amount <= 0:
        raise ValidationError("A label cost is a positive amount.")
    journal = f"label:{reference}"[:100]
    ledger_post(
        postings=[
            Posting(
                journal=journal,
                currency=currency,
                seller_id=seller_order.seller_id,
                order_id=seller_order.order_id,
                order_number=seller_order.order.number,
                seller_order_id=seller_order.pk,
                legs=_pair(EntryKind.ADJUSTMENT, -amount, Account.ADJUSTMENTS, memo=memo),
            )
        ]
    )
    return journal


# --- payouts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayoutTarget:
    """A seller order the orders app found payable, with what a transfer needs."""

    seller_order_id: int
    gateway: str  # the payment's gateway: the transfer is funded by its charge
    charge: str  # the order's charge (`source_transaction`); "" when the gateway has none


def seller_order_owed(*, seller_order_id: int) -> Decimal:
    """What the platform owes the seller on one seller order now (the sum of its entries)."""
    total = LedgerEntry.objects.filter(
        seller_order_id=seller_order_id, account=Account.SELLER
    ).aggregate(t=Sum("amount"))["t"]
    return total or ZERO


def payout_send(*, target: PayoutTarget) -> Payout | None:
    """Pay the seller what a payable seller order owes them: the payout and its posting are
    committed under the seller's row lock (one payout at a time per seller), then sent. None
    when nothing is owed, one is already on its way, or the seller cannot be paid yet (no
    connected account with Stripe)."""
    sold = _sold(target.seller_order_id)
    if sold is None or sold.seller_id is None:
        return None
    with transaction.atomic():
        seller = Seller.objects.select_for_update().get(pk=sold.seller_id)
        owed = seller_order_owed(seller_order_id=target.seller_order_id)
        if owed <= 0:
            return None
        destination = ""
        if target.gateway != "test":
            destination = seller.stripe_account_id
            if not destination:
                logger.info("Seller %s has no payout account yet.", seller.pk)
                return None
        try:
            with transaction.atomic():
                payout = Payout.objects.create(
                    seller=seller,
                    kind=PayoutKind.TRANSFER,
                    order_id=sold.order_id or 0,
                    order_number=sold.order_number,
                    seller_order_id=target.seller_order_id,
                    amount=owed,
                    currency=sold.currency,
                    gateway=target.gateway,
                    destination=destination,
                    transfer_group=sold.order_number,
                    source_transaction=target.charge,
                )
        except IntegrityError:  # one is on its way already
            return None
        _post_payout(payout, -owed, memo=f"Payout for order {sold.order_number}")
    return payout_execute(payout_id=payout.pk)


def _post_payout(payout: Payout, seller_amount: Decimal, *, memo: str, suffix: str = "") -> None:
    ledger_post(
        postings=[
            Posting(
                journal=f"payout:{payout.pk}{suffix}",
                currency=payout.currency,
                seller_id=payout.seller_id,
                order_id=payout.order_id,
                order_number=payout.order_number,
                seller_order_id=payout.seller_order_id,
                legs=_pair(EntryKind.PAYOUT, seller_amount, Account.FUNDS, memo=memo),
            )
        ]
    )


def payout_execute(*, payout_id: int) -> Payout:
    """Send a pending payout (a transfer or a reversal) to the gateway, with the key derived
    from its row; the outcome is recorded. A refusal posts it back; an outage leaves it pending
    for the next run (the same key: never sent twice)."""
    payout = Payout.objects.select_related("reverses").get(pk=payout_id)
    if payout.status != PayoutStatus.PENDING:
        return payout
    gateway = gateway_get(payout.gateway)
    metadata = {
        "payout_id": str(payout.pk),
        "order": payout.order_number,
        "seller_order_id": str(payout.seller_order_id),
    }
    try:
        if payout.kind == PayoutKind.TRANSFER:
            result = gateway.transfer_create(
                amount=payout.amount,
                currency=payout.currency,
                destination=payout.destination,
                transfer_group=payout.transfer_group,
                source_transaction=payout.source_transaction,
                metadata=metadata,
                idempotency_key=f"payout:{payout.pk}",
            )
        else:
            assert payout.reverses is not None
            result = gateway.transfer_reverse(
                transfer=payout.reverses.reference,
                amount=payout.amount,
                metadata=metadata,
                idempotency_key=f"payout:{payout.pk}",
            )
    except GatewayUnavailable:
        logger.warning("Payout %s could not reach the gateway; it is sent again later.", payout.pk)
        return payout
    except GatewayRefused as exc:
        with transaction.atomic():
            failed = Payout.objects.filter(pk=payout.pk, status=PayoutStatus.PENDING).update(
                status=PayoutStatus.FAILED, failure_message=str(exc)[:500]
            )
            if failed:
                back = payout.amount if payout.kind == PayoutKind.TRANSFER else -payout.amount
                _post_payout(payout, back, memo=f"Not sent: {exc}"[:255], suffix=":failed")
        logger.error("Payout %s was refused by the gateway: %s", payout.pk, exc)
        return Payout.objects.get(pk=payout.pk)
    Payout.objects.filter(pk=payout.pk, status=PayoutStatus.PENDING).update(
        status=PayoutStatus.PAID, reference=result.reference, paid_at=timezone.now()
    )
    return Payout.objects.get(pk=payout.pk)


def payout_claw_back(*, seller_order_id: int) -> list[Payout]:
    """When a seller order owes the seller less than nothing (a refund or a dispute after it was
    paid out), take the difference back from its transfers (newest first, never more than is
    left of each)."""
    sold = _sold(seller_order_id)
    if sold is None or sold.seller_id is None:
        return []
    made: list[Payout] = []
    with transaction.atomic():
        Seller.objects.select_for_update().get(pk=sold.seller_id)
        need = -seller_order_owed(seller_order_id=seller_order_id)
        if need <= 0:
            return []
        transfers = Payout.objects.filter(
            seller_order_id=seller_order_id,
            kind=PayoutKind.TRANSFER,
            status=PayoutStatus.PAID,
        ).order_by("-pk")
        for transfer in transfers:
            taken = (
                transfer.reversals.exclude(status=PayoutStatus.FAILED).aggregate(t=Sum("amount"))[
                    "t"
                ]
                or ZERO
            )
            take = min(need, transfer.amount - taken)
            if take <= 0:
                continue
            reversal = Payout.objects.create(
                seller_id=transfer.seller_id,
                kind=PayoutKind.REVERSAL,
                reverses=transfer,
                order_id=transfer.order_id,
                order_number=transfer.order_number,
                seller_order_id=seller_order_id,
                amount=take,
                currency=transfer.currency,
                gateway=transfer.gateway,
                destination=transfer.destination,
                transfer_group=transfer.transfer_group,
            )
            _post_payout(reversal, take, memo=f"Transfer reversed for order {sold.order_number}")
            made.append(reversal)
            need -= take
            if need <= 0:
                break
    return [payout_execute(payout_id=p.pk) for p in made]


def payouts_retry_pending(*, older_than_seconds: int = 60, limit: int = 100) -> int:
    """Send again payouts left pending by a gateway outage (same keys)."""
    from datetime import timedelta

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Payout.objects.filter(status=PayoutStatus.PENDING, created_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for payout_id in ids:
        payout_execute(payout_id=payout_id)
    return len(ids)


# --- connected accounts --------------------------------------------------------------------------


def connect_onboarding_link(
    *, seller: Seller, email: str, refresh_url: str, return_url: str
) -> str:
    """The seller's payout account at the live gateway (created on first use, its id kept on
    the seller) and a one-time onboarding link to it. The test gateway needs none: refused."""
    from payments.gateways import gateway_live

    gateway = gateway_get(gateway_live())
    account = seller.stripe_account_id
    try:
        if not account:
            created = gateway.connect_account_create(
                email=email,
                country=seller.country,
                idempotency_key=f"seller:{seller.pk}:connect",
            )
            if created is None:
                raise ValidationError(
                    "Payouts are test transfers with the built-in test gateway: no payout "
                    "account is needed."
                )
            account = created.reference
            Seller.objects.filter(pk=seller.pk, stripe_account_id="").update(
                stripe_account_id=account
            )
            seller.refresh_from_db(fields=["stripe_account_id"])
            account = seller.stripe_account_id
        return gateway.connect_account_link(
            account=account, refresh_url=refresh_url, return_url=return_url
        )
    except GatewayUnavailable as exc:
        from shop.core.errors import ServiceUnavailable

        raise ServiceUnavailable(
            "The payment service is not answering right now; try again in a minute.",
            retry_after=30,
        ) from exc
    except GatewayRefused as exc:
        raise ValidationError(str(exc)) from exc


def connect_account_status(*, seller: Seller):
    """The seller's payout account as the live gateway has it now (None: no account, or the
    test gateway). An outage answers None rather than failing the page."""
    from payments.gateways import gateway_live

    if not seller.stripe_account_id:
        return None
    try:
        return gateway_get(gateway_live()).connect_account_get(account=seller.stripe_account_id)
    except (GatewayUnavailable, GatewayRefused):
        logger.warning("Could not read seller %s's payout account.", seller.pk)
        return None


# --- commission rules ----------------------------------------------------------------------------


def commission_rule_save(*, rule: CommissionRule) -> CommissionRule:
    """Create or change a rule (staff, in the admin). Orders placed before keep the commission
    frozen on their lines. One active rule per seller and category pair."""
    if not (ZERO <= rule.rate <= 1) or rule.fixed < 0:
        raise ValidationError(
            "The rate is a fraction between 0 and 1; the fixed part is not negative."
        )
    clash = CommissionRule.objects.filter(
        is_active=True,
        seller__isnull=rule.seller_id is None,
        category__isnull=rule.category_id is None,
    ).exclude(pk=rule.pk)
    if rule.seller_id is not None:
        clash = clash.filter(seller_id=rule.seller_id)
    if rule.category_id is not None:
        clash = clash.filter(category_id=rule.category_id)
    if rule.is_active and clash.exists():
        raise ValidationError(
            "An active rule for this seller and category exists already: change that one.",
            fields={"category": ["Another active rule covers it."]},
        )
    rule.save()
    return rule
