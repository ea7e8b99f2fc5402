"""Writes to the catalog: categories (keeping the materialized path), products, variants,
prices, images. Every face (storefront, portal, API, admin, seed_demo) calls these. A write
that changes what search finds marks the products dirty in its own transaction
(`search.services.search_index_mark_dirty`: refreshed through the outbox after commit); a
product that becomes public is refreshed in the same transaction, so search shows it at once,
as category pages do."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import CharField, F, Max, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from catalog.models import (
    Attribute,
    AttributeChoice,
    AttributeType,
    Category,
    Product,
    ProductImage,
    ProductStatus,
    ProductType,
    ProductVariant,
    TaxClass,
    VariantAttributeValue,
    VariantSalePrice,
    category_path_segment,
    variant_active_condition,
)
from catalog.selectors import category_path_in_subtree, category_subtree
from search.services import (
    search_index_mark_dirty,
    search_index_refresh_now,
    search_visible_recheck,
)
from sellers.models import Seller
from shop.core.errors import ValidationError
from shop.core.numbers import NumberError, decimal_parse

THUMBNAIL_SIZE = (400, 400)
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MIN_IMAGE_SIDE = 100
MAX_IMAGE_SIDE = 10_000
_TEXT_MAX = 255  # ProductImage.alt_text and VariantAttributeValue.value_text
ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


@transaction.atomic
def category_create(
    *,
    name: str,
    slug: str | None = None,
    parent: Category | None = None,
    description: str = "",
    position: int = 0,
    is_featured: bool = False,
) -> Category:
    category = Category(
        name=name,
        slug=slug or slugify(name),
        parent=parent,
        description=description,
        position=position,
        is_featured=is_featured,
        depth=(parent.depth + 1) if parent else 0,
        # a unique placeholder until the primary key is known
        path=f"~{timezone.now().timestamp()}-{id(name)}",
    )
    category.save()
    category.path = (parent.path if parent else "") + category_path_segment(category.pk)
    category.save(update_fields=["path"])
    return category


@transaction.atomic
def category_move(*, category: Category, new_parent: Category | None) -> Category:
    """Re-parent a category and its whole subtree (one UPDATE for the descendants)."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    if new_parent is not None:
        new_parent = Category.objects.get(pk=new_parent.pk)
        if category_path_in_subtree(path=new_parent.path, root_path=category.path):
            raise ValidationError(
                "A category cannot move under itself or one of its descendants.",
                fields={"parent": ["Choose a category outside this subtree."]},
            )
    old_path = category.path
    new_path = (new_parent.path if new_parent else "") + category_path_segment(category.pk)
    depth_delta = (new_parent.depth + 1 if new_parent else 0) - category.depth
    category_subtree(category=category).update(
        path=Concat(Value(new_path, output_field=CharField()), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_delta,
    )
    Category.objects.filter(pk=category.pk).update(parent=new_parent)
    category.refresh_from_db()
    # the vectors carry the names of the whole path, the facets its ids
    search_index_mark_dirty(condition=Q(category__in=category_subtree(category=category)))
    return category


@transaction.atomic
def category_update(
    *,
    category: Category,
    name: str,
    slug: str,
    description: str = "",
    position: int = 0,
    is_featured: bool = False,
) -> Category:
    """Change a category's own fields (`category_move` re-parents it). A rename reaches search
    for its whole subtree: product vectors carry the names of every ancestor."""
    renamed = Category.objects.filter(pk=category.pk).exclude(name=name).exists()
    category.name = name
    category.slug = slug
    category.description = description
    category.position = position
    category.is_featured = is_featured
    category.save(
        update_fields=["name", "slug", "description", "position", "is_featured", "updated_at"]
    )
    if renamed:
        search_index_mark_dirty(condition=Q(category__in=category_subtree(category=category)))
    return category


@transaction.atomic
def product_publish(*, product: Product) -> Product:
    """Make a product public; search finds it from the same commit on."""
    if not product.variants.filter(variant_active_condition()).exists():
        raise ValidationError(
            "A product needs at least one active variant before it can be published.",
            fields={"status": ["Add an active variant first."]},
        )
    product.status = ProductStatus.ACTIVE
    product.published_at = product.published_at or timezone.now()
    product.save(update_fields=["status", "published_at", "updated_at"])
    search_index_refresh_now(product_ids=[product.pk])
    return product


@transaction.atomic
def product_archive(*, product: Product) -> Product:
    """Search hides it at once (its status is checked live); the refresh updates the rest."""
    product.status = ProductStatus.ARCHIVED
    product.save(update_fields=["status", "updated_at"])
    search_index_mark_dirty(product_ids=[product.pk])
    return product


def variant_price_validate(*, price: Decimal, compare_at_price: Decimal | None = None) -> None:
    errors: dict[str, list[str]] = {}
    if price < 0:
        errors["price"] = ["The price cannot be negative."]
    if compare_at_price is not None and compare_at_price < price:
        errors["compare_at_price"] = ["The compare-at price must be at least the price."]
    if errors:
        raise ValidationError("The price is invalid.", fields=errors)


def _sale_price_check(
    *,
    variant: ProductVariant,
    sale_price: Decimal,
    starts_at: datetime,
    ends_at: datetime | None,
    exclude_pk: int | None = None,
) -> ProductVariant:
    """Lock the variant (two sellers' tabs cannot both pass the overlap check), then check the
    sale against its current price and its other sales. Returns the locked variant."""
    locked = ProductVariant.objects.select_for_update().get(pk=variant.pk)
    errors: dict[str, list[str]] = {}
    if sale_price <= 0 or sale_price >= locked.price:
        errors["sale_price"] = [
            f"The sale price must be above 0 and below the regular price ({locked.price})."
        ]
    if ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = ["The sale must end after it starts."]
    elif ends_at is not None and ends_at <= timezone.now():
        errors["ends_at"] = ["This end has already passed: choose a time still to come."]
    if errors:
        raise ValidationError("The sale price is invalid.", fields=errors)
    overlapping = VariantSalePrice.objects.filter(variant=locked).exclude(
        ends_at__isnull=False, ends_at__lte=starts_at
    )
    if ends_at is not None:
        overlapping = overlapping.filter(starts_at__lt=ends_at)
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    clash = overlapping.order_by("starts_at").first()
    if clash is not None:
        until = f"{clash.ends_at:%Y-%m-%d %H:%M}" if clash.ends_at else "open-ended"
        raise ValidationError(
            "This sale overlaps another scheduled sale of the same variant.",
            fields={
                "starts_at": [
                    "Choose a window that does not overlap an existing sale "
                    f"({clash.sale_price} from {clash.starts_at:%Y-%m-%d %H:%M}, until {until})."
                ]
            },
        )
    return locked


@transaction.atomic
def sale_price_schedule(
    *,
    variant: ProductVariant,
    sale_price: Decimal,
    starts_at: datetime,
    ends_at: datetime | None = None,
) -> VariantSalePrice:
    """Schedule a sale price. Windows of one variant may not overlap, a sale price must be above
    0 and below the regular price (otherwise it is not a sale), and a sale must not be over
    before it is saved. Saving marks the product dirty for search (its price filter)."""
    locked = _sale_price_check(
        variant=variant, sale_price=sale_price, starts_at=starts_at, ends_at=ends_at
    )
    sale = VariantSalePrice.objects.create(
        variant=locked, sale_price=sale_price, starts_at=starts_at, ends_at=ends_at
    )
    search_index_mark_dirty(product_ids=[locked.product_id])
    return sale


@transaction.atomic
def sale_price_update(
    *,
    sale: VariantSalePrice,
    sale_price: Decimal,
    starts_at: datetime,
    ends_at: datetime | None = None,
) -> VariantSalePrice:
    """Change a sale that has not ended yet, under the same rules as `sale_price_schedule`."""
    if sale.ends_at is not None and sale.ends_at <= timezone.now():
        raise ValidationError(
            "This sale has ended and can no longer be changed. Schedule a new sale instead."
        )
    _sale_price_check(
        variant=sale.variant,
        sale_price=sale_price,
        starts_at=starts_at,
        ends_at=ends_at,
        exclude_pk=sale.pk,
    )
    sale.sale_price = sale_price
    sale.starts_at = starts_at
    sale.ends_at = ends_at
    sale.save(update_fields=["sale_price", "starts_at", "ends_at", "updated_at"])
    search_index_mark_dirty(product_ids=[sale.variant.product_id])
    return sale


@transaction.atomic
def sale_price_delete(*, sale: VariantSalePrice) -> None:
    """Remove a sale (scheduled, running or ended); a running one stops at once."""
    product_id = sale.variant.product_id
    sale.delete()
    search_index_mark_dirty(product_ids=[product_id])


def image_validate(*, upload: UploadedFile) -> Image.Image:
    """Refuse anything that is not a reasonably sized image of an allowed format."""
    if upload.size is not None and upload.size > MAX_IMAGE_BYTES:
        raise ValidationError(
            "The image is too large.",
            fields={
                "image": [
                    f"This file is {upload.size / (1024 * 1024):.1f} MB. Images may be at most "
                    f"{MAX_IMAGE_BYTES // (1024 * 1024)} MB: resize or compress it."
                ]
            },
        )
    try:
        upload.seek(0)
        image = Image.open(upload)
        image.verify()
        upload.seek(0)
        image = Image.open(upload)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            "The file is not an image we can read.",
            fields={"image": ["This file is not an image. Upload a JPEG, PNG, WebP or GIF."]},
        ) from exc
    if image.format not in ALLOWED_IMAGE_FORMATS:
        raise ValidationError(
            "This image format is not supported.",
            fields={"image": [f"This is a {image.format} file. Upload a JPEG, PNG, WebP or GIF."]},
        )
    width, height = image.size
    if (
        min(width, height) < MIN_IMAGE_SIDE
        or max(width, height) > MAX_IMAGE_SIDE
        or width * height > MAX_IMAGE_PIXELS
    ):
        raise ValidationError(
            "The image dimensions are not accepted.",
            fields={
                "image": [
                    f"This image is {width}×{height} pixels. Images must be at least "
                    f"{MIN_IMAGE_SIDE}×{MIN_IMAGE_SIDE} pixels, at most {MAX_IMAGE_SIDE} pixels "
                    f"on a side and at most {MAX_IMAGE_PIXELS // 1_000_000} megapixels."
                ]
            },
        )
    upload.seek(0)
    return image


