"""Portal inventory pages: the stock table, receive / adjust / write-off / transfer, low-stock
thresholds, warehouses, movement history and inbound shipments. Reads are `inventory.selectors`,
writes `inventory.services` (the ones the seller API calls too); every lookup is scoped to the
current seller, so another seller's ids are 404.

Roles (`sellers.selectors.ROLE_PERMISSIONS`): `inventory_view` to see anything here (all roles),
`inventory_receive` to book goods in (owners, managers, fulfilment staff), `inventory` for the
rest: warehouses, adjust, write-off, transfer, thresholds, creating and cancelling inbound
shipments (owners, managers)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from inventory import selectors, services
from inventory.models import InboundStatus, Stock, Warehouse
from sellers.models import SellerMember
from sellers.portal.forms import (
    AdjustForm,
    InboundForm,
    InboundLineFormSet,
    InboundReceiveForm,
    MovementFilterForm,
    ReceiveForm,
    StockFilterForm,
    ThresholdForm,
    TransferForm,
    WarehouseForm,
    WriteOffForm,
)
from sellers.portal.views import _ctx, _form_error, _user, portal_view
from shop.core.errors import ServiceError

PAGE_SIZE = 50


def _warehouses(membership: SellerMember) -> QuerySet[Warehouse]:
    return selectors.warehouse_list_for_seller(seller=membership.seller)


def _page(request: HttpRequest, rows: Any) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- stock ------------------------------------------------------------------------------------


@portal_view("inventory_view")
def stock_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    form = StockFilterForm(request.GET or None, warehouses=_warehouses(membership))
    status = 200
    if form.is_bound and not form.is_valid():
        rows: Any = Stock.objects.none()
        status = 400
    else:
        filters = form.cleaned_data if form.is_bound else {}
        warehouse = filters.get("warehouse")
        rows = selectors.stock_list_for_seller(
            seller=membership.seller,
            warehouse_id=warehouse.pk if warehouse else None,
            q=filters.get("q", ""),
            status="low_or_out" if filters.get("low") else "",
        )
    return render(
        request,
        "portal/inventory/stock_list.html",
        _ctx(
            request,
            membership,
            form=form,
            page=_page(request, rows),
            query=_query_without_page(request),
        ),
        status=status,
    )


def _stock_page(
    request: HttpRequest, membership: SellerMember, stock: Stock, *, status: int = 200, **bound: Any
) -> HttpResponse:
    """The stock row's page with its action forms; `bound` replaces a form that was refused."""
    warehouses = _warehouses(membership)
    page_forms = {
        "adjust_form": AdjustForm(),
        "write_off_form": WriteOffForm(),
        "transfer_form": TransferForm(warehouses=warehouses),
        "threshold_form": ThresholdForm(initial={"low_stock_threshold": stock.low_stock_threshold}),
        **bound,
    }
    movements = selectors.movement_list_for_seller(seller=membership.seller, stock_id=stock.pk)
    return render(
        request,
        "portal/inventory/stock_detail.html",
        _ctx(request, membership, stock=stock, movements=movements[:20], **page_forms),
        status=status,
    )


def _stock_get(membership: SellerMember, stock_id: int) -> Stock:
    return selectors.stock_get_for_seller(seller=membership.seller, pk=stock_id)


@portal_view("inventory_view")
def stock_detail(request: HttpRequest, membership: SellerMember, stock_id: int) -> HttpResponse:
    return _stock_page(request, membership, _stock_get(membership, stock_id))


StockApply = Callable[[HttpRequest, Stock, dict[str, Any]], str]
FormMaker = Callable[[HttpRequest, SellerMember], forms.Form]


def _stock_action_view(*, form_key: str, make_form: FormMaker, fallback: str, apply: StockApply):
    """A POST-only view for one stock row: validate the form, let `apply` call the service (it
    returns the success message), and on a refusal show the stock page again with the errors
    beside the fields (nothing changed). Needs the "inventory" permission."""

    @require_POST
    @portal_view("inventory")
    def view(request: HttpRequest, membership: SellerMember, stock_id: int) -> HttpResponse:
        stock = _stock_get(membership, stock_id)
        form = make_form(request, membership)
        if form.is_valid():
            try:
                message = apply(request, stock, form.cleaned_data)
            except ServiceError as exc:
                _form_error(form, exc, fallback)
            else:
                messages.success(request, message)
                return redirect("portal:stock_detail", stock_id=stock.pk)
        return _stock_page(request, membership, stock, status=400, **{form_key: form})

    return view


def _adjust(request: HttpRequest, stock: Stock, data: dict[str, Any]) -> str:
    movement = services.stock_adjust(stock=stock, actor=_user(request), **data)
    return f"Adjusted by {movement.delta:+d}; {movement.on_hand_after} on hand."


