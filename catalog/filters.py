"""One parser of catalog list parameters, shared by the storefront and the API, so both faces
accept the same filters and refuse the same malformed values.

Parameters: `category` (slug), `price_min`, `price_max`, `seller` (slug, repeatable or
comma-separated), `in_stock` (1/true), and per attribute `attr_<slug>` (choice slugs /
true|false / text, repeatable or comma-separated) or for number attributes `attr_<slug>_min` /
`attr_<slug>_max`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.http import QueryDict

from catalog.models import Category
from catalog.selectors import (
    FILTER_NUMBER_DECIMALS,
    AttributeFilter,
    ProductFilters,
    category_get_by_slug,
    filter_number,
)
from shop.core.errors import ValidationError

MAX_PRICE = Decimal("1000000000")
MAX_VALUES = 50


def _decimal(raw: str, name: str, errors: dict[str, list[str]]) -> Decimal | None:
    raw = raw.strip()
    if raw == "":
        return None
    value = filter_number(raw)
    if value is None and not _looks_like_a_number(raw):
        errors[name] = ["Enter a number."]
        return None
    if value is None or value < 0 or value > MAX_PRICE:
        errors[name] = [
            f"Enter a number between 0 and {MAX_PRICE}, "
            f"with at most {FILTER_NUMBER_DECIMALS} decimal places."
        ]
        return None
    return value


def _looks_like_a_number(raw: str) -> bool:
    try:
        Decimal(raw)
    except InvalidOperation:
        return False
    return True


def _values(params: QueryDict, name: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in params.getlist(name):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return tuple(dict.fromkeys(out))[:MAX_VALUES]


def product_filters_parse(*, params: QueryDict, category: Category | None = None) -> ProductFilters:
    """Turn query parameters into `ProductFilters`, or raise ValidationError with one entry per
    bad parameter (the API answers 400, the storefront shows the message). An unknown category
    slug raises NotFound."""
    errors: dict[str, list[str]] = {}

    category_slug = params.get("category", "")
    if category is None and category_slug:
        category = category_get_by_slug(slug=category_slug)

    price_min = _decimal(params.get("price_min", ""), "price_min", errors)
    price_max = _decimal(params.get("price_max", ""), "price_max", errors)
    if price_min is not None and price_max is not None and price_min > price_max:
        errors["price_max"] = ["The maximum price must not be below the minimum."]

    in_stock_raw = params.get("in_stock", "").strip().lower()
    if in_stock_raw not in {"", "0", "1", "true", "false", "on", "off", "yes", "no"}:
        errors["in_stock"] = ["Use 1 or 0."]
    in_stock = in_stock_raw in {"1", "true", "on", "yes"}

    attributes: dict[str, AttributeFilter] = {}
    for key in params:
        if not key.startswith("attr_"):
            continue
        name = key[len("attr_") :]
        if name.endswith("_min") or name.endswith("_max"):
            slug, bound = name[:-4], name[-3:]
            value = _decimal(params.get(key, ""), key, errors)
            current = attributes.get(slug, AttributeFilter(slug=slug))
            attributes[slug] = AttributeFilter(
                slug=slug,
                values=current.values,
                number_min=value if bound == "min" else current.number_min,
                number_max=value if bound == "max" else current.number_max,
            )
        else:
            values = _values(params, key)
            if values:
                current = attributes.get(name, AttributeFilter(slug=name))
                attributes[name] = AttributeFilter(
                    slug=name,
                    values=values,
                    number_min=current.number_min,
                    number_max=current.number_max,
                )

    if errors:
        raise ValidationError("Some filters are invalid.", fields=errors)

    return ProductFilters(
        category=category,
        price_min=price_min,
        price_max=price_max,
        sellers=_values(params, "seller"),
        attributes=tuple(attributes.values()),
        in_stock=in_stock,
    )
