"""Staff see and search everything. Counters are read-only here: they change only through the
services (receive/adjust actions live in the seller API and portal)."""

from django.contrib import admin

from inventory.models import (
    Allocation,
    InboundShipment,
    InboundShipmentLine,
    Reservation,
    Stock,
    StockMovement,
    Warehouse,
)
from shop.core.admin import ReadOnlyAdmin


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "seller", "country", "priority", "is_active")
    list_filter = ("is_active", "country")
    search_fields = ("code", "name", "seller__name")
    list_select_related = ("seller",)
    raw_id_fields = ("seller",)


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = (
        "variant",
        "warehouse",
        "on_hand",
        "allocated",
        "reserved",
        "backorder_allowed",
        "updated_at",
    )
    list_filter = ("backorder_allowed", "warehouse__is_active")
    search_fields = ("variant__sku", "variant__product__name", "warehouse__code")
    list_select_related = ("variant__product", "warehouse")
    readonly_fields = (
        "variant",
        "warehouse",
        "on_hand",
        "allocated",
        "reserved",
        "backorder_allowed",
    )

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ("holder", "stock", "quantity", "expires_at", "created_at")
    search_fields = ("holder", "stock__variant__sku")
    list_select_related = ("stock",)


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = (
        "order_line_id",
        "stock",
        "quantity",
        "shipped_quantity",
        "cancelled_quantity",
        "returned_quantity",
    )
    search_fields = ("=order_line_id", "stock__variant__sku")
    list_select_related = ("stock",)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "stock", "reason", "delta", "on_hand_after", "actor", "reference")
    list_filter = ("reason",)
    search_fields = ("reference", "stock__variant__sku", "note")
    list_select_related = ("stock", "actor")
    date_hierarchy = "created_at"


class InboundShipmentLineInline(admin.TabularInline):
    model = InboundShipmentLine
    fields = ("variant", "expected_quantity", "received_quantity")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InboundShipment)
class InboundShipmentAdmin(ReadOnlyAdmin):
    """Sellers create, receive and cancel these in the portal (through the services)."""

    list_display = ("id", "warehouse", "reference", "expected_on", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("reference", "warehouse__code", "warehouse__seller__name")
    list_select_related = ("warehouse",)
    inlines = [InboundShipmentLineInline]
