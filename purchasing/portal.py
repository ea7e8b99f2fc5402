"""Seller portal pages of purchasing (/seller/purchasing/...): reorder suggestions and forecast
runs, a forecast's chart and stock projection, suppliers, purchase orders, pricing rules with
their preview and history. Thin: every lookup goes through a `*_get_for_seller` selector (another
shop's id is a 404) and every change through a service."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog.models import Category, ProductVariant
from inventory.models import Warehouse
from purchasing import documents, selectors, services
from purchasing.forms import (
    OrderLineForm,
    PricingRuleForm,
    PurchaseOrderForm,
    PurchasingSettingsForm,
    ReceiveForm,
    SupplierForm,
    SupplierItemForm,
)
from purchasing.models import DemandForecast, PurchaseOrderStatus
from sellers.models import SellerMember
from sellers.portal.views import _ctx, _form_error, _user, portal_view
from shop.core.errors import ServiceError

PAGE_SIZE = 50


def _page(request: HttpRequest, rows: Any) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _variants(membership: SellerMember):
    return (
        ProductVariant.objects.filter(product__seller=membership.seller)
        .select_related("product")
        .order_by("sku")
    )


def _status(request: HttpRequest) -> int:
    return 400 if request.method == "POST" else 200


# --- reorder suggestions and forecast runs -------------------------------------------------------


@portal_view("inventory_view")
def reorder_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    seller = membership.seller
    show_all = request.GET.get("all") == "1"
    form = PurchasingSettingsForm(
        request.POST or None,
        initial={
            "service_level": (
                target := selectors.purchasing_settings_for(seller=seller)
            ).service_level,
            "review_days": target.review_days,
            "auto_draft": target.auto_draft,
        },
    )
    if request.method == "POST":
        if not _can_edit(membership):
            messages.error(request, "Your role may not change purchasing settings.")
            return redirect("portal:reorder")
        if form.is_valid():
            try:
                services.purchasing_settings_save(seller=seller, **form.cleaned_data)
            except ServiceError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, "Purchasing settings saved.")
                return redirect("portal:reorder")
    rows = selectors.forecast_list_for_seller(seller=seller, suggested_only=not show_all)
    return render(
        request,
        "portal/purchasing/reorder_list.html",
        _ctx(
            request,
            membership,
            page=_page(request, rows),
            show_all=show_all,
            run=selectors.forecast_run_latest(seller=seller),
            form=form,
        ),
        status=_status(request) if form.errors else 200,
    )


def _can_edit(membership: SellerMember) -> bool:
    from sellers.selectors import member_can

    return member_can(membership=membership, action="inventory")


@require_POST
@portal_view("inventory")
def forecast_run_new(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    run = services.forecast_run_start(seller=membership.seller)
    messages.success(request, f"Forecast run {run.pk} started: {run.total} items to forecast.")
    return redirect("portal:reorder")


@portal_view("inventory_view")
def forecast_run_progress(
    request: HttpRequest, membership: SellerMember, run_id: int
) -> JsonResponse:
    run = selectors.forecast_run_get_for_seller(seller=membership.seller, pk=run_id)
    return JsonResponse(
        {
            "id": run.pk,
            "status": run.status,
            "done": run.done,
            "total": run.total,
            "percent": run.percent,
            "drafted_orders": run.drafted_orders,
        }
    )


def _chart(fc: DemandForecast) -> dict[str, Any]:
    """SVG coordinates of history, forecast and its interval on one 600x200 plot."""
    history, points = fc.history, fc.points
    n = len(history) + len(points)
    if not n:
        return {}
    top = max([h[1] for h in history] + [p[3] for p in points] + [1.0])

    def xy(i: int, value: float) -> str:
        return f"{i * 600 / max(n - 1, 1):.1f},{200 - value * 190 / top:.1f}"

    start = len(history)
    band = [xy(start + i, p[3]) for i, p in enumerate(points)] + [
        xy(start + i, p[2]) for i, p in reversed(list(enumerate(points)))
    ]
    return {
        "history": " ".join(xy(i, h[1]) for i, h in enumerate(history)),
        "forecast": " ".join(xy(start + i, p[1]) for i, p in enumerate(points)),
        "band": " ".join(band),
        "top": round(top, 1),
        "split_x": f"{start * 600 / max(n - 1, 1):.1f}",
    }


def _projection(fc: DemandForecast, incoming: list) -> list[dict[str, Any]]:
    """Stock position day by day: available, plus open purchase orders on their expected day,
    less the forecast; against the reorder point."""
    level = float(fc.available)
    arrivals: dict[str, int] = {}
    for order, units in incoming:
        day = (order.expected_on or datetime.date.today()).isoformat()
        arrivals[day] = arrivals.get(day, 0) + units
    rows = []
    for day, mean, _lo, _hi in fc.points:
        level += arrivals.get(day, 0) - mean
        rows.append(
            {
                "day": day,
                "forecast": mean,
                "arrives": arrivals.get(day, 0),
                "level": round(level, 1),
                "below": level < fc.reorder_point,
            }
        )
    return rows


@portal_view("inventory_view")
def forecast_detail(
    request: HttpRequest, membership: SellerMember, forecast_id: int
) -> HttpResponse:
    fc = selectors.forecast_get_for_seller(seller=membership.seller, pk=forecast_id)
    incoming = [
        (line.order, line.open_quantity)
        for line in selectors.purchase_order_lines_open_for_stock(stock=fc.stock)
    ]
    return render(
        request,
        "portal/purchasing/forecast_detail.html",
        _ctx(
            request,
            membership,
            fc=fc,
            chart=_chart(fc),
            projection=_projection(fc, incoming),
            incoming=incoming,
        ),
    )


@require_POST
@portal_view("inventory")
def forecast_order(
    request: HttpRequest, membership: SellerMember, forecast_id: int
) -> HttpResponse:
    fc = selectors.forecast_get_for_seller(seller=membership.seller, pk=forecast_id)
    try:
        order = services.purchase_order_from_suggestion(forecast=fc, actor=_user(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("portal:reorder")
    messages.success(request, f"{order.number} sent to {order.supplier.name}.")
    return redirect("portal:purchase_order", order_id=order.pk)


# --- suppliers -----------------------------------------------------------------------------------


@portal_view("inventory_view")
def supplier_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    form = SupplierForm(request.POST or None)
    if request.method == "POST":
        if not _can_edit(membership):
            messages.error(request, "Your role may not add suppliers.")
            return redirect("portal:suppliers")
        if form.is_valid():
            try:
                supplier = services.supplier_save(seller=membership.seller, **form.cleaned_data)
            except ServiceError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"Supplier {supplier.name} added.")
                return redirect("portal:supplier", supplier_id=supplier.pk)
    rows = selectors.supplier_list_for_seller(seller=membership.seller)
    return render(
        request,
        "portal/purchasing/suppliers.html",
        _ctx(request, membership, page=_page(request, rows), form=form),
        status=400 if form.errors else 200,
    )


@portal_view("inventory_view")
def supplier_detail(
    request: HttpRequest, membership: SellerMember, supplier_id: int
) -> HttpResponse:
    supplier = selectors.supplier_get_for_seller(seller=membership.seller, pk=supplier_id)
    variants = _variants(membership)
    form = SupplierForm(
        request.POST if request.POST.get("form") == "supplier" else None,
        initial={
            "name": supplier.name,
            "email": supplier.email,
            "currency": supplier.currency,
            "lead_time_days": supplier.lead_time_days,
            "lead_time_sd_days": supplier.lead_time_sd_days,
            "is_active": supplier.is_active,
        },
    )
    item_form = SupplierItemForm(
        request.POST if request.POST.get("form") == "item" else None, variants=variants
    )
    if request.method == "POST":
        if not _can_edit(membership):
            messages.error(request, "Your role may not change suppliers.")
            return redirect("portal:supplier", supplier_id=supplier.pk)
        if form.is_bound and form.is_valid():
            try:
                services.supplier_save(
                    seller=membership.seller, supplier=supplier, **form.cleaned_data
                )
            except ServiceError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, "Supplier saved.")
                return redirect("portal:supplier", supplier_id=supplier.pk)
        if item_form.is_bound and item_form.is_valid():
            data = dict(item_form.cleaned_data)
            try:
                services.supplier_item_set(
                    supplier=supplier, variant_id=data.pop("variant"), **data
                )
            except ServiceError as exc:
                _form_error(item_form, exc)
            else:
                messages.success(request, "Item saved.")
                return redirect("portal:supplier", supplier_id=supplier.pk)
    return render(
        request,
        "portal/purchasing/supplier_detail.html",
        _ctx(
            request,
            membership,
            supplier=supplier,
            items=selectors.supplier_items(supplier=supplier),
            form=form,
            item_form=item_form,
        ),
        status=400 if form.errors or item_form.errors else 200,
    )


@require_POST
@portal_view("inventory")
def supplier_item_remove(
    request: HttpRequest, membership: SellerMember, supplier_id: int, item_id: int
) -> HttpResponse:
    supplier = selectors.supplier_get_for_seller(seller=membership.seller, pk=supplier_id)
    services.supplier_item_delete(item=selectors.supplier_item_get(supplier=supplier, pk=item_id))
    messages.success(request, "Item removed.")
    return redirect("portal:supplier", supplier_id=supplier.pk)


# --- purchase orders -----------------------------------------------------------------------------


@portal_view("inventory_view")
def purchase_order_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in PurchaseOrderStatus.values:
        status = ""
    rows = selectors.purchase_order_list_for_seller(seller=membership.seller, status=status)
    return render(
        request,
        "portal/purchasing/orders.html",
        _ctx(
            request,
            membership,
            page=_page(request, rows),
            status=status,
            statuses=PurchaseOrderStatus.choices,
        ),
    )


@portal_view("inventory")
def purchase_order_new(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    seller = membership.seller
    suppliers = selectors.supplier_list_for_seller(seller=seller).filter(is_active=True)
    warehouses = Warehouse.objects.filter(seller=seller, is_active=True)
    form = PurchaseOrderForm(
        request.POST or None,
        suppliers=suppliers,
        warehouses=warehouses,
        variants=_variants(membership),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.purchase_order_create(
                seller=seller,
                supplier=selectors.supplier_get_for_seller(seller=seller, pk=data["supplier"]),
                warehouse=warehouses.get(pk=data["warehouse"]),
                lines=[services.OrderLineInput(data["variant"], data["quantity"])],
                note=data["note"],
            )
        except ServiceError as exc:
            _form_error(form, exc, "quantity")
        else:
            messages.success(request, f"{order.number} drafted.")
            return redirect("portal:purchase_order", order_id=order.pk)
    return render(
        request,
        "portal/purchasing/order_new.html",
        _ctx(request, membership, form=form),
        status=_status(request),
    )


@portal_view("inventory_view")
def purchase_order_detail(
    request: HttpRequest, membership: SellerMember, order_id: int
) -> HttpResponse:
    order = selectors.purchase_order_get_for_seller(seller=membership.seller, pk=order_id)
    lines = list(selectors.purchase_order_lines(order=order))
    line_form = OrderLineForm(
        request.POST if request.POST.get("form") == "line" else None,
        variants=_variants(membership).filter(supplier_items__supplier=order.supplier),
    )
    receive_form = ReceiveForm(
        request.POST if request.POST.get("form") == "receive" else None, lines=lines
    )
    if request.method == "POST":
        if line_form.is_bound and _can_edit(membership) and line_form.is_valid():
            try:
                services.purchase_order_line_set(
                    order=order,
                    variant_id=line_form.cleaned_data["variant"],
                    quantity=line_form.cleaned_data["quantity"],
                )
            except ServiceError as exc:
                _form_error(line_form, exc, "quantity")
            else:
                messages.success(request, "Line saved.")
                return redirect("portal:purchase_order", order_id=order.pk)
        elif receive_form.is_bound and receive_form.is_valid():
            from sellers.selectors import member_require

            member_require(membership=membership, action="inventory_receive")
            try:
                services.purchase_order_receive(
                    order=order, received=receive_form.received(), actor=_user(request)
                )
            except ServiceError as exc:
                _form_error(receive_form, exc)
            else:
                messages.success(request, "Received units booked into stock.")
                return redirect("portal:purchase_order", order_id=order.pk)
        elif line_form.is_bound and not _can_edit(membership):
            messages.error(request, "Your role may not edit purchase orders.")
            return redirect("portal:purchase_order", order_id=order.pk)
    return render(
        request,
        "portal/purchasing/order_detail.html",
        _ctx(
            request,
            membership,
            order=order,
            lines=lines,
            total=sum((line.unit_cost * line.quantity for line in lines), 0),
            line_form=line_form,
            receive_form=receive_form,
            is_draft=order.status == PurchaseOrderStatus.DRAFT,
            can_receive=order.status
            in (PurchaseOrderStatus.SENT, PurchaseOrderStatus.PARTIALLY_RECEIVED),
            can_cancel=order.status
            not in (PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.CANCELLED),
        ),
        status=400 if line_form.errors or receive_form.errors else 200,
    )


@require_POST
@portal_view("inventory")
def purchase_order_send(
    request: HttpRequest, membership: SellerMember, order_id: int
) -> HttpResponse:
    order = selectors.purchase_order_get_for_seller(seller=membership.seller, pk=order_id)
    try:
        services.purchase_order_send(order=order, actor=_user(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{order.number} sent to {order.supplier.name}.")
    return redirect("portal:purchase_order", order_id=order.pk)


@require_POST
@portal_view("inventory")
def purchase_order_cancel(
    request: HttpRequest, membership: SellerMember, order_id: int
) -> HttpResponse:
    order = selectors.purchase_order_get_for_seller(seller=membership.seller, pk=order_id)
    try:
        services.purchase_order_cancel(order=order, actor=_user(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{order.number} cancelled.")
    return redirect("portal:purchase_order", order_id=order.pk)


@portal_view("inventory_view")
def purchase_order_document(
    request: HttpRequest, membership: SellerMember, order_id: int, kind: str
) -> HttpResponse:
    order = selectors.purchase_order_get_for_seller(seller=membership.seller, pk=order_id)
    if kind == "pdf":
        response = HttpResponse(documents.purchase_order_pdf(order=order), "application/pdf")
    else:
        response = HttpResponse(documents.purchase_order_csv(order=order), "text/csv")
    response["Content-Disposition"] = f'attachment; filename="{order.number}.{kind}"'
    return response


# --- dynamic pricing -----------------------------------------------------------------------------


@portal_view("products")
def pricing(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    seller = membership.seller
    form = PricingRuleForm(
        request.POST or None,
        variants=_variants(membership),
        categories=Category.objects.order_by("path"),
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.pricing_rule_save(
                seller=seller,
                variant_id=data.pop("variant"),
                category_id=data.pop("category"),
                **data,
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Pricing rule saved.")
            return redirect("portal:pricing")
    return render(
        request,
        "portal/purchasing/pricing.html",
        _ctx(
            request,
            membership,
            form=form,
            rules=selectors.pricing_rule_list_for_seller(seller=seller),
            preview=services.pricing_preview(seller=seller),
            history=selectors.price_history_for_seller(seller=seller)[:50],
        ),
        status=_status(request),
    )


@require_POST
@portal_view("products")
def pricing_apply(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    changes = services.pricing_apply(seller=membership.seller, actor=_user(request))
    messages.success(request, f"{len(changes)} price(s) changed.")
    return redirect("portal:pricing")


@require_POST
@portal_view("products")
def pricing_rule_remove(
    request: HttpRequest, membership: SellerMember, rule_id: int
) -> HttpResponse:
    rule = selectors.pricing_rule_get_for_seller(seller=membership.seller, pk=rule_id)
    services.pricing_rule_delete(rule=rule)
    messages.success(request, "Pricing rule removed.")
    return redirect("portal:pricing")
