"""Storefront account forms: they read and bound the input; accounts.services decide."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import User
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
        label="Your name", max_length=max_length_of(User, "full_name"), required=False
    )
    password1 = _password("Password", autocomplete="new-password")
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
