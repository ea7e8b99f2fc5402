"""Payouts through Stripe Connect (separate charges and transfers) with the real SDK against the
local fake (docs/testing-stripe.md): the seller's Express account and onboarding link, a
transfer per seller order grouped by order and funded by its charge, reversals after a later
refund, disputes through webhooks, refusals posted back, keys from our records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.models import Account, EntryKind, LedgerEntry, Payout, PayoutKind, PayoutStatus
from ledger.selectors import ledger_reconcile, seller_owed_by_seller_order
from ledger.services import connect_account_status, connect_onboarding_link
from orders.services import order_place
from orders.services.payments import RefundRequest, order_refund
from orders.services.payouts import payouts_run
from payments.gateways import gateway_get
from payments.models import Dispute, DisputeStatus, Payment
from sellers.models import Seller
from tests.ledger.conftest import deliver_and_approve
from tests.payments.conftest import stripe_server, stripe_settings  # noqa: F401 - fixtures
from tests.payments.test_stripe_checkout import deliver

D = Decimal


@pytest.fixture
def stripe_live(stripe_settings, celery_eager, settings):  # noqa: F811
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return stripe_settings


def onboard(server, seller: Seller) -> str:
    url = connect_onboarding_link(
        seller=seller,
        email="owner@alpha.example",
        refresh_url="https://shop.example/portal/finance/",
        return_url="https://shop.example/portal/finance/",
    )
    assert url.startswith("https://")
    seller.refresh_from_db()
    server.complete_onboarding(seller.stripe_account_id)
    return seller.stripe_account_id


def place_a1(market, capture=None):
    # Alpha: a1 10.00 + 19% = 11.90, shipping 4.00: 15.90; commission (Home: 15% + 0.30) 1.80
    with capture(execute=True):
        return order_place(
            checkout=market.ready_checkout(lines=[(market.a1, 1)]), payment_token="pm_card_visa"
        )


def test_onboarding_creates_an_express_account_once_and_links_to_it(ledger_market, stripe_live):
    seller = ledger_market.alpha
    account = onboard(stripe_live, seller)
    again = connect_onboarding_link(
        seller=Seller.objects.get(pk=seller.pk),
        email="owner@alpha.example",
        refresh_url="https://shop.example/r",
        return_url="https://shop.example/r",
    )
    (create,) = stripe_live.requests_to("POST", "/v1/accounts")
    assert create.idempotency_key == f"seller:{seller.pk}:connect"
    assert create.params["type"] == "express"
    assert create.params["capabilities"] == {"transfers": {"requested": "true"}}
    links = stripe_live.requests_to("POST", "/v1/account_links")
    assert [r.params["account"] for r in links] == [account, account]
    assert links[0].params["type"] == "account_onboarding"
    assert again.startswith("https://")
    status = connect_account_status(seller=Seller.objects.get(pk=seller.pk))
    assert status is not None and status.payouts_enabled and status.transfers_active


def test_a_transfer_per_seller_order_from_its_charge_then_a_reversal_after_a_refund(
    ledger_market, stripe_live, django_capture_on_commit_callbacks
):
    m = ledger_market
    account = onboard(stripe_live, m.alpha)
    order = place_a1(m, django_capture_on_commit_callbacks)
    payment = Payment.objects.get(order_id=order.pk)
    deliver_and_approve(order)

    assert payouts_run() == 1
    payout = Payout.objects.get()
    (sent,) = stripe_live.requests_to("POST", "/v1/transfers")
    assert sent.idempotency_key == f"payout:{payout.pk}"
    assert sent.params["amount"] == "1410"  # 15.90 - 1.80
    assert sent.params["destination"] == account
    assert sent.params["transfer_group"] == order.number
    assert sent.params["source_transaction"] == payment.charge_reference != ""
    transfer = stripe_live.get(payout.reference)
    assert (transfer["object"], transfer["amount"], transfer["destination"]) == (
        "transfer",
        1410,
        account,
    )
    assert payout.status == PayoutStatus.PAID

    # the shopper gets the item's 11.90 back: the seller owes 11.90 - 1.80 commission returned
    seller_order = order.seller_orders.get()
    with django_capture_on_commit_callbacks(execute=True):
        order_refund(
            seller_order=seller_order,
            lines=[RefundRequest(seller_order.lines.get().pk, 1)],
        )
    reversal = Payout.objects.get(kind=PayoutKind.REVERSAL)
    (reversed_,) = stripe_live.requests_to("POST", "/v1/transfers/*/reversals")
    assert reversed_.path == f"/v1/transfers/{payout.reference}/reversals"
    assert reversed_.params["amount"] == "1010"
    assert reversed_.idempotency_key == f"payout:{reversal.pk}"
    assert reversal.status == PayoutStatus.PAID and reversal.reference.startswith("trr_")
    assert stripe_live.get(payout.reference)["amount_reversed"] == 1010
    assert sum(seller_owed_by_seller_order(seller=m.alpha).values(), D("0")) == 0
    assert ledger_reconcile().ok


def test_transfers_replayed_with_the_same_key_pay_once(
    ledger_market, stripe_live, django_capture_on_commit_callbacks
):
    account = onboard(stripe_live, ledger_market.alpha)
    order = place_a1(ledger_market, django_capture_on_commit_callbacks)
    payment = Payment.objects.get(order_id=order.pk)
    gateway = gateway_get("stripe")
    args = {
        "amount": D("5.00"),
        "currency": "USD",
        "destination": account,
        "transfer_group": order.number,
        "source_transaction": payment.charge_reference,
        "metadata": {"payout_id": "1"},
        "idempotency_key": "payout:test-replay",
    }
    first = gateway.transfer_create(**args)
    second = gateway.transfer_create(**args)
    assert first == second
    assert len(stripe_live.client().v1.transfers.list({"transfer_group": order.number}).data) == 1
    from payments.gateways import GatewayRefused

    with pytest.raises(GatewayRefused):  # the same key with other parameters
        gateway.transfer_create(**{**args, "amount": D("6.00")})


def test_no_payout_without_an_account_and_a_refused_transfer_is_posted_back(
    ledger_market, stripe_live, django_capture_on_commit_callbacks
):
    m = ledger_market
    order = place_a1(m, django_capture_on_commit_callbacks)
    deliver_and_approve(order)
    assert payouts_run() == 0  # Alpha has no connected account yet
    assert not Payout.objects.exists()

    # an account that never finished onboarding: Stripe refuses the transfer
    connect_onboarding_link(
        seller=m.alpha, email="", refresh_url="https://x.example/", return_url="https://x.example/"
    )
    assert payouts_run() == 0
    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.FAILED and payout.failure_message
    assert sum(seller_owed_by_seller_order(seller=m.alpha).values(), D("0")) == D("14.10")
    assert ledger_reconcile().ok

    stripe_live.complete_onboarding(Seller.objects.get(pk=m.alpha.pk).stripe_account_id)
    assert payouts_run() == 1  # paid on the next run
    assert Payout.objects.filter(status=PayoutStatus.PAID).get().amount == D("14.10")


def test_a_dispute_from_stripe_freezes_the_payout_and_posts_its_outcome(
    ledger_market, stripe_live, client, django_capture_on_commit_callbacks
):
    m = ledger_market
    onboard(stripe_live, m.alpha)
    order = place_a1(m, django_capture_on_commit_callbacks)
    payment = Payment.objects.get(order_id=order.pk)
    deliver_and_approve(order)
    dispute_id = stripe_live.open_dispute(payment.reference, reason="fraudulent")["id"]
    for hook in stripe_live.webhooks("charge.dispute.*"):
        assert deliver(client, hook) == 200
    dispute = Dispute.objects.get()
    taken = LedgerEntry.objects.get(
        account=Account.SELLER, kind=EntryKind.DISPUTE, journal=f"dispute:{dispute.pk}:opened"
    )
    assert taken.amount == -order.total  # the whole charge is disputed: 15.90
    assert payouts_run() == 0  # frozen while open

    stripe_live.close_dispute(dispute_id, won=True)
    for hook in stripe_live.webhooks("charge.dispute.closed"):
        deliver(client, hook)
    assert Dispute.objects.get().status == DisputeStatus.WON
    assert payouts_run() == 1
    assert Payout.objects.get().amount == D("14.10")
    assert ledger_reconcile().ok
