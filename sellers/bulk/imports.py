"""The import: a dry run that reports every row's errors, then a job that applies the file in one
transaction through the catalog and inventory services (all or nothing).

Meaning of a cell (docs/seller-portal.md has the column reference):
- `sku` is the key: a SKU of the shop updates that variant, a new SKU creates one. Rows with the
  same `handle` are the variants of one product; an unknown handle creates a product with it.
- A column missing from the file keeps the current values. An empty cell keeps the current value
  too, except in the columns that may be empty (brand, description, product_type,
  variant_name, compare_at_price), where it clears the value.
- `stock:<code>` is the counted on_hand in that warehouse; a difference is booked as an
  adjustment in the stock ledger, referencing the import.
Nothing that is not in the file is deleted, and a value equal to the current one writes nothing,
so importing an unchanged export changes nothing.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from catalog.models import (
    Attribute,
    Category,
    Product,
    ProductStatus,
    ProductType,
    ProductVariant,
    TaxClass,
    VariantAttributeValue,
    variant_active_condition,
)
from catalog.services import (
    _attribute_columns,
    product_archive,
    product_create,
    product_publish,
    product_update,
    variant_attributes_set,
    variant_create,
    variant_price_validate,
    variant_update,
)
from inventory import locks
from inventory.models import Stock, Warehouse
from inventory.services import MAX_LINE_QUANTITY, stock_count_set, stock_rows_create
from search.services import search_index_mark_dirty_batched
from sellers.bulk.columns import (
    ATTRIBUTE_PREFIX,
    BOOLEAN_WORDS,
    CATEGORY_SEPARATOR,
    PRODUCT_COLUMNS,
    STOCK_PREFIX,
    VARIANT_COLUMNS,
    text_in,
)
from sellers.bulk.export import category_paths
from sellers.models import CatalogImportJob, ImportStatus, Seller, SellerMember
from shop.core.errors import Conflict, NotFound, ServiceError, ValidationError
from shop.core.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

IMPORT_RUN_TASK = "sellers.tasks.catalog_import_run_task"

PROGRESS_INTERVAL_SECONDS = 0.5
# runs of one job (the first and those after a worker died) before it is failed
IMPORT_MAX_ATTEMPTS = 3
STOCK_REASON = "CSV import"
MAX_PRICE = Decimal("1e18")
MAX_WEIGHT_GRAMS = 2_147_483_647


@dataclass(frozen=True)
class RowError:
    """`row` counts like a spreadsheet: 1 is the header, 2 the first product row; None is the
    whole file."""

    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class VariantPlan:
    row: int
    sku: str
    variant: ProductVariant | None
    values: dict[str, Any]
    changed: bool
    attributes: dict[str, str]  # slug -> value for variant_attributes_set, when one changes
    stock: list[tuple[Warehouse, int, str]]  # warehouse, counted on_hand, column


@dataclass
class ProductPlan:
    row: int
    handle: str
    product: Product | None
    values: dict[str, Any]
    changed: bool
    status: str | None  # the status to move to, when it differs
    rows: int = 0
    variants: list[VariantPlan] = field(default_factory=list)
    active_skus: set[str] = field(default_factory=set)
    inactive_skus: set[str] = field(default_factory=set)


@dataclass
class ImportPlan:
    """What a file would do. With errors, nothing may be applied."""

    total_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    products: list[ProductPlan] = field(default_factory=list)

    @property
    def products_created(self) -> int:
        return sum(1 for p in self.products if p.product is None)

    @property
    def products_updated(self) -> int:
        return sum(1 for p in self.products if p.product and (p.changed or p.status))

    @property
    def variants_created(self) -> int:
        return sum(1 for p in self.products for v in p.variants if v.variant is None)

    @property
    def variants_updated(self) -> int:
        return sum(
            1
            for p in self.products
            for v in p.variants
            if v.variant is not None and (v.changed or v.attributes)
        )

    @property
    def stock_changes(self) -> int:
        return sum(len(v.stock) for p in self.products for v in p.variants)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "products_created": self.products_created,
            "products_updated": self.products_updated,
            "variants_created": self.variants_created,
            "variants_updated": self.variants_updated,
            "stock_changes": self.stock_changes,
        }


class ImportFailed(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors[0].message if errors else "The import failed.")
        self.errors = errors


# --- reading the file ---------------------------------------------------------------------------


def _read(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    max_bytes, max_rows = settings.SELLER_IMPORT_MAX_BYTES, settings.SELLER_IMPORT_MAX_ROWS
    if len(data) > max_bytes:
        raise ImportFailed(
            [RowError(None, "", f"The file is larger than {max_bytes // (1024 * 1024)} MB.")]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            [
                RowError(
                    None,
                    "",
                    f"The file is not UTF-8 text (byte {exc.start + 1}). Save it as "
                    "'CSV UTF-8' and upload it again.",
                )
            ]
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    row = 0
    try:
        for cells in reader:
            row += 1
            if header is None:
                header = cells
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if len(records) >= max_rows:
                raise ImportFailed(
                    [RowError(row, "", f"A file may have at most {max_rows} product rows.")]
                )
            records.append((row, cells))
    except csv.Error as exc:
        raise ImportFailed([RowError(row + 1, "", f"The CSV cannot be read here: {exc}.")]) from exc
    if header is None or not records:
        raise ImportFailed([RowError(None, "", "The file has no product rows under a header row.")])
    return header, records


@dataclass
class _Header:
    columns: list[str]
    attributes: dict[str, Attribute]  # column -> attribute
    warehouses: dict[str, Warehouse]  # column -> warehouse


def _header(seller: Seller, cells: list[str]) -> _Header:
    errors: list[RowError] = []
    columns: list[str] = []
    for index, raw in enumerate(cells, start=1):
        name = raw.strip()
        prefix, _, rest = name.partition(":")
        # Column names are not case-sensitive; warehouse codes are.
        is_stock = bool(rest) and f"{prefix.lower()}:" == STOCK_PREFIX
        name = f"{STOCK_PREFIX}{rest}" if is_stock else name.lower()
        if not name:
            errors.append(RowError(1, f"column {index}", "This column has no name."))
        elif name in columns:
            errors.append(RowError(1, name, "This column appears twice."))
        columns.append(name)
    for required in ("sku",):
        if required not in columns:
            errors.append(RowError(1, required, "This column is required."))
    attr_slugs = {c[len(ATTRIBUTE_PREFIX) :] for c in columns if c.startswith(ATTRIBUTE_PREFIX)}
    attributes = {
        a.slug: a for a in Attribute.objects.filter(slug__in=attr_slugs).prefetch_related("choices")
    }
    warehouses = {w.code: w for w in Warehouse.objects.filter(seller=seller)}
    known = set(PRODUCT_COLUMNS) | set(VARIANT_COLUMNS)
    for column in columns:
        if not column or column in known:
            continue
        if column.startswith(ATTRIBUTE_PREFIX):
            if column[len(ATTRIBUTE_PREFIX) :] not in attributes:
                errors.append(RowError(1, column, "There is no attribute with this slug."))
        elif column.startswith(STOCK_PREFIX):
            if column[len(STOCK_PREFIX) :] not in warehouses:
                codes = ", ".join(sorted(warehouses)) or "none yet"
                errors.append(
                    RowError(1, column, f"Unknown warehouse code. Your warehouses: {codes}.")
                )
        else:
            errors.append(RowError(1, column, "Unknown column; see the column reference."))
    if errors:
        raise ImportFailed(errors)
    return _Header(
        columns=columns,
        attributes={
            c: attributes[c[len(ATTRIBUTE_PREFIX) :]]
            for c in columns
            if c.startswith(ATTRIBUTE_PREFIX)
        },
        warehouses={
            c: warehouses[c[len(STOCK_PREFIX) :]] for c in columns if c.startswith(STOCK_PREFIX)
        },
    )


# --- the dry run ---------------------------------------------------------------------------------


@dataclass
class _Catalog:
    """Everything the rows refer to, loaded with a fixed number of queries."""

    variants: dict[str, ProductVariant]
    products: dict[str, Product]
    categories: dict[str, Category]
    types: dict[str, ProductType]
    type_attributes: dict[int, dict[int, tuple[str, str]]]  # type -> attribute -> slug, name
    stocks: dict[tuple[int, int], Stock]
    values: dict[tuple[int, int], VariantAttributeValue]
    active_skus: dict[int, set[str]]


def _load(seller: Seller, header: _Header, rows: list[tuple[int, dict[str, str]]]) -> _Catalog:
    skus = {r["sku"] for _, r in rows if r.get("sku")}
    handles = {r["handle"] for _, r in rows if r.get("handle")}
    variants = {
        v.sku: v
        for v in ProductVariant.objects.filter(sku__in=skus).select_related(
            "product__category", "product__product_type"
        )
    }
    own_variant_ids = [v.pk for v in variants.values() if v.product.seller_id == seller.pk]
    products = {
        p.slug: p
        for p in Product.objects.filter(slug__in=handles).select_related("category", "product_type")
    }
    for v in variants.values():
        products.setdefault(v.product.slug, v.product)
    own_product_ids = [p.pk for p in products.values() if p.seller_id == seller.pk]
    paths = category_paths()
    wanted = {r["category"] for _, r in rows if r.get("category")}
    by_path = {path: pk for pk, path in paths.items()}
    by_slug = {path.rsplit(CATEGORY_SEPARATOR, 1)[-1]: pk for pk, path in paths.items()}
    ids = {value: by_path.get(value) or by_slug.get(value) for value in wanted}
    found = Category.objects.in_bulk([pk for pk in ids.values() if pk])
    categories = {value: found[pk] for value, pk in ids.items() if pk in found}
    # Product types are a short, staff-managed list: load them all and match names ignoring case.
    types = list(ProductType.objects.all())
    through = ProductType.attributes.through.objects.filter(
        producttype_id__in={t.pk for t in types}
    ).values_list("producttype_id", "attribute_id", "attribute__slug", "attribute__name")
    type_attributes: dict[int, dict[int, tuple[str, str]]] = {t.pk: {} for t in types}
    for type_id, attribute_id, slug, name in through:
        type_attributes[type_id][attribute_id] = (slug, name)
    stocks = {
        (s.variant_id, s.warehouse_id): s
        for s in Stock.objects.filter(variant_id__in=own_variant_ids, warehouse__seller=seller)
    }
    values = {
        (v.variant_id, v.attribute_id): v
        for v in VariantAttributeValue.objects.filter(variant_id__in=own_variant_ids)
    }
    active_skus: dict[int, set[str]] = {pk: set() for pk in own_product_ids}
    for product_id, sku in ProductVariant.objects.filter(
        variant_active_condition(), product_id__in=own_product_ids
    ).values_list("product_id", "sku"):
        active_skus[product_id].add(sku)
    return _Catalog(
        variants=variants,
        products=products,
        categories=categories,
        types={t.name.casefold(): t for t in types},
        type_attributes=type_attributes,
        stocks=stocks,
        values=values,
        active_skus=active_skus,
    )


class _Row:
    """One CSV row's cells and the errors found in it."""

    def __init__(self, number: int, cells: dict[str, str], errors: list[RowError]) -> None:
        self.number = number
        self.cells = cells
        self._errors = errors

    def error(self, column: str, message: str) -> None:
        self._errors.append(RowError(self.number, column, message))

    def has(self, column: str) -> bool:
        return column in self.cells

    def get(self, column: str) -> str:
        return self.cells.get(column, "")

    def money(self, column: str) -> Decimal | None:
        raw = self.get(column)
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.error(column, f"{raw!r} is not an amount; write it like 19.99 (no currency sign).")
            return None
        if value < 0:
            self.error(column, "An amount cannot be negative.")
            return None
        if value != value.quantize(Decimal("0.01")) or value >= MAX_PRICE:
            self.error(column, "Use at most 2 decimals and fewer than 19 digits.")
            return None
        return value.quantize(Decimal("0.01"))

    def whole(self, column: str, *, maximum: int, what: str) -> int | None:
        raw = self.get(column)
        if not raw:
            return None
        if raw.startswith("-") and raw[1:].isdigit():
            self.error(column, f"{what} cannot be negative.")
            return None
        if not raw.isdigit() or int(raw) > maximum:
            self.error(column, f"{raw!r} is not a whole number from 0 to {maximum}.")
            return None
        return int(raw)

    def flag(self, column: str) -> bool | None:
        raw = self.get(column)
        if not raw:
            return None
        value = BOOLEAN_WORDS.get(raw.casefold())
        if value is None:
            self.error(column, f"{raw!r} is not true or false.")
        return value


