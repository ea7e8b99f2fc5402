"""The CSV columns, shared by export and import so a file round-trips unchanged."""

from __future__ import annotations

from decimal import Decimal

from catalog.models import Attribute, AttributeType, VariantAttributeValue

PRODUCT_COLUMNS = (
    "handle",
    "name",
    "category",
    "product_type",
    "brand",
    "description",
    "status",
    "tax_class",
)
VARIANT_COLUMNS = (
    "sku",
    "variant_name",
    "price",
    "compare_at_price",
    "currency",
    "weight_grams",
    "allow_backorder",
    "is_active",
)
REQUIRED_COLUMNS = ("sku", "name", "category", "price")
ATTRIBUTE_PREFIX = "attr:"
STOCK_PREFIX = "stock:"
# A cell a spreadsheet could run as a formula. Export prefixes such a value with an apostrophe
# (the usual CSV-injection guard) and import removes it again, so files round-trip.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CATEGORY_SEPARATOR = "/"
BOOLEAN_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def text_out(value: str) -> str:
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def text_in(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def bool_out(value: bool) -> str:
    return "true" if value else "false"


def decimal_out(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def attribute_value_out(value: VariantAttributeValue, attribute: Attribute) -> str:
    """Text that `catalog.services.attribute_value_parse` reads back as the same value."""
    if attribute.type == AttributeType.CHOICE:
        return value.choice.value if value.choice is not None else ""
    if attribute.type == AttributeType.NUMBER:
        if value.value_number is None:
            return ""
        return format(value.value_number.normalize(), "f")
    if attribute.type == AttributeType.BOOLEAN:
        return "" if value.value_boolean is None else ("yes" if value.value_boolean else "no")
    return value.value_text
