"""Reads of the catalog, shaped for their callers. The price a shopper pays and what is public
are decided here and nowhere else (templates, serializers and search call these)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import (
    BooleanField,
    Exists,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.db.models.lookups import StartsWith
from django.utils import timezone

from catalog.models import (
    Attribute,
    AttributeType,
    Category,
    Product,
    ProductImage,
    ProductStatus,
    ProductVariant,
    VariantAttributeValue,
    VariantSalePrice,
    category_path_ids,
    variant_active_condition,
)
from sellers.models import Seller, SellerStatus
from shop.core import db
from shop.core.errors import NotFound
from shop.core.numbers import NumberError, decimal_parse

# --- active variants ----------------------------------------------------------------------------


def variant_queryset_active() -> QuerySet[ProductVariant]:
    return ProductVariant.objects.filter(variant_active_condition())


def product_active_variants() -> QuerySet[ProductVariant]:
    """The active variants of the outer query's product row (for a subquery)."""
    return variant_queryset_active().filter(product=OuterRef("pk"))


def product_active_variant_values() -> QuerySet[VariantAttributeValue]:
    """The attribute values of the outer query's product row's active variants (for a
    subquery): what filters and the search refresh read of a product's attributes."""
    return VariantAttributeValue.objects.filter(
        variant_active_condition(through="variant__"), variant__product=OuterRef("pk")
    )


def values_joined(values: QuerySet[Any]) -> Func:
    """The one column of `values` (a subquery over the outer row) as one space-separated
    text, in the subquery's order, NULLs skipped: text for a search vector."""
    return Func(
        ArraySubquery(values), Value(" "), function="array_to_string", output_field=TextField()
    )


# --- prices -------------------------------------------------------------------------------------