def catalog_import_check(*, seller: Seller, data: bytes) -> ImportPlan:
    """The dry run: read and check the whole file against the seller's catalog and report every
    row's errors (row numbers and column names) and what would be created or updated. Writes
    nothing."""
    plan = ImportPlan()
    try:
        header_cells, records = _read(data)
        header = _header(seller, header_cells)
    except ImportFailed as exc:
        plan.errors = exc.errors
        return plan
    plan.total_rows = len(records)
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in records:
        if len(cells) > len(header.columns):
            plan.errors.append(
                RowError(
                    number,
                    "",
                    f"This row has {len(cells)} cells but the header has "
                    f"{len(header.columns)} columns.",
                )
            )
            continue
        values = {}
        for column, cell in zip(header.columns, cells, strict=False):
            values[column] = text_in(cell if column == "description" else cell.strip())
        for column in header.columns[len(cells) :]:
            values[column] = ""
        rows.append((number, values))
    catalog = _load(seller, header, rows)
    groups: dict[str, ProductPlan] = {}
    first_cells: dict[str, dict[str, str]] = {}
    seen_skus: dict[str, int] = {}
    for number, row_cells in rows:
        row = _Row(number, row_cells, plan.errors)
        sku = row.get("sku")
        variant = catalog.variants.get(sku) if sku else None
        refused = False
        if not sku:
            row.error("sku", "Enter a SKU.")
        elif len(sku) > 64:
            row.error("sku", "A SKU has at most 64 characters.")
        elif sku in seen_skus:
            row.error(
                "sku", f"SKU {sku} appears twice in the file (first in row {seen_skus[sku]})."
            )
            refused = True
        else:
            seen_skus[sku] = number
        if variant is not None and variant.product.seller_id != seller.pk:
            row.error("sku", f"SKU {sku} is used by another shop; choose a different SKU.")
            variant, refused = None, True
        key = None if refused else _group_key(row, variant, catalog, seller)
        if key is None:
            # The row joins no product, but its other cells are still checked so that every
            # problem shows at once.
            alone = _product_plan(row, f"#row-{number}", catalog, seller, required=False)
            _variant_plan(row, None, alone, header, catalog, required=False)
            continue
        group = groups.get(key)
        if group is None:
            first_cells[key] = row_cells
            group = _product_plan(row, key, catalog, seller)
            groups[key] = group
        else:
            _same_product(row, first_cells[key], group)
        group.rows += 1
        group.variants.append(_variant_plan(row, variant, group, header, catalog))
    for group in groups.values():
        _status_check(group, catalog, plan.errors)
    plan.products = list(groups.values())
    plan.errors.sort(key=lambda e: (e.row or 0, e.column))
    return plan


