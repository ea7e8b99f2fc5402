from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q

from shop.core.models import BaseModel

PATH_STEP = 10  # width of one materialized-path segment: a zero-padded primary key


def category_path_segment(pk: int) -> str:
    """A category's own segment of the materialized path: its primary key, zero-padded to
    PATH_STEP digits, then "/". A child's path is its parent's followed by its segment."""
    return f"{pk:0{PATH_STEP}d}/"


def category_path_ids(path: str) -> list[int]:
    """The primary keys a materialized path names, root first: the category's ancestors,
    then the category itself (the reverse of `category_path_segment`)."""
    return [int(path[i : i + PATH_STEP]) for i in range(0, len(path), PATH_STEP + 1)]


class Category(BaseModel):
    """A node of the category tree. `path` is the materialized path of primary keys
    ("0000000001/0000000007/"), so a subtree is one indexed prefix scan. Create and move
    categories through `catalog.services` so the path stays right."""

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    position = models.PositiveIntegerField(default=0)
    is_featured = models.BooleanField(default=False)
    attributes: models.ManyToManyField[Attribute, Any] = models.ManyToManyField(
        "Attribute", blank=True, related_name="categories"
    )

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        indexes = [
            models.Index(
                fields=["path"], name="catalog_cat_path_prefix", opclasses=["varchar_pattern_ops"]
            )
        ]

    def __str__(self) -> str:
        return self.name


class AttributeType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    BOOLEAN = "boolean", "Yes / no"
    CHOICE = "choice", "Choice"


