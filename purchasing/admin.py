"""Staff see and search everything of purchasing; changes go through the services (actions
below), never around them: sellers manage suppliers, orders and rules in the portal or API."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from purchasing import services
from purchasing.models import (
    DemandForecast,
    ForecastRun,
    PriceChange,
    PricingRule,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchasingSettings,
    Supplier,
    SupplierItem,
)
from shop.core.admin import ReadOnlyAdmin
from shop.core.errors import ServiceError


class SupplierItemInline(admin.TabularInline):
    model = SupplierItem
    extra = 0
    can_delete = False
    raw_id_fields = ("variant",)
    readonly_fields = ("variant", "cost_price", "min_order_quantity", "case_pack")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Supplier)
class SupplierAdmin(ReadOnlyAdmin):
    list_display = ("name", "seller", "email", "lead_time_days", "lead_time_sd_days", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "email", "seller__name")
    list_select_related = ("seller",)
    inlines = [SupplierItemInline]


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    extra = 0
    can_delete = False
    readonly_fields = ("variant", "quantity", "received_quantity", "unit_cost")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "seller", "supplier", "warehouse", "status", "expected_on")
    list_filter = ("status", "from_suggestion")
    search_fields = ("seller__name", "supplier__name")
    list_select_related = ("seller", "supplier", "warehouse")
    inlines = [PurchaseOrderLineInline]
    actions = ["cancel_orders"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super(ReadOnlyAdmin, self).has_change_permission(request, obj)

    @admin.action(description="Cancel the selected purchase orders (stock untouched)")
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        for order in queryset:
            try:
                services.purchase_order_cancel(order=order, actor=request.user)
            except ServiceError as exc:
                self.message_user(request, f"{order}: {exc.message}", messages.WARNING)


@admin.register(ForecastRun)
class ForecastRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "seller", "status", "done", "total", "drafted_orders", "created_at")
    list_filter = ("status",)
    list_select_related = ("seller",)
    actions = ["resume_runs"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super(ReadOnlyAdmin, self).has_change_permission(request, obj)

    @admin.action(description="Send stalled runs to a worker again")
    def resume_runs(self, request: HttpRequest, queryset: QuerySet[ForecastRun]) -> None:
        count = services.forecast_runs_resume()
        self.message_user(request, f"{count} stalled run(s) sent to a worker again.")


@admin.register(DemandForecast)
class DemandForecastAdmin(ReadOnlyAdmin):
    list_display = (
        "stock",
        "seller",
        "model",
        "backtest_wape",
        "mean_daily",
        "reorder_point",
        "suggested_quantity",
        "reorder_by",
    )
    list_filter = ("model",)
    search_fields = ("stock__variant__sku", "seller__name")
    list_select_related = ("stock", "seller")
    exclude = ("points", "history")


@admin.register(PricingRule)
class PricingRuleAdmin(ReadOnlyAdmin):
    list_display = ("variant", "seller", "strategy", "floor_price", "ceiling_price", "is_active")
    list_filter = ("strategy", "is_active")
    search_fields = ("variant__sku", "seller__name")
    list_select_related = ("variant", "seller")


@admin.register(PriceChange)
class PriceChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "variant", "old_price", "new_price", "reason", "seller")
    search_fields = ("variant__sku", "seller__name", "reason")
    list_select_related = ("variant", "seller")


@admin.register(PurchasingSettings)
class PurchasingSettingsAdmin(ReadOnlyAdmin):
    list_display = ("seller", "service_level", "review_days", "auto_draft")
    list_select_related = ("seller",)