def _group_key(
    row: _Row, variant: ProductVariant | None, catalog: _Catalog, seller: Seller
) -> str | None:
    handle = row.get("handle")
    if variant is not None:
        if handle and handle != variant.product.slug:
            row.error(
                "handle",
                f"SKU {variant.sku} belongs to product {variant.product.slug}; a variant cannot "
                "move to another product.",
            )
            return None
        return variant.product.slug
    if not handle:
        return f"#row-{row.number}"
    product = catalog.products.get(handle)
    if product is not None and product.seller_id != seller.pk:
        row.error("handle", "This handle is used by another shop's product; choose another.")
        return None
    if product is None and (slugify(handle) != handle or len(handle) > 220):
        row.error("handle", "Use lowercase letters, digits and hyphens (at most 220).")
        return None
    return handle


def _product_plan(
    row: _Row, key: str, catalog: _Catalog, seller: Seller, *, required: bool = True
) -> ProductPlan:
    product = catalog.products.get(key)
    if product is not None and product.seller_id != seller.pk:
        product = None
    values: dict[str, Any] = {}
    name = row.get("name")
    if name:
        if len(name) > 200:
            row.error("name", "A name has at most 200 characters.")
        values["name"] = name
    elif product is None and required:
        row.error("name", "A new product needs a name.")
    category_ref = row.get("category")
    if category_ref:
        category = catalog.categories.get(category_ref)
        if category is None:
            row.error(
                "category",
                f"Unknown category {category_ref!r}; use a category path from an export, "
                "like clothing/t-shirts.",
            )
        values["category"] = category
    elif product is None and required:
        row.error("category", "A new product needs a category.")
    if row.has("product_type"):
        type_name = row.get("product_type")
        product_type = catalog.types.get(type_name.casefold()) if type_name else None
        if type_name and product_type is None:
            row.error("product_type", f"Unknown product type {type_name!r}.")
        values["product_type"] = product_type
    for column, limit in (("brand", 100), ("description", None)):
        if row.has(column):
            if limit and len(row.get(column)) > limit:
                row.error(column, f"At most {limit} characters.")
            values[column] = row.get(column)
    tax_class = row.get("tax_class")
    if tax_class:
        if tax_class not in TaxClass.values:
            row.error("tax_class", f"Use one of: {', '.join(TaxClass.values)}.")
        values["tax_class"] = tax_class
    status = row.get("status") or None
    if status is not None and status not in ProductStatus.values:
        row.error("status", f"Use one of: {', '.join(ProductStatus.values)}.")
        status = None
    current = product.status if product is not None else ProductStatus.DRAFT
    if status == current:
        status = None
    if status == ProductStatus.DRAFT:
        row.error("status", "A published or archived product cannot go back to draft.")
        status = None
    changed = product is None or any(
        _product_value(product, name) != value for name, value in values.items()
    )
    return ProductPlan(
        row=row.number,
        handle="" if key.startswith("#") else key,
        product=product,
        values=values,
        changed=changed,
        status=status,
    )


