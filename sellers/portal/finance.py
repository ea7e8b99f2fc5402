"""Portal finance: the seller's balance (pending / available), ledger with filters and its CSV
export, payouts, and the payout account (Stripe Connect onboarding; none with the built-in test
gateway, whose payouts are test transfers). Owners only ("finance"); every row is the current
seller's."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ledger.models import LedgerEntry
from ledger.selectors import ledger_entries_for_seller, payouts_for_seller
from ledger.services import connect_account_status, connect_onboarding_link
from orders.selectors import disputes_for_seller
from orders.services.payouts import seller_balance
from payments.gateways import gateway_live
from sellers.models import SellerMember
from sellers.portal.forms import LedgerFilterForm
from sellers.portal.views import _ctx, portal_view
from shop.core.errors import ServiceError

PAGE_SIZE = 50


@require_GET
@portal_view("finance")
def finance_home(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    seller = membership.seller
    test_gateway = gateway_live() == "test"
    return render(
        request,
        "portal/finance/home.html",
        _ctx(
            request,
            membership,
            balance=seller_balance(seller=seller),
            test_gateway=test_gateway,
            account=None if test_gateway else connect_account_status(seller=seller),
            recent_payouts=payouts_for_seller(seller=seller)[:5],
            disputes=list(disputes_for_seller(seller=seller)[:20]),
            return_window_days=settings.PAYOUT_RETURN_WINDOW_DAYS,
        ),
    )


@require_POST
@portal_view("finance")
def connect_onboard(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    back = settings.SITE_URL + reverse("portal:finance")
    try:
        url = connect_onboarding_link(
            seller=membership.seller,
            email=membership.seller.support_email or request.user.email,  # type: ignore[union-attr]
            refresh_url=back,
            return_url=back,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("portal:finance")
    return redirect(url)


def _entries(request: HttpRequest, membership: SellerMember) -> tuple[LedgerFilterForm, Any]:
    form = LedgerFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None
    data = form.cleaned_data if form.is_bound else {}
    return form, ledger_entries_for_seller(
        seller=membership.seller,
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        kind=data.get("kind", ""),
    )


@require_GET
@portal_view("finance")
def ledger_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    form, rows = _entries(request, membership)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/finance/ledger.html",
        _ctx(
            request,
            membership,
            form=form,
            page=Paginator(rows if rows is not None else [], PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            query=query.urlencode(),
        ),
        status=400 if rows is None else 200,
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_HEADER = ["date", "kind", "order", "amount", "currency", "memo", "reference"]


def ledger_csv_rows(entries: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # spreadsheet programs then read the file as UTF-8
    yield writer.writerow(CSV_HEADER)
    for entry in entries.iterator(chunk_size=500):
        entry: LedgerEntry  # type: ignore[no-redef]
        yield writer.writerow(
            [
                entry.created_at.isoformat(),
                entry.kind,
                entry.order_number,
                str(entry.amount),
                entry.currency,
                entry.memo,
                entry.journal,
            ]
        )


@require_GET
@portal_view("finance")
def ledger_export(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    _form, rows = _entries(request, membership)
    if rows is None:
        messages.error(request, "Correct the filters to export the ledger.")
        return redirect(reverse("portal:ledger") + "?" + request.GET.urlencode())
    response = StreamingHttpResponse(ledger_csv_rows(rows), content_type="text/csv; charset=utf-8")
    name = f"{membership.seller.slug}-ledger-{timezone.now():%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response  # type: ignore[return-value]


@require_GET
@portal_view("finance")
def payout_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    rows = payouts_for_seller(seller=membership.seller)
    return render(
        request,
        "portal/finance/payouts.html",
        _ctx(
            request,
            membership,
            page=Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            query="",
        ),
    )