def _thumbnail_bytes(image: Image.Image) -> bytes:
    thumb = image.copy()
    if thumb.mode not in ("RGB", "L"):
        thumb = thumb.convert("RGB")
    thumb.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


@transaction.atomic
def product_image_add(
    *,
    product: Product,
    upload: UploadedFile,
    alt_text: str = "",
    variant: ProductVariant | None = None,
    position: int | None = None,
) -> ProductImage:
    """Store an image through the configured storage (local or S3) and generate its thumbnail."""
    if variant is not None and variant.product_id != product.pk:
        raise ValidationError(
            "That variant belongs to another product.", fields={"variant": ["Unknown variant."]}
        )
    image = image_validate(upload=upload)
    if position is None:
        last = product.images.aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
    record = ProductImage(
        product=product, variant=variant, alt_text=alt_text or product.name, position=position
    )
    record.image.save(upload.name or "image", upload, save=False)
    stem = (upload.name or "image").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    record.thumbnail.save(f"{stem}-thumb.jpg", ContentFile(_thumbnail_bytes(image)), save=False)
    record.save()
    return record


def product_image_update(
    *, image: ProductImage, alt_text: str, variant: ProductVariant | None = None
) -> ProductImage:
    """Change an image's alt text (blank falls back to the product name, as on upload) and the
    variant it shows (None: the whole product)."""
    if variant is not None and variant.product_id != image.product_id:
        raise ValidationError(
            "That variant belongs to another product.", fields={"variant": ["Unknown variant."]}
        )
    alt_text = alt_text.strip()
    if len(alt_text) > _TEXT_MAX:
        raise ValidationError(
            "The alt text is too long.",
            fields={"alt_text": [f"Use at most {_TEXT_MAX} characters."]},
        )
    image.alt_text = alt_text or image.product.name
    image.variant = variant
    image.save(update_fields=["alt_text", "variant", "updated_at"])
    return image