def _write_off(request: HttpRequest, stock: Stock, data: dict[str, Any]) -> str:
    movement = services.stock_write_off(stock=stock, actor=_user(request), **data)
    return f"Wrote off {-movement.delta}; {movement.on_hand_after} on hand."


def _transfer(request: HttpRequest, stock: Stock, data: dict[str, Any]) -> str:
    _out, into = services.stock_transfer(stock=stock, actor=_user(request), **data)
    return f"Moved {into.delta} to {data['to_warehouse'].code}."


def _threshold(request: HttpRequest, stock: Stock, data: dict[str, Any]) -> str:
    threshold = data["low_stock_threshold"]
    services.stock_threshold_set(stock=stock, threshold=threshold)
    if threshold is None:
        return "This row now uses the shop's low-stock threshold."
    return f"Low-stock threshold set to {threshold}."


stock_adjust = _stock_action_view(
    form_key="adjust_form",
    make_form=lambda request, membership: AdjustForm(request.POST),
    fallback="delta",
    apply=_adjust,
)
stock_write_off = _stock_action_view(
    form_key="write_off_form",
    make_form=lambda request, membership: WriteOffForm(request.POST),
    fallback="quantity",
    apply=_write_off,
)
stock_transfer = _stock_action_view(
    form_key="transfer_form",
    make_form=lambda request, membership: TransferForm(
        request.POST, warehouses=_warehouses(membership)
    ),
    fallback="quantity",
    apply=_transfer,
)
stock_threshold = _stock_action_view(
    form_key="threshold_form",
    make_form=lambda request, membership: ThresholdForm(request.POST),
    fallback="low_stock_threshold",
    apply=_threshold,
)


