"""The export: one CSV row per variant of the seller's products, read in chunks of products so
memory and the number of queries per chunk stay fixed however large the catalog is."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Prefetch, Q

from catalog.models import Attribute, Category, Product, ProductVariant, VariantAttributeValue
from inventory.models import Stock, Warehouse
from sellers.bulk.columns import (
    ATTRIBUTE_PREFIX,
    CATEGORY_SEPARATOR,
    PRODUCT_COLUMNS,
    STOCK_PREFIX,
    VARIANT_COLUMNS,
    attribute_value_out,
    bool_out,
    decimal_out,
    text_out,
)
from sellers.models import Seller

EXPORT_CHUNK_PRODUCTS = 200


@dataclass(frozen=True)
class ExportLayout:
    attributes: list[Attribute]
    warehouses: list[Warehouse]

    @property
    def header(self) -> list[str]:
        return [
            *PRODUCT_COLUMNS,
            *VARIANT_COLUMNS,
            *(f"{ATTRIBUTE_PREFIX}{a.slug}" for a in self.attributes),
            *(f"{STOCK_PREFIX}{w.code}" for w in self.warehouses),
        ]


def catalog_export_layout(*, seller: Seller) -> ExportLayout:
    """The attribute columns (those the seller's variants use or their product types carry) and
    one stock column per warehouse of the seller."""
    attributes = list(
        Attribute.objects.filter(
            Q(values__variant__product__seller=seller) | Q(product_types__products__seller=seller)
        )
        .distinct()
        .order_by("slug")
    )
    warehouses = list(Warehouse.objects.filter(seller=seller).order_by("priority", "code"))
    return ExportLayout(attributes=attributes, warehouses=warehouses)


def category_paths() -> dict[int, str]:
    """Every category's slug path ("clothing/t-shirts"), the form the CSV uses."""
    rows = list(Category.objects.values_list("pk", "slug", "path"))
    slugs = {pk: slug for pk, slug, _ in rows}
    return {
        pk: CATEGORY_SEPARATOR.join(slugs[int(part)] for part in path.strip("/").split("/"))
        for pk, _, path in rows
    }


def catalog_export_rows(
    *, seller: Seller, chunk_size: int = EXPORT_CHUNK_PRODUCTS
) -> Iterator[list[str]]:
    """The header, then one row per variant (products by id, variants by position). Cells
    that a spreadsheet would run as formulas are escaped (`columns.text_out`)."""
    layout = catalog_export_layout(seller=seller)
    yield layout.header
    paths = category_paths()
    attribute_ids = {a.pk for a in layout.attributes}
    last_id = 0
    while True:
        products = list(
            Product.objects.filter(seller=seller, pk__gt=last_id)
            .select_related("product_type")
            .prefetch_related(
                Prefetch(
                    "variants",
                    queryset=ProductVariant.objects.order_by("position", "id").prefetch_related(
                        Prefetch(
                            "attribute_values",
                            queryset=VariantAttributeValue.objects.filter(
                                attribute_id__in=attribute_ids
                            ).select_related("choice"),
                        ),
                        Prefetch(
                            "stocks",
                            queryset=Stock.objects.filter(warehouse__seller=seller),
                        ),
                    ),
                )
            )
            .order_by("pk")[:chunk_size]
        )
        if not products:
            return
        last_id = products[-1].pk
        for product in products:
            for variant in product.variants.all():
                yield [text_out(cell) for cell in _row(product, variant, layout, paths)]


def _row(
    product: Product, variant: ProductVariant, layout: ExportLayout, paths: dict[int, str]
) -> list[str]:
    values = {v.attribute_id: v for v in variant.attribute_values.all()}
    on_hand = {s.warehouse_id: s.on_hand for s in variant.stocks.all()}
    return [
        product.slug,
        product.name,
        paths[product.category_id],
        product.product_type.name if product.product_type else "",
        product.brand,
        product.description,
        product.status,
        product.tax_class,
        variant.sku,
        variant.name,
        decimal_out(variant.price),
        decimal_out(variant.compare_at_price),
        variant.currency,
        str(variant.weight_grams),
        bool_out(variant.allow_backorder),
        bool_out(variant.is_active),
        *(
            attribute_value_out(values[a.pk], a) if a.pk in values else ""
            for a in layout.attributes
        ),
        *(str(on_hand.get(w.pk, 0)) for w in layout.warehouses),
    ]
