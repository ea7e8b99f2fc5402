from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm

from accounts.models import User


class SignUpForm(BaseUserCreationForm):
    """Email, name and a password checked by AUTH_PASSWORD_VALIDATORS."""

    class Meta:
        model = User
        fields = ("email", "full_name")
        labels = {"full_name": "Your name"}

    def clean_email(self) -> str:
        # Emails are stored lower-cased (UserManager), so uniqueness is checked the same way.
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(
                "An account with this email already exists. Sign in instead."
            )
        return email


class SignInForm(AuthenticationForm):
    """Sign in with an email address in any letter case."""

    def clean(self):
        if self.cleaned_data.get("username"):
            self.cleaned_data["username"] = self.cleaned_data["username"].strip().lower()
        return super().clean()
