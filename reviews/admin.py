"""The staff moderation queue. Held items (an automatic check tripped, or shoppers reported
them) come first; staff hide or restore them with a reason, through `content_moderate`.
Deleting goes through `review_delete` so the rating is recounted."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from reviews.models import (
    Answer,
    ContentStatus,
    Question,
    Report,
    Review,
    ReviewRevision,
    SellerRating,
)
from reviews.services import content_moderate, review_delete


class ModerationForm(forms.ModelForm):
    status = forms.ChoiceField(
        choices=[(ContentStatus.PUBLISHED, "Restore (publish)"), (ContentStatus.HIDDEN, "Hide")]
    )
    status_reason = forms.CharField(max_length=300, label="Reason")


class ModeratedAdmin(admin.ModelAdmin):
    """Text fields are read-only: staff moderate, they do not rewrite what customers wrote."""

    form = ModerationForm
    list_filter = ["status"]
    ordering = ["-report_count", "-created_at"]
    show_full_result_count = False
    actions = ["hide", "restore"]
    moderated_fields = ["status", "status_reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        names = [f.name for f in self.model._meta.fields if f.name not in self.moderated_fields]
        return names

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # held first: the queue
        return super().get_queryset(request).order_by("-status", "-report_count", "-created_at")

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        content_moderate(
            item=obj,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["status_reason"],
            by=cast(User, request.user),
        )

    def _moderate_all(self, request, queryset, status: str, reason: str) -> None:
        with transaction.atomic():
            for item in queryset.order_by("pk"):
                content_moderate(
                    item=item, status=status, reason=reason, by=cast(User, request.user)
                )
        self.message_user(request, f"{queryset.count()} updated.", messages.SUCCESS)

    @admin.action(description="Hide selected (reason: breaks the review guidelines)")
    def hide(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._moderate_all(request, queryset, ContentStatus.HIDDEN, "Breaks the review guidelines")

    @admin.action(description="Restore selected (reason: checked by staff)")
    def restore(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._moderate_all(request, queryset, ContentStatus.PUBLISHED, "Checked by staff")


class RevisionInline(admin.TabularInline):
    model = ReviewRevision
    extra = 0
    can_delete = False
    readonly_fields = ["rating", "title", "body", "written_at", "replaced_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(ModeratedAdmin):
    list_display = [
        "product",
        "user",
        "rating",
        "title",
        "status",
        "status_reason",
        "report_count",
        "verified_purchase",
        "created_at",
    ]
    list_filter = ["status", "rating", "verified_purchase"]
    search_fields = ["title", "body", "product__name", "user__email"]
    list_select_related = ["product", "user"]
    inlines = [RevisionInline]

    def delete_model(self, request: HttpRequest, obj: Review) -> None:
        review_delete(review=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Review]) -> None:
        with transaction.atomic():
            for review in queryset.order_by("pk"):
                review_delete(review=review)


@admin.register(Question)
class QuestionAdmin(ModeratedAdmin):
    list_display = ["product", "user", "body", "status", "status_reason", "report_count"]
    search_fields = ["body", "product__name", "user__email"]
    list_select_related = ["product", "user"]


@admin.register(Answer)
class AnswerAdmin(ModeratedAdmin):
    list_display = ["question", "user", "by_seller", "body", "status", "report_count"]
    search_fields = ["body", "user__email"]
    list_select_related = ["question", "user"]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["reason", "user", "review", "question", "answer", "created_at", "resolved_at"]
    list_filter = ["reason", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "review", "question", "answer"]
    readonly_fields = ["user", "review", "question", "answer", "reason", "note", "resolved_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SellerRating)
class SellerRatingAdmin(admin.ModelAdmin):
    list_display = [
        "seller",
        "seller_order",
        "shipping_speed",
        "item_as_described",
        "communication",
        "created_at",
    ]
    list_select_related = ["seller", "seller_order__order"]
    readonly_fields = [
        "seller",
        "seller_order",
        "user",
        "shipping_speed",
        "item_as_described",
        "communication",
        "comment",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