@transaction.atomic
def product_images_reorder(*, product: Product, image_ids: Sequence[int]) -> list[ProductImage]:
    """Put the product's images in the order of `image_ids`, which must name each of them once;
    the first is the one lists and the product page show first."""
    images = {
        image.pk: image
        for image in ProductImage.objects.select_for_update().filter(product=product).order_by("pk")
    }
    if len(image_ids) != len(set(image_ids)) or set(image_ids) != set(images):
        raise ValidationError(
            "The new order must list each of this product's images once. Reload and try again."
        )
    ordered = [images[pk] for pk in image_ids]
    for position, image in enumerate(ordered):
        image.position = position
    ProductImage.objects.bulk_update(ordered, ["position"])
    return ordered


# --- Product and variant writes (seller portal, CSV import) ---------------------------------


def _product_slug(name: str) -> str:
    base = slugify(name)[:200] or "product"
    slug, n = base, 1
    while Product.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _product_fields_check(*, name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError("A product needs a name.", fields={"name": ["Enter a name."]})
    return name


def _tax_class_check(tax_class: str) -> str:
    if tax_class not in TaxClass.values:
        raise ValidationError(
            f"Unknown tax class {tax_class!r}.",
            fields={"tax_class": [f"Choose one of: {', '.join(TaxClass.values)}."]},
        )
    return tax_class


def product_slug_check(*, slug: str) -> str:
    """A slug chosen by the seller (the CSV `handle`): URL-safe and not used by any product."""
    if not slug or slugify(slug) != slug or len(slug) > 220:
        raise ValidationError(
            f"{slug!r} is not a valid handle.",
            fields={"slug": ["Use lowercase letters, digits and hyphens (at most 220)."]},
        )
    if Product.objects.filter(slug=slug).exists():
        raise ValidationError(
            f"The handle {slug!r} is already used.",
            fields={"slug": ["This handle is already used by another product."]},
        )
    return slug


@transaction.atomic
def product_create(
    *,
    seller: Seller,
    name: str,
    category: Category,
    product_type: ProductType | None = None,
    brand: str = "",
    description: str = "",
    slug: str = "",
    tax_class: str = TaxClass.STANDARD,
    is_featured: bool = False,
) -> Product:
    """A new product always starts as a draft; `product_publish` makes it public. Without a
    `slug` one is made from the name."""
    name = _product_fields_check(name=name)
    product = Product.objects.create(
        seller=seller,
        name=name,
        slug=product_slug_check(slug=slug) if slug else _product_slug(name),
        category=category,
        product_type=product_type,
        brand=brand.strip(),
        description=description,
        status=ProductStatus.DRAFT,
        tax_class=_tax_class_check(tax_class),
        is_featured=is_featured,
    )
    search_index_mark_dirty(product_ids=[product.pk])
    return product


@transaction.atomic
def product_update(
    *,
    product: Product,
    name: str,
    category: Category,
    product_type: ProductType | None = None,
    brand: str = "",
    description: str = "",
    tax_class: str | None = None,
    slug: str | None = None,
    is_featured: bool | None = None,
) -> Product:
    """`tax_class`, `slug` and `is_featured` None keep the current value (the portal form does
    not edit them; staff do, in the admin)."""
    product.name = _product_fields_check(name=name)
    product.category = category
    product.product_type = product_type
    product.brand = brand.strip()
    product.description = description
    if tax_class is not None:
        product.tax_class = _tax_class_check(tax_class)
    if slug is not None and slug != Product.objects.values_list("slug", flat=True).get(
        pk=product.pk
    ):
        product.slug = product_slug_check(slug=slug)
    if is_featured is not None:
        product.is_featured = is_featured
    product.save(
        update_fields=[
            "name",
            "category",
            "product_type",
            "brand",
            "description",
            "tax_class",
            "slug",
            "is_featured",
            "updated_at",
        ]
    )
    search_index_mark_dirty(product_ids=[product.pk])
    return product


def _sku_check(*, sku: str, exclude_pk: int | None = None) -> str:
    sku = sku.strip()
    if not sku:
        raise ValidationError("A variant needs a SKU.", fields={"sku": ["Enter a SKU."]})
    taken = ProductVariant.objects.filter(sku=sku)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError(
            f"SKU {sku} is already used.", fields={"sku": ["This SKU is already used."]}
        )
    return sku


@transaction.atomic
def variant_create(
    *,
    product: Product,
    sku: str,
    price: Decimal,
    name: str = "",
    compare_at_price: Decimal | None = None,
    is_active: bool = True,
    weight_grams: int = 0,
    allow_backorder: bool = False,
    max_quantity_per_order: int | None = None,
) -> ProductVariant:
    variant_price_validate(price=price, compare_at_price=compare_at_price)
    extra = {}
    if max_quantity_per_order is not None:
        extra["max_quantity_per_order"] = _max_quantity_check(max_quantity_per_order)
    variant = ProductVariant.objects.create(
        **extra,
        product=product,
        sku=_sku_check(sku=sku),
        name=name.strip(),
        price=price,
        compare_at_price=compare_at_price,
        is_active=is_active,
        weight_grams=_weight_check(weight_grams),
        allow_backorder=allow_backorder,
        position=product.variants.count(),
    )
    _variant_search_mark(variant)
    return variant


@transaction.atomic
def variant_delete(*, variant: ProductVariant) -> None:
    """Remove a variant nothing refers to yet (stock and orders protect theirs: deactivate
    those); a product left without an active variant leaves every list at commit."""
    variant.delete()
    _variant_search_mark(variant)


def _variant_search_mark(variant: ProductVariant) -> None:
    """SKUs, prices and attribute values of active variants are searched; whether any variant is
    active decides whether the product is shown at all (in step at commit)."""
    search_index_mark_dirty(product_ids=[variant.product_id])
    search_visible_recheck(product_id=variant.product_id)


def _max_quantity_check(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        raise ValidationError(
            "The most a shopper may buy at once is a whole number from 1 to 100,000.",
            fields={"max_quantity_per_order": ["Enter a whole number from 1 to 100,000."]},
        )
    return value


def _weight_check(weight_grams: int) -> int:
    if isinstance(weight_grams, bool) or not isinstance(weight_grams, int) or weight_grams < 0:
        raise ValidationError(
            "The weight must be a whole number of grams, 0 or more.",
            fields={"weight_grams": ["Enter a whole number of grams."]},
        )
    return weight_grams


def _price_above_sales_check(*, variant: ProductVariant, price: Decimal) -> None:
    """A sale still to come or running must stay below the price, or it would raise it."""
    ProductVariant.objects.select_for_update().filter(pk=variant.pk).first()
    clash = (
        VariantSalePrice.objects.filter(variant=variant, sale_price__gte=price)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=timezone.now()))
        .order_by("starts_at")
        .first()
    )
    if clash is not None:
        raise ValidationError(
            "The price would not be above a scheduled sale.",
            fields={
                "price": [
                    f"A sale at {clash.sale_price} from {clash.starts_at:%Y-%m-%d %H:%M} needs a "
                    "higher price. Change or remove that sale first."
                ]
            },
        )