@portal_view("inventory_receive")
def stock_receive(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    initial = {key: request.GET[key] for key in ("warehouse", "sku") if key in request.GET}
    form = ReceiveForm(request.POST or None, initial=initial, warehouses=_warehouses(membership))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        variant = selectors.variants_by_sku_for_seller(
            seller=membership.seller, skus=[data["sku"]]
        ).get(data["sku"])
        if variant is None:
            form.add_error("sku", "No product variant with this SKU in your shop.")
        else:
            try:
                movement = services.stock_receive(
                    warehouse=data["warehouse"],
                    variant=variant,
                    quantity=data["quantity"],
                    actor=_user(request),
                    reason=data["reason"],
                    reference=data["reference"],
                )
            except ServiceError as exc:
                _form_error(form, exc, "quantity")
            else:
                messages.success(
                    request,
                    f"Received {movement.delta} × {variant.sku}; {movement.on_hand_after} on hand.",
                )
                return redirect("portal:stock_detail", stock_id=movement.stock_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "portal/inventory/receive.html",
        _ctx(request, membership, form=form),
        status=status,
    )


# --- warehouses -------------------------------------------------------------------------------


@portal_view("inventory_view")
def warehouse_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    return render(
        request,
        "portal/inventory/warehouses.html",
        _ctx(request, membership, warehouses=_warehouses(membership)),
    )


def _warehouse_edit(
    request: HttpRequest, membership: SellerMember, warehouse: Warehouse | None
) -> HttpResponse:
    initial = (
        {}
        if warehouse is None
        else {name: getattr(warehouse, name) for name in WarehouseForm.base_fields}
    )
    form = WarehouseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if warehouse is None:
                warehouse = services.warehouse_create(seller=membership.seller, **form.cleaned_data)
            else:
                warehouse = services.warehouse_update(warehouse=warehouse, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Warehouse {warehouse.code} saved.")
            return redirect("portal:warehouses")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "portal/inventory/warehouse_edit.html",
        _ctx(request, membership, form=form, warehouse=warehouse),
        status=status,
    )


@portal_view("inventory")
def warehouse_new(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    return _warehouse_edit(request, membership, None)


@portal_view("inventory")
def warehouse_edit(
    request: HttpRequest, membership: SellerMember, warehouse_id: int
) -> HttpResponse:
    warehouse = selectors.warehouse_get_for_seller(seller=membership.seller, pk=warehouse_id)
    return _warehouse_edit(request, membership, warehouse)


# --- movement history -------------------------------------------------------------------------


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@portal_view("inventory_view")
def movement_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    form = MovementFilterForm(request.GET or None, warehouses=_warehouses(membership))
    status = 200
    if form.is_bound and not form.is_valid():
        rows: Any = []
        status = 400
    else:
        data = form.cleaned_data if form.is_bound else {}
        warehouse, start, end = data.get("warehouse"), data.get("date_from"), data.get("date_to")
        rows = selectors.movement_list_for_seller(
            seller=membership.seller,
            warehouse_id=warehouse.pk if warehouse else None,
            sku=data.get("sku", ""),
            reason=data.get("reason", ""),
            since=_day_start(start) if start else None,
            until=_day_start(end + datetime.timedelta(days=1)) if end else None,
        )
    return render(
        request,
        "portal/inventory/movements.html",
        _ctx(
            request,
            membership,
            form=form,
            page=_page(request, rows),
            query=_query_without_page(request),
        ),
        status=status,
    )


# --- inbound shipments ------------------------------------------------------------------------


@portal_view("inventory_view")
def inbound_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in InboundStatus.values:
        status = ""
    rows = selectors.inbound_shipment_list_for_seller(seller=membership.seller, status=status)
    return render(
        request,
        "portal/inventory/inbound_list.html",
        _ctx(
            request,
            membership,
            page=_page(request, rows),
            status=status,
            statuses=InboundStatus.choices,
        ),
    )


def _inbound_lines_resolve(membership: SellerMember, formset: Any) -> list[services.ExpectedLine]:
    """The formset's lines as ExpectedLine; a SKU that is not the seller's gets an error beside
    it (and the result is empty)."""
    filled = [f for f in formset if f.cleaned_data.get("sku")]
    variants = selectors.variants_by_sku_for_seller(
        seller=membership.seller, skus=[f.cleaned_data["sku"] for f in filled]
    )
    lines = []
    for line_form in filled:
        variant = variants.get(line_form.cleaned_data["sku"])
        if variant is None:
            line_form.add_error("sku", "No product variant with this SKU in your shop.")
        else:
            lines.append(services.ExpectedLine(variant.pk, line_form.cleaned_data["quantity"]))
    return lines if len(lines) == len(filled) else []


@portal_view("inventory")
def inbound_new(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    form = InboundForm(request.POST or None, warehouses=_warehouses(membership))
    formset = InboundLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        lines = _inbound_lines_resolve(membership, formset)
        if lines:
            try:
                shipment = services.inbound_shipment_create(
                    lines=lines, actor=_user(request), **form.cleaned_data
                )
            except ServiceError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"Inbound shipment {shipment.pk} is expected.")
                return redirect("portal:inbound_detail", shipment_id=shipment.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "portal/inventory/inbound_new.html",
        _ctx(request, membership, form=form, formset=formset),
        status=status,
    )


def _inbound_page(
    request: HttpRequest,
    membership: SellerMember,
    shipment_id: int,
    *,
    form: InboundReceiveForm | None = None,
) -> HttpResponse:
    shipment = selectors.inbound_shipment_get_for_seller(seller=membership.seller, pk=shipment_id)
    lines = selectors.inbound_lines_for_shipment(shipment=shipment)
    if form is None:
        form = InboundReceiveForm(lines=lines)
    return render(
        request,
        "portal/inventory/inbound_detail.html",
        _ctx(
            request,
            membership,
            shipment=shipment,
            lines=form.lines,
            receive_form=form,
            is_open=shipment.status == InboundStatus.OPEN,
        ),
        status=400 if form.is_bound else 200,
    )


@portal_view("inventory_view")
def inbound_detail(
    request: HttpRequest, membership: SellerMember, shipment_id: int
) -> HttpResponse:
    return _inbound_page(request, membership, shipment_id)


@require_POST
@portal_view("inventory_receive")
def inbound_receive(
    request: HttpRequest, membership: SellerMember, shipment_id: int
) -> HttpResponse:
    shipment = selectors.inbound_shipment_get_for_seller(seller=membership.seller, pk=shipment_id)
    form = InboundReceiveForm(
        request.POST, lines=selectors.inbound_lines_for_shipment(shipment=shipment)
    )
    if form.is_valid():
        try:
            movements = services.inbound_shipment_receive(
                shipment=shipment, received=form.received(), actor=_user(request)
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            units = sum(m.delta for m in movements)
            messages.success(request, f"Received {units} units; shipment {shipment.pk} closed.")
            return redirect("portal:inbound_detail", shipment_id=shipment.pk)
    return _inbound_page(request, membership, shipment.pk, form=form)


@require_POST
@portal_view("inventory")
def inbound_cancel(
    request: HttpRequest, membership: SellerMember, shipment_id: int
) -> HttpResponse:
    shipment = selectors.inbound_shipment_get_for_seller(seller=membership.seller, pk=shipment_id)
    try:
        services.inbound_shipment_cancel(shipment=shipment, actor=_user(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Inbound shipment {shipment.pk} cancelled.")
    return redirect("portal:inbound_detail", shipment_id=shipment.pk)
