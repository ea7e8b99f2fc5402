"""Writes to the catalog: categories (keeping the materialized path), products, variants,
prices, images. Every face (storefront, portal, API, admin, seed_demo) calls these."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Avg, CharField, Count, F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from catalog.models import (
    PATH_STEP,
    Category,
    Product,
    ProductImage,
    ProductStatus,
    ProductType,
    ProductVariant,
    Review,
    VariantSalePrice,
)
from sellers.models import Seller
from shop.core.errors import ValidationError

THUMBNAIL_SIZE = (400, 400)
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def _segment(pk: int) -> str:
    return f"{pk:0{PATH_STEP}d}/"


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
    category.path = (parent.path if parent else "") + _segment(category.pk)
    category.save(update_fields=["path"])
    return category


@transaction.atomic
def category_move(*, category: Category, new_parent: Category | None) -> Category:
    """Re-parent a category and its whole subtree (one UPDATE for the descendants)."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    if new_parent is not None:
        new_parent = Category.objects.get(pk=new_parent.pk)
        if new_parent.path.startswith(category.path):
            raise ValidationError(
                "A category cannot move under itself or one of its descendants.",
                fields={"parent": ["Choose a category outside this subtree."]},
            )
    old_path = category.path
    new_path = (new_parent.path if new_parent else "") + _segment(category.pk)
    depth_delta = (new_parent.depth + 1 if new_parent else 0) - category.depth
    Category.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path, output_field=CharField()), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_delta,
    )
    Category.objects.filter(pk=category.pk).update(parent=new_parent)
    category.refresh_from_db()
    return category


def product_publish(*, product: Product) -> Product:
    if not product.variants.filter(is_active=True).exists():
        raise ValidationError(
            "A product needs at least one active variant before it can be published.",
            fields={"status": ["Add an active variant first."]},
        )
    product.status = ProductStatus.ACTIVE
    product.published_at = product.published_at or timezone.now()
    product.save(update_fields=["status", "published_at", "updated_at"])
    return product


def product_archive(*, product: Product) -> Product:
    product.status = ProductStatus.ARCHIVED
    product.save(update_fields=["status", "updated_at"])
    return product


def variant_price_validate(*, price: Decimal, compare_at_price: Decimal | None = None) -> None:
    errors: dict[str, list[str]] = {}
    if price < 0:
        errors["price"] = ["The price cannot be negative."]
    if compare_at_price is not None and compare_at_price < price:
        errors["compare_at_price"] = ["The compare-at price must be at least the price."]
    if errors:
        raise ValidationError("The price is invalid.", fields=errors)


@transaction.atomic
def sale_price_schedule(
    *,
    variant: ProductVariant,
    sale_price: Decimal,
    starts_at: datetime,
    ends_at: datetime | None = None,
) -> VariantSalePrice:
    """Schedule a sale price. Windows of one variant may not overlap, and a sale price must be
    below the regular price (otherwise it is not a sale)."""
    errors: dict[str, list[str]] = {}
    if sale_price < 0 or sale_price >= variant.price:
        errors["sale_price"] = [
            f"The sale price must be between 0 and the price ({variant.price})."
        ]
    if ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = ["The sale must end after it starts."]
    if errors:
        raise ValidationError("The sale price is invalid.", fields=errors)
    ProductVariant.objects.select_for_update().filter(pk=variant.pk).first()
    overlapping = VariantSalePrice.objects.filter(variant=variant)
    if ends_at is not None:
        overlapping = overlapping.filter(starts_at__lt=ends_at)
    overlapping = overlapping.exclude(ends_at__isnull=False, ends_at__lte=starts_at)
    if overlapping.exists():
        raise ValidationError(
            "This sale overlaps another scheduled sale of the same variant.",
            fields={"starts_at": ["Choose a window that does not overlap an existing sale."]},
        )
    return VariantSalePrice.objects.create(
        variant=variant, sale_price=sale_price, starts_at=starts_at, ends_at=ends_at
    )


