"""Portal orders: the orders to fulfil (filters, search), an order's detail with its pick list,
packing, shipping per warehouse (one or several lines, in part), tracking, returns and history.
Viewing needs the `orders` permission, acting `fulfil`; every lookup is scoped to the current
seller (another seller's id is a 404). Views call fulfilment's services and selectors only."""

from __future__ import annotations

import uuid
from typing import cast

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fulfilment.carriers import carrier_choices, label_carrier
from fulfilment.selectors import (
    VIEWS,
    return_get_for_seller,
    seller_order_get_for_seller,
    seller_order_pick_lists,
    seller_order_progress,
    seller_orders_for_seller,
)
from fulfilment.services import (
    ShipLine,
    label_rates,
    return_approve,
    return_receive,
    return_reject,
    seller_order_line_cancel,
    seller_order_line_reroute,
    seller_order_pack,
    shipment_create,
    shipments_import_csv,
)
from inventory.models import Warehouse
from inventory.services import MAX_LINE_QUANTITY
from orders.models import SellerOrder
from sellers.models import SellerMember
from sellers.portal.views import _ctx, _form_error, portal_view
from shop.core.errors import ServiceError
from shop.core.fields import IntegerFormField
from shop.core.numbers import NumberError, id_lookup, integer_parse

PAGE_SIZE = 50


class ShipForm(forms.Form):
    """One parcel: the warehouse it leaves from, the carrier and tracking number, and how many
    units of each line (`qty_<line id>`, at most what is still to ship). `key` makes the same
    submitted form ship once."""

    warehouse = forms.TypedChoiceField(coerce=int, label="Ships from")
    carrier = forms.ChoiceField(choices=carrier_choices())
    tracking_number = forms.CharField(
        max_length=64, required=False, help_text="Not needed when buying a label."
    )
    service = forms.CharField(max_length=60, required=False, label="Service (optional)")
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, seller_order: SellerOrder, progress, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = carrier_choices()
        if label_carrier() is not None:  # offered only when EASYPOST_API_KEY is set
            choices = [("easypost", "Buy a label (EasyPost)"), *choices]
            self.fields[
                "service"
            ].help_text = "With a label: e.g. USPS Priority or UPS Ground; empty buys the cheapest."
        cast(forms.ChoiceField, self.fields["carrier"]).choices = choices
        warehouses = Warehouse.objects.filter(seller_id=seller_order.seller_id).order_by(
            "priority", "pk"
        )
        cast(forms.ChoiceField, self.fields["warehouse"]).choices = [
            (w.pk, f"{w.name} ({w.code})") for w in warehouses
        ]
        self.line_fields = []
        for row in progress:
            name = f"qty_{row.line.pk}"
            self.fields[name] = IntegerFormField(
                # the service checks what is left to ship (a re-submitted form finds its
                # shipment by key first)
                min_value=0,
                max_value=MAX_LINE_QUANTITY,
                required=False,
                label=f"{row.line.product_name} ({row.line.sku})",
            )
            self.line_fields.append((self[name], row))
        if not self.is_bound:
            self.initial["key"] = uuid.uuid4().hex

    def ship_lines(self) -> list[ShipLine]:
        return [
            ShipLine(order_line_id=row.line.pk, quantity=self.cleaned_data.get(bound.name) or 0)
            for bound, row in self.line_fields
        ]


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=500)


class ApproveForm(forms.Form):
    instructions = forms.CharField(max_length=500, required=False)


class ShipCsvForm(forms.Form):
    file = forms.FileField(label="CSV file")


@portal_view("fulfil")
def orders_ship_csv(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    """Ship several parcels from a CSV of tracking numbers (fulfilment.services.bulk)."""
    form = ShipCsvForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > 1_000_000:
                raise ServiceError("The file is larger than 1 MB; split it.")
            text = upload.read().decode("utf-8-sig")
            result = shipments_import_csv(seller=membership.seller, text=text, by=request.user)
        except UnicodeDecodeError:
            form.add_error("file", "The file is not UTF-8 text.")
        except ServiceError as exc:
            form.add_error("file", exc.message)
        if result is None or result.errors:
            status = 400
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "portal/orders/ship_csv.html",
        _ctx(request, membership, form=form, result=result),
        status=status,
    )


