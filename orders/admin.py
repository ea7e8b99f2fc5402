from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django_countries import countries

from orders.models import Checkout, Order, OrderEvent, OrderLine, SellerOrder, VoucherRedemption
from orders.services import (
    order_cancel,
    shipping_method_create,
    shipping_method_set_active,
    shipping_method_update,
)
from orders.services.payments import RefundRequest, order_refund
from pricing.models import Promotion, ShippingMethod, TaxRate, Voucher
from shop.core.admin import RecordAdmin, ServiceRefusalAsMessage
from shop.core.errors import ServiceError
from shop.core.fields import DecimalFormField, IntegerFormField


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SellerOrderInline(ReadOnlyInline):
    model = SellerOrder
    fields = [
        "seller",
        "status",
        "shipping_method_name",
        "subtotal",
        "discount_total",
        "shipping_total",
        "tax_total",
        "total",
    ]


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "seller_order",
        "sku",
        "product_name",
        "quantity",
        "unit_price",
        "discount",
        "tax",
        "total",
    ]


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "seller_order", "from_status", "to_status", "actor", "reason"]


@admin.register(Order)
class OrderAdmin(RecordAdmin):
    """A record: no add, no delete, no field edited. Status moves only through the order
    services (the cancel action calls `order_cancel`)."""

    list_display = ["number", "email", "status", "fraud_status", "total", "currency", "placed_at"]
    list_filter = ["status", "fraud_status"]
    search_fields = ["number", "email"]
    date_hierarchy = "placed_at"
    list_select_related = ["user"]
    inlines = [SellerOrderInline, OrderLineInline, OrderEventInline]
    actions = ["cancel_orders"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "fraud_check"]

    @admin.display(description="fraud check")
    def fraud_check(self, order: Order) -> str:
        from payments.models import FraudCheck

        check = FraudCheck.objects.filter(order_id=order.pk).first()
        if check is None:
            return "not checked yet"
        url = reverse("admin:payments_fraudcheck_change", args=[check.pk])
        return format_html('<a href="{}">score {}, {}</a>', url, check.score, check.status)

    @admin.action(description="Cancel selected orders (releases stock, voids payment)")
    def cancel_orders(self, request, queryset):
        for order in queryset:
            try:
                order_cancel(order=order, by=request.user, reason="Cancelled by staff.")
            except ServiceError as exc:
                self.message_user(request, f"{order.number}: {exc.message}", messages.ERROR)


class RefundForm(forms.Form):
    """Units per line (with restock or write-off) and shipping: `order_refund` decides."""

    shipping_amount = DecimalFormField(
        max_digits=20, decimal_places=2, min_value=0, required=False, initial=0
    )
    reason = forms.CharField(max_length=255, required=False)

    def __init__(self, *args, lines, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"qty_{line.pk}"] = IntegerFormField(
                label=f"{line.product_name} {line.variant_name} ({line.sku}) of {line.quantity}",
                min_value=0,
                max_value=line.quantity,
                required=False,
                initial=0,
            )
            self.fields[f"restock_{line.pk}"] = forms.BooleanField(
                label="back in stock (else written off)", required=False, initial=True
            )

    def requests(self) -> list[RefundRequest]:
        data = self.cleaned_data
        return [
            RefundRequest(
                order_line_id=line.pk,
                quantity=data.get(f"qty_{line.pk}") or 0,
                restock=bool(data.get(f"restock_{line.pk}")),
            )
            for line in self.lines
            if data.get(f"qty_{line.pk}")
        ]