def image_validate(*, upload: UploadedFile) -> Image.Image:
    """Refuse anything that is not a reasonably sized image of an allowed format."""
    if upload.size is not None and upload.size > MAX_IMAGE_BYTES:
        raise ValidationError(
            "The image is too large.",
            fields={"image": [f"Images may be at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB."]},
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
            fields={"image": ["Upload a JPEG, PNG, WebP or GIF image."]},
        ) from exc
    if image.format not in ALLOWED_IMAGE_FORMATS:
        raise ValidationError(
            "This image format is not supported.",
            fields={"image": ["Upload a JPEG, PNG, WebP or GIF image."]},
        )
    width, height = image.size
    if width < 100 or height < 100 or width * height > MAX_IMAGE_PIXELS:
        raise ValidationError(
            "The image dimensions are not accepted.",
            fields={"image": ["Images must be at least 100×100 pixels and at most 40 megapixels."]},
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
        position = product.images.count()
    record = ProductImage(
        product=product, variant=variant, alt_text=alt_text or product.name, position=position
    )
    record.image.save(upload.name or "image", upload, save=False)
    stem = (upload.name or "image").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    record.thumbnail.save(f"{stem}-thumb.jpg", ContentFile(_thumbnail_bytes(image)), save=False)
    record.save()
    return record


@transaction.atomic
def product_rating_refresh(*, product: Product) -> Product:
    stats = Review.objects.filter(product=product, is_published=True).aggregate(
        avg=Avg("rating"), count=Count("id")
    )
    product.rating_avg = Decimal(stats["avg"] or 0).quantize(Decimal("0.01"))
    product.rating_count = stats["count"]
    product.save(update_fields=["rating_avg", "rating_count", "updated_at"])
    return product


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


@transaction.atomic
def product_create(
    *,
    seller: Seller,
    name: str,
    category: Category,
    product_type: ProductType | None = None,
    brand: str = "",
    description: str = "",
) -> Product:
    """A new product always starts as a draft; `product_publish` makes it public."""
    name = _product_fields_check(name=name)
    return Product.objects.create(
        seller=seller,
        name=name,
        slug=_product_slug(name),
        category=category,
        product_type=product_type,
        brand=brand.strip(),
        description=description,
        status=ProductStatus.DRAFT,
    )


@transaction.atomic
def product_update(
    *,
    product: Product,
    name: str,
    category: Category,
    product_type: ProductType | None = None,
    brand: str = "",
    description: str = "",
) -> Product:
    product.name = _product_fields_check(name=name)
    product.category = category
    product.product_type = product_type
    product.brand = brand.strip()
    product.description = description
    product.save(
        update_fields=["name", "category", "product_type", "brand", "description", "updated_at"]
    )
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
) -> ProductVariant:
    variant_price_validate(price=price, compare_at_price=compare_at_price)
    return ProductVariant.objects.create(
        product=product,
        sku=_sku_check(sku=sku),
        name=name.strip(),
        price=price,
        compare_at_price=compare_at_price,
        is_active=is_active,
        position=product.variants.count(),
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
) -> ProductVariant:
    variant_price_validate(price=price, compare_at_price=compare_at_price)
    variant.sku = _sku_check(sku=sku, exclude_pk=variant.pk)
    variant.name = name.strip()
    variant.price = price
    variant.compare_at_price = compare_at_price
    variant.is_active = is_active
    variant.save(
        update_fields=["sku", "name", "price", "compare_at_price", "is_active", "updated_at"]
    )
    return variant


def product_image_delete(*, image: ProductImage) -> None:
    """Removes the row, then its files once the deletion has committed."""
    files = [f for f in (image.image, image.thumbnail) if f]
    storage_names = [(f.storage, f.name) for f in files]
    image.delete()

    def _delete_files() -> None:
        for storage, name in storage_names:
            storage.delete(name)

    transaction.on_commit(_delete_files)
