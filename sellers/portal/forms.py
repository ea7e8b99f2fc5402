from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django_countries import countries

from catalog.models import Attribute, AttributeType, Category, ProductType, ProductVariant
from inventory.models import MovementReason
from inventory.services import MAX_INBOUND_LINES, MAX_LINE_QUANTITY
from ledger.models import EntryKind
from pricing.models import ShippingKind
from sellers.models import MemberRole
from shop.core.countries import CountryChoiceField
from shop.core.fields import DecimalFormField, IntegerFormField


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


def attribute_field_name(attribute: Attribute) -> str:
    return f"attr_{attribute.slug}"


def attribute_field(attribute: Attribute) -> forms.Field:
    """An input for one typed attribute. Blank is allowed here: whether a value is required
    and whether it fits the attribute is decided by `catalog.services.variant_attributes_set`,
    whose errors the portal shows beside this field."""
    label = f"{attribute.name} ({attribute.unit})" if attribute.unit else attribute.name
    common: dict[str, Any] = {"label": label, "required": False, "help_text": "Required"}
    if attribute.type == AttributeType.NUMBER:
        return DecimalFormField(
            max_digits=20,
            decimal_places=4,
            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            **common,
        )
    if attribute.type == AttributeType.BOOLEAN:
        return forms.ChoiceField(choices=[("", "—"), ("true", "Yes"), ("false", "No")], **common)
    if attribute.type == AttributeType.CHOICE:
        options = [(str(c.pk), c.value) for c in attribute.choices.all()]
        return forms.ChoiceField(choices=[("", "Choose…"), *options], **common)
    return forms.CharField(max_length=255, **common)