@admin.register(SellerOrder)
class SellerOrderAdmin(RecordAdmin):
    list_display = ["order", "seller", "status", "total"]
    list_filter = ["status", "seller"]
    search_fields = ["order__number"]
    list_select_related = ["order", "seller"]
    change_form_template = "admin/orders/sellerorder/change_form.html"

    def get_urls(self):
        own = [
            path(
                "<id:pk>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="orders_sellerorder_refund",
            )
        ]
        return own + super().get_urls()

    def refund_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Give money back for units of this seller order's lines and its shipping (through
        `order_refund`: never more than bought or captured; stock released or returned)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        seller_order = get_object_or_404(SellerOrder.objects.select_related("order"), pk=pk)
        form = RefundForm(request.POST or None, lines=seller_order.lines.all())
        if request.method == "POST" and form.is_valid():
            try:
                order_refund(
                    seller_order=seller_order,
                    lines=form.requests(),
                    shipping_amount=form.cleaned_data.get("shipping_amount") or Decimal("0"),
                    reason=form.cleaned_data.get("reason") or "Refunded by staff.",
                    by=request.user,
                )
            except ServiceError as exc:
                messages.error(request, f"Nothing was refunded: {exc.message}")
            else:
                messages.success(request, "The refund is on its way to the customer.")
                return redirect("admin:orders_sellerorder_change", seller_order.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund {seller_order}",
            "seller_order": seller_order,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/orders/sellerorder/refund.html", context)


@admin.register(OrderEvent)
class OrderEventAdmin(RecordAdmin):
    list_display = ["order", "seller_order", "from_status", "to_status", "actor", "created_at"]
    list_filter = ["to_status"]
    search_fields = ["order__number"]
    list_select_related = ["order", "actor"]


@admin.register(Checkout)
class CheckoutAdmin(RecordAdmin):
    """A record of an attempt to buy: written by the checkout services only."""

    list_display = ["token", "user", "email", "status", "reserved_until", "created_at"]
    list_filter = ["status"]
    list_select_related = ["user"]


class VoucherRedemptionInline(ReadOnlyInline):
    model = VoucherRedemption
    fields = ["order", "email", "amount", "created_at"]


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "value", "seller", "times_used", "usage_limit", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code"]
    readonly_fields = ["times_used"]
    inlines = [VoucherRedemptionInline]


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "value",
        "category",
        "product",
        "starts_at",
        "ends_at",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    raw_id_fields = ["product"]


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["country", "region", "tax_class", "rate"]
    list_filter = ["country", "tax_class"]


SHIPPING_METHOD_FIELDS = ("seller", "name", "kind", "price", "price_per_kg", "free_above")


class ShippingMethodForm(forms.ModelForm):
    countries = forms.MultipleChoiceField(
        choices=list(countries),
        required=False,
        help_text="Destinations this method ships to; none selected ships everywhere.",
        widget=forms.SelectMultiple(attrs={"size": 12}),
    )

    class Meta:
        model = ShippingMethod
        fields = [*SHIPPING_METHOD_FIELDS, "is_active"]


@admin.register(ShippingMethod)
class ShippingMethodAdmin(ServiceRefusalAsMessage, admin.ModelAdmin):
    """Saved with the same services as the seller portal (name unique per seller, prices by
    kind, zone countries); the order is the seller's (portal: move up/down)."""

    form = ShippingMethodForm
    list_display = [
        "name",
        "seller",
        "kind",
        "price",
        "price_per_kg",
        "free_above",
        "zone",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "seller__name"]
    list_select_related = ["seller"]
    autocomplete_fields = ["seller"]

    def get_readonly_fields(self, request, obj=None):
        return ["seller"] if obj is not None else []

    @admin.display(description="ships to")
    def zone(self, obj: ShippingMethod) -> str:
        if not obj.countries:
            return "everywhere"
        shown = ", ".join(obj.countries[:6])
        return shown + (f" and {len(obj.countries) - 6} more" if len(obj.countries) > 6 else "")

    def save_model(self, request, obj: ShippingMethod, form, change: bool) -> None:
        data = form.cleaned_data
        terms = {
            "name": data["name"],
            "kind": data["kind"],
            "price": data["price"],
            "price_per_kg": data["price_per_kg"],
            "free_above": data["free_above"],
            "countries": data["countries"],
        }
        if change:
            saved = shipping_method_update(method=ShippingMethod.objects.get(pk=obj.pk), **terms)
        else:
            saved = shipping_method_create(seller=data["seller"], **terms)
        if saved.is_active != data["is_active"]:
            shipping_method_set_active(method=saved, is_active=data["is_active"])
        obj.pk = saved.pk
