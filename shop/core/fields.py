"""Form and API fields built on the one number parser (`shop.core.numbers`), and lengths taken
from the model a value is stored in. Faces use these instead of Django's and DRF's own number
fields, which accept integers PostgreSQL cannot hold (`10**20`), and decimals without bounds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Model
from rest_framework import serializers

from shop.core.numbers import INT_MAX, INT_MIN, NumberError, decimal_parse, integer_parse


def max_length_of(model: type[Model], field_name: str) -> int:
    """The column's length, for a form or serializer field that fills it."""
    field = model._meta.get_field(field_name)
    length = getattr(field, "max_length", None)
    assert isinstance(length, int), f"{model.__name__}.{field_name} has no max_length"
    return length


class IntegerFormField(forms.IntegerField):
    """A whole number within its bounds, which default to PostgreSQL's `integer`."""

    def __init__(self, *, min_value: int = INT_MIN, max_value: int = INT_MAX, **kwargs: Any):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        try:  # the bounds are the field's validators, with Django's messages
            return integer_parse(value, min_value=None, max_value=None)
        except NumberError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class DecimalFormField(forms.DecimalField):
    """A decimal that fits `numeric(max_digits, decimal_places)` (both required)."""

    def __init__(self, *, max_digits: int, decimal_places: int, **kwargs: Any) -> None:
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if value in self.empty_values:
            return None
        assert self.max_digits is not None and self.decimal_places is not None
        try:
            return decimal_parse(
                value, max_digits=self.max_digits, decimal_places=self.decimal_places
            )
        except NumberError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class IntegerApiField(serializers.IntegerField):
    """A whole number (JSON number or text) within its bounds, which default to PostgreSQL's
    `integer`."""

    def __init__(self, *, min_value: int = INT_MIN, max_value: int = INT_MAX, **kwargs: Any):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        try:  # the bounds are the field's validators, with DRF's messages
            return integer_parse(data, min_value=None, max_value=None)
        except NumberError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None


class DecimalApiField(serializers.DecimalField):
    """A decimal (text or JSON number) that fits `numeric(max_digits, decimal_places)`."""

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, float):  # JSON numbers with a fraction arrive as floats
            data = repr(data)
        try:
            number = decimal_parse(
                data, max_digits=self.max_digits, decimal_places=self.decimal_places
            )
        except NumberError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None
        return super().to_internal_value(number)
