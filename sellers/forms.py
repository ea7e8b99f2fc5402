from __future__ import annotations

from django import forms


class SellerApplicationForm(forms.Form):
    name = forms.CharField(label="Shop name", max_length=200)
    description = forms.CharField(
        label="What will you sell?",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=5000,
    )
    support_email = forms.EmailField(
        label="Customer support email",
        required=False,
        help_text="Shown to customers. Leave empty to use your account email.",
    )
