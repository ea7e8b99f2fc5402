"""The tax table, loaded from data: `orders/data/tax_rates.json` (or another file in the same
shape) through `manage.py tax_rates_load`. Pricing reads it through the tax provider
(`pricing.totals.TableTaxProvider`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction

from catalog.models import TaxClass
from pricing.models import SHIPPING_TAX_CLASS, TaxRate
from shop.core.countries import country_code_parse
from shop.core.errors import ValidationError

TAX_RATES_FILE = Path(__file__).resolve().parent.parent / "data" / "tax_rates.json"
CLASSES = (*TaxClass.values, SHIPPING_TAX_CLASS)


@dataclass(frozen=True)
class TaxLoadResult:
    destinations: int
    rates: int
    removed: int


def _rate(value: object, where: str) -> Decimal | None:
    if value is None:
        return None
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        rate = Decimal("-1")
    if not rate.is_finite() or not Decimal("0") <= rate < 1:
        raise ValidationError(f"{where}: a rate is a fraction from 0 up to 1, not {value!r}.")
    return rate


def tax_rates_load(*, path: Path = TAX_RATES_FILE) -> TaxLoadResult:
    """Make the table say what the file says for every destination it lists (a class given as
    null, or left out for shipping, removes that rate there: not taxed). Destinations the file
    does not list are left alone. All or nothing."""
    try:
        rows = json.loads(Path(path).read_text())["rates"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"Cannot read tax rates from {path}: {exc}") from exc
    wanted: dict[tuple[str, str, str], Decimal | None] = {}
    for index, row in enumerate(rows):
        where = f"{path} row {index + 1}"
        country = country_code_parse(row.get("country"))
        region = str(row.get("region") or "").strip().upper()
        for tax_class in CLASSES:
            wanted[(country, region, tax_class)] = _rate(row.get(tax_class), where)
    written = removed = 0
    with transaction.atomic():
        for (country, region, tax_class), rate in sorted(wanted.items()):
            if rate is None:
                removed += TaxRate.objects.filter(
                    country=country, region__iexact=region, tax_class=tax_class
                ).delete()[0]
                continue
            TaxRate.objects.update_or_create(
                country=country, region=region, tax_class=tax_class, defaults={"rate": rate}
            )
            written += 1
    destinations = len({(country, region) for country, region, _ in wanted})
    return TaxLoadResult(destinations=destinations, rates=written, removed=removed)
