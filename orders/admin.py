from django import forms
from django.contrib import admin, messages
from django_countries import countries

from orders.models import (
    Checkout,
    Order,
    OrderEvent,
    OrderLine,
    Promotion,
    SellerOrder,
    ShippingMethod,
    TaxRate,
    Voucher,
    VoucherRedemption,
)
from orders.services import (
    order_cancel,
    shipping_method_create,
    shipping_method_set_active,
    shipping_method_update,
)
from shop.core.admin import RecordAdmin, ServiceRefusalAsMessage
from shop.core.errors import ServiceError


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

    list_display = ["number", "email", "status", "total", "currency", "placed_at"]
    list_filter = ["status"]
    search_fields = ["number", "email"]
    date_hierarchy = "placed_at"
    list_select_related = ["user"]
    inlines = [SellerOrderInline, OrderLineInline, OrderEventInline]
    actions = ["cancel_orders"]

    @admin.action(description="Cancel selected orders (releases stock, voids payment)")
    def cancel_orders(self, request, queryset):
        for order in queryset:
            try:
                order_cancel(order=order, by=request.user, reason="Cancelled by staff.")
            except ServiceError as exc:
                self.message_user(request, f"{order.number}: {exc.message}", messages.ERROR)


@admin.register(SellerOrder)
class SellerOrderAdmin(RecordAdmin):
    list_display = ["order", "seller", "status", "total"]
    list_filter = ["status", "seller"]
    search_fields = ["order__number"]
    list_select_related = ["order", "seller"]


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