def _product_value(product: Product, name: str) -> Any:
    if name == "category":
        return product.category
    if name == "product_type":
        return product.product_type_id and product.product_type
    return getattr(product, name)


def _same_product(row: _Row, first: dict[str, str], group: ProductPlan) -> None:
    for column in PRODUCT_COLUMNS:
        value = row.get(column)
        if value and value != first.get(column, ""):
            row.error(
                column,
                f"Differs from row {group.row}, the first row of this product; leave it empty "
                "or repeat the same value.",
            )


def _variant_plan(
    row: _Row,
    variant: ProductVariant | None,
    group: ProductPlan,
    header: _Header,
    catalog: _Catalog,
    *,
    required: bool = True,
) -> VariantPlan:
    values: dict[str, Any] = {}
    price = row.money("price")
    if price is not None:
        values["price"] = price
    elif variant is None and required and not row.get("price"):
        row.error("price", "A new variant needs a price.")
    if row.has("compare_at_price"):
        values["compare_at_price"] = row.money("compare_at_price")
    check_price = values.get("price", variant.price if variant else None)
    check_compare = values.get("compare_at_price", variant.compare_at_price if variant else None)
    if check_price is not None:
        try:
            variant_price_validate(price=check_price, compare_at_price=check_compare)
        except ValidationError as exc:
            for column, messages in exc.fields.items():
                row.error(column, " ".join(messages))
    if row.has("variant_name"):
        if len(row.get("variant_name")) > 200:
            row.error("variant_name", "At most 200 characters.")
        values["name"] = row.get("variant_name")
    currency = row.get("currency")
    expected = variant.currency if variant else settings.SHOP_CURRENCY
    if currency and currency != expected:
        row.error("currency", f"Prices are in {expected}; the currency cannot be changed here.")
    weight = row.whole("weight_grams", maximum=MAX_WEIGHT_GRAMS, what="A weight")
    if weight is not None:
        values["weight_grams"] = weight
    for column in ("allow_backorder", "is_active"):
        flag = row.flag(column)
        if flag is not None:
            values[column] = flag
    changed = variant is None or any(getattr(variant, k) != v for k, v in values.items())
    attributes = _attributes_plan(row, variant, group, header, catalog)
    stock = _stock_plan(row, variant, header, catalog, values)
    if values.get("is_active", variant.is_active if variant else True):
        group.active_skus.add(row.get("sku"))
    else:
        group.inactive_skus.add(row.get("sku"))
    return VariantPlan(
        row=row.number,
        sku=row.get("sku"),
        variant=variant,
        values=values,
        changed=changed,
        attributes=attributes,
        stock=stock,
    )


