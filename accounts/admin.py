"""Staff tools for people: users sign in with their email address (no username)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import Address, User
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