@portal_view("orders")
def order_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    view = request.GET.get("view", "")
    view = view if view in VIEWS else ""
    search = request.GET.get("q", "")[:100]
    rows = seller_orders_for_seller(seller=membership.seller, view=view, search=search)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/orders/list.html",
        _ctx(
            request,
            membership,
            page=page,
            views=[(name, label) for name, (label, _q) in VIEWS.items()],
            view=view,
            search=search,
        ),
    )


def _detail(
    request: HttpRequest,
    membership: SellerMember,
    seller_order: SellerOrder,
    form: ShipForm | None = None,
    status: int = 200,
    rates=None,
) -> HttpResponse:
    progress = seller_order_progress(seller_order=seller_order)
    form = form or ShipForm(seller_order=seller_order, progress=progress)
    return render(
        request,
        "portal/orders/detail.html",
        _ctx(
            request,
            membership,
            so=seller_order,
            order=seller_order.order,
            progress=progress,
            pick_lists=seller_order_pick_lists(seller_order=seller_order),
            warehouses=Warehouse.objects.filter(
                seller_id=seller_order.seller_id, is_active=True
            ).order_by("priority", "pk"),
            form=form,
            can_ship=any(row.to_ship for row in progress),
            can_buy_label=label_carrier() is not None,
            rates=rates,
        ),
        status=status,
    )


@portal_view("orders")
def order_detail(
    request: HttpRequest, membership: SellerMember, seller_order_id: int
) -> HttpResponse:
    seller_order = seller_order_get_for_seller(seller=membership.seller, pk=seller_order_id)
    return _detail(request, membership, seller_order)


@portal_view("orders")
def order_pick_list(
    request: HttpRequest, membership: SellerMember, seller_order_id: int
) -> HttpResponse:
    seller_order = seller_order_get_for_seller(seller=membership.seller, pk=seller_order_id)
    return render(
        request,
        "portal/orders/pick_list.html",
        {
            "so": seller_order,
            "order": seller_order.order,
            "seller": membership.seller,
            "pick_lists": seller_order_pick_lists(seller_order=seller_order),
        },
    )


