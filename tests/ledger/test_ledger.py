"""Commission, the seller ledger and payouts, through the services the faces call, with the
built-in test gateway (payouts are test transfers). Amounts are worked out by hand in the
comments: a rounding or posting change that moves a cent fails here."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.models import Account, EntryKind, LedgerEntry, Payout, PayoutKind, PayoutStatus
from ledger.selectors import ledger_reconcile, seller_owed_by_seller_order
from ledger.services import ledger_post_adjustment
from orders.models import FraudStatus, Order, OrderLine
from orders.services import order_place
from orders.services.payments import RefundRequest, dispute_assign_to, order_refund
from orders.services.payouts import payouts_run
from payments.models import Dispute, DisputeStatus, Payment
from tests.ledger.conftest import deliver_and_approve

D = Decimal


def place(market, lines=None, capture=None) -> Order:
    return order_place(checkout=market.ready_checkout(lines=lines), payment_token="tok_visa")


def seller_balance(seller) -> Decimal:
    return sum(seller_owed_by_seller_order(seller=seller).values(), D("0"))


def account_total(account: str) -> Decimal:
    return sum((e.amount for e in LedgerEntry.objects.filter(account=account)), D("0"))


def test_commission_is_frozen_on_each_line_by_the_most_specific_rule(ledger_market):
    m = ledger_market
    order = place(m)
    lines = {line.variant_id: line for line in OrderLine.objects.filter(order=order)}
    # (rate, fixed per unit, commission): worked out on each line's amount before tax
    expected = {
        # Home's rule covers its subcategory Kitchen: 15% x 20.00 + 0.30 x 2 = 3.00 + 0.60
        m.a1.pk: (D("0.1500"), D("0.30"), D("3.60")),
        # no seller or category rule for Alpha's a2: the platform default, 12% x 5.00
        m.a2.pk: (D("0.1200"), D("0.00"), D("0.60")),
        # Beta's rule for b1's category beats Beta's own 8%: 5% x 20.00
        m.b1.pk: (D("0.0500"), D("0.00"), D("1.00")),
    }
    got = {
        variant_id: (line.commission_rate, line.commission_fixed, line.commission)
        for variant_id, line in lines.items()
    }
    assert got == expected

    # a rule changed later changes no placed order
    from ledger.models import CommissionRule

    CommissionRule.objects.filter(category=m.home).update(rate=D("0.50"))
    assert OrderLine.objects.get(pk=lines[m.a1.pk].pk).commission == D("3.60")


def test_the_sellers_own_rate_applies_when_no_rule_does(ledger_market):
    from ledger.models import CommissionRule

    CommissionRule.objects.all().delete()
    order = place(ledger_market, lines=[(ledger_market.a2, 3)])
    (line,) = OrderLine.objects.filter(order=order)
    # Alpha's commission_rate (10%, the seller's default) x 15.00
    assert (line.commission_rate, line.commission) == (D("0.1000"), D("1.50"))


def test_ledger_table_sale_refund_payout_reversal(
    ledger_market, django_capture_on_commit_callbacks, celery_eager
):
    """One order through its life; each step's balances worked out by hand.

    Placement (tax-exclusive prices, 19% on goods, shipping untaxed):
      Alpha: a1 2 x 10.00 = 20.00 + 3.80 tax = 23.80; a2 5.00 + 0.95 = 5.95; shipping 4.00
             sales 33.75, commission 3.60 + 0.60 = 4.20, owed 29.55
      Beta:  b1 20.00 + 3.80 = 23.80; shipping 6.00: sales 29.80, commission 1.00, owed 28.80
      the order: 63.55, the platform's commission 5.20
    """
    m = ledger_market
    with django_capture_on_commit_callbacks(execute=True):
        order = place(m)
    alpha = order.seller_orders.get(seller=m.alpha)
    beta = order.seller_orders.get(seller=m.beta)
    assert order.total == D("63.55")
    assert seller_balance(m.alpha) == D("29.55")
    assert seller_balance(m.beta) == D("28.80")
    assert account_total(Account.COMMISSION) == D("5.20")
    assert account_total(Account.FUNDS) == D("-63.55")

    # Alpha refunds one a1 (23.80 / 2 = 11.90): the commission on it comes back (3.60 / 2)
    a1_line = alpha.lines.get(variant=m.a1)
    with django_capture_on_commit_callbacks(execute=True):
        order_refund(seller_order=alpha, lines=[RefundRequest(a1_line.pk, 1)])
    assert seller_balance(m.alpha) == D("29.55") - D("11.90") + D("1.80")  # 19.45
    assert account_total(Account.COMMISSION) == D("3.40")

    # nothing is paid out before delivery, the return window and the fraud approval
    assert payouts_run() == 0
    deliver_and_approve(order, days_ago=3)  # inside the 14-day window
    assert payouts_run() == 0
    deliver_and_approve(order, days_ago=15)
    Order.objects.filter(pk=order.pk).update(fraud_status=FraudStatus.REVIEW)
    assert payouts_run() == 0
    Order.objects.filter(pk=order.pk).update(fraud_status=FraudStatus.APPROVED)

    assert payouts_run() == 2
    payouts = {p.seller_id: p for p in Payout.objects.all()}
    assert payouts[m.alpha.pk].amount == D("19.45")
    assert payouts[m.beta.pk].amount == D("28.80")
    for payout in payouts.values():
        assert payout.status == PayoutStatus.PAID and payout.is_test
        assert payout.reference.startswith("test_tr_")
        assert payout.transfer_group == order.number
    assert seller_balance(m.alpha) == seller_balance(m.beta) == D("0")
    assert payouts_run() == 0  # paid once

    # a later refund of Beta's whole seller order: 23.80 + 6.00 shipping, commission 1.00 back,
    # so Beta owes 28.80, taken back from its transfer
    b1_line = beta.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        order_refund(
            seller_order=beta,
            lines=[RefundRequest(b1_line.pk, 1)],
            shipping_amount=beta.shipping_total,
        )
    reversal = Payout.objects.get(kind=PayoutKind.REVERSAL)
    assert (reversal.amount, reversal.reverses_id, reversal.status) == (
        D("28.80"),
        payouts[m.beta.pk].pk,
        PayoutStatus.PAID,
    )
    assert seller_balance(m.beta) == D("0")
    # the second a1 unit: its commission share brings what came back to 3.60 exactly
    with django_capture_on_commit_callbacks(execute=True):
        order_refund(seller_order=alpha, lines=[RefundRequest(a1_line.pk, 1)])
    returned = LedgerEntry.objects.filter(
        account=Account.SELLER, kind=EntryKind.COMMISSION, order_line_id=a1_line.pk
    )
    assert sorted(e.amount for e in returned) == [D("-3.60"), D("1.80"), D("1.80")]
    assert seller_balance(m.alpha) == D("0")  # 11.90 - 1.80 taken back from the payout
    assert Payout.objects.filter(kind=PayoutKind.REVERSAL, seller=m.alpha).get().amount == D(
        "10.10"
    )

    found = ledger_reconcile()
    assert found.ok, found.differences
    assert (found.orders, found.refunds, found.payouts) == (1, 3, 4)


def test_postings_balance_and_are_written_once(
    ledger_market, django_capture_on_commit_callbacks, celery_eager
):
    from ledger.services import ledger_post_refund
    from payments.models import Refund

    with django_capture_on_commit_callbacks(execute=True):
        order = place(ledger_market)
        seller_order = order.seller_orders.get(seller=ledger_market.beta)
        order_refund(
            seller_order=seller_order, lines=[RefundRequest(seller_order.lines.get().pk, 1)]
        )
    count = LedgerEntry.objects.count()
    ledger_post_refund(refund_id=Refund.objects.get().pk)  # a redelivered task
    assert LedgerEntry.objects.count() == count
    for journal in LedgerEntry.objects.values_list("journal", flat=True).distinct():
        assert sum(e.amount for e in LedgerEntry.objects.filter(journal=journal)) == 0


def test_an_open_dispute_freezes_the_payout_and_its_outcome_posts(ledger_market, celery_eager):
    m = ledger_market
    order = place(m)
    beta = order.seller_orders.get(seller=m.beta)
    payment = Payment.objects.get(order_id=order.pk)
    dispute = Dispute.objects.create(
        payment=payment, reference="dp_test_1", amount=D("29.80"), currency="USD"
    )
    deliver_and_approve(order)
    # not assigned yet: it freezes every seller order of the order, posts nothing
    assert payouts_run() == 0
    dispute_assign_to(dispute=dispute, seller_order_id=beta.pk)
    assert seller_balance(m.beta) == D("28.80") - D("29.80")  # -1.00 while the bank has it
    assert payouts_run() == 1  # Alpha's: Beta's is frozen
    assert not Payout.objects.filter(seller=m.beta).exists()

    Dispute.objects.filter(pk=dispute.pk).update(status=DisputeStatus.WON)
    from ledger.services import ledger_post_dispute

    ledger_post_dispute(dispute_id=dispute.pk)
    ledger_post_dispute(dispute_id=dispute.pk)  # a replayed webhook
    assert seller_balance(m.beta) == D("28.80")
    assert payouts_run() == 1
    assert Payout.objects.get(seller=m.beta).amount == D("28.80")
    kinds = set(
        LedgerEntry.objects.filter(seller=m.beta, account=Account.SELLER).values_list(
            "kind", flat=True
        )
    )
    assert {EntryKind.DISPUTE, EntryKind.DISPUTE_REVERSAL, EntryKind.PAYOUT} <= kinds
    assert ledger_reconcile().ok


def test_reconcile_command_finds_a_posting_that_disagrees(ledger_market, capsys):
    place(ledger_market)
    call_command("ledger_reconcile")
    assert "agrees with the payments to the cent" in capsys.readouterr().out
    # a sale posted a cent short (the ledger is append-only: a bad row is what a bug would add)
    entry = LedgerEntry.objects.filter(kind=EntryKind.SALE, account=Account.FUNDS).first()
    LedgerEntry.objects.filter(pk=entry.pk).update(amount=entry.amount + D("0.01"))
    with pytest.raises(CommandError, match="difference"):
        call_command("ledger_reconcile")
    out = capsys.readouterr().out
    assert "does not balance" in out or "sums to" in out
    assert "sales posted" in out


def test_adjustments_need_a_reason_and_post_both_sides(ledger_market):
    from shop.core.errors import ValidationError

    with pytest.raises(ValidationError):
        ledger_post_adjustment(
            seller=ledger_market.alpha, amount=D("5.00"), currency="USD", memo=" "
        )
    assert not LedgerEntry.objects.exists()
    ledger_post_adjustment(
        seller=ledger_market.alpha, amount=D("-2.50"), currency="USD", memo="Damaged parcel"
    )
    assert seller_balance(ledger_market.alpha) == D("-2.50")
    assert account_total(Account.ADJUSTMENTS) == D("2.50")


def test_the_rule_service_refuses_a_clashing_or_out_of_bounds_rule(ledger_market):
    from ledger.models import CommissionRule
    from ledger.services import commission_rule_save
    from shop.core.errors import ValidationError

    with pytest.raises(ValidationError, match="exists already"):
        commission_rule_save(rule=CommissionRule(seller=ledger_market.beta, rate=D("0.2")))
    with pytest.raises(ValidationError, match="between 0 and 1"):
        commission_rule_save(rule=CommissionRule(seller=ledger_market.alpha, rate=D("1.5")))
    assert CommissionRule.objects.count() == 4
    saved = commission_rule_save(rule=CommissionRule(seller=ledger_market.alpha, rate=D("0.07")))
    assert saved.pk is not None


def test_a_cancelled_paid_order_is_refunded_whole_and_split_over_its_sellers(
    ledger_market, django_capture_on_commit_callbacks, celery_eager
):
    from orders.services import order_cancel

    m = ledger_market
    with django_capture_on_commit_callbacks(execute=True):
        order = place(m)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, reason="Changed my mind")
    # the payment's void refunds all 63.55 with no seller order named: split per seller order
    # (Alpha 33.75, Beta 29.80), every commission given back
    assert seller_balance(m.alpha) == seller_balance(m.beta) == D("0")
    assert account_total(Account.COMMISSION) == D("0")
    assert account_total(Account.ADJUSTMENTS) == D("0")
    refunds = LedgerEntry.objects.filter(account=Account.SELLER, kind=EntryKind.REFUND)
    assert sum(e.amount for e in refunds) == D("-63.55")
    assert ledger_reconcile().ok


def test_a_cancelled_authorisation_unwinds_the_sale(
    ledger_market, settings, django_capture_on_commit_callbacks, celery_eager
):
    from orders.services import order_cancel

    settings.PAYMENTS_CAPTURE_LATER = True
    m = ledger_market
    with django_capture_on_commit_callbacks(execute=True):
        order = place(m)
    assert seller_balance(m.alpha) == D("29.55")  # owed once paid (authorised)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order)
    assert Payment.objects.get(order_id=order.pk).status == "canceled"
    assert seller_balance(m.alpha) == seller_balance(m.beta) == D("0")
    assert account_total(Account.COMMISSION) == account_total(Account.FUNDS) == D("0")
    assert ledger_reconcile().ok


def test_a_bank_debit_posts_the_sale_when_the_money_arrives(ledger_market):
    from orders.services.payments import order_payment_settle
    from payments.gateways.test import TestGateway

    order = order_place(checkout=ledger_market.ready_checkout(), payment_token="tok_pending")
    assert order.status == "pending_payment"
    assert not LedgerEntry.objects.exists()  # nothing is owed on money not received
    payment = Payment.objects.get(order_id=order.pk)
    TestGateway().settle(reference=payment.reference, succeed=True)
    order_payment_settle(payment_id=payment.pk)
    order_payment_settle(payment_id=payment.pk)  # a second report changes nothing
    assert seller_balance(ledger_market.alpha) == D("29.55")
    assert seller_balance(ledger_market.beta) == D("28.80")
    assert ledger_reconcile().ok


def test_money_only_authorised_is_not_paid_out(ledger_market, settings):
    settings.PAYMENTS_CAPTURE_LATER = True
    order = place(ledger_market)
    deliver_and_approve(order)
    assert payouts_run() == 0
    from payments.services import payment_capture

    payment_capture(payment=Payment.objects.get(order_id=order.pk))
    assert payouts_run() == 2


def test_a_dispute_after_the_payout_takes_it_back_and_a_win_pays_it_again(ledger_market):
    from ledger.services import ledger_post_dispute

    m = ledger_market
    order = place(m, lines=[(m.a1, 1)])  # Alpha: 11.90 + 4.00 shipping, commission 1.80
    deliver_and_approve(order)
    assert payouts_run() == 1
    payment = Payment.objects.get(order_id=order.pk)
    dispute = Dispute.objects.create(
        payment=payment, reference="dp_after", amount=D("15.90"), currency=payment.currency
    )
    dispute_assign_to(dispute=dispute, seller_order_id=order.seller_orders.get().pk)
    # owed 14.10 - 15.90 = -1.80 after the dispute: all 14.10 of the transfer is taken back
    # (never more than was sent), the platform carries the other 1.80 as the seller's debt
    reversal = Payout.objects.get(kind=PayoutKind.REVERSAL)
    assert reversal.amount == D("14.10")
    assert seller_balance(m.alpha) == D("-1.80")
    Dispute.objects.filter(pk=dispute.pk).update(status=DisputeStatus.WON)
    ledger_post_dispute(dispute_id=dispute.pk)
    assert seller_balance(m.alpha) == D("14.10")
    assert payouts_run() == 1
    assert seller_balance(m.alpha) == D("0")
    assert ledger_reconcile().ok