def sale_price_subquery(*, at: datetime | None = None, variant_ref: str = "pk") -> Subquery:
    now = at or timezone.now()
    sales = (
        VariantSalePrice.objects.filter(variant=OuterRef(variant_ref), starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("sale_price")
        .values("sale_price")[:1]
    )
    return Subquery(sales)


def variant_price_expression(*, at: datetime | None = None, variant_ref: str = "pk"):
    """SQL for the price a shopper pays for a variant now: the live sale price, else the price."""
    price_field = "price" if variant_ref == "pk" else f"{variant_ref.rsplit('_id', 1)[0]}__price"
    return Coalesce(sale_price_subquery(at=at, variant_ref=variant_ref), F(price_field))


def variant_queryset_priced(*, at: datetime | None = None) -> QuerySet[ProductVariant]:
    """Variants annotated with `current_price` (what the shopper pays), `sale_price_now` and
    `regular_price` (the compare-at price when higher, else the price: shown struck through
    when above `current_price`)."""
    return ProductVariant.objects.annotate(
        sale_price_now=sale_price_subquery(at=at),
        current_price=variant_price_expression(at=at),
        regular_price=Greatest("compare_at_price", "price"),
    )


def variant_price_current(*, variant: ProductVariant, at: datetime | None = None) -> Decimal:
    if hasattr(variant, "current_price"):
        return variant.current_price
    priced = variant_queryset_priced(at=at)
    return priced.values_list("current_price", flat=True).get(pk=variant.pk)  # type: ignore[misc]


# the picture a cart or order line shows: the variant's own image, else the product's first
_LINE_IMAGE_SQL = f"""(
    SELECT COALESCE(NULLIF(i.thumbnail, ''), i.image) FROM {ProductImage._meta.db_table} i
    WHERE i.product_id = {ProductVariant._meta.db_table}.product_id
      AND (i.variant_id IS NULL OR i.variant_id = {ProductVariant._meta.db_table}.id)
    ORDER BY i.variant_id IS NULL, i.position, i.id LIMIT 1
)"""  # noqa: S608 - model names


@cache
def _variants_priced_statement() -> tuple[str, dict[str, Any]]:
    """`variants_priced`' statement and its constant parameters. The price is
    `variant_price_expression` compiled by the ORM (once per process, with a stand-in for the
    moment, bound as `%(at)s`), so the statement cannot drift from the rule."""
    moment = db.placeholder_moment()
    variants = ProductVariant._meta.db_table
    priced = ProductVariant.objects.annotate(current_price=variant_price_expression(at=moment))
    price, constants = db.named_parameters(
        *db.compiled_part(priced, "current_price"), names={"at": moment}, prefix="price"
    )
    sql = f"""
SELECT {db.columns(ProductVariant, variants)}, {price},
       {db.columns(Product, "p")}, {db.columns(Seller, "s")}, {db.columns(Category, "c")},
       {_LINE_IMAGE_SQL}
FROM {variants}
JOIN {Product._meta.db_table} p ON p.id = {variants}.product_id
JOIN {Seller._meta.db_table} s ON s.id = p.seller_id
JOIN {Category._meta.db_table} c ON c.id = p.category_id
WHERE {variants}.id = ANY(%(ids)s::bigint[])
"""  # noqa: S608 - model names and ORM-compiled SQL; values are parameters
    return sql, constants


def variants_priced(
    *, variant_ids: Iterable[int], at: datetime | None = None
) -> list[ProductVariant]:
    """The variants with `current_price` (as `variant_queryset_priced`), `image_name` (the
    storage name of the thumbnail a line shows, or None) and their product, seller and category
    loaded, in one prepared statement (`shop.core.db`): pricing runs it for
    every cart, checkout and placement, and building the equivalent ORM query cost several
    times more CPU than running it."""
    sql, constants = _variants_priced_statement()
    with db.hot_cursor() as cursor:
        cursor.execute(sql, {**constants, "ids": list(variant_ids), "at": at or timezone.now()})
        rows = cursor.fetchall()
    width = {m: len(m._meta.concrete_fields) for m in (ProductVariant, Product, Seller)}
    variants = db.instances(ProductVariant, rows)
    products = db.instances(Product, rows, start=width[ProductVariant] + 1)
    sellers = db.instances(Seller, rows, start=width[ProductVariant] + 1 + width[Product])
    categories = db.instances(
        Category, rows, start=width[ProductVariant] + 1 + width[Product] + width[Seller]
    )
    for row, variant, product, seller, category in zip(
        rows, variants, products, sellers, categories, strict=True
    ):
        variant.current_price = row[width[ProductVariant]]  # type: ignore[attr-defined]
        variant.image_name = row[-1]  # type: ignore[attr-defined]
        product.seller, product.category = seller, category
        variant.product = product
    return variants


def product_price_min_subquery(*, at: datetime | None = None) -> Subquery:
    prices = (
        product_active_variants()
        .annotate(p=variant_price_expression(at=at))
        .order_by("p")
        .values("p")[:1]
    )
    return Subquery(prices)


# --- visibility ---------------------------------------------------------------------------------


# The one definition of "public" (the queryset and the in-memory predicate below both read it).
PUBLIC_PRODUCT_STATUS = ProductStatus.ACTIVE
PUBLIC_SELLER_STATUS = SellerStatus.APPROVED


def product_has_active_variant() -> Exists:
    """The product (the outer query's row) has an active variant: part of being public."""
    return Exists(product_active_variants())


def product_visible_condition() -> Q:
    """What the product row itself must be to be public (its seller is checked apart): active,
    with an active variant. The search refresh stores it as `search_visible`."""
    return Q(status=PUBLIC_PRODUCT_STATUS) & Q(product_has_active_variant())


def product_id_batches(*, batch_size: int) -> Iterator[list[int]]:
    """Every product id, ascending, in lists of at most `batch_size`: keyset steps (never
    OFFSET), so a walk over a million rows costs the same per batch from first to last."""
    last_id = 0
    while True:
        ids = list(
            Product.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return
        yield ids
        last_id = ids[-1]


def product_queryset_public() -> QuerySet[Product]:
    """Products a shopper may see: active, of an approved seller, with an active variant."""
    return Product.objects.filter(product_visible_condition(), seller__status=PUBLIC_SELLER_STATUS)


def product_queryset_listed() -> QuerySet[Product]:
    """`product_queryset_public` for lists that count and sort many products (category pages,
    the product list API). Status and seller are checked live, so archiving a product or
    suspending a seller hides it on the next request. The per-row EXISTS over variants is
    skipped for products whose stored `search_visible` flag is set (active with an active
    variant at the last search refresh): a category's count no longer probes the variants of
    every row it counts. A product the refresh has not seen yet is checked live, so a new
    product shows at once; when its last active variant is deactivated or deleted, the
    variant's writer clears the flag in the same transaction
    (`search.services.search_visible_recheck`).

    Approved sellers come as a literal id list (one query of a few rows): PostgreSQL then
    estimates the filter from the product table's statistics. Joined, it guessed one approved
    seller (a small table autovacuum never analyses) and drove the count from the sellers,
    through a bitmap of each seller's 200,000 products (at 1M products: 230 ms for a leaf)."""
    return Product.objects.filter(
        product_listed_condition(),
        seller_id__in=list(seller_queryset_public().values_list("id", flat=True)),
    )


def product_queryset_listed_compiled(*, refreshed: bool = False) -> QuerySet[Product]:
    """`product_queryset_listed` in one statement, the approved sellers a subquery rather than
    a list read first: SQL that can be compiled once and prepared (`product_list_by_ids`, the
    autocomplete table), for a few rows by primary key or by name, where the planner's
    estimate of the seller filter (the list's reason) does not matter. `refreshed`: as
    `product_listed_condition`."""
    return Product.objects.filter(
        product_listed_condition(refreshed=refreshed), seller__in=seller_queryset_public()
    )


def product_listed_condition(*, refreshed: bool = False) -> Q:
    """`product_queryset_listed` but for the seller's status. `refreshed`: the rows were just
    written by a search refresh, so the stored flag alone says "an active variant" (the
    autocomplete table, built after the refresh): over thousands of rows the live check's
    fallback made PostgreSQL hash every variant or probe the names' trigram index instead
    (30 times slower)."""
    has_active_variant = Q(search_visible=True)
    if not refreshed:
        has_active_variant |= Q(product_has_active_variant())
    return has_active_variant & Q(status=PUBLIC_PRODUCT_STATUS)


def product_is_public(*, product: Product) -> bool:
    """`product_queryset_public`'s rule for a product already loaded with its seller, when the
    caller holds one of its variants and has checked that variant is active (so the "has an
    active variant" part holds): saves a query where the rows are in memory anyway."""
    return product.status == PUBLIC_PRODUCT_STATUS and product.seller.status == PUBLIC_SELLER_STATUS


def seller_queryset_public() -> QuerySet[Seller]:
    return Seller.objects.filter(status=PUBLIC_SELLER_STATUS)


# --- categories ---------------------------------------------------------------------------------


def category_in_subtree(*, path: Any, root_path: Any) -> StartsWith:
    """The tree's one rule: the category at `path` lies in the subtree of the one at
    `root_path` (itself included), as its materialized path starts with the root's. Either
    side is an expression or a value: a root's subtree (`category_subtree`, one prefix scan
    of the path index) or a category's ancestors (`category_names_with_ancestors`)."""
    return StartsWith(path, root_path)


def category_path_in_subtree(*, path: str, root_path: str) -> bool:
    """`category_in_subtree` over paths already loaded (the category facet sums the counts
    of a subtree's categories): tests/catalog/test_selectors.py pins the two equal."""
    return path.startswith(root_path)


def category_subtree(*, category: Category) -> QuerySet[Category]:
    """The category and all its descendants: one prefix scan on the materialized path."""
    return Category.objects.filter(category_in_subtree(path=F("path"), root_path=category.path))


def category_names_with_ancestors(*, category_ref: str) -> Func:
    """The names of the outer row's category (`category_ref`, its id) and of its ancestors
    (the categories whose subtree holds it), root first, space-separated: the category text
    the search vector indexes for a product."""
    own_path = Category.objects.filter(pk=OuterRef(OuterRef(category_ref))).values("path")[:1]
    ancestors = Category.objects.filter(
        category_in_subtree(path=Subquery(own_path), root_path=F("path"))
    )
    return values_joined(ancestors.order_by("path").values("name"))


def category_ancestors(*, category: Category) -> list[Category]:
    """Breadcrumbs, root first, in one query: the categories its path names
    (`category_path_ids`)."""
    ids = category_path_ids(category.path)
    by_id = Category.objects.in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def category_tree() -> list[Category]:
    """The whole tree in one query, each node with `.child_nodes` filled."""
    nodes = list(Category.objects.order_by("depth", "position", "name"))
    by_id = {c.pk: c for c in nodes}
    for node in nodes:
        node.child_nodes = []  # type: ignore[attr-defined]
    roots: list[Category] = []
    for node in nodes:
        if node.parent_id and node.parent_id in by_id:
            by_id[node.parent_id].child_nodes.append(node)  # type: ignore[attr-defined]
        else:
            roots.append(node)
    return roots


def category_roots() -> QuerySet[Category]:
    """Top-level categories, in display order (the storefront header's navigation)."""
    return Category.objects.filter(parent__isnull=True).order_by("position", "name")


def category_children(*, category: Category) -> QuerySet[Category]:
    return Category.objects.filter(parent=category).order_by("position", "name")


def category_featured(*, limit: int = 8) -> QuerySet[Category]:
    return Category.objects.filter(is_featured=True).order_by("depth", "position", "name")[:limit]


def category_get_by_slug(*, slug: str) -> Category:
    """One prepared statement: every category page and every search with a category filter
    reads one (the ORM's `get` cost twice the time of running it)."""
    found = db.hot_select(Category, "WHERE slug = %s", [slug])
    if not found:
        raise NotFound(f"No category '{slug}'.")
    return found[0]


# --- product lists ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeFilter:
    """Values for one attribute: choice slugs, 'true'/'false' for booleans, exact text, or a
    number range (`number_min`/`number_max`)."""

    slug: str
    values: tuple[str, ...] = ()
    number_min: Decimal | None = None
    number_max: Decimal | None = None


@dataclass(frozen=True)
class ProductFilters:
    category: Category | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    sellers: tuple[str, ...] = ()
    attributes: tuple[AttributeFilter, ...] = field(default_factory=tuple)
    in_stock: bool = False


# what a filter number may be: what the numeric columns it is compared with can hold
# (attribute values are numeric(20, 4)); PostgreSQL refuses 1e-999999 with an error (a 500)
FILTER_NUMBER_DIGITS = 20
FILTER_NUMBER_DECIMALS = 4
# the values a yes/no filter reads as yes (anything else is no)
FILTER_YES = frozenset({"1", "true", "yes"})


def filter_number(raw: str) -> Decimal | None:
    """`raw` as a number a filter may compare, or None: what `shop.core.numbers.decimal_parse`
    refuses for the filters' columns (not a number, not finite, more than
    FILTER_NUMBER_DECIMALS decimal places, FILTER_NUMBER_LIMIT or more)."""
    try:
        return decimal_parse(
            raw, max_digits=FILTER_NUMBER_DIGITS, decimal_places=FILTER_NUMBER_DECIMALS
        )
    except NumberError:
        return None


def facet_values_condition(
    *, attribute_id: int, attribute_type: str, values: tuple[str, ...], choice_ids: list[int]
) -> Q:
    """A choice or yes/no filter, tested on the product's stored facet values
    (`search_facet_values && keys`, GIN): category pages and search alike. `choice_ids` are the
    chosen choices' ids (choice attributes)."""
    from search.base import facet_value_key

    if attribute_type == AttributeType.CHOICE:
        keys = [facet_value_key(attribute_id=attribute_id, choice_id=pk) for pk in choice_ids]
    else:
        flags = {v.lower() in FILTER_YES for v in values}
        keys = [facet_value_key(attribute_id=attribute_id, flag=flag) for flag in flags]
    return Q(search_facet_values__overlap=keys)


def _attribute_condition(attr: Attribute, spec: AttributeFilter) -> Q:
    """A number or text filter: a live EXISTS over the active variants' values (choice and
    yes/no filters read the stored facet values, `facet_values_condition`)."""
    values = product_active_variant_values().filter(attribute=attr)
    if attr.type == AttributeType.NUMBER:
        if spec.number_min is not None:
            values = values.filter(value_number__gte=spec.number_min)
        if spec.number_max is not None:
            values = values.filter(value_number__lte=spec.number_max)
        if spec.values:
            numbers = [n for n in map(filter_number, spec.values) if n is not None]
            if not numbers:  # a value that is no number matches nothing (it was a 500)
                return Q(Value(False, output_field=BooleanField()))
            values = values.filter(value_number__in=numbers)
    else:
        values = values.filter(value_text__in=spec.values)
    return Q(Exists(values))


def product_price_was_subquery(*, at: datetime | None = None) -> Subquery:
    """The regular price of the variant behind `price_from`: its compare-at price when higher
    than its price, else its price. A list shows it struck through when above `price_from`."""
    prices = (
        product_active_variants()
        .annotate(p=variant_price_expression(at=at))
        .order_by("p", "position", "id")
        .values_list(Greatest("compare_at_price", "price"))[:1]
    )
    return Subquery(prices)


def product_queryset_cards(*, at: datetime | None = None) -> QuerySet[Product]:
    """Listed products as product cards: `price_from` (the lowest price a shopper pays over
    active variants), `price_was`, seller, category and first image loaded. The ORM form of
    `product_list_by_ids` (tests/catalog/test_selectors.py pins the two equal)."""
    return product_list_shape(product_queryset_listed()).annotate(
        price_from=product_price_min_subquery(at=at),
        price_was=product_price_was_subquery(at=at),
    )


@cache
def _product_list_by_ids_statement() -> tuple[str, dict[str, Any]]:
    """`product_list_by_ids`' statement and its constant parameters: `product_queryset_cards`'
    rows by id. Its visibility (`product_queryset_listed_compiled`), `price_from` and
    `price_was` are compiled by the ORM from the one definitions (once per process, with a
    stand-in for the moment, bound as `%(at)s`); the statement adds the seller, category and
    first image in the same round trip."""
    moment = db.placeholder_moment()
    products = Product._meta.db_table
    cards = product_queryset_listed_compiled().annotate(
        price_from=product_price_min_subquery(at=moment),
        price_was=product_price_was_subquery(at=moment),
    )
    listed, constants = db.named_parameters(*db.compiled_part(cards), names={}, prefix="listed")
    prices = []
    for annotation in ("price_from", "price_was"):
        price, price_constants = db.named_parameters(
            *db.compiled_part(cards, annotation), names={"at": moment}, prefix=annotation
        )
        prices.append(price)
        constants |= price_constants
    sql = f"""
SELECT {db.columns(Product, products)}, {", ".join(prices)},
       {db.columns(Seller, "s")}, {db.columns(Category, "c")}, {db.columns(ProductImage, "i")}
FROM {products}
JOIN {Seller._meta.db_table} s ON s.id = {products}.seller_id
JOIN {Category._meta.db_table} c ON c.id = {products}.category_id
LEFT JOIN LATERAL (
    SELECT {db.columns(ProductImage)} FROM {ProductImage._meta.db_table}
    WHERE product_id = {products}.id ORDER BY position, id LIMIT 1
) i ON TRUE
WHERE {products}.id = ANY(%(ids)s::bigint[]) AND {listed}
"""  # noqa: S608 - model names and ORM-compiled SQL; values are parameters
    return sql, constants


def _first_by_id(rows: list[tuple[Any, ...]], at: int) -> list[tuple[Any, ...]]:
    """One row per distinct id in column `at`."""
    return list({row[at]: row for row in rows}.values())


def product_list_by_ids(*, ids: list[int], at: datetime | None = None) -> list[Product]:
    """The public ones of these products, in the order given, each as a
    `product_queryset_cards` row (`price_from`, `price_was`, seller, category, `image_list`):
    a search's page. One prepared statement: building and compiling that queryset, and its
    image prefetch, cost several times the CPU of running it."""
    if not ids:
        return []
    sql, constants = _product_list_by_ids_statement()
    with db.hot_cursor() as cursor:
        cursor.execute(sql, {**constants, "ids": ids, "at": at or timezone.now()})
        rows = cursor.fetchall()
    prices = len(Product._meta.concrete_fields)  # price_from, price_was follow the product
    seller_at = prices + 2
    category_at = seller_at + len(Seller._meta.concrete_fields)
    image_at = category_at + len(Category._meta.concrete_fields)
    products = db.instances(Product, rows)
    # a page holds a few sellers and categories: one instance each, shared by their products
    sellers = {
        s.pk: s for s in db.instances(Seller, _first_by_id(rows, seller_at), start=seller_at)
    }
    categories = {
        c.pk: c for c in db.instances(Category, _first_by_id(rows, category_at), start=category_at)
    }
    with_image = [row for row in rows if row[image_at] is not None]
    images = {i.product_id: i for i in db.instances(ProductImage, with_image, start=image_at)}
    by_id = {}
    for row, product in zip(rows, products, strict=True):
        product.price_from, product.price_was = row[prices], row[prices + 1]  # type: ignore[attr-defined]
        product.seller = sellers[product.seller_id]
        product.category = categories[product.category_id]
        image = images.get(product.pk)
        product.image_list = [image] if image is not None else []  # type: ignore[attr-defined]
        by_id[product.pk] = product
    return [by_id[pk] for pk in ids if pk in by_id]


def product_list_shape(qs: QuerySet[Product]) -> QuerySet[Product]:
    first_image = Prefetch(
        "images",
        # sliced prefetch: one window-function query loads only each product's first image
        queryset=ProductImage.objects.order_by("position", "id")[:1],
        to_attr="image_list",
    )
    return qs.select_related("seller", "category").prefetch_related(first_image)


def _product_page_shape(qs: QuerySet[Product], *, at: datetime | None = None) -> QuerySet[Product]:
    """`qs` loaded with everything a product page shows: priced active variants with their
    attribute values (and `available_quantity`/`backorderable` from inventory), images, seller,
    category."""
    from inventory.selectors import variant_queryset_with_availability

    variants = (
        variant_queryset_with_availability(variant_queryset_priced(at=at), now=at)
        .filter(variant_active_condition())
        .prefetch_related(
            Prefetch(
                "attribute_values",
                queryset=VariantAttributeValue.objects.select_related("attribute", "choice"),
            )
        )
        .order_by("position", "id")
    )
    return (
        qs.select_related("seller", "category", "product_type")
        .prefetch_related(
            Prefetch("variants", queryset=variants, to_attr="active_variants"),
            Prefetch(
                "images",
                queryset=ProductImage.objects.order_by("position", "id"),
                to_attr="image_list",
            ),
        )
        .annotate(price_from=product_price_min_subquery(at=at))
    )


def product_get_public(*, slug: str, at: datetime | None = None) -> Product:
    """One public product shaped for its page (`_product_page_shape`). Raises NotFound for
    hidden products."""
    try:
        return _product_page_shape(product_queryset_public(), at=at).get(slug=slug)
    except Product.DoesNotExist as exc:
        raise NotFound("This product is not available.") from exc


def product_get_for_preview(
    *, seller: Seller, product_id: int, at: datetime | None = None
) -> Product:
    """One of the seller's own products in any status, shaped like `product_get_public`, with
    `is_public` telling whether shoppers can see it. Another seller's id raises NotFound."""
    public = product_queryset_public().filter(pk=OuterRef("pk"))
    try:
        return (
            _product_page_shape(Product.objects.all(), at=at)
            .annotate(is_public=Exists(public))
            .get(seller=seller, pk=product_id)
        )
    except Product.DoesNotExist as exc:
        raise NotFound("No such product.") from exc


# --- sale prices --------------------------------------------------------------------------------


class SalePriceState(StrEnum):
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    ENDED = "ended"


def sale_price_state(*, sale: VariantSalePrice, at: datetime | None = None) -> SalePriceState:
    """Where a sale stands at `at` (now): the same window test as `sale_price_subquery`."""
    now = at or timezone.now()
    if sale.starts_at > now:
        return SalePriceState.SCHEDULED
    if sale.ends_at is not None and sale.ends_at <= now:
        return SalePriceState.ENDED
    return SalePriceState.ACTIVE


def sale_prices_for_product(*, product: Product) -> QuerySet[VariantSalePrice]:
    """A product's sales, variants loaded, grouped by variant in display order, then by start."""
    return (
        VariantSalePrice.objects.filter(variant__product=product)
        .select_related("variant")
        .order_by("variant__position", "variant_id", "starts_at")
    )


def sale_price_get_for_product(*, product: Product, sale_id: int) -> VariantSalePrice:
    """One sale of the product's variants; any other id raises NotFound."""
    sale = sale_prices_for_product(product=product).filter(pk=sale_id).first()
    if sale is None:
        raise NotFound("No such sale price.")
    return sale


def seller_get_public(*, slug: str) -> Seller:
    try:
        return seller_queryset_public().get(slug=slug)
    except Seller.DoesNotExist as exc:
        raise NotFound("This seller is not available.") from exc


def attribute_filters_for_category(*, category: Category | None) -> QuerySet[Attribute]:
    """Filterable attributes offered on a category page (the category's and its ancestors'),
    with their choices."""
    qs = Attribute.objects.filter(is_filterable=True)
    if category is not None:
        ancestor_ids = [c.pk for c in category_ancestors(category=category)]
        qs = qs.filter(categories__in=ancestor_ids)
    return qs.distinct().prefetch_related("choices").order_by("name")


# --- a seller's own catalog (seller API) -------------------------------------------------------


def product_list_for_seller(*, seller: Seller) -> QuerySet[Product]:
    """Every product of the seller, in any status, newest change first, with category, type and
    variants (attribute values included) loaded."""
    return (
        Product.objects.filter(seller=seller)
        .select_related("category", "product_type")
        .prefetch_related(
            Prefetch(
                "variants",
                queryset=ProductVariant.objects.order_by("position", "id").prefetch_related(
                    Prefetch(
                        "attribute_values",
                        queryset=VariantAttributeValue.objects.select_related(
                            "attribute", "choice"
                        ),
                    )
                ),
            )
        )
        .order_by("-updated_at", "-id")
    )


def product_get_for_seller(*, seller: Seller, pk: object) -> Product:
    """Fetch-and-check: another seller's product (or none) is not found."""
    try:
        return product_list_for_seller(seller=seller).get(pk=int(str(pk)))
    except (Product.DoesNotExist, ValueError) as exc:
        raise NotFound("No such product.") from exc


def variant_get_for_seller(*, seller: Seller, pk: object) -> ProductVariant:
    """Fetch-and-check: another seller's variant (or none) is not found."""
    try:
        return ProductVariant.objects.select_related("product__product_type").get(
            product__seller=seller, pk=int(str(pk))
        )
    except (ProductVariant.DoesNotExist, ValueError) as exc:
        raise NotFound("No such variant.") from exc
