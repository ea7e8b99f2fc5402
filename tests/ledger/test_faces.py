"""The seller's money in the portal and the seller API (scoped to the seller, filters, CSV,
bounded queries, CSRF) and staff's admin pages."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import CommissionRule, LedgerEntry, Payout
from orders.services import order_place
from orders.services.payouts import payouts_run
from sellers.models import MemberRole
from tests.factories import SellerMemberFactory
from tests.ledger.conftest import deliver_and_approve

D = Decimal


@pytest.fixture
def placed(ledger_market):
    """Two orders (each with Alpha and Beta parts), one paid out."""
    m = ledger_market
    first = order_place(checkout=m.ready_checkout(), payment_token="tok_visa")
    deliver_and_approve(first)
    payouts_run()
    order_place(checkout=m.ready_checkout(), payment_token="tok_visa")
    return m


def owner_of(seller, client: Client) -> Client:
    member = SellerMemberFactory(seller=seller, role=MemberRole.OWNER)
    client.force_login(member.user)
    return client


def test_portal_money_page_shows_the_ledger_balance_and_labels_the_skipped_connect(placed, client):
    body = owner_of(placed.alpha, client).get(reverse("portal:finance")).content.decode()
    # the first order is paid out; the second owes 29.55 (see test_ledger's table), pending
    assert 'data-figure="pending">USD 29.55<' in body
    assert 'data-figure="available">USD 0.00<' in body
    assert 'data-connect="skipped"' in body and "Skipped: test mode." in body
    assert "test transfer" in body


def test_a_manager_may_not_see_money(placed, client):
    member = SellerMemberFactory(seller=placed.alpha, role=MemberRole.MANAGER)
    client.force_login(member.user)
    assert client.get(reverse("portal:finance")).status_code == 403
    assert client.get(reverse("portal:ledger")).status_code == 403


def test_portal_ledger_is_the_sellers_own_filtered_and_exported(placed, client):
    owner_of(placed.alpha, client)
    page = client.get(reverse("portal:ledger"))
    entries = page.context["page"].object_list
    assert entries and {e.seller_id for e in entries} == {placed.alpha.pk}
    assert all(e.account == "seller" for e in entries)
    payouts = client.get(reverse("portal:ledger"), {"kind": "payout"}).context["page"]
    assert [e.kind for e in payouts.object_list] == ["payout"]
    bad = client.get(reverse("portal:ledger"), {"date_from": "2026-02-30"})
    assert bad.status_code == 400
    backwards = client.get(
        reverse("portal:ledger"), {"date_from": "2026-03-02", "date_to": "2026-03-01"}
    )
    assert backwards.status_code == 400

    response = client.get(reverse("portal:ledger_export"), {"kind": "commission"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0].lstrip("\ufeff") == "date"
    amounts = sorted(D(row[3]) for row in rows[1:])
    assert amounts == [D("-3.60"), D("-3.60"), D("-0.60"), D("-0.60")]  # Alpha's only
    assert {row[1] for row in rows[1:]} == {"commission"}


def test_portal_payouts_are_the_sellers_own(placed, client):
    owner_of(placed.beta, client)
    payouts = client.get(reverse("portal:payouts")).context["page"].object_list
    assert [(p.seller_id, p.amount) for p in payouts] == [(placed.beta.pk, D("28.80"))]


def test_the_ledger_page_makes_a_fixed_number_of_queries(
    placed, client, django_assert_max_num_queries
):
    owner_of(placed.alpha, client)
    client.get(reverse("portal:ledger"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("portal:ledger"))
    for _ in range(3):
        order_place(checkout=placed.ready_checkout(), payment_token="tok_visa")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("portal:ledger"))
    assert len(response.context["page"].object_list) > 20


def test_connect_onboarding_needs_csrf_and_is_refused_with_the_test_gateway(placed):
    client = Client(enforce_csrf_checks=True)
    owner_of(placed.alpha, client)
    assert client.post(reverse("portal:finance_connect")).status_code == 403
    page = client.get(reverse("portal:finance"))
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else None
    token = token or client.cookies["csrftoken"].value
    response = client.post(
        reverse("portal:finance_connect"), {"csrfmiddlewaretoken": token}, follow=True
    )
    assert "no payout account is needed" in response.content.decode()
    placed.alpha.refresh_from_db()
    assert placed.alpha.stripe_account_id == ""


def test_seller_api_balance_ledger_payouts_and_export(placed, api_client):
    member = SellerMemberFactory(seller=placed.beta, role=MemberRole.OWNER)
    api_client.force_authenticate(member.user)
    balance = api_client.get("/api/v1/seller/balance/").json()
    assert balance == {
        "currency": "USD",
        "pending": "28.80",
        "available": "0.00",
        "total": "28.80",
    }
    ledger = api_client.get("/api/v1/seller/ledger/", {"kind": "sale"}).json()
    assert ledger["count"] == 4 and {r["kind"] for r in ledger["results"]} == {"sale"}
    assert api_client.get("/api/v1/seller/ledger/", {"kind": "nope"}).status_code == 400
    assert api_client.get("/api/v1/seller/ledger/", {"date_to": "x"}).status_code == 400
    payouts = api_client.get("/api/v1/seller/payouts/").json()
    assert [(p["amount"], p["test"]) for p in payouts["results"]] == [("28.80", True)]
    export = api_client.get("/api/v1/seller/ledger/export/")
    body = b"".join(export.streaming_content).decode()
    assert (
        body.count("\n")
        == 1 + LedgerEntry.objects.filter(seller=placed.beta, account="seller").count()
    )
    # another seller's id in the header is not found, never shown
    other = api_client.get("/api/v1/seller/balance/", HTTP_X_SELLER_ID=str(placed.alpha.pk))
    assert other.status_code == 404


def test_admin_pages_list_entries_payouts_and_rules_and_entries_are_read_only(placed, admin_client):
    for name in ("ledgerentry", "payout", "commissionrule"):
        response = admin_client.get(reverse(f"admin:ledger_{name}_changelist"))
        assert response.status_code == 200, name
    entry = LedgerEntry.objects.first()
    assert admin_client.get(reverse("admin:ledger_ledgerentry_add")).status_code == 403
    change = admin_client.post(
        reverse("admin:ledger_ledgerentry_change", args=[entry.pk]), {"amount": "999"}
    )
    assert change.status_code == 403
    assert LedgerEntry.objects.get(pk=entry.pk).amount == entry.amount
    assert Payout.objects.count() == 2


def test_admin_refuses_a_second_active_rule_for_the_same_scope(placed, admin_client):
    response = admin_client.post(
        reverse("admin:ledger_commissionrule_add"),
        {"seller": placed.beta.pk, "rate": "0.20", "fixed": "0", "is_active": "on"},
        follow=True,
    )
    # the form checks the one-active-rule constraint; the service checks it again on save
    assert "<title>Error: Add commission rule" in response.content.decode()
    assert CommissionRule.objects.filter(seller=placed.beta, category=None).count() == 1


def test_seller_api_lists_make_a_fixed_number_of_queries(
    placed, api_client, django_assert_max_num_queries
):
    member = SellerMemberFactory(seller=placed.alpha, role=MemberRole.OWNER)
    api_client.force_authenticate(member.user)
    for url in ("/api/v1/seller/ledger/", "/api/v1/seller/payouts/"):
        api_client.get(url)
        with django_assert_max_num_queries(8) as few:
            api_client.get(url)
        order = order_place(checkout=placed.ready_checkout(), payment_token="tok_visa")
        deliver_and_approve(order)
        payouts_run()
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert api_client.get(url).status_code == 200


def test_fulfilment_staff_get_no_money_over_the_api(placed, api_client):
    member = SellerMemberFactory(seller=placed.alpha, role=MemberRole.FULFILMENT)
    api_client.force_authenticate(member.user)
    assert api_client.get("/api/v1/seller/balance/").status_code == 403
    assert api_client.get("/api/v1/seller/ledger/export/").status_code == 403


def test_staff_post_an_adjustment_from_the_admin_and_bad_input_posts_nothing(placed, admin_client):
    url = reverse("admin:ledger_ledgerentry_adjust")
    assert (
        "Adjust a seller"
        in admin_client.get(reverse("admin:ledger_ledgerentry_changelist")).content.decode()
    )
    before = LedgerEntry.objects.count()
    for bad in ({"amount": "1e400"}, {"amount": "0"}, {"amount": "5", "memo": ""}):
        data = {"seller": placed.alpha.pk, "memo": "Damaged parcel", **bad}
        response = admin_client.post(url, data)
        assert response.status_code == 200
    assert LedgerEntry.objects.count() == before
    response = admin_client.post(
        url, {"seller": placed.alpha.pk, "amount": "-2.50", "memo": "Damaged parcel"}
    )
    assert response.status_code == 302
    posted = LedgerEntry.objects.get(kind="adjustment", account="seller")
    assert (posted.seller_id, posted.amount, posted.memo) == (
        placed.alpha.pk,
        D("-2.50"),
        "Damaged parcel",
    )


def test_staff_without_the_permission_cannot_adjust(placed, client):
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:ledger_ledgerentry_adjust")).status_code == 403


def test_the_money_page_shows_the_sellers_disputes_with_their_evidence_deadline(placed, client):
    from datetime import UTC, datetime

    from orders.models import Order
    from payments.models import Dispute, DisputeStatus, Payment

    order = Order.objects.order_by("pk").last()
    alpha = order.seller_orders.get(seller=placed.alpha)
    beta = order.seller_orders.get(seller=placed.beta)
    payment = Payment.objects.get(order_id=order.pk)
    due = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
    Dispute.objects.create(
        payment=payment,
        reference="dp_alpha",
        seller_order_id=alpha.pk,
        amount=D("12.00"),
        currency="USD",
        reason="fraudulent",
        evidence_due_by=due,
    )
    Dispute.objects.create(
        payment=payment,
        reference="dp_beta",
        seller_order_id=beta.pk,
        amount=D("7.00"),
        currency="USD",
        reason="<script>x</script>",
        status=DisputeStatus.WON,
    )
    body = owner_of(placed.alpha, client).get(reverse("portal:finance")).content.decode()
    assert 'data-dispute="open"' in body and order.number in body
    assert 'datetime="2027-01-15T12:00:00+00:00"' in body and "USD 12.00" in body
    assert "USD 7.00" not in body  # Beta's dispute is not Alpha's business

    beta_page = owner_of(placed.beta, Client()).get(reverse("portal:finance")).content.decode()
    assert 'data-dispute="won"' in beta_page and "&lt;script&gt;" in beta_page
    assert "<script>x" not in beta_page and "USD 12.00" not in beta_page