# what `variant_update` takes and writes (the admin's variant form edits the same fields)
VARIANT_UPDATE_FIELDS = (
    "sku",
    "name",
    "price",
    "compare_at_price",
    "is_active",
    "weight_grams",
    "allow_backorder",
    "max_quantity_per_order",
)


@transaction.atomic
def variant_update(
    *,
    variant: ProductVariant,
    sku: str,
    price: Decimal,
    name: str = "",
    compare_at_price: Decimal | None = None,
    is_active: bool = True,
    weight_grams: int | None = None,
    allow_backorder: bool | None = None,
    max_quantity_per_order: int | None = None,
) -> ProductVariant:
    """`weight_grams` / `allow_backorder` / `max_quantity_per_order` None keep the current
    value. Changing the backorder policy also updates the variant's stock rows
    (`inventory.services.stock_backorder_sync`, which refuses to turn it off while more is
    promised than on hand)."""
    variant_price_validate(price=price, compare_at_price=compare_at_price)
    if price != variant.price:
        _price_above_sales_check(variant=variant, price=price)
    variant.sku = _sku_check(sku=sku, exclude_pk=variant.pk)
    variant.name = name.strip()
    variant.price = price
    variant.compare_at_price = compare_at_price
    variant.is_active = is_active
    if weight_grams is not None:
        variant.weight_grams = _weight_check(weight_grams)
    backorder_changed = allow_backorder is not None and allow_backorder != variant.allow_backorder
    if allow_backorder is not None:
        variant.allow_backorder = allow_backorder
    if max_quantity_per_order is not None:
        variant.max_quantity_per_order = _max_quantity_check(max_quantity_per_order)
    variant.save(update_fields=[*VARIANT_UPDATE_FIELDS, "updated_at"])
    if backorder_changed:
        from inventory.services import stock_backorder_sync  # inventory builds on catalog

        stock_backorder_sync(variant=variant)
    _variant_search_mark(variant)
    return variant


