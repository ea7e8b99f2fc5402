"""Staff see shipments, tracking and returns as records; they act through the services: ask the
carrier again, and override a seller's decision on a return (approve a rejected one, reject,
receive with restock or write-off)."""

from __future__ import annotations

from django.contrib import admin, messages

from fulfilment.models import (
    LabelPurchase,
    ReturnLine,
    ReturnPhoto,
    ReturnRequest,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)
from fulfilment.services import (
    return_approve,
    return_receive,
    return_reject,
    shipment_tracking_apply,
)
from shop.core.admin import RecordAdmin
from shop.core.errors import ServiceError


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ShipmentLineInline(_ReadOnlyInline):
    model = ShipmentLine
    fields = readonly_fields = ("order_line", "quantity")


class TrackingEventInline(_ReadOnlyInline):
    model = TrackingEvent
    fields = readonly_fields = ("occurred_at", "status", "description", "location", "external_id")


def _each(modeladmin, request, queryset, action, done: str) -> None:
    for obj in queryset:
        try:
            action(obj)
        except ServiceError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{obj}: {done}")


@admin.register(Shipment)
class ShipmentAdmin(RecordAdmin):
    list_display = [
        "id",
        "seller_order",
        "warehouse",
        "carrier",
        "tracking_number",
        "status",
        "shipped_at",
        "delivered_at",
    ]
    list_filter = ["status", "carrier"]
    search_fields = ["tracking_number", "seller_order__order__number"]
    list_select_related = ["seller_order__order", "warehouse"]
    inlines = [ShipmentLineInline, TrackingEventInline]
    actions = ["track_again"]

    @admin.action(description="Ask the carrier for news again")
    def track_again(self, request, queryset):
        from django.utils import timezone

        from fulfilment.carriers import CARRIERS

        def again(shipment: Shipment) -> None:
            updates = CARRIERS[shipment.carrier].track(shipment=shipment, now=timezone.now())
            shipment_tracking_apply(shipment_id=shipment.pk, updates=updates)

        _each(self, request, queryset, again, "asked")


class ReturnLineInline(_ReadOnlyInline):
    model = ReturnLine
    fields = readonly_fields = ("order_line", "quantity", "restocked")


class ReturnPhotoInline(_ReadOnlyInline):
    model = ReturnPhoto
    fields = readonly_fields = ("image", "created_at")


@admin.register(ReturnRequest)
class ReturnRequestAdmin(RecordAdmin):
    list_display = ["id", "seller_order", "status", "reason", "created_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["seller_order__order__number", "reason"]
    list_select_related = ["seller_order__order"]
    inlines = [ReturnLineInline, ReturnPhotoInline]
    actions = ["approve_override", "reject", "receive_restock", "receive_write_off"]

    @admin.action(description="Approve (staff override: also a rejected return)")
    def approve_override(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda r: return_approve(return_request=r, by=request.user, override=True),
            "approved",
        )

    @admin.action(description="Reject (reason: refused by staff)")
    def reject(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda r: return_reject(return_request=r, by=request.user, reason="Refused by staff."),
            "rejected",
        )

    @admin.action(description="Received: back in stock, refund")
    def receive_restock(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda r: return_receive(return_request=r, by=request.user, restock=True),
            "received",
        )

    @admin.action(description="Received damaged: write off, refund")
    def receive_write_off(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda r: return_receive(return_request=r, by=request.user, restock=False),
            "received",
        )


@admin.register(LabelPurchase)
class LabelPurchaseAdmin(RecordAdmin):
    """Labels bought from EasyPost (parcels and returns); their cost is in the seller's ledger."""

    list_display = [
        "reference",
        "seller_order",
        "status",
        "carrier",
        "service",
        "tracking_number",
        "cost",
        "currency",
        "bought_at",
    ]
    list_filter = ["status", "carrier"]
    search_fields = ["reference", "tracking_number", "quote_id", "seller_order__order__number"]
    list_select_related = ["seller_order"]
