"""Storefront account forms: they read and bound the input; accounts.services decide."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import User
from accounts.services import ADDRESS_FIELDS
from shop.core.countries import CountryChoiceField
from shop.core.errors import ServiceError
from shop.core.fields import max_length_of

PASSWORD_MAX = 4096


def _password(label: str, *, autocomplete: str = "current-password") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=PASSWORD_MAX,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def _email(label: str = "Email address") -> forms.EmailField:
    return forms.EmailField(
        label=label,
        max_length=max_length_of(User, "email"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class SignUpForm(forms.Form):
    """Email, name and a password (checked by AUTH_PASSWORD_VALIDATORS in the service)."""

    email = _email()
    full_name = forms.CharField(
        label="Your name",
        max_length=max_length_of(User, "full_name"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = _password("Password", autocomplete="new-password")
    password1.help_text = "At least 8 characters, not all digits, not a common password."
    password2 = _password("Password confirmation", autocomplete="new-password")

    def clean(self):
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two password fields didn’t match.")
        return data


class SignInForm(AuthenticationForm):
    """Sign in with an email address in any letter case."""

    def clean(self):
        if self.cleaned_data.get("username"):
            self.cleaned_data["username"] = self.cleaned_data["username"].strip().lower()
        return super().clean()


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class EmailForm(forms.Form):
    email = _email()


class NewPasswordForm(forms.Form):
    new_password1 = _password("New password", autocomplete="new-password")
    new_password2 = _password("New password again", autocomplete="new-password")

    def clean(self):
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", "The two password fields didn’t match.")
        return data


class PasswordChangeForm(NewPasswordForm):
    current_password = _password("Current password")
    field_order = ["current_password", "new_password1", "new_password2"]


class EmailChangeForm(forms.Form):
    new_email = _email("New email address")
    password = _password("Your password")


class PasswordConfirmForm(forms.Form):
    password = _password("Your password")


def _text(label: str, *, required: bool = True, autocomplete: str = "", max_length: int = 200):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.TextInput(attrs={"autocomplete": autocomplete} if autocomplete else {}),
    )


class AddressForm(forms.Form):
    """An address with a country picker; types and lengths only: the rules (postal code and
    region per country, phone) are `accounts.services.address_clean`'s, shown beside the
    fields they concern."""

    full_name = _text("Full name", autocomplete="name")
    line1 = _text("Address", autocomplete="address-line1")
    line2 = _text("Address line 2", required=False, autocomplete="address-line2")
    city = _text("City", autocomplete="address-level2", max_length=100)
    region = _text("State / region", required=False, autocomplete="address-level1", max_length=100)
    postal_code = _text("Postal code", required=False, autocomplete="postal-code", max_length=20)
    country = CountryChoiceField(
        label="Country", widget=forms.Select(attrs={"autocomplete": "country"})
    )
    phone = forms.CharField(
        label="Phone",
        required=False,
        max_length=40,
        help_text="For the courier, with the country code if it is another country's.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )

    field_order = list(ADDRESS_FIELDS)

    def add_service_error(self, exc: ServiceError) -> None:
        """Show a service's refusal beside the fields it names."""
        if not exc.fields:
            self.add_error(None, exc.message)
        for name, errors in exc.fields.items():
            self.add_error(name if name in self.fields else None, errors)