class VariantForm(forms.Form):
    id = IntegerFormField(widget=forms.HiddenInput, required=False)
    sku = forms.CharField(max_length=64, label="SKU")
    name = forms.CharField(max_length=200, required=False)
    price = DecimalFormField(max_digits=20, decimal_places=2, min_value=Decimal("0"))
    compare_at_price = DecimalFormField(
        max_digits=20, decimal_places=2, min_value=Decimal("0"), required=False
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args: Any, attributes: Sequence[Attribute] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attributes = list(attributes)
        for attribute in self.attributes:
            self.fields[attribute_field_name(attribute)] = attribute_field(attribute)

    def variant_inputs(self) -> list[forms.BoundField]:
        attribute_names = {attribute_field_name(a) for a in self.attributes}
        return [self[name] for name in self.fields if name not in attribute_names]

    def attribute_inputs(self) -> list[forms.BoundField]:
        return [self[attribute_field_name(a)] for a in self.attributes]

    def has_changed(self) -> bool:
        # An unticked "Active" box alone must not turn a blank extra row into a required one.
        return any(name != "is_active" for name in self.changed_data)


VariantFormSet = forms.formset_factory(VariantForm, extra=2, max_num=50, validate_max=True)


class SettingsForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    support_email = forms.EmailField(required=False)
    logo = forms.FileField(required=False, help_text="JPEG, PNG, WebP or GIF, at least 100×100.")
    return_window_days = IntegerFormField(min_value=0, max_value=365)
    handling_time_days = IntegerFormField(min_value=0, max_value=60)
    low_stock_threshold = IntegerFormField(min_value=0)


class VariantChoiceField(forms.ChoiceField):
    """One of the given variants (a product's own, loaded once per page): any other id is an
    invalid choice. Cleans to the variant, or None for the empty choice."""

    def __init__(
        self, *, variants: Sequence[ProductVariant], empty_label: str | None = None, **kwargs: Any
    ) -> None:
        self.variants = {str(v.pk): v for v in variants}
        options = [
            (pk, f"{v.name} ({v.sku})" if v.name else v.sku) for pk, v in self.variants.items()
        ]
        if empty_label is not None:
            options.insert(0, ("", empty_label))
        super().__init__(choices=options, **kwargs)

    def clean(self, value: Any) -> ProductVariant | None:
        return self.variants.get(super().clean(value))


class ImageForm(forms.Form):
    image = forms.FileField(
        help_text="JPEG, PNG, WebP or GIF, 100 to 10,000 pixels a side, up to 10 MB."
    )
    alt_text = forms.CharField(
        max_length=255,
        required=False,
        label="Alt text",
        help_text="What the picture shows, for people who cannot see it. Default: the name.",
    )

    def __init__(self, *args: Any, variants: Sequence[ProductVariant] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant"] = VariantChoiceField(
            variants=variants, required=False, empty_label="All variants", label="Shows variant"
        )


class ImageEditForm(forms.Form):
    alt_text = forms.CharField(max_length=255, required=False, label="Alt text")

    def __init__(self, *args: Any, variants: Sequence[ProductVariant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant"] = VariantChoiceField(
            variants=variants, required=False, empty_label="All variants", label="Shows variant"
        )


class _LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class SalePriceForm(forms.Form):
    """Parses a sale; `catalog.services.sale_price_schedule/_update` decide whether it is valid
    (above 0, below the price, end after start, no overlap)."""

    sale_price = DecimalFormField(max_digits=20, decimal_places=2, label="Sale price")
    starts_at = forms.DateTimeField(label="Starts", widget=_LocalDateTimeInput())
    ends_at = forms.DateTimeField(
        label="Ends", required=False, widget=_LocalDateTimeInput(), help_text="Empty: no end."
    )

    def __init__(
        self,
        *args: Any,
        variants: Sequence[ProductVariant],
        variant_fixed: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant"] = VariantChoiceField(variants=variants, disabled=variant_fixed)
        self.order_fields(["variant", "sale_price", "starts_at", "ends_at"])
        zone = timezone.get_current_timezone_name()
        self.fields["starts_at"].help_text = f"Times are {zone}."


class ShippingMethodForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What shoppers see at checkout.")
    kind = forms.ChoiceField(choices=ShippingKind.choices, label="Pricing")
    price = DecimalFormField(
        max_digits=20,
        decimal_places=2,
        label="Price",
        help_text="The flat price, or the base price when by weight.",
    )
    price_per_kg = DecimalFormField(
        max_digits=20,
        decimal_places=2,
        initial=Decimal("0"),
        label="Price per started kg",
        help_text="By weight only.",
    )
    free_above = DecimalFormField(
        max_digits=20,
        decimal_places=2,
        required=False,
        label="Free from order value",
        help_text="Shipping is free when your part of the order reaches this; empty = never.",
    )
    countries = forms.MultipleChoiceField(
        choices=countries,
        required=False,
        label="Ships to",
        help_text="The countries this method delivers to (hold Ctrl or ⌘ to pick several); "
        "none picked means everywhere.",
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )


# --- inventory ------------------------------------------------------------------------------

_DateInput = forms.DateInput(attrs={"type": "date"})


def _quantity_field(**kwargs: Any) -> IntegerFormField:
    return IntegerFormField(min_value=1, max_value=MAX_LINE_QUANTITY, **kwargs)


class WarehouseChoiceField(forms.ModelChoiceField):
    """One of the current seller's warehouses; another seller's id is "not one of yours"."""

    default_error_messages = {"invalid_choice": "Choose one of your warehouses."}

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} — {obj.name}" + ("" if obj.is_active else " (inactive)")


class _SellerWarehousesForm(forms.Form):
    """A form whose warehouse choices are the current seller's (`warehouses=` queryset)."""

    def __init__(self, *args: Any, warehouses: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, WarehouseChoiceField):
                field.queryset = warehouses


class WarehouseForm(forms.Form):
    code = forms.SlugField(max_length=40, help_text="Short code, unique in your shop.")
    name = forms.CharField(max_length=200)
    line1 = forms.CharField(max_length=200, required=False, label="Address")
    city = forms.CharField(max_length=100, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    country = CountryChoiceField(required=False, blank_label="—")
    latitude = DecimalFormField(
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        required=False,
        help_text="Leave both empty to locate the warehouse from its city and postal code.",
    )
    longitude = DecimalFormField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False
    )
    priority = IntegerFormField(
        min_value=0, max_value=1_000_000, initial=100, help_text="Lower is used first."
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error("longitude", "Enter both latitude and longitude, or neither.")
        return data


class StockFilterForm(_SellerWarehousesForm):
    q = forms.CharField(max_length=200, required=False, label="Search")
    warehouse = WarehouseChoiceField(queryset=None, required=False, empty_label="All")
    low = forms.BooleanField(required=False, label="Low stock only")


class ReceiveForm(_SellerWarehousesForm):
    warehouse = WarehouseChoiceField(queryset=None)
    sku = forms.CharField(max_length=64, label="SKU")
    quantity = _quantity_field()
    reason = forms.CharField(max_length=500, required=False, label="Note")
    reference = forms.CharField(max_length=100, required=False, help_text="Delivery note, PO…")


class AdjustForm(forms.Form):
    delta = IntegerFormField(
        min_value=-MAX_LINE_QUANTITY,
        max_value=MAX_LINE_QUANTITY,
        label="Change",
        help_text="Units to add (e.g. 3) or remove (e.g. -3) after a count.",
    )
    reason = forms.CharField(max_length=500, label="Reason")

    def clean_delta(self) -> int:
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError("Enter a change other than 0.")
        return delta


class WriteOffForm(forms.Form):
    quantity = _quantity_field()
    reason = forms.CharField(max_length=500, label="Reason", help_text="Damaged, lost, expired…")


class TransferForm(_SellerWarehousesForm):
    to_warehouse = WarehouseChoiceField(queryset=None, label="To warehouse")
    quantity = _quantity_field()
    reason = forms.CharField(max_length=500, required=False, label="Note")


class ThresholdForm(forms.Form):
    low_stock_threshold = IntegerFormField(
        min_value=0,
        max_value=MAX_LINE_QUANTITY,
        required=False,
        label="Low-stock threshold",
        help_text="Empty uses the shop's default.",
    )


class MovementFilterForm(_SellerWarehousesForm):
    sku = forms.CharField(max_length=64, required=False, label="SKU")
    warehouse = WarehouseChoiceField(queryset=None, required=False, empty_label="All")
    reason = forms.ChoiceField(choices=[("", "Any"), *MovementReason.choices], required=False)
    date_from = forms.DateField(required=False, label="From", widget=_DateInput)
    date_to = forms.DateField(required=False, label="To (inclusive)", widget=_DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class InboundForm(_SellerWarehousesForm):
    warehouse = WarehouseChoiceField(queryset=None)
    reference = forms.CharField(max_length=100, required=False)
    expected_on = forms.DateField(required=False, label="Expected on", widget=_DateInput)


class InboundLineForm(forms.Form):
    sku = forms.CharField(max_length=64, label="SKU")
    quantity = _quantity_field(label="Expected units")


class _InboundLineBaseFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            sku = form.cleaned_data.get("sku")
            if sku is None:
                continue
            if sku in seen:
                form.add_error("sku", "This SKU is already on the shipment.")
            seen.add(sku)
        if not seen:
            raise forms.ValidationError("Add at least one SKU and quantity.")


InboundLineFormSet = forms.formset_factory(
    InboundLineForm,
    formset=_InboundLineBaseFormSet,
    extra=5,
    max_num=MAX_INBOUND_LINES,
    validate_max=True,
)


class InboundReceiveForm(forms.Form):
    """One "received" field per shipment line (`line_<id>`), preset to the expected units; an
    empty field means nothing of that line arrived."""

    def __init__(self, *args: Any, lines: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = IntegerFormField(
                min_value=0,
                max_value=MAX_LINE_QUANTITY,
                required=False,
                initial=line.expected_quantity,
                label=f"{line.variant.sku} received",
            )

    def received(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data[f"line_{line.pk}"] or 0 for line in self.lines}

    def rows(self) -> list[tuple[Any, forms.BoundField]]:
        return [(line, self[f"line_{line.pk}"]) for line in self.lines]


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="UTF-8 (with or without a byte-order mark), comma-separated."
    )


class LedgerFilterForm(forms.Form):
    """The seller ledger's filters (portal page and CSV export)."""

    kind = forms.ChoiceField(choices=[("", "Any"), *EntryKind.choices], required=False)
    date_from = forms.DateField(required=False, label="From", widget=_DateInput)
    date_to = forms.DateField(required=False, label="To (inclusive)", widget=_DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data