def product_image_delete(*, image: ProductImage) -> None:
    """Removes the row, then its files once the deletion has committed."""
    files = [f for f in (image.image, image.thumbnail) if f]
    storage_names = [(f.storage, f.name) for f in files if f.name]
    image.delete()

    def _delete_files() -> None:
        for storage, name in storage_names:
            storage.delete(name)

    transaction.on_commit(_delete_files)


# --- Typed attribute values ---------------------------------------------------------------------

AttributeInput = str | int | bool | Decimal | AttributeChoice | None
_YES = {"true", "yes", "1", "on"}
_NO = {"false", "no", "0", "off"}
# VariantAttributeValue.value_number
_NUMBER_DIGITS, _NUMBER_PLACES = 20, 4


def _attribute_columns(*, attribute: Attribute, raw: AttributeInput) -> dict[str, Any]:
    """The VariantAttributeValue columns holding `raw` for the attribute's type. Raises
    ValueError with a message for the person who typed it."""
    columns: dict[str, Any] = {
        "choice_id": None,
        "value_text": "",
        "value_number": None,
        "value_boolean": None,
    }
    if attribute.type == AttributeType.CHOICE:
        wanted = str(raw.pk if isinstance(raw, AttributeChoice) else raw).strip()
        choices = list(attribute.choices.all())
        choice = next((c for c in choices if wanted in (str(c.pk), c.slug)), None)
        if choice is None:
            offered = ", ".join(c.value for c in choices) or "none defined yet"
            raise ValueError(f"Choose one of the {attribute.name} options: {offered}.")
        columns["choice_id"] = choice.pk
    elif attribute.type == AttributeType.NUMBER:
        try:
            number = decimal_parse(raw, max_digits=_NUMBER_DIGITS, decimal_places=_NUMBER_PLACES)
        except NumberError as exc:
            friendlier = {
                "invalid": "Enter a number, like 14 or 2.5.",
                "range": "This number is too large.",
            }
            raise ValueError(friendlier.get(exc.code, str(exc))) from None
        columns["value_number"] = number
    elif attribute.type == AttributeType.BOOLEAN:
        word = str(raw).strip().lower()
        if not isinstance(raw, bool) and word not in _YES | _NO:
            raise ValueError("Choose yes or no.")
        columns["value_boolean"] = raw if isinstance(raw, bool) else word in _YES
    else:
        text = str(raw).strip()
        if len(text) > _TEXT_MAX:
            raise ValueError(f"Use at most {_TEXT_MAX} characters.")
        columns["value_text"] = text
    return columns