class Attribute(BaseModel):
    """A typed property of variants (colour, size, screen size, waterproof...)."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    type = models.CharField(
        max_length=10, choices=AttributeType.choices, default=AttributeType.TEXT
    )
    unit = models.CharField(max_length=20, blank=True)
    is_filterable = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AttributeChoice(BaseModel):
    attribute = models.ForeignKey(Attribute, on_delete=models.CASCADE, related_name="choices")
    value = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["attribute_id", "position", "value"]
        constraints = [
            models.UniqueConstraint(fields=["attribute", "slug"], name="catalog_choice_unique_slug")
        ]

    def __str__(self) -> str:
        return self.value


class ProductType(BaseModel):
    """A kind of product (T-shirt, laptop) and the attributes its variants carry."""

    name = models.CharField(max_length=100, unique=True)
    attributes = models.ManyToManyField(Attribute, blank=True, related_name="product_types")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class TaxClass(models.TextChoices):
    STANDARD = "standard", "Standard rate"
    REDUCED = "reduced", "Reduced rate"
    ZERO = "zero", "Zero rate"


def _category_list_index(*order: Any, name: str) -> models.Index:
    """A category page's walk in one sort order: (category, status, *order), seller and the
    visibility flag included (see Product.Meta)."""
    return models.Index(
        "category", "status", *order, name=name, include=["seller", "search_visible"]
    )


class Product(BaseModel):
    """A product listed by one seller. Public only when active and its seller is approved
    (see `catalog.selectors.product_queryset_public`)."""

    seller = models.ForeignKey("sellers.Seller", on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    product_type = models.ForeignKey(
        ProductType, on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    brand = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=ProductStatus.choices, default=ProductStatus.DRAFT
    )
    tax_class = models.CharField(max_length=10, choices=TaxClass.choices, default=TaxClass.STANDARD)
    is_featured = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    rating_count = models.PositiveIntegerField(default=0)
    search_vector = SearchVectorField(null=True, editable=False)
    # Denormalised for search (owned by search, refreshed by its services and tasks):
    # the lowest price a shopper pays now, so price filters and facets over a million products
    # need no per-row sale-price subquery; and a flag for rows whose vector/price are stale.
    # db_default keeps bulk COPY loads (seed_demo) that do not name these columns working.
    search_price_min = models.DecimalField(
        max_digits=20, decimal_places=2, null=True, blank=True, editable=False
    )
    search_dirty = models.BooleanField(db_default=True, editable=False)
    # Active with an active variant when last refreshed. Queries AND it with the live status
    # and seller checks, so archiving and suspending still hide at once; what the flag saves
    # is the per-row EXISTS over variants.
    search_visible = models.BooleanField(db_default=False, editable=False)
    # Facet values of the active variants (`search.services.facet_value_key`): choice
    # ids, and encoded yes/no values. Facet counts unnest this instead of joining the millions
    # of attribute value rows; attribute filters use its GIN index (`&&`).
    search_facet_values = ArrayField(
        models.IntegerField(), db_default=[], default=list, editable=False
    )
    # Owned by search (`search.popularity.product_popularity_refresh`, a beat task): the score
    # broad searches take candidates by and "Best selling" sorts by, and its level among the
    # catalogue (`search.keys`: 0 = the most popular 1/1024, 10 = the less popular half),
    # which the search vector carries as key lexemes. New products start at the bottom.
    popularity = models.FloatField(db_default=0, default=0, editable=False)
    popularity_tier = models.PositiveSmallIntegerField(db_default=10, default=10, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "seller"], name="catalog_product_status_seller"),
            models.Index(fields=["category", "status"], name="catalog_product_cat_status"),
            models.Index(
                fields=["is_featured"],
                name="catalog_product_featured",
                condition=Q(is_featured=True),
            ),
            GinIndex(fields=["search_vector"], name="catalog_product_search"),
            models.Index(fields=["search_price_min", "id"], name="catalog_product_search_price"),
            models.Index(
                fields=["id"], name="catalog_product_search_dirty", condition=Q(search_dirty=True)
            ),
            GinIndex(fields=["search_facet_values"], name="catalog_product_facet_values"),
            models.Index(
                "status",
                models.F("published_at").desc(nulls_last=True),
                models.F("id").desc(),
                name="catalog_product_newest",
            ),
            # Category pages filter by the literal ids of a subtree: a leaf's page walks one of
            # these in its sort order (price high-low backwards) instead of sorting the
            # category (0.8 s -> 13 ms at 1M products), a subtree's page merges one walk per
            # category (search.postgres `_walked_ids`).
            # Seller and the visibility flag are included so the walks and the capped count
            # are index-only scans: no heap page is read for a row that is not shown.
            _category_list_index(
                models.F("published_at").desc(nulls_last=True),
                models.F("id").desc(),
                name="catalog_product_catnew_cover",
            ),
            _category_list_index(
                models.F("search_price_min").asc(nulls_last=True),
                "id",
                name="catalog_product_catprice_cover",
            ),
            _category_list_index(
                models.F("rating_avg").desc(),
                models.F("rating_count").desc(),
                models.F("id").desc(),
                name="catalog_product_catrate_cover",
            ),
            _category_list_index("name", "id", name="catalog_product_catname_cover"),
            _category_list_index(
                models.F("popularity").desc(),
                models.F("id").desc(),
                name="catalog_product_catpop_cover",
            ),
            # "Best selling" without text or category: a walk of the popularity order
            models.Index(
                "status",
                models.F("popularity").desc(),
                models.F("id").desc(),
                name="catalog_product_popular",
            ),
            # A category page's seller filter: does this seller list anything in the subtree?
            # Category first: led by the seller, the planner also took it for "any approved
            # seller" (900,000 entries) into bitmap ANDs of attribute-filtered counts.
            models.Index(
                fields=["category", "seller", "status"], name="catalog_product_cat_seller"
            ),
        ]

    def __str__(self) -> str:
        return self.name


def variant_active_condition(*, through: str = "") -> Q:
    """The one rule of "an active variant" (one shoppers see and buy; a product needs one to
    be public): on the variant's row, or on a row that refers to it through `through` (a
    relation path ending in "__", such as "variant__"). Here rather than in the selectors so
    that inventory, which the catalog's selectors read, can use it without an import cycle."""
    return Q(**{f"{through}is_active": True})


