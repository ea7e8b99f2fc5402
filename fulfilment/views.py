"""Storefront: a shopper asks to return items of their own order, signed in (another customer's
order number is a 404) or as a guest through the order's signed link. The order page shows
parcels and returns (templatetags/fulfilment.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from fulfilment.services import ReturnLineSpec, return_request_create
from orders.models import Order
from orders.selectors import order_get_for_customer, order_get_for_guest_token
from shop.core.errors import NotFound, ServiceError
from shop.core.numbers import NumberError, id_lookup, integer_parse


def _return_request(request: HttpRequest, fetch: Callable[[], Order]) -> Order:
    try:
        order = fetch()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    lines = []
    try:
        for name in request.POST:
            value = request.POST.get(name, "")
            if name.startswith("qty_") and value.strip():
                lines.append(
                    ReturnLineSpec(
                        order_line_id=id_lookup(name[4:]),
                        quantity=integer_parse(value, min_value=0, max_value=100_000),
                    )
                )
        created = return_request_create(
            order=order,
            seller_order_id=id_lookup(request.POST.get("seller_order")),
            lines=lines,
            reason=request.POST.get("reason", ""),
            key=request.POST.get("key", ""),
            by=request.user if request.user.is_authenticated else None,
            photos=request.FILES.getlist("photos"),
        )
    except NumberError as exc:
        messages.error(request, f"Quantities: {exc}")
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Return {created.pk} requested. The seller will answer by email."
        )
    return order


@require_POST
@login_required
def return_request(request: HttpRequest, number: str) -> HttpResponse:
    order = _return_request(
        request, lambda: order_get_for_customer(user=request.user, number=number)
    )
    return redirect("orders:detail", number=order.number)


@require_POST
def guest_return_request(request: HttpRequest, token: str) -> HttpResponse:
    _return_request(request, lambda: order_get_for_guest_token(token=token))
    return redirect("orders:guest_detail", token=token)