def _attributes_plan(
    row: _Row,
    variant: ProductVariant | None,
    group: ProductPlan,
    header: _Header,
    catalog: _Catalog,
) -> dict[str, str]:
    """The slug -> value mapping for `variant_attributes_set` when the row changes an attribute
    value, else {}. That service sets every attribute of the product's type at once, so the
    attributes the row leaves empty keep their current values."""
    product_type = group.values.get(
        "product_type", group.product.product_type if group.product else None
    )
    given = {a: raw for column, a in header.attributes.items() if (raw := row.get(column))}
    if not given:
        return {}
    if product_type is None:
        for attribute in given:
            row.error(
                f"{ATTRIBUTE_PREFIX}{attribute.slug}",
                "Give the product a product type before attribute values.",
            )
        return {}
    allowed = catalog.type_attributes.get(product_type.pk, {})
    mapping: dict[str, str] = {}
    changed = False
    for attribute, raw in given.items():
        column = f"{ATTRIBUTE_PREFIX}{attribute.slug}"
        if attribute.pk not in allowed:
            row.error(column, f"{attribute.name} is not an attribute of {product_type}.")
            continue
        raw = _choice_slug(attribute, raw)
        try:
            columns = _attribute_columns(attribute=attribute, raw=raw)
        except ValueError as exc:
            row.error(column, str(exc))
            continue
        current = catalog.values.get((variant.pk, attribute.pk)) if variant else None
        if current is None or any(getattr(current, k) != v for k, v in columns.items()):
            changed = True
        mapping[attribute.slug] = raw
    if not changed:
        return {}
    for attribute_id, (slug, name) in allowed.items():
        if slug in mapping:
            continue
        current = catalog.values.get((variant.pk, attribute_id)) if variant else None
        if current is None:
            row.error(
                f"{ATTRIBUTE_PREFIX}{slug}",
                f"Every {product_type} variant needs a {name.lower()}; add the value.",
            )
        else:
            mapping[slug] = _current_raw(current)
    return mapping


def _choice_slug(attribute: Attribute, raw: str) -> str:
    """Choices are written by their name in the file; the service takes the slug."""
    wanted = raw.casefold()
    for choice in attribute.choices.all():
        if wanted in (choice.value.casefold(), choice.slug.casefold()):
            return choice.slug
    return raw


def _current_raw(value: VariantAttributeValue) -> str:
    if value.choice_id is not None:
        return str(value.choice_id)
    if value.value_number is not None:
        return f"{value.value_number:f}"
    if value.value_boolean is not None:
        return "yes" if value.value_boolean else "no"
    return value.value_text


def _stock_plan(
    row: _Row,
    variant: ProductVariant | None,
    header: _Header,
    catalog: _Catalog,
    values: dict[str, Any],
) -> list[tuple[Warehouse, int, str]]:
    backorder = values.get("allow_backorder", variant.allow_backorder if variant else False)
    targets = []
    for column, warehouse in header.warehouses.items():
        counted = row.whole(column, maximum=MAX_LINE_QUANTITY, what="Stock")
        if counted is None:
            continue
        stock = catalog.stocks.get((variant.pk, warehouse.pk)) if variant else None
        current = stock.on_hand if stock else 0
        if counted == current:
            continue
        promised = stock.allocated + stock.reserved if stock else 0
        if counted < promised and not backorder:
            row.error(
                column,
                f"{promised} units here are promised to orders and checkouts; on hand cannot "
                f"go below {promised}.",
            )
            continue
        targets.append((warehouse, counted, column))
    return targets


