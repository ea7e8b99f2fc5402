"""Staff's view of money: payments with their event log, refunds, disputes, webhooks, and the
test gateway's intents. Records, never edited; actions go through the services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from payments.gateways.test import TestGateway
from payments.models import (
    Dispute,
    FraudCheck,
    FraudCheckEvent,
    FraudCheckStatus,
    FraudRuleResult,
    Payment,
    PaymentEvent,
    Refund,
    RefundLine,
    TestIntent,
    WebhookEvent,
)
from shop.core.admin import ReadOnlyAdmin, RecordAdmin
from shop.core.errors import ServiceError


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PaymentEventInline(_ReadOnlyInline):
    model = PaymentEvent
    fields = readonly_fields = ("created_at", "kind", "status", "amount", "detail")


class RefundInline(_ReadOnlyInline):
    model = Refund
    fields = readonly_fields = (
        "created_at",
        "amount",
        "shipping_amount",
        "status",
        "reference",
        "reason",
    )
    show_change_link = True


def _each(modeladmin, request, queryset, action, done: str) -> None:
    for obj in queryset:
        try:
            action(obj)
        except ServiceError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{obj}: {done}")


@admin.register(Payment)
class PaymentAdmin(RecordAdmin):
    list_display = [
        "id",
        "gateway",
        "reference",
        "status",
        "amount",
        "amount_captured",
        "amount_refunded",
        "currency",
        "order_id",
        "created_at",
    ]
    list_filter = ["gateway", "status", "capture_later"]
    search_fields = ["reference", "email", "charge_reference", "=order_id", "=checkout_id"]
    inlines = [PaymentEventInline, RefundInline]
    actions = ["refresh", "capture", "settle_orders"]

    @admin.action(description="Ask the gateway where they stand")
    def refresh(self, request, queryset):
        from payments.services import payment_refresh

        _each(self, request, queryset, lambda p: payment_refresh(payment=p), "refreshed")

    @admin.action(description="Capture (authorised payments, what is left after refunds)")
    def capture(self, request, queryset):
        from payments.services import payment_capture

        _each(self, request, queryset, lambda p: payment_capture(payment=p), "captured")

    @admin.action(description="Bring their orders in line with the gateway (place, pay, cancel)")
    def settle_orders(self, request, queryset):
        from orders.services.payments import order_payment_settle

        _each(
            self,
            request,
            queryset,
            lambda p: order_payment_settle(payment_id=p.pk),
            "settled",
        )


class RefundLineInline(_ReadOnlyInline):
    model = RefundLine
    fields = readonly_fields = ("order_line_id", "quantity", "amount", "restock")


@admin.register(Refund)
class RefundAdmin(RecordAdmin):
    """Refunds are made from a seller order's "Refund…" page; here they are looked at."""

    list_display = [
        "id",
        "payment",
        "order_id",
        "seller_order_id",
        "amount",
        "status",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["reference", "=order_id"]
    inlines = [RefundLineInline]


class DisputeForm(forms.ModelForm):
    class Meta:
        model = Dispute
        fields = ["seller_order_id"]


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    """Staff assign a dispute to the seller order it concerns when its order has several (until
    then every seller order of the order is held back from payouts)."""

    form = DisputeForm
    list_display = [
        "reference",
        "payment",
        "seller_order_id",
        "amount",
        "reason",
        "status",
        "evidence_due_by",
    ]
    list_filter = ["status", "reason"]
    search_fields = ["reference"]
    readonly_fields = [
        "reference",
        "payment",
        "amount",
        "currency",
        "reason",
        "gateway_status",
        "status",
        "evidence_due_by",
        "funds_withdrawn",
    ]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        from orders.services.payments import dispute_assign_to

        dispute_assign_to(dispute=obj, seller_order_id=form.cleaned_data["seller_order_id"])


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "gateway", "type", "received_at", "processed_at", "deliveries"]
    list_filter = ["gateway", "type"]
    search_fields = ["event_id"]
    actions = ["process_again"]

    @admin.action(description="Process again (after fixing what failed)")
    def process_again(self, request, queryset):
        from orders.services.payments import payment_webhook_process

        def again(event: WebhookEvent) -> None:
            WebhookEvent.objects.filter(pk=event.pk).update(processed_at=None)
            payment_webhook_process(event_id=event.pk)

        _each(self, request, queryset, again, "processed")


