"""Staff's view of commission and payouts: commission rules (edited through the service),
ledger entries (read-only: a balance is corrected by an adjustment, never an edit), payouts
(records; a pending one can be sent again)."""

from __future__ import annotations

from django.contrib import admin

from ledger.models import CommissionRule, LedgerEntry, Payout, PayoutStatus
from ledger.services import commission_rule_save, payout_execute
from shop.core.admin import ReadOnlyAdmin, RecordAdmin, ServiceRefusalAsMessage


@admin.register(CommissionRule)
class CommissionRuleAdmin(ServiceRefusalAsMessage, admin.ModelAdmin):
    list_display = ["__str__", "seller", "category", "rate", "fixed", "is_active", "updated_at"]
    list_filter = ["is_active"]
    list_select_related = ["seller", "category"]
    autocomplete_fields = ["seller", "category"]
    search_fields = ["seller__name", "category__name", "note"]

    def save_model(self, request, obj, form, change) -> None:
        commission_rule_save(rule=obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: the rule stays as the record of past terms


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "journal",
        "leg",
        "kind",
        "account",
        "seller",
        "order_number",
        "amount",
        "currency",
        "memo",
    ]
    list_filter = ["kind", "account", "currency"]
    list_select_related = ["seller"]
    search_fields = ["journal", "order_number", "=seller_order_id", "seller__name"]
    date_hierarchy = "created_at"


@admin.register(Payout)
class PayoutAdmin(RecordAdmin):
    list_display = [
        "created_at",
        "seller",
        "kind",
        "order_number",
        "amount",
        "currency",
        "gateway",
        "status",
        "reference",
    ]
    list_filter = ["status", "kind", "gateway"]
    list_select_related = ["seller"]
    search_fields = ["reference", "order_number", "=seller_order_id", "seller__name"]
    actions = ["send_again"]

    @admin.action(description="Send pending payouts again (same idempotency key)")
    def send_again(self, request, queryset):
        for payout in queryset.filter(status=PayoutStatus.PENDING):
            done = payout_execute(payout_id=payout.pk)
            self.message_user(request, f"{done}: {done.get_status_display()}")