def _status_check(group: ProductPlan, catalog: _Catalog, errors: list[RowError]) -> None:
    """Publishing needs an active variant once the file is applied."""
    if group.status != ProductStatus.ACTIVE:
        return
    existing = catalog.active_skus.get(group.product.pk, set()) if group.product else set()
    if not (existing - group.inactive_skus) and not group.active_skus:
        errors.append(
            RowError(group.row, "status", "An active product needs at least one active variant.")
        )


# --- applying a checked plan ---------------------------------------------------------------------

_PRODUCT_COLUMN = {"name": "name", "slug": "handle", "tax_class": "tax_class"}
_VARIANT_COLUMN = {"name": "variant_name", "attributes": "", "status": "status"}


def _failed(row: int, exc: ServiceError, columns: dict[str, str], default: str) -> ImportFailed:
    errors = [
        RowError(row, columns.get(name, name), " ".join(messages))
        for name, messages in exc.fields.items()
    ]
    return ImportFailed(errors or [RowError(row, default, exc.message)])


def catalog_import_apply(
    *,
    seller: Seller,
    plan: ImportPlan,
    actor: User | None,
    reference: str,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Write a checked plan in one transaction: products and variants first (catalog services),
    then the new variants' empty stock rows (one INSERT, `stock_rows_create`), then stock
    (inventory's `stock_count_set`, one adjustment per changed row, locked in
    primary-key order in one statement as `inventory.locks` requires). A refusal anywhere rolls
    everything back and raises ImportFailed with the row and column. `on_progress(rows done)` is
    called after each product."""
    if plan.errors:
        raise ImportFailed(plan.errors)
    # One search-dirty UPDATE and refresh task per REFRESH_BATCH products, not one per save.
    with transaction.atomic(), search_index_mark_dirty_batched():
        done = 0
        counted: list[tuple[int, ProductVariant, Warehouse, int, str]] = []
        new_rows: list[tuple[Warehouse, ProductVariant]] = []
        for group in plan.products:
            product = _product_apply(seller, group)
            for vp in group.variants:
                variant = _variant_apply(product, vp)
                counted.extend((vp.row, variant, w, n, column) for w, n, column in vp.stock)
                if vp.variant is None:  # created just now: no stock row anywhere yet
                    new_rows.extend((w, variant) for w, _, _ in vp.stock)
            if group.status is not None:
                try:
                    if group.status == ProductStatus.ACTIVE:
                        product_publish(product=product)
                    else:
                        product_archive(product=product)
                except ServiceError as exc:
                    raise _failed(group.row, exc, {}, "status") from exc
            done += group.rows
            if on_progress is not None:
                on_progress(done)
        # One INSERT for the new variants' rows instead of a get-or-create per stock count.
        stock_rows_create(pairs=new_rows)
        existing = [
            s.pk
            for s in Stock.objects.filter(
                variant__in=[v for _, v, _, _, _ in counted], warehouse__seller=seller
            )
        ]
        list(locks.stocks_lock(stock_ids=existing))
        for row, variant, warehouse, on_hand, column in counted:
            try:
                stock_count_set(
                    warehouse=warehouse,
                    variant=variant,
                    on_hand=on_hand,
                    actor=actor,
                    reason=STOCK_REASON,
                    reference=reference,
                )
            except ServiceError as exc:
                raise _failed(row, exc, {"on_hand": column}, column) from exc


def _product_apply(seller: Seller, group: ProductPlan) -> Product:
    product, values = group.product, group.values
    try:
        if product is None:
            return product_create(seller=seller, slug=group.handle, **values)
        if not group.changed:
            return product
        fields = {
            name: values.get(name, _product_value(product, name))
            for name in ("name", "category", "product_type", "brand", "description")
        }
        return product_update(product=product, tax_class=values.get("tax_class"), **fields)
    except ServiceError as exc:
        raise _failed(group.row, exc, _PRODUCT_COLUMN, "name") from exc


def _variant_apply(product: Product, vp: VariantPlan) -> ProductVariant:
    variant, values = vp.variant, vp.values
    try:
        if variant is None:
            variant = variant_create(product=product, sku=vp.sku, **values)
        elif vp.changed:
            current = {
                name: values.get(name, getattr(variant, name))
                for name in ("price", "name", "compare_at_price", "is_active")
            }
            variant = variant_update(
                variant=variant,
                sku=vp.sku,
                weight_grams=values.get("weight_grams"),
                allow_backorder=values.get("allow_backorder"),
                **current,
            )
        variant.product = product
        if vp.attributes:
            variant_attributes_set(variant=variant, values=vp.attributes)
    except ServiceError as exc:
        columns = _VARIANT_COLUMN | {slug: f"{ATTRIBUTE_PREFIX}{slug}" for slug in vp.attributes}
        raise _failed(vp.row, exc, columns, "sku") from exc
    return variant


# --- the job -----------------------------------------------------------------------------------


def import_job_get_for_seller(*, seller: Seller, pk: int) -> CatalogImportJob:
    job = CatalogImportJob.objects.filter(seller=seller, pk=pk).first()
    if job is None:
        raise NotFound("No such import.")
    return job


def import_jobs_recent(*, seller: Seller, limit: int = 10) -> list[CatalogImportJob]:
    return list(CatalogImportJob.objects.filter(seller=seller).select_related("created_by")[:limit])


def catalog_import_job_create(
    *, membership: SellerMember, filename: str, data: bytes, plan: ImportPlan
) -> CatalogImportJob:
    """Keep a file that passed the dry run, waiting for the member to start it."""
    if plan.errors:
        raise ValidationError("Fix the errors in the file first; nothing was imported.")
    job = CatalogImportJob(
        seller=membership.seller,
        created_by=membership.user,
        original_name=filename[:255],
        status=ImportStatus.CHECKED,
        total_rows=plan.total_rows,
        **plan.counts,
    )
    # A random name: the stored file is not guessable from the shop or the upload's name.
    job.file.save(f"{uuid.uuid4().hex}.csv", ContentFile(data), save=False)
    job.save()
    return job


def catalog_import_job_start(*, job: CatalogImportJob) -> CatalogImportJob:
    """Queue a checked import: the Celery task is written to the outbox with the status, so a
    broker outage delays the import, never strands it in "queued"."""
    queued = CatalogImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKED).update(
        status=ImportStatus.QUEUED, updated_at=timezone.now()
    )
    if not queued:
        raise Conflict("This import was already started.")
    outbox_enqueue(task=IMPORT_RUN_TASK, kwargs={"job_id": job.pk})
    job.refresh_from_db()
    return job


class _Heartbeat:
    """A thread that writes the job's `processed_rows` and heartbeat (`updated_at`) on a
    connection of its own, in autocommit: the import's writes sit in one open transaction, the
    progress page must see progress before it commits, and the recovery sweeper must see the
    job alive however long one step takes (a long lock wait, a big stock phase). Writes only
    while this run still owns the job (its attempt)."""

    def __init__(self, job: CatalogImportJob, attempt: int) -> None:
        self.job_id = job.pk
        self.attempt = attempt
        self.processed = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name=f"import-{job.pk}-heartbeat", daemon=True
        )

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        self.thread.join()

    def progress(self, processed: int) -> None:
        self.processed = processed  # read by the thread; an int assignment is atomic

    def _run(self) -> None:
        # a connection of this thread's own (Django's may not cross threads)
        connection = connections.create_connection(DEFAULT_DB_ALIAS)
        written, last_beat = -1, 0.0
        interval = settings.SELLER_IMPORT_HEARTBEAT_SECONDS
        try:
            while not self.stopped.wait(PROGRESS_INTERVAL_SECONDS):
                due = time.monotonic() - last_beat >= interval
                if self.processed != written or due:
                    written, last_beat = self.processed, time.monotonic()
                    self._write(connection, written)
        except Exception:
            # a lost heartbeat only makes the job look dead sooner: the sweeper hands it to
            # another run, and this run's commit is then refused (its attempt is stale)
            logger.exception("Heartbeat of import %s stopped.", self.job_id)
        finally:
            connection.close()

    def _write(self, connection: BaseDatabaseWrapper, processed: int) -> None:
        quoted = connection.ops.quote_name(CatalogImportJob._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quoted} SET processed_rows = %s, updated_at = now() "  # noqa: S608
                "WHERE id = %s AND attempt = %s AND status = %s",
                [processed, self.job_id, self.attempt, ImportStatus.RUNNING],
            )


def _claim(job_id: int, now: datetime) -> int | None:
    """Take a queued job, or a running one whose heartbeat stopped (its worker died and this is
    the redelivered task), for one more attempt. Returns the attempt, or None."""
    stale_before = now - timedelta(seconds=settings.SELLER_IMPORT_HEARTBEAT_STALE_SECONDS)
    claimable = Q(status=ImportStatus.QUEUED) | Q(
        status=ImportStatus.RUNNING, updated_at__lt=stale_before
    )
    jobs = CatalogImportJob.objects.filter(claimable, pk=job_id, attempt__lt=IMPORT_MAX_ATTEMPTS)
    if not jobs.update(
        status=ImportStatus.RUNNING,
        attempt=F("attempt") + 1,
        started_at=now,
        updated_at=now,
        processed_rows=0,
    ):
        return None
    return CatalogImportJob.objects.values_list("attempt", flat=True).get(pk=job_id)


def catalog_import_run(*, job_id: int) -> CatalogImportJob | None:
    """Run a queued import: check the stored file again against the catalog as it is now, then
    apply it all or nothing. Idempotent: a job that is not claimable (already run, or running
    with a live heartbeat elsewhere) is left alone and None is returned. A run that died is
    started over from the file: its transaction rolled back, so there is nothing to resume."""
    attempt = _claim(job_id, timezone.now())
    if attempt is None:
        return None
    job = CatalogImportJob.objects.select_related("seller", "created_by").get(pk=job_id)
    with _Heartbeat(job, attempt) as heartbeat:
        try:
            with job.file.open("rb") as handle:
                data = handle.read()
            plan = catalog_import_check(seller=job.seller, data=data)
            with transaction.atomic():
                catalog_import_apply(
                    seller=job.seller,
                    plan=plan,
                    actor=job.created_by,
                    reference=f"import:{job.pk}",
                    on_progress=heartbeat.progress,
                )
                # The status commits with the rows: a job still "running" has changed nothing.
                return _finish(job, attempt, ImportStatus.SUCCEEDED, plan=plan)
        except _JobTakenOver:
            job.refresh_from_db()
            return job
        except ImportFailed as exc:
            return _finish(job, attempt, ImportStatus.FAILED, errors=exc.errors)
        except Exception:
            logger.exception("Catalog import %s failed unexpectedly.", job.pk)
            error = RowError(
                None, "", "The import stopped on an unexpected error; nothing changed."
            )
            return _finish(job, attempt, ImportStatus.FAILED, errors=[error])


UNEXPECTED_ERROR = "The import stopped on an unexpected error; nothing changed."
STALE_ERROR = (
    "The import stopped {attempts} times before it finished (its worker went away each time); "
    "nothing was changed. Upload the file again to retry."
)


def catalog_import_jobs_recover(*, now: datetime | None = None) -> int:
    """Beat: recover imports whose worker went away. A running job whose heartbeat stopped for
    SELLER_IMPORT_HEARTBEAT_STALE_SECONDS is queued again (a new task through the outbox, in
    case the broker lost the old one) until IMPORT_MAX_ATTEMPTS, then failed ("nothing was
    changed": the success status commits with the rows, so a job still running has changed
    nothing). A job queued for SELLER_IMPORT_REQUEUE_SECONDS without starting gets its task
    again (a duplicate is harmless: only one run can claim it). Returns the jobs touched."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.SELLER_IMPORT_HEARTBEAT_STALE_SECONDS)
    touched = 0
    with transaction.atomic():
        dead = CatalogImportJob.objects.select_for_update(skip_locked=True).filter(
            status=ImportStatus.RUNNING, updated_at__lt=stale_before
        )
        for job in dead:
            if job.attempt >= IMPORT_MAX_ATTEMPTS:
                error = RowError(None, "", STALE_ERROR.format(attempts=job.attempt)).as_dict()
                CatalogImportJob.objects.filter(pk=job.pk).update(
                    status=ImportStatus.FAILED, finished_at=now, updated_at=now, errors=[error]
                )
            else:
                logger.warning("Import %s lost its worker; queueing it again.", job.pk)
                _requeue(job, now)
            touched += 1
        waiting_since = now - timedelta(seconds=settings.SELLER_IMPORT_REQUEUE_SECONDS)
        waiting = CatalogImportJob.objects.select_for_update(skip_locked=True).filter(
            status=ImportStatus.QUEUED, updated_at__lt=waiting_since
        )
        for job in waiting:
            _requeue(job, now)
            touched += 1
    return touched


def _requeue(job: CatalogImportJob, now: datetime) -> None:
    CatalogImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED, updated_at=now)
    outbox_enqueue(task=IMPORT_RUN_TASK, kwargs={"job_id": job.pk})


class _JobTakenOver(Exception):
    """Another run took this job over while this one was still applying (its heartbeat looked
    dead): its rows roll back, and the job is the other run's to finish."""


def _finish(
    job: CatalogImportJob,
    attempt: int,
    status: str,
    *,
    errors: list[RowError] | None = None,
    plan: ImportPlan | None = None,
) -> CatalogImportJob:
    """Record the outcome, only while this run still owns the job (guarded UPDATE on its
    attempt). A success another run got to first raises _JobTakenOver inside the import's
    transaction, which rolls its rows back."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "status": status,
        "finished_at": now,
        "updated_at": now,
        "errors": [e.as_dict() for e in errors or []],
    }
    if plan is not None:
        fields["total_rows"] = fields["processed_rows"] = plan.total_rows
        fields.update(plan.counts)
    recorded = CatalogImportJob.objects.filter(
        pk=job.pk, status=ImportStatus.RUNNING, attempt=attempt
    ).update(**fields)
    if not recorded and status == ImportStatus.SUCCEEDED:
        raise _JobTakenOver
    job.refresh_from_db()
    return job
