"""Staff tools for sellers. Status changes go through `sellers.services` (approve, suspend,
reject) as admin actions; the status is not editable in the form, so nothing bypasses them."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from catalog.services import image_validate
from search.services import search_documents_mark_dirty
from sellers.models import CatalogImportJob, Seller, SellerInvitation, SellerMember, SellerStatus
from sellers.scorecard import seller_scorecards
from sellers.services import seller_approve, seller_reject, seller_suspend
from shop.core.errors import ServiceError


class SellerMemberInline(admin.TabularInline):
    model = SellerMember
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class StatusReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown to the seller's members and kept on the seller record.",
    )


def _status_change_with_reason(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Seller],
    *,
    service: Callable[..., Seller],
    verb: str,
) -> HttpResponse | None:
    """First call: show a form asking why. Second call (the form posted back with `apply`):
    call the service for each selected seller."""
    if "apply" in request.POST:
        form = StatusReasonForm(request.POST)
        if form.is_valid():
            _status_change(
                modeladmin, request, queryset, service=service, verb=verb, **form.cleaned_data
            )
            return None
    else:
        form = StatusReasonForm()
    return TemplateResponse(
        request,
        "admin/sellers/seller/status_reason.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": f"{verb.capitalize()} sellers",
            "verb": verb,
            "sellers": queryset,
            "form": form,
            "action": request.POST.get("action"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
        },
    )


def _status_change(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Seller],
    *,
    service: Callable[..., Seller],
    verb: str,
    **kwargs: str,
) -> None:
    done = 0
    for seller in queryset.order_by("pk"):
        try:
            service(seller=seller, **kwargs)
            done += 1
        except ServiceError as exc:
            modeladmin.message_user(request, f"{seller}: {exc.message}", messages.ERROR)
    if done:
        modeladmin.message_user(
            request, f"{verb.capitalize()}d {done} seller(s).", messages.SUCCESS
        )


class SellerAdminForm(forms.ModelForm):
    class Meta:
        model = Seller
        fields = ["logo"]  # the admin's fieldsets add the rest

    def clean_logo(self):
        """A new logo is checked as every upload is (content, size, pixels)."""
        logo = self.cleaned_data.get("logo")
        if isinstance(logo, UploadedFile):
            try:
                image_validate(upload=logo)
            except ServiceError as exc:
                raise forms.ValidationError(exc.fields.get("image", [exc.message])) from None
        return logo


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    form = SellerAdminForm
    list_display = ["name", "slug", "status", "country", "commission_rate", "approved_at"]
    list_filter = ["status", "country"]
    search_fields = ["name", "slug", "support_email"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["status", "status_reason", "approved_at", "created_at", "updated_at"]
    inlines = [SellerMemberInline]
    actions = ["approve", "suspend", "reject"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "logo", "support_email", "country"]}),
        (
            "Status (change with the list actions)",
            {"fields": ["status", "status_reason", "approved_at"]},
        ),
        (
            "Terms",
            {
                "fields": [
                    "commission_rate",
                    "return_window_days",
                    "handling_time_days",
                    "low_stock_threshold",
                    "stripe_account_id",
                ]
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    change_list_template = "admin/sellers/seller/change_list.html"
    scorecard_page_size = 50

    def save_model(self, request: HttpRequest, obj: Seller, form, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and "slug" in form.changed_data:
                # OpenSearch documents carry the seller's slug (its filter and facet)
                search_documents_mark_dirty(condition=Q(seller_id=obj.pk))

    def get_urls(self) -> list[URLPattern]:
        scorecard = path(
            "scorecard/",
            self.admin_site.admin_view(self.scorecard_view),
            name="sellers_seller_scorecard",
        )
        return [scorecard, *super().get_urls()]

    def scorecard_view(self, request: HttpRequest) -> TemplateResponse:
        """Every approved or suspended seller's scorecard figures, a page at a time: the
        figures of a page cost two queries however many sellers it shows."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        sellers = Seller.objects.filter(
            status__in=[SellerStatus.APPROVED, SellerStatus.SUSPENDED]
        ).order_by("name", "pk")
        page = Paginator(sellers, self.scorecard_page_size).get_page(request.GET.get("page"))
        cards = seller_scorecards(seller_ids=[seller.pk for seller in page])
        return TemplateResponse(
            request,
            "admin/sellers/seller/scorecard.html",
            {
                **self.admin_site.each_context(request),
                "title": "Seller performance scorecard",
                "opts": self.model._meta,
                "page": page,
                "rows": [(seller, cards[seller.pk]) for seller in page],
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "can_suspend": self.has_change_permission(request),
            },
        )

    @admin.action(description="Approve selected sellers (their products become visible)")
    def approve(self, request: HttpRequest, queryset: QuerySet[Seller]) -> None:
        _status_change(self, request, queryset, service=seller_approve, verb="approve")

    @admin.action(description="Suspend selected sellers (hides their products at once)…")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Seller]) -> HttpResponse | None:
        return _status_change_with_reason(
            self, request, queryset, service=seller_suspend, verb="suspend"
        )

    @admin.action(description="Reject selected applications…")
    def reject(self, request: HttpRequest, queryset: QuerySet[Seller]) -> HttpResponse | None:
        return _status_change_with_reason(
            self, request, queryset, service=seller_reject, verb="reject"
        )


@admin.register(SellerMember)
class SellerMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "seller", "role", "created_at"]
    list_filter = ["role", "seller__status"]
    search_fields = ["user__email", "user__full_name", "seller__name"]
    autocomplete_fields = ["seller", "user"]
    list_select_related = ["seller", "user"]


@admin.register(SellerInvitation)
class SellerInvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "seller", "role", "created_at", "accepted_at")
    list_filter = ("role",)
    search_fields = ("email", "seller__name")
    list_select_related = ("seller",)
    readonly_fields = ("token", "invited_by", "accepted_at")
    raw_id_fields = ("seller",)


@admin.register(CatalogImportJob)
class CatalogImportJobAdmin(admin.ModelAdmin):
    """Read-only: the portal's CSV imports as their job wrote them (errors, counts, times)."""

    list_display = ("pk", "seller", "created_by", "status", "total_rows", "created_at")
    list_filter = ("status",)
    search_fields = ("seller__name", "original_name", "created_by__email")
    list_select_related = ("seller", "created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