class ProductVariant(BaseModel):
    """A buyable unit with its own SKU, price and attribute values."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    price = models.DecimalField(max_digits=20, decimal_places=2)
    compare_at_price = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default=settings.SHOP_CURRENCY)
    weight_grams = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    allow_backorder = models.BooleanField(
        default=False, help_text="Explicitly allow selling beyond stock on hand."
    )
    max_quantity_per_order = models.PositiveIntegerField(default=20)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["product_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="catalog_variant_price_nonneg"),
            models.CheckConstraint(
                condition=Q(compare_at_price__isnull=True) | Q(compare_at_price__gte=0),
                name="catalog_variant_compare_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(max_quantity_per_order__gte=1), name="catalog_variant_max_qty_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} – {self.name or self.sku}"


class VariantAttributeValue(models.Model):
    """One attribute's value on one variant; the column used depends on the attribute type."""

    variant = models.ForeignKey(
        ProductVariant, on_delete=models.CASCADE, related_name="attribute_values"
    )
    attribute = models.ForeignKey(Attribute, on_delete=models.PROTECT, related_name="values")
    choice = models.ForeignKey(AttributeChoice, on_delete=models.PROTECT, null=True, blank=True)
    value_text = models.CharField(max_length=255, blank=True)
    value_number = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    value_boolean = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["attribute__name"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "attribute"], name="catalog_value_unique")
        ]
        indexes = [
            models.Index(fields=["attribute", "choice"], name="catalog_value_attr_choice"),
            models.Index(fields=["attribute", "value_number"], name="catalog_value_attr_number"),
        ]

    def __str__(self) -> str:
        return f"{self.attribute}: {self.display_value}"

    @property
    def display_value(self) -> str:
        if self.choice_id:
            return self.choice.value if self.choice else ""
        if self.value_number is not None:
            return f"{self.value_number.normalize()}"
        if self.value_boolean is not None:
            return "Yes" if self.value_boolean else "No"
        return self.value_text


class VariantSalePrice(BaseModel):
    """A scheduled sale price. The price a shopper pays is computed in one place:
    `catalog.selectors.variant_price_expression` / `variant_price_current`."""

    variant = models.ForeignKey(
        ProductVariant, on_delete=models.CASCADE, related_name="sale_prices"
    )
    sale_price = models.DecimalField(max_digits=20, decimal_places=2)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["variant_id", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sale_price__gte=0), name="catalog_sale_price_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="catalog_sale_window_order",
            ),
        ]
        indexes = [
            models.Index(fields=["variant", "starts_at", "ends_at"], name="catalog_sale_window")
        ]

    def __str__(self) -> str:
        return f"{self.variant.sku} at {self.sale_price} from {self.starts_at:%Y-%m-%d}"


class ProductImage(BaseModel):
    """An image stored through Django's storage API (local files or S3), with a thumbnail."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    variant = models.ForeignKey(
        ProductVariant, on_delete=models.SET_NULL, null=True, blank=True, related_name="images"
    )
    image = models.ImageField(
        upload_to="products/%Y/%m/", width_field="width", height_field="height"
    )
    thumbnail = models.ImageField(upload_to="products/thumbs/%Y/%m/", blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt_text = models.CharField(max_length=255, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["product_id", "position", "id"]

    def __str__(self) -> str:
        return self.alt_text or self.image.name or ""


class SearchLexeme(models.Model):
    """Every lexeme some product's search vector holds (a superset: nothing is removed when
    the last product carrying one changes). The PostgreSQL engine expands the prefix the
    shopper is typing into the lexemes starting with it: GIN answers exact lexemes 3-4x
    faster than a prefix, which it must collect key by key into a bitmap first. The writers
    of `Product.search_vector` add the new lexemes in the same transaction
    (`search.services`), so an expansion never misses one. C collation: a prefix is
    a range of the primary key's B-tree, in code point order."""

    lexeme = models.TextField(primary_key=True, db_collation="C")

    def __str__(self) -> str:
        return self.lexeme


class SearchSuggestion(models.Model):
    """Autocomplete: one row per word of each distinct public product name, weighted by how
    many public products carry that name. Small (it grows with distinct names, not products)
    and answered from one prefix index scan. Rebuilt by `search_reindex`, kept current for
    changed products by the search refresh task."""

    word = models.CharField(max_length=100)
    phrase = models.CharField(max_length=200)  # the name, lower-cased: the key
    label = models.CharField(max_length=200)  # the name as its most rated product spells it
    slug = models.SlugField(max_length=220)
    weight = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["word", "phrase"], name="catalog_suggestion_unique")
        ]
        indexes = [
            models.Index(
                fields=["word"], name="catalog_suggestion_word", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.phrase
