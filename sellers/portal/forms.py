from __future__ import annotations

from decimal import Decimal

from django import forms

from catalog.models import Category, ProductType
from orders.models import ShippingKind
from sellers.models import MemberRole


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=MemberRole.choices, initial=MemberRole.MANAGER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=MemberRole.choices)


class ProductForm(forms.Form):
    name = forms.CharField(max_length=200)
    category = forms.ModelChoiceField(queryset=Category.objects.order_by("path"))
    product_type = forms.ModelChoiceField(queryset=ProductType.objects.all(), required=False)
    brand = forms.CharField(max_length=100, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)


class VariantForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    sku = forms.CharField(max_length=64, label="SKU")
    name = forms.CharField(max_length=200, required=False)
    price = forms.DecimalField(max_digits=20, decimal_places=2, min_value=Decimal("0"))
    compare_at_price = forms.DecimalField(
        max_digits=20, decimal_places=2, min_value=Decimal("0"), required=False
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def has_changed(self) -> bool:
        # An unticked "Active" box alone must not turn a blank extra row into a required one.
        return any(name != "is_active" for name in self.changed_data)


VariantFormSet = forms.formset_factory(VariantForm, extra=2, max_num=50, validate_max=True)


class SettingsForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    support_email = forms.EmailField(required=False)
    logo = forms.FileField(required=False, help_text="JPEG, PNG, WebP or GIF, at least 100×100.")
    return_window_days = forms.IntegerField(min_value=0, max_value=365)
    handling_time_days = forms.IntegerField(min_value=0, max_value=60)
    low_stock_threshold = forms.IntegerField(min_value=0)


class ImageForm(forms.Form):
    image = forms.FileField(help_text="JPEG, PNG, WebP or GIF, at least 100×100, up to 10 MB.")
    alt_text = forms.CharField(max_length=200, required=False, label="Alt text")


class ShippingMethodForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What shoppers see at checkout.")
    kind = forms.ChoiceField(choices=ShippingKind.choices, label="Pricing")
    price = forms.DecimalField(
        max_digits=20,
        decimal_places=2,
        label="Price",
        help_text="The flat price, or the base price when by weight.",
    )
    price_per_kg = forms.DecimalField(
        max_digits=20,
        decimal_places=2,
        initial=Decimal("0"),
        label="Price per started kg",
        help_text="By weight only.",
    )
    free_above = forms.DecimalField(
        max_digits=20,
        decimal_places=2,
        required=False,
        label="Free from order value",
        help_text="Shipping is free when your part of the order reaches this; empty = never.",
    )