@admin.register(TestIntent)
class TestIntentAdmin(ReadOnlyAdmin):
    """The built-in test gateway's intents: what a bank would do to them, from here."""

    list_display = ["reference", "status", "amount", "currency", "token", "created_at"]
    list_filter = ["status", "token"]
    actions = ["settle_paid", "settle_returned"]

    def _settle(self, request, queryset, succeed: bool) -> None:
        from orders.services.payments import order_payment_settle

        def settle(intent: TestIntent) -> None:
            TestGateway().settle(reference=intent.reference, succeed=succeed)
            payment = Payment.objects.filter(gateway="test", reference=intent.reference).first()
            if payment is not None:
                order_payment_settle(payment_id=payment.pk)

        _each(self, request, queryset, settle, "settled")

    @admin.action(description="The bank settles these processing payments")
    def settle_paid(self, request, queryset):
        self._settle(request, queryset, True)

    @admin.action(description="The bank returns these processing payments")
    def settle_returned(self, request, queryset):
        self._settle(request, queryset, False)


# --- fraud checks: the review queue -------------------------------------------------------------


class FraudRuleResultInline(_ReadOnlyInline):
    model = FraudRuleResult
    fields = readonly_fields = ("rule", "tripped", "weight", "reason")


class FraudCheckEventInline(_ReadOnlyInline):
    model = FraudCheckEvent
    fields = readonly_fields = ("created_at", "kind", "actor", "score", "status", "note")


class FraudQueueFilter(admin.SimpleListFilter):
    """The queue by default: checks waiting for staff, oldest first."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*FraudCheckStatus.choices, ("all", "All")]

    def value(self):
        return super().value() or FraudCheckStatus.REVIEW

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(status=self.value())


class FraudDecisionForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=2000,
        help_text="Why: kept in the check's history.",
    )


@admin.register(FraudCheck)
class FraudCheckAdmin(RecordAdmin):
    """The fraud review queue: orders the rules held for review, to approve or reject with a
    note (through `orders.services.fraud.order_fraud_review`); every other check, for the
    record."""

    list_display = ["id", "order_link", "score", "outcome", "status", "created_at", "decide"]
    list_filter = [FraudQueueFilter, "outcome"]
    search_fields = ["=order_id"]
    inlines = [FraudRuleResultInline, FraudCheckEventInline]
    change_form_template = "admin/payments/fraudcheck/change_form.html"
    ordering = ["created_at", "id"]  # a queue: the longest waiting first

    @admin.display(description="order")
    def order_link(self, check: FraudCheck) -> str:
        url = reverse("admin:orders_order_change", args=[check.order_id])
        return format_html('<a href="{}">order {}</a>', url, check.order_id)

    @admin.display(description="")
    def decide(self, check: FraudCheck) -> str:
        if check.status != FraudCheckStatus.REVIEW:
            return ""
        url = reverse("admin:payments_fraudcheck_decide", args=[check.pk])
        return format_html('<a href="{}">Approve or reject…</a>', url)

    def get_urls(self):
        own = [
            path(
                "<id:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="payments_fraudcheck_decide",
            )
        ]
        return own + super().get_urls()

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        from orders.models import Order
        from orders.services.fraud import order_fraud_review

        if not self.has_change_permission(request):
            raise PermissionDenied
        check = get_object_or_404(FraudCheck, pk=pk)
        order = get_object_or_404(Order, pk=check.order_id)
        form = FraudDecisionForm(request.POST or None)
        decision = request.POST.get("decision")
        if request.method == "POST" and decision not in ("Approve", "Reject"):
            form.add_error(None, "Choose Approve or Reject.")
        if request.method == "POST" and form.is_valid():
            approve = decision == "Approve"
            try:
                order_fraud_review(
                    check=check, approve=approve, by=request.user, note=form.cleaned_data["note"]
                )
            except ServiceError as exc:
                messages.error(request, f"Nothing was changed: {exc.message}")
            else:
                messages.success(
                    request,
                    f"Order {order.number} approved: its sellers may ship it."
                    if approve
                    else f"Order {order.number} rejected: cancelled and refunded.",
                )
                return redirect("admin:payments_fraudcheck_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Fraud check of order {order.number}",
            "check": check,
            "order": order,
            "form": form,
            "review_score": settings.FRAUD_REVIEW_SCORE,
            "reject_score": settings.FRAUD_REJECT_SCORE,
            "opts": self.model._meta,
        }
        return render(request, "admin/payments/fraudcheck/decide.html", context)
