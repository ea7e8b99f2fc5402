"""Staff's view of commission and payouts: commission rules (edited through the service),
ledger entries (read-only: a balance is corrected by an adjustment, never an edit), payouts
(records; a pending one can be sent again)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from ledger.models import CommissionRule, LedgerEntry, Payout, PayoutStatus
from ledger.services import commission_rule_save, ledger_post_adjustment, payout_execute
from sellers.models import Seller
from shop.core.admin import ReadOnlyAdmin, RecordAdmin, ServiceRefusalAsMessage
from shop.core.errors import ServiceError
from shop.core.fields import DecimalFormField


class AdjustmentForm(forms.Form):
    seller = forms.ModelChoiceField(queryset=Seller.objects.order_by("name"))
    amount = DecimalFormField(
        max_digits=20, decimal_places=2, help_text="Positive: owed to the seller; negative: taken."
    )
    memo = forms.CharField(max_length=255, label="Reason")


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
    change_list_template = "admin/ledger/ledgerentry/change_list.html"

    def get_urls(self):
        own = [
            path(
                "adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="ledger_ledgerentry_adjust",
            )
        ]
        return own + super().get_urls()

    def adjust_view(self, request: HttpRequest) -> HttpResponse:
        """Post an adjustment (`ledger_post_adjustment`); staff with the ledger's "add entry"
        permission only (the entries themselves stay read-only)."""
        if not request.user.has_perm("ledger.add_ledgerentry"):  # type: ignore[union-attr]
            raise PermissionDenied
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                ledger_post_adjustment(
                    seller=form.cleaned_data["seller"],
                    amount=form.cleaned_data["amount"],
                    currency=settings.SHOP_CURRENCY,
                    memo=form.cleaned_data["memo"],
                )
            except ServiceError as exc:
                messages.error(request, f"Nothing was posted: {exc.message}")
            else:
                messages.success(request, "The adjustment is posted.")
                return redirect("admin:ledger_ledgerentry_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust a seller's balance",
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/ledger/ledgerentry/adjust.html", context)


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
