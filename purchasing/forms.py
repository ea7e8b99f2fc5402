"""Portal forms of purchasing: they parse (shared shop.core field parsers); the rules are the
services'."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from purchasing.models import PricingStrategy
from shop.core.fields import DecimalFormField, IntegerFormField


def _money(**kwargs: Any) -> DecimalFormField:
    return DecimalFormField(max_digits=20, decimal_places=2, min_value=Decimal("0"), **kwargs)


class SupplierForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(required=False, help_text="Sent purchase orders go here.")
    currency = forms.CharField(max_length=3, min_length=3, initial="USD")
    lead_time_days = IntegerFormField(min_value=0, max_value=365, initial=7)
    lead_time_sd_days = DecimalFormField(
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0"),
        initial=Decimal("0"),
        label="Lead time variability (std. dev., days)",
    )
    is_active = forms.BooleanField(required=False, initial=True)


class SupplierItemForm(forms.Form):
    variant = forms.TypedChoiceField(coerce=int, label="Variant (SKU)")
    cost_price = _money()
    min_order_quantity = IntegerFormField(min_value=1, max_value=100_000, initial=1)
    case_pack = IntegerFormField(min_value=1, max_value=10_000, initial=1)

    def __init__(self, *args: Any, variants: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [(v.pk, f"{v.sku} — {v.product.name}") for v in variants]  # type: ignore[attr-defined]


class PurchaseOrderForm(forms.Form):
    supplier = forms.TypedChoiceField(coerce=int)
    warehouse = forms.TypedChoiceField(coerce=int)
    variant = forms.TypedChoiceField(coerce=int, label="Variant (SKU)")
    quantity = IntegerFormField(min_value=1, max_value=100_000)
    note = forms.CharField(max_length=500, required=False)

    def __init__(
        self, *args: Any, suppliers: Any, warehouses: Any, variants: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supplier"].choices = [(s.pk, s.name) for s in suppliers]  # type: ignore[attr-defined]
        self.fields["warehouse"].choices = [(w.pk, str(w)) for w in warehouses]  # type: ignore[attr-defined]
        self.fields["variant"].choices = [(v.pk, f"{v.sku} — {v.product.name}") for v in variants]  # type: ignore[attr-defined]


class OrderLineForm(forms.Form):
    variant = forms.TypedChoiceField(coerce=int, label="Variant (SKU)")
    quantity = IntegerFormField(min_value=0, max_value=100_000, help_text="0 removes the line.")

    def __init__(self, *args: Any, variants: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [(v.pk, f"{v.sku} — {v.product.name}") for v in variants]  # type: ignore[attr-defined]


class ReceiveForm(forms.Form):
    """One field per open purchase-order line (`line_<id>`), preset to what is still open."""

    def __init__(self, *args: Any, lines: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.open_quantity]
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = IntegerFormField(
                min_value=0,
                max_value=100_000,
                required=False,
                initial=line.open_quantity,
                label=f"{line.variant.sku} received",
            )

    def received(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data[f"line_{line.pk}"] or 0 for line in self.lines}

    def rows(self) -> list[tuple[Any, forms.BoundField]]:
        return [(line, self[f"line_{line.pk}"]) for line in self.lines]


class PurchasingSettingsForm(forms.Form):
    service_level = DecimalFormField(
        max_digits=5,
        decimal_places=4,
        help_text="Chance of not running out during a lead time: 0.95 = 95%.",
    )
    review_days = IntegerFormField(min_value=0, max_value=365)
    auto_draft = forms.BooleanField(
        required=False, label="Draft purchase orders when stock falls below the reorder point"
    )


class PricingRuleForm(forms.Form):
    variant = forms.TypedChoiceField(
        coerce=int, label="Variant (SKU)", required=False, empty_value=None
    )
    category = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        help_text="Or a category: the rule prices every variant of your products in it and "
        "below that has no rule of its own.",
    )
    strategy = forms.ChoiceField(choices=PricingStrategy.choices)
    floor_price = _money()
    ceiling_price = _money()
    min_margin_percent = DecimalFormField(
        max_digits=6, decimal_places=2, min_value=Decimal("0"), initial=Decimal("0"),
        help_text="The floor may not be under the highest supplier cost plus this margin.",
    )  # fmt: skip
    max_change_percent = DecimalFormField(
        max_digits=5, decimal_places=2, initial=Decimal("5"), help_text="Per day, at most."
    )
    step_percent = DecimalFormField(max_digits=5, decimal_places=2, initial=Decimal("2"))
    cover_days = IntegerFormField(min_value=1, max_value=365, initial=14, label="N (days)")
    is_active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, variants: Any, categories: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (v.pk, f"{v.sku} — {v.product.name}") for v in variants
        ]
        self.fields["category"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (c.pk, f"{'· ' * c.depth}{c.name}") for c in categories
        ]
