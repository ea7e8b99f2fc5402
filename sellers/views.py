"""'Apply to sell' on the storefront. Staff review applications in the admin."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import User
from sellers.forms import SellerApplicationForm
from sellers.selectors import seller_memberships_for_user
from sellers.services import seller_apply
from shop.core.errors import ServiceError


def _signed_in_user(request: HttpRequest) -> User:
    # only reached behind @login_required
    return cast(User, request.user)


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    form = SellerApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            seller_apply(user=_signed_in_user(request), **form.cleaned_data)
        except ServiceError as exc:
            _add_service_error(form, exc)
        else:
            return redirect("sellers:apply_done")
    return render(request, "storefront/sellers/apply.html", {"form": form})


def _add_service_error(form: SellerApplicationForm, exc: ServiceError) -> None:
    """Field errors go beside their field; the rest is shown above the form."""
    placed = False
    for field, messages in exc.fields.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@login_required
def apply_done(request: HttpRequest) -> HttpResponse:
    memberships = seller_memberships_for_user(user=_signed_in_user(request))
    return render(request, "storefront/sellers/apply_done.html", {"memberships": memberships})