def _is_blank(raw: AttributeInput) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


@transaction.atomic
def variant_attributes_set(
    *, variant: ProductVariant, values: Mapping[str, AttributeInput]
) -> list[VariantAttributeValue]:
    """Give a variant a value for each attribute of its product's type (keys are attribute
    slugs), validated per type: a choice must be one of that attribute's own (by id or slug),
    a number must parse and fit, a boolean is yes/no, text fits 255 characters. Every attribute
    of the type is required. Values of attributes outside the type are removed, so a changed
    type leaves no stale specifications (a product without a type carries none). Errors are
    keyed by attribute slug."""
    product_type = variant.product.product_type
    if product_type is None and values:
        raise ValidationError("Choose a product type before giving variants attributes.")
    attributes = (
        {a.slug: a for a in product_type.attributes.prefetch_related("choices")}
        if product_type is not None
        else {}
    )
    unknown = sorted(set(values) - set(attributes))
    if unknown:
        raise ValidationError(
            f"{', '.join(unknown)}: not an attribute of this product's type. Reload the page."
        )
    errors: dict[str, list[str]] = {}
    wanted: dict[int, dict[str, Any]] = {}
    for slug, attribute in attributes.items():
        raw = values.get(slug)
        if _is_blank(raw):
            errors[slug] = [f"Enter the {attribute.name.lower()}: every variant needs one."]
            continue
        try:
            wanted[attribute.pk] = _attribute_columns(attribute=attribute, raw=raw)
        except ValueError as exc:
            errors[slug] = [str(exc)]
    if errors:
        raise ValidationError("Some attribute values are missing or invalid.", fields=errors)
    VariantAttributeValue.objects.filter(variant=variant).exclude(
        attribute_id__in=list(wanted)
    ).delete()
    existing = {row.attribute_id: row for row in variant.attribute_values.all()}
    saved: list[VariantAttributeValue] = []
    for attribute_id, columns in wanted.items():
        row = existing.get(attribute_id)
        if row is None:
            row = VariantAttributeValue.objects.create(
                variant=variant, attribute_id=attribute_id, **columns
            )
        elif any(getattr(row, name) != value for name, value in columns.items()):
            for name, value in columns.items():
                setattr(row, name, value)
            row.save(update_fields=[name.removesuffix("_id") for name in columns])
        saved.append(row)
    search_index_mark_dirty(product_ids=[variant.product_id])
    return saved
