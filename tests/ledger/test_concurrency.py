"""Real races on PostgreSQL (a thread per connection, released by a barrier): concurrent payout
runs and concurrent refund postings never pay or post twice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.models import LedgerEntry, Payout
from ledger.selectors import ledger_reconcile
from ledger.services import ledger_post_refund
from orders.services import order_place
from orders.services.payments import RefundRequest, order_refund
from orders.services.payouts import payouts_run
from payments.models import Refund
from tests.ledger.conftest import LedgerMarket, deliver_and_approve
from tests.orders.test_concurrency import race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_concurrent_payout_runs_pay_each_seller_order_once():
    market = LedgerMarket()
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    deliver_and_approve(order)

    outcomes = race(6, lambda i: payouts_run())

    assert sum(int(n) for n in outcomes.elements()) == 2
    assert sorted(p.amount for p in Payout.objects.all()) == [Decimal("28.80"), Decimal("29.55")]
    assert ledger_reconcile().ok


def test_a_refund_posted_concurrently_is_posted_once():
    market = LedgerMarket()
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    seller_order = order.seller_orders.get(seller=market.beta)
    order_refund(seller_order=seller_order, lines=[RefundRequest(seller_order.lines.get().pk, 1)])
    refund = Refund.objects.get()
    from payments.services import refund_execute

    refund_execute(refund_id=refund.pk)

    race(6, lambda i: ledger_post_refund(refund_id=refund.pk))

    assert LedgerEntry.objects.filter(journal=f"refund:{refund.pk}").count() == 4
    assert ledger_reconcile().ok
