from django.contrib import admin, messages

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
from orders.services import order_cancel
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
class OrderAdmin(admin.ModelAdmin):
    """Status is read-only here: it moves through the transition service (actions), never by
    editing the field."""

    list_display = ["number", "email", "status", "total", "currency", "placed_at"]
    list_filter = ["status"]
    search_fields = ["number", "email"]
    date_hierarchy = "placed_at"
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Order._meta.fields]
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
class SellerOrderAdmin(admin.ModelAdmin):
    list_display = ["order", "seller", "status", "total"]
    list_filter = ["status", "seller"]
    search_fields = ["order__number"]
    list_select_related = ["order", "seller"]
    readonly_fields = [f.name for f in SellerOrder._meta.fields]


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    list_display = ["order", "seller_order", "from_status", "to_status", "actor", "created_at"]
    list_filter = ["to_status"]
    search_fields = ["order__number"]
    list_select_related = ["order", "actor"]
    readonly_fields = [f.name for f in OrderEvent._meta.fields]


@admin.register(Checkout)
class CheckoutAdmin(admin.ModelAdmin):
    list_display = ["token", "user", "email", "status", "reserved_until", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["cart", "user", "shipping_address"]


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


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "seller", "kind", "price", "price_per_kg", "free_above", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "seller__name"]
