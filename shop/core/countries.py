"""The one parser of country codes (addresses, warehouses, tax rates, shipping zones): the ISO
3166-1 alpha-2 codes django-countries knows."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django_countries import countries

from shop.core.errors import ValidationError


def country_code_parse(value: object, *, field: str = "country") -> str:
    """An alpha-2 code django-countries knows (any letter case, spaces around), or a clear
    error naming `field`."""
    code = str(value or "").strip().upper()
    if code not in dict(countries):
        raise ValidationError(
            "Choose a country from the list.", fields={field: ["Choose a country from the list."]}
        )
    return code


def country_codes_parse(values: Iterable[object], *, field: str = "countries") -> list[str]:
    """Several codes (a shipping zone): each checked, duplicates dropped, sorted."""
    return sorted({country_code_parse(value, field=field) for value in values})


def country_name(code: str) -> str:
    return countries.name(code) or code


class CountryChoiceField(forms.ChoiceField):
    """A country picker (django-countries' list) that also takes a typed code in any case."""

    def __init__(self, *, blank_label: str = "Choose a country", **kwargs) -> None:
        kwargs.setdefault("choices", [("", blank_label), *countries])
        super().__init__(**kwargs)

    def to_python(self, value: object) -> str:
        return super().to_python(value).strip().upper()
