"""Portal shipping methods: list, create, edit, activate/deactivate, reorder. Owners and
managers only; every lookup is scoped to the current seller (another seller's id -> 404)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from orders.selectors import shipping_method_get_for_seller, shipping_method_list_for_seller
from orders.services import (
    shipping_method_create,
    shipping_method_move,
    shipping_method_set_active,
    shipping_method_update,
)
from pricing.models import ShippingMethod
from sellers.models import SellerMember
from sellers.portal.forms import ShippingMethodForm
from sellers.portal.views import _ctx, _form_error, portal_view
from shop.core.errors import ServiceError


@portal_view("shipping")
def method_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    methods = shipping_method_list_for_seller(seller=membership.seller)
    return render(request, "portal/shipping/list.html", _ctx(request, membership, methods=methods))


def _edit(
    request: HttpRequest, membership: SellerMember, method: ShippingMethod | None
) -> HttpResponse:
    initial = {}
    if method is not None:
        initial = {
            field: getattr(method, field)
            for field in ("name", "kind", "price", "price_per_kg", "free_above", "countries")
        }
    form = ShippingMethodForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if method is None:
                method = shipping_method_create(seller=membership.seller, **form.cleaned_data)
            else:
                method = shipping_method_update(method=method, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Shipping method “{method.name}” saved.")
            return redirect("portal:shipping")
    return render(
        request,
        "portal/shipping/edit.html",
        _ctx(request, membership, form=form, method=method),
        status=400 if request.method == "POST" else 200,
    )


@portal_view("shipping")
def method_new(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    return _edit(request, membership, None)


@portal_view("shipping")
def method_edit(request: HttpRequest, membership: SellerMember, method_id: int) -> HttpResponse:
    method = shipping_method_get_for_seller(seller=membership.seller, pk=method_id)
    return _edit(request, membership, method)


@require_POST
@portal_view("shipping")
def method_active(request: HttpRequest, membership: SellerMember, method_id: int) -> HttpResponse:
    method = shipping_method_get_for_seller(seller=membership.seller, pk=method_id)
    is_active = {"1": True, "0": False}.get(request.POST.get("active", ""))
    if is_active is None:  # a malformed request changes nothing
        messages.error(request, "Choose whether to offer or withdraw the method.")
        return redirect("portal:shipping")
    shipping_method_set_active(method=method, is_active=is_active)
    state = "offered at checkout again" if is_active else "no longer offered at checkout"
    messages.success(request, f"“{method.name}” is {state}.")
    return redirect("portal:shipping")


@require_POST
@portal_view("shipping")
def method_move(request: HttpRequest, membership: SellerMember, method_id: int) -> HttpResponse:
    method = shipping_method_get_for_seller(seller=membership.seller, pk=method_id)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""), 0)
    try:
        shipping_method_move(method=method, offset=offset)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("portal:shipping")
