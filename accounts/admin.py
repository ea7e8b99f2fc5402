"""Staff tools for people: users sign in with their email address (no username)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from accounts.models import Address, ApiToken, User
from accounts.services import api_token_revoke
from sellers.models import SellerMember


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name"]

    def clean_email(self) -> str:
        """Emails are stored lower-case (as `UserManager` does), so one person has one account."""
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this email address already exists.")
        return email


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class SellerMembershipInline(admin.TabularInline):
    model = SellerMember
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["seller"]
    fields = ["seller", "role"]
    verbose_name = "seller membership"


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0
    fields = [
        ("full_name", "phone"),
        ("line1", "line2"),
        ("city", "region", "postal_code", "country"),
        ("latitude", "longitude"),
        "is_default",
    ]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    ordering = ["email"]
    readonly_fields = ["date_joined", "last_login"]
    inlines = [SellerMembershipInline, AddressInline]

    def get_inlines(self, request, obj):
        # the add page is the short email + password form; memberships come after
        return self.inlines if obj is not None else []

    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["full_name", "first_name", "last_name"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "full_name", "usable_password", "password1", "password2"],
            },
        )
    ]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["full_name", "user", "line1", "city", "postal_code", "country", "is_default"]
    list_filter = ["country", "is_default"]
    search_fields = ["full_name", "line1", "city", "postal_code", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


class TwoFactorAdminSite(OTPAdminSite):
    """The admin site. With STAFF_2FA_REQUIRED (on when not debugging) staff sign in with a
    code from their authenticator app too (django-otp), and a session not verified by one
    (say, signed in on the storefront without it) is refused; staff turn two-factor on in
    their account settings first. The password step is django-axes' like every sign-in."""

    @property
    def login_form(self):  # type: ignore[override]
        return OTPAdminAuthenticationForm if settings.STAFF_2FA_REQUIRED else None

    @property
    def login_template(self):  # type: ignore[override]
        return OTPAdminSite.login_template if settings.STAFF_2FA_REQUIRED else None

    def has_permission(self, request) -> bool:
        if settings.STAFF_2FA_REQUIRED:
            return super().has_permission(request)
        return AdminSite.has_permission(self, request)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff see who has which app signed in and can revoke (delete) tokens; tokens are made
    only by signing in."""

    list_display = ["token_key", "user", "name", "created", "expiry"]
    search_fields = ["user__email", "name", "token_key"]
    list_select_related = ["user"]
    fields = ("token_key", "user", "name", "created", "expiry")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj) -> None:
        api_token_revoke(user=obj.user, token_id=obj.token_key)

    def delete_queryset(self, request, queryset) -> None:
        for token in queryset.select_related("user"):
            api_token_revoke(user=token.user, token_id=token.token_key)