@require_POST
@portal_view("fulfil")
def order_pack(
    request: HttpRequest, membership: SellerMember, seller_order_id: int
) -> HttpResponse:
    seller_order = seller_order_get_for_seller(seller=membership.seller, pk=seller_order_id)
    try:
        seller_order_pack(seller_order=seller_order, by=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Order {seller_order.order.number} is being packed.")
    return redirect("portal:order_detail", seller_order.pk)


@require_POST
@portal_view("fulfil")
def order_ship(
    request: HttpRequest, membership: SellerMember, seller_order_id: int
) -> HttpResponse:
    seller_order = seller_order_get_for_seller(seller=membership.seller, pk=seller_order_id)
    progress = seller_order_progress(seller_order=seller_order)
    data = request.POST.copy()
    if data.get("quote"):  # quoting is EasyPost's; shipping after it buys one of its labels
        data["carrier"] = "easypost"
    form = ShipForm(data, seller_order=seller_order, progress=progress)
    if form.is_valid() and data.get("quote"):
        # "Quote rates": EasyPost's prices for this parcel, to pick one; nothing is bought
        try:
            rates = label_rates(
                seller_order=seller_order,
                warehouse_id=form.cleaned_data["warehouse"],
                lines=[(x.order_line_id, x.quantity) for x in form.ship_lines()],
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            return _detail(request, membership, seller_order, form=form, rates=rates)
    elif form.is_valid():
        try:
            shipment = shipment_create(
                seller_order=seller_order,
                warehouse_id=form.cleaned_data["warehouse"],
                lines=form.ship_lines(),
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
                service=form.cleaned_data["service"],
                key=form.cleaned_data["key"],
                by=request.user,
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            units = sum(line.quantity for line in shipment.lines.all())
            messages.success(
                request,
                f"Shipped {units} unit{'s' if units != 1 else ''}: {shipment.tracking_number}.",
            )
            return redirect("portal:order_detail", seller_order.pk)
    return _detail(request, membership, seller_order, form=form, status=400)


@require_POST
@portal_view("fulfil")
def order_line_cancel(
    request: HttpRequest, membership: SellerMember, seller_order_id: int, line_id: int
) -> HttpResponse:
    seller_order = seller_order_get_for_seller(seller=membership.seller, pk=seller_order_id)
    try:
        quantity = integer_parse(request.POST.get("quantity", ""), min_value=1, max_value=None)
        seller_order_line_cancel(
            seller_order=seller_order,
            order_line_id=line_id,
            quantity=quantity,
            by=request.user,
            reason=request.POST.get("reason", "")[:200],
        )
    except NumberError as exc:
        messages.error(request, f"Quantity: {exc}")
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Cancelled {quantity}; the shopper is refunded.")
    return redirect("portal:order_detail", seller_order.pk)


@require_POST
@portal_view("fulfil")
def order_line_reroute(
    request: HttpRequest, membership: SellerMember, seller_order_id: int, line_id: int
) -> HttpResponse:
    seller_order = seller_order_get_for_seller(seller=membership.seller, pk=seller_order_id)
    try:
        quantity = integer_parse(request.POST.get("quantity", ""), min_value=1, max_value=None)
        seller_order_line_reroute(
            seller_order=seller_order,
            order_line_id=line_id,
            from_warehouse_id=id_lookup(request.POST.get("from_warehouse")),
            to_warehouse_id=id_lookup(request.POST.get("to_warehouse")),
            quantity=quantity,
            by=request.user,
        )
    except NumberError as exc:
        messages.error(request, f"Quantity: {exc}")
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Re-routed {quantity} unit(s).")
    return redirect("portal:order_detail", seller_order.pk)


def _return_done(request: HttpRequest, seller_order_id: int, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("portal:order_detail", seller_order_id)


@require_POST
@portal_view("fulfil")
def return_approve_view(
    request: HttpRequest, membership: SellerMember, return_id: int
) -> HttpResponse:
    found = return_get_for_seller(seller=membership.seller, pk=return_id)
    form = ApproveForm(request.POST)
    try:
        if not form.is_valid():
            raise ServiceError("Keep the instructions under 500 characters.")
        return_approve(
            return_request=found, by=request.user, instructions=form.cleaned_data["instructions"]
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("portal:order_detail", found.seller_order_id)
    return _return_done(request, found.seller_order_id, f"Return {found.pk} approved.")


@require_POST
@portal_view("fulfil")
def return_reject_view(
    request: HttpRequest, membership: SellerMember, return_id: int
) -> HttpResponse:
    found = return_get_for_seller(seller=membership.seller, pk=return_id)
    try:
        return_reject(return_request=found, by=request.user, reason=request.POST.get("reason", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("portal:order_detail", found.seller_order_id)
    return _return_done(request, found.seller_order_id, f"Return {found.pk} rejected.")


@require_POST
@portal_view("fulfil")
def return_receive_view(
    request: HttpRequest, membership: SellerMember, return_id: int
) -> HttpResponse:
    found = return_get_for_seller(seller=membership.seller, pk=return_id)
    restock = {
        line.order_line_id: request.POST.get(f"restock_{line.order_line_id}") != "0"
        for line in found.lines.all()
    }
    try:
        return_receive(return_request=found, by=request.user, restock=restock)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("portal:order_detail", found.seller_order_id)
    return _return_done(
        request, found.seller_order_id, f"Return {found.pk} received; the refund is on its way."
    )
