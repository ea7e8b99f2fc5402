"""Deterministic demo data for the marketplace (`manage.py seed_demo`).

The small, structural part (users, sellers, attributes, product types, the category tree) goes
through the services and the ORM. Products and everything hanging off them are written with
PostgreSQL COPY in batches, with primary keys reserved from the tables' sequences up front, so a
million products take minutes and no query runs per row. Images come from a small generated pool
saved once through `default_storage`; product image rows point at the pool's files.
"""

from __future__ import annotations

import importlib
import inspect
import io
import itertools
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from itertools import product as cartesian
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import OutputWrapper
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFont

from accounts.models import User
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
    VariantAttributeValue,
    VariantSalePrice,
)
from catalog.services import THUMBNAIL_SIZE, category_create
from inventory.demo import demo_stock_delete
from reviews.models import Review
from reviews.services import product_rating_recount
from search.services import search_index_mark_dirty_batched
from sellers.models import MemberRole, Seller, SellerMember, SellerStatus

DEMO_PASSWORD = "marketplace-demo"  # noqa: S105 (public demo accounts, documented)

# (who, email, password): printed by `runall` and the README so people can sign in.
DEMO_LOGINS: tuple[tuple[str, str, str], ...] = (
    ("staff (Django admin)", "admin@example.com", DEMO_PASSWORD),
    ("customer", "customer@example.com", DEMO_PASSWORD),
    ("seller (owner of Northwind Outfitters)", "seller@example.com", DEMO_PASSWORD),
)

REVIEWER_COUNT = 12
REVIEWED_PRODUCTS_MAX = 200
IMAGES_PER_TYPE = 2
IMAGE_SIZE = (640, 640)
BATCH_SIZE = 5_000

# --- static catalogue description ---------------------------------------------------------------

SELLERS: tuple[dict, ...] = (
    {
        "name": "Northwind Outfitters",
        "country": "GB",
        "description": "Everyday clothing and footwear, cut and stitched to last.",
        "status": SellerStatus.APPROVED,
    },
    {
        "name": "Brightline Electronics",
        "country": "DE",
        "description": "Laptops, phones and audio from the brands people trust.",
        "status": SellerStatus.APPROVED,
    },
    {
        "name": "Oak & Ember Home",
        "country": "NL",
        "description": "Furniture, lighting and kitchenware for calm homes.",
        "status": SellerStatus.APPROVED,
    },
    {
        "name": "Summit Gear Co.",
        "country": "US",
        "description": "Camping, cycling and fitness gear tested outdoors.",
        "status": SellerStatus.APPROVED,
    },
    {
        "name": "Paper Lantern Books",
        "country": "IE",
        "description": "New books, hand-picked by readers.",
        "status": SellerStatus.APPROVED,
    },
    {
        "name": "Pixel Parade Toys",
        "country": "FR",
        "description": "Building sets, puzzles and board games for every age.",
        "status": SellerStatus.APPROVED,
    },
    {
        "name": "Harbor Street Ceramics",
        "country": "PT",
        "description": "Hand-thrown stoneware. Application under review.",
        "status": SellerStatus.PENDING,
    },
    {
        "name": "Quickdeal Imports",
        "country": "US",
        "description": "Bargain electronics and accessories.",
        "status": SellerStatus.SUSPENDED,
        "status_reason": "Repeated late shipments (demo data: its products are hidden).",
    },
)

# slug: (name, type, unit, choices)
ATTRIBUTES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "colour": (
        "Colour",
        AttributeType.CHOICE,
        "",
        ("Black", "White", "Grey", "Navy", "Red", "Green", "Blue", "Silver"),
    ),
    "size": ("Size", AttributeType.CHOICE, "", ("XS", "S", "M", "L", "XL")),
    "shoe-size": (
        "Shoe size",
        AttributeType.CHOICE,
        "",
        ("38", "39", "40", "41", "42", "43", "44"),
    ),
    "storage": ("Storage", AttributeType.CHOICE, "", ("128 GB", "256 GB", "512 GB", "1 TB")),
    "screen-size": ("Screen size", AttributeType.NUMBER, "in", ()),
    "capacity": ("Capacity", AttributeType.NUMBER, "L", ()),
    "waterproof": ("Waterproof", AttributeType.BOOLEAN, "", ()),
    "material": ("Material", AttributeType.TEXT, "", ()),
}


@dataclass(frozen=True)
class TypeSpec:
    """How to make products of one product type look real."""

    name: str
    nouns: tuple[str, ...]
    brands: tuple[str, ...]
    price_range: tuple[int, int]
    weight_range: tuple[int, int]
    axes: tuple[str, ...] = ()  # choice attributes the variants differ in
    numbers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    materials: tuple[str, ...] = ()
    waterproof: bool = False

    @property
    def attribute_slugs(self) -> tuple[str, ...]:
        slugs = list(self.axes) + list(self.numbers)
        if self.materials:
            slugs.append("material")
        if self.waterproof:
            slugs.append("waterproof")
        return tuple(slugs)


ADJECTIVES = (
    "Classic",
    "Essential",
    "Everyday",
    "Premium",
    "Lightweight",
    "Compact",
    "Heritage",
    "Urban",
    "Pro",
    "Studio",
    "Trail",
    "Signature",
)

TYPES: dict[str, TypeSpec] = {
    spec.name: spec
    for spec in (
        TypeSpec(
            "T-shirt",
            ("Crew Neck Tee", "V-Neck Tee", "Pocket Tee", "Long Sleeve Tee", "Polo Shirt"),
            ("Northwind", "Loom & Line", "Fieldcraft"),
            (12, 45),
            (150, 250),
            axes=("colour", "size"),
            materials=("Organic cotton", "Cotton", "Linen blend", "Merino wool"),
        ),
        TypeSpec(
            "Jacket",
            ("Rain Jacket", "Puffer Jacket", "Denim Jacket", "Field Coat", "Softshell"),
            ("Northwind", "Stormline", "Fieldcraft"),
            (60, 260),
            (500, 1400),
            axes=("colour", "size"),
            materials=("Recycled polyester", "Cotton canvas", "Wool blend", "Nylon"),
            waterproof=True,
        ),
        TypeSpec(
            "Shoes",
            ("Runner", "Trail Shoe", "Leather Sneaker", "Chelsea Boot", "Canvas Low"),
            ("Stride", "Northwind", "Peakstep"),
            (45, 190),
            (600, 1200),
            axes=("colour", "shoe-size"),
            waterproof=True,
        ),
        TypeSpec(
            "Laptop",
            ("Laptop", "Ultrabook", "Notebook", "Creator Laptop"),
            ("Lumen", "Vertex", "Aeris"),
            (600, 2400),
            (1100, 2400),
            axes=("storage",),
            numbers={"screen-size": ("13.3", "14", "15.6", "16")},
        ),
        TypeSpec(
            "Phone",
            ("Smartphone", "Phone", "Tablet", "Mini Phone"),
            ("Lumen", "Orbit", "Nova"),
            (200, 1300),
            (150, 600),
            axes=("storage", "colour"),
            numbers={"screen-size": ("6.1", "6.4", "6.7", "11")},
            waterproof=True,
        ),
        TypeSpec(
            "Audio",
            ("Wireless Headphones", "Earbuds", "Bluetooth Speaker", "Soundbar"),
            ("Sonance", "Orbit", "Echoline"),
            (30, 420),
            (60, 2500),
            axes=("colour",),
            waterproof=True,
        ),
        TypeSpec(
            "Display",
            ("4K Television", "OLED TV", "Monitor", "Gaming Monitor"),
            ("Vertex", "Lumen", "Clarity"),
            (180, 2600),
            (4000, 25000),
            numbers={"screen-size": ("24", "27", "43", "55", "65")},
        ),
        TypeSpec(
            "Accessory",
            ("Charger", "Phone Case", "Controller", "Bike Helmet", "Cable Kit", "Game Console"),
            ("Orbit", "Peakstep", "Nova"),
            (9, 480),
            (50, 3000),
            axes=("colour",),
            materials=("Silicone", "Aluminium", "Recycled plastic"),
        ),
        TypeSpec(
            "Cookware",
            ("Frying Pan", "Saucepan", "Dutch Oven", "Chef's Knife", "Stand Mixer", "Kettle"),
            ("Oak & Ember", "Hearthware", "Copperleaf"),
            (18, 380),
            (300, 6000),
            numbers={"capacity": ("1.5", "2", "3", "5")},
            materials=("Cast iron", "Stainless steel", "Carbon steel", "Enamelled steel"),
        ),
        TypeSpec(
            "Furniture",
            ("Sofa", "Armchair", "Dining Table", "Desk", "Bookcase", "Side Table", "Chair"),
            ("Oak & Ember", "Nordhus", "Willow Row"),
            (90, 1600),
            (5000, 60000),
            axes=("colour",),
            materials=("Solid oak", "Walnut veneer", "Linen", "Velvet", "Steel"),
        ),
        TypeSpec(
            "Lamp",
            ("Desk Lamp", "Floor Lamp", "Pendant Light", "Bike Light"),
            ("Lumière", "Oak & Ember", "Glowworks"),
            (18, 240),
            (200, 4000),
            axes=("colour",),
            materials=("Brass", "Ceramic", "Aluminium", "Rattan"),
        ),
        TypeSpec(
            "Outdoor",
            ("Tent", "Backpack", "Sleeping Bag", "Daypack", "Dry Bag"),
            ("Summit", "Ridgeback", "Stormline"),
            (35, 520),
            (400, 4500),
            axes=("colour",),
            numbers={"capacity": ("20", "28", "35", "45", "60")},
            materials=("Ripstop nylon", "Recycled polyester", "Canvas"),
            waterproof=True,
        ),
        TypeSpec(
            "Fitness",
            ("Yoga Mat", "Kettlebell", "Dumbbell Set", "Resistance Bands", "Foam Roller"),
            ("Summit", "Corefit", "Flowform"),
            (15, 160),
            (300, 16000),
            axes=("colour",),
            materials=("Natural rubber", "Cast iron", "TPE", "Cork"),
        ),
        TypeSpec(
            "Book",
            ("Novel", "Cookbook", "Field Guide", "Picture Book", "Biography", "Atlas"),
            ("Paper Lantern Press", "Riverbend", "Northlight"),
            (8, 45),
            (200, 1200),
        ),
        TypeSpec(
            "Toy",
            ("Building Set", "Board Game", "Jigsaw Puzzle", "Card Game", "Marble Run"),
            ("Pixel Parade", "Brickworks", "Tumble & Co"),
            (10, 120),
            (150, 2500),
            materials=("Wood", "Recycled plastic", "Cardboard"),
        ),
    )
}

# top-level name -> {mid-level name -> [(leaf name, product type)]}
CATEGORY_TREE: dict[str, dict[str, list[tuple[str, str]]]] = {
    "Electronics": {
        "Computers": [("Laptops", "Laptop"), ("Tablets", "Phone"), ("Monitors", "Display")],
        "Phones": [("Smartphones", "Phone"), ("Phone Accessories", "Accessory")],
        "Audio & TV": [("Headphones", "Audio"), ("Speakers", "Audio"), ("Televisions", "Display")],
        "Gaming": [("Consoles", "Accessory"), ("Controllers", "Accessory")],
    },
    "Fashion": {
        "Women": [
            ("Women's Tops", "T-shirt"),
            ("Women's Coats", "Jacket"),
            ("Women's Shoes", "Shoes"),
        ],
        "Men": [
            ("Men's T-shirts", "T-shirt"),
            ("Men's Jackets", "Jacket"),
            ("Men's Shoes", "Shoes"),
        ],
        "Kids": [("Kids' Clothing", "T-shirt"), ("Kids' Shoes", "Shoes")],
    },
    "Home & Kitchen": {
        "Kitchen": [("Cookware", "Cookware"), ("Knives", "Cookware"), ("Appliances", "Cookware")],
        "Furniture": [("Sofas", "Furniture"), ("Tables", "Furniture"), ("Chairs", "Furniture")],
        "Lighting": [("Desk Lamps", "Lamp"), ("Ceiling Lights", "Lamp")],
    },
    "Sports & Outdoors": {
        "Camping": [("Tents", "Outdoor"), ("Backpacks", "Outdoor"), ("Sleeping Bags", "Outdoor")],
        "Fitness": [("Yoga", "Fitness"), ("Weights", "Fitness")],
        "Cycling": [("Helmets", "Accessory"), ("Bike Lights", "Lamp")],
    },
    "Books & Toys": {
        "Books": [("Fiction", "Book"), ("Non-fiction", "Book"), ("Children's Books", "Book")],
        "Toys": [("Building Sets", "Toy"), ("Board Games", "Toy"), ("Puzzles", "Toy")],
    },
}
FEATURED_CATEGORIES = {"Electronics", "Fashion", "Laptops", "Sofas", "Tents", "Board Games"}

# Which approved sellers list in which top-level category (by index into SELLERS).
SELLERS_BY_TOP = {
    "Electronics": (1, 1, 3),
    "Fashion": (0, 0, 3),
    "Home & Kitchen": (2, 2, 0),
    "Sports & Outdoors": (3, 3, 0),
    "Books & Toys": (4, 5, 5),
}
PENDING_SELLER, SUSPENDED_SELLER = 6, 7

REVIEW_TEXTS = (
    (5, "Exactly as described", "Arrived quickly and the quality is excellent."),
    (5, "Love it", "Better than I expected for the price. Would buy again."),
    (4, "Very good", "Does the job well; the packaging could use less plastic."),
    (4, "Solid choice", "Good value. Took a day longer to arrive than promised."),
    (3, "It's fine", "Works, but the colour is a little different from the photos."),
    (2, "Not for me", "Smaller than I thought. Returned it without any trouble."),
)

# --- progress -----------------------------------------------------------------------------------


# Where progress goes: a stream, or a management command's stdout.
Output = TextIO | OutputWrapper


class ProgressBar:
    """`[#####     ]  52%  120k/s  520,000/1,000,000 products` redrawn on one line."""

    def __init__(self, *, out: Output, total: int, label: str, width: int = 30) -> None:
        self.out, self.total, self.label, self.width = out, max(total, 1), label, width
        self.started = time.monotonic()

    def __call__(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = max(total, 1)
        fraction = min(done / self.total, 1.0)
        filled = int(self.width * fraction)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        speed = f"{rate / 1000:.1f}k/s" if rate >= 1000 else f"{rate:.0f}/s"
        self._write(
            f"\r[{'#' * filled}{' ' * (self.width - filled)}] {fraction:4.0%}  {speed:>9}  "
            f"{done:,}/{self.total:,} {self.label}"
        )

    def finish(self) -> float:
        self._write("\n")
        return time.monotonic() - self.started

    def _write(self, text: str) -> None:
        if isinstance(self.out, OutputWrapper):
            self.out.write(text, ending="")  # a management command's stdout adds newlines
        else:
            self.out.write(text)
        self.out.flush()


# --- results ------------------------------------------------------------------------------------


@dataclass
class SeedResult:
    products: int = 0
    variants: int = 0
    attribute_values: int = 0
    sale_prices: int = 0
    images: int = 0
    reviews: int = 0
    seconds: float = 0.0
    sellers: list[Seller] = field(default_factory=list)


@dataclass
class _Context:
    """Everything the product generator needs, loaded once before the batches."""

    sellers: list[Seller]
    leaves: list[tuple[Category, ProductType, TypeSpec, tuple[int, ...]]]
    attributes: dict[str, Attribute]
    choice_ids: dict[tuple[str, str], int]
    pool: dict[str, list[tuple[str, str]]]  # type name -> [(image name, thumbnail name)]


# --- structural data ----------------------------------------------------------------------------


def _user_ensure(*, email: str, password_hash: str, **extra: object) -> User:
    user, _ = User.objects.get_or_create(email=email, defaults={"password": password_hash, **extra})
    return user


def _users_ensure(*, password_hash: str) -> tuple[User, User, User, list[User]]:
    staff = _user_ensure(
        email="admin@example.com",
        password_hash=password_hash,
        full_name="Ada Admin",
        is_staff=True,
        is_superuser=True,
    )
    customer = _user_ensure(
        email="customer@example.com", password_hash=password_hash, full_name="Casey Customer"
    )
    seller_user = _user_ensure(
        email="seller@example.com", password_hash=password_hash, full_name="Sam Seller"
    )
    first_names = ("Alex", "Blake", "Charlie", "Dana", "Eli", "Frankie", "Gray", "Harper")
    reviewers = [
        _user_ensure(
            email=f"reviewer{i + 1}@example.com",
            password_hash=password_hash,
            full_name=f"{first_names[i % len(first_names)]} Reviewer{i + 1}",
        )
        for i in range(REVIEWER_COUNT)
    ]
    return staff, customer, seller_user, [customer, *reviewers]


def _sellers_ensure(*, owner: User) -> list[Seller]:
    now = timezone.now()
    sellers = []
    for spec in SELLERS:
        slug = slugify(spec["name"])
        seller, _ = Seller.objects.get_or_create(
            slug=slug,
            defaults={
                "name": spec["name"],
                "description": spec["description"],
                "status": spec["status"],
                "status_reason": spec.get("status_reason", ""),
                "country": spec["country"],
                "support_email": f"support@{slug}.example.com",
                "approved_at": now if spec["status"] != SellerStatus.PENDING else None,
            },
        )
        sellers.append(seller)
    SellerMember.objects.get_or_create(
        seller=sellers[0], user=owner, defaults={"role": MemberRole.OWNER}
    )
    return sellers


def _attributes_ensure() -> tuple[dict[str, Attribute], dict[tuple[str, str], int]]:
    attributes: dict[str, Attribute] = {}
    choice_ids: dict[tuple[str, str], int] = {}
    for slug, (name, type_, unit, choices) in ATTRIBUTES.items():
        attribute, _ = Attribute.objects.get_or_create(
            slug=slug, defaults={"name": name, "type": type_, "unit": unit}
        )
        attributes[slug] = attribute
        for position, value in enumerate(choices):
            choice, _ = AttributeChoice.objects.get_or_create(
                attribute=attribute,
                slug=slugify(value),
                defaults={"value": value, "position": position},
            )
            choice_ids[(slug, value)] = choice.pk
    return attributes, choice_ids


def _product_types_ensure(*, attributes: dict[str, Attribute]) -> dict[str, ProductType]:
    types = {}
    for spec in TYPES.values():
        product_type, _ = ProductType.objects.get_or_create(name=spec.name)
        product_type.attributes.set([attributes[s] for s in spec.attribute_slugs])
        types[spec.name] = product_type
    return types


def _category_ensure(
    *, name: str, parent: Category | None, position: int, description: str
) -> Category:
    existing = Category.objects.filter(slug=slugify(name)).first()
    if existing is not None:
        return existing
    return category_create(
        name=name,
        parent=parent,
        position=position,
        description=description,
        is_featured=name in FEATURED_CATEGORIES,
    )


def _categories_ensure(
    *, types: dict[str, ProductType], attributes: dict[str, Attribute]
) -> list[tuple[Category, ProductType, TypeSpec, tuple[int, ...]]]:
    """The three-level tree through `category_create` (so paths are right); returns the leaves
    with their product type and the sellers that list there."""
    leaves: list[tuple[Category, ProductType, TypeSpec, tuple[int, ...]]] = []
    for top_position, (top_name, mids) in enumerate(CATEGORY_TREE.items()):
        top = _category_ensure(
            name=top_name,
            parent=None,
            position=top_position,
            description=f"Shop {top_name.lower()} from independent sellers.",
        )
        for mid_position, (mid_name, leaf_specs) in enumerate(mids.items()):
            mid = _category_ensure(
                name=mid_name,
                parent=top,
                position=mid_position,
                description=f"{mid_name} in {top_name}.",
            )
            for leaf_position, (leaf_name, type_name) in enumerate(leaf_specs):
                leaf = _category_ensure(
                    name=leaf_name,
                    parent=mid,
                    position=leaf_position,
                    description=f"{leaf_name}: compare prices and sellers.",
                )
                spec = TYPES[type_name]
                leaf.attributes.set([attributes[s] for s in spec.attribute_slugs])
                leaves.append((leaf, types[type_name], spec, SELLERS_BY_TOP[top_name]))
    return leaves


# --- generated images ---------------------------------------------------------------------------

PALETTES = (
    ((37, 99, 235), (14, 165, 233)),
    ((219, 39, 119), (249, 115, 22)),
    ((5, 150, 105), (132, 204, 22)),
    ((124, 58, 237), (236, 72, 153)),
    ((15, 23, 42), (71, 85, 105)),
    ((180, 83, 9), (250, 204, 21)),
)


def _initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def demo_image_render(
    *, text: str, palette_index: int, size: tuple[int, int] = IMAGE_SIZE
) -> Image.Image:
    """A diagonal gradient with a soft circle and the initials in the middle."""
    start, end = PALETTES[palette_index % len(PALETTES)]
    width, height = size
    gradient = Image.linear_gradient("L").rotate(45, expand=True).resize(size)
    image = Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), gradient)
    draw = ImageDraw.Draw(image)
    radius = width // 3
    draw.ellipse(
        (width // 2 - radius, height // 2 - radius, width // 2 + radius, height // 2 + radius),
        fill=(255, 255, 255),
    )
    font = ImageFont.load_default(size=width // 5)
    draw.text((width // 2, height // 2), text, fill=start, font=font, anchor="mm")
    return image


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _image_pool_ensure() -> dict[str, list[tuple[str, str]]]:
    """IMAGES_PER_TYPE images per product type with their thumbnails, saved once through the
    configured storage (re-used when already there)."""
    pool: dict[str, list[tuple[str, str]]] = {}
    for type_index, spec in enumerate(TYPES.values()):
        entries = []
        for k in range(IMAGES_PER_TYPE):
            stem = f"demo/pool/{slugify(spec.name)}-{k + 1}"
            image_name, thumb_name = f"{stem}.jpg", f"{stem}-thumb.jpg"
            if not default_storage.exists(image_name):
                image = demo_image_render(
                    text=_initials(spec.name), palette_index=type_index + k * 3
                )
                image_name = default_storage.save(image_name, ContentFile(_jpeg(image)))
                image.thumbnail(THUMBNAIL_SIZE)
                thumb_name = default_storage.save(thumb_name, ContentFile(_jpeg(image)))
            entries.append((image_name, thumb_name))
        pool[spec.name] = entries
    return pool


# --- bulk writing -------------------------------------------------------------------------------


def _ids_reserve(model: type[models.Model], count: int) -> list[int]:
    """Take `count` primary keys from the table's sequence (safe alongside other writers)."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _column(field: models.Field) -> str:
    if field.column is None:
        raise RuntimeError(f"{field} has no database column.")
    return field.column


def _copy(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY rows into the model's table. Columns not given get the database default, else the
    field's default (so a new field with a default does not break seeding), else NULL."""
    extra_columns: list[str] = []
    extra_values: list[object] = []
    for f in model._meta.concrete_fields:
        if f.name in columns or f.primary_key:
            continue
        if f.has_db_default():
            continue
        if f.has_default():
            extra_columns.append(_column(f))
            extra_values.append(f.get_default())
        elif not f.null:
            raise RuntimeError(f"seed_demo does not fill {model.__name__}.{f.name}; add it.")
    column_of = {f.name: _column(f) for f in model._meta.concrete_fields}
    cols = ", ".join(
        connection.ops.quote_name(c) for c in [column_of[c] for c in columns] + extra_columns
    )
    count = 0
    tail = tuple(extra_values)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {model._meta.db_table} ({cols}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row((*row, *tail))
            count += 1
    return count


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _price(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(int(rng.uniform(low, high))) + Decimal("0.99")


@dataclass
class _Batch:
    products: list[tuple] = field(default_factory=list)
    variants: list[tuple] = field(default_factory=list)
    values: list[tuple] = field(default_factory=list)
    sales: list[tuple] = field(default_factory=list)
    images: list[tuple] = field(default_factory=list)


def _batch_build(*, ctx: _Context, rng: random.Random, product_ids: list[int], now) -> _Batch:
    batch = _Batch()
    currency = settings.SHOP_CURRENCY
    slug_cache: dict[str, str] = {}
    variant_plan: list[tuple[int, list[dict[str, Any]]]] = []
    for product_id in product_ids:
        leaf, product_type, spec, seller_choices = ctx.leaves[rng.randrange(len(ctx.leaves))]
        roll = rng.random()
        status = ProductStatus.ACTIVE
        if roll < 0.04:
            seller = ctx.sellers[SUSPENDED_SELLER]
        elif roll < 0.05:
            seller = ctx.sellers[PENDING_SELLER]
            status = ProductStatus.DRAFT
        else:
            seller = ctx.sellers[rng.choice(seller_choices)]
            status_roll = rng.random()
            if status_roll < 0.03:
                status = ProductStatus.DRAFT
            elif status_roll < 0.04:
                status = ProductStatus.ARCHIVED
        brand = rng.choice(spec.brands)
        name = f"{brand} {rng.choice(ADJECTIVES)} {rng.choice(spec.nouns)}"
        base_slug = slug_cache.get(name) or slug_cache.setdefault(name, slugify(name))
        material = rng.choice(spec.materials) if spec.materials else ""
        description = (
            f"The {name} from {seller.name}. "
            + (f"Made of {material.lower()}. " if material else "")
            + f"Ships within {seller.handling_time_days} days; "
            f"{seller.return_window_days}-day returns."
        )
        published = now - timedelta(days=rng.randrange(1, 365), minutes=rng.randrange(1440))
        batch.products.append(
            (
                product_id,
                now,
                now,
                seller.pk,
                leaf.pk,
                product_type.pk,
                name,
                f"{base_slug}-{product_id}",
                brand,
                description,
                status,
                rng.random() < 0.03,
                published if status == ProductStatus.ACTIVE else None,
                Decimal("0"),
                0,
            )
        )
        # variants: distinct combinations of the type's axis values
        fixed: dict[str, object] = {
            slug: rng.choice(values) for slug, values in spec.numbers.items()
        }
        if spec.waterproof:
            fixed["waterproof"] = rng.random() < 0.5
        if material:
            fixed["material"] = material
        axis_values = [
            rng.sample(ATTRIBUTES[a][3], min(3, len(ATTRIBUTES[a][3]))) for a in spec.axes
        ]
        combos = list(cartesian(*axis_values)) if spec.axes else [()]
        combos = combos[: rng.randint(1, 4)]
        base_price = _price(rng, *spec.price_range)
        has_compare = rng.random() < 0.25
        weight = rng.randint(*spec.weight_range)
        plans: list[dict[str, Any]] = []
        for position, combo in enumerate(combos):
            step = position if "storage" in spec.axes else 0
            price = base_price + (base_price * Decimal("0.15") * step).quantize(Decimal("1"))
            plans.append(
                {
                    "combo": dict(zip(spec.axes, combo, strict=True)),
                    "fixed": fixed,
                    "price": price,
                    "compare": _money(float(price) * rng.uniform(1.15, 1.4))
                    if has_compare
                    else None,
                    "position": position,
                    "weight": weight,
                    "name": " / ".join(combo) if combo else "Standard",
                }
            )
        variant_plan.append((product_id, plans))
        images = ctx.pool[spec.name]
        for position in range(rng.randint(1, len(images))):
            image_name, thumb_name = images[(product_id + position) % len(images)]
            batch.images.append(
                (
                    now,
                    now,
                    product_id,
                    None,
                    image_name,
                    thumb_name,
                    IMAGE_SIZE[0],
                    IMAGE_SIZE[1],
                    f"{name}, view {position + 1}",
                    position,
                )
            )

    # Variant rows carry a slot number (0, 1, ...) in place of their id; `_batch_write`
    # swaps in ids reserved from the sequence, so building needs no database.
    attrs, choice_ids = ctx.attributes, ctx.choice_ids
    slots = itertools.count()
    for product_id, plans in variant_plan:
        for plan in plans:
            variant_id = next(slots)
            price = plan["price"]
            batch.variants.append(
                (
                    variant_id,
                    now,
                    now,
                    product_id,
                    f"DM{product_id:08d}-{plan['position'] + 1}",
                    plan["name"],
                    price,
                    plan["compare"],
                    currency,
                    plan["weight"],
                    True,
                    False,
                    20,
                    plan["position"],
                )
            )
            for slug, value in plan["combo"].items():
                batch.values.append(
                    (variant_id, attrs[slug].pk, choice_ids[(slug, value)], "", None, None)
                )
            for slug, value in plan["fixed"].items():
                attribute_type = attrs[slug].type
                row: tuple[object, ...]
                if attribute_type == AttributeType.NUMBER:
                    row = (variant_id, attrs[slug].pk, None, "", Decimal(value), None)
                elif attribute_type == AttributeType.BOOLEAN:
                    row = (variant_id, attrs[slug].pk, None, "", None, value)
                else:
                    row = (variant_id, attrs[slug].pk, None, value, None, None)
                batch.values.append(row)
            sale_roll = rng.random()
            if sale_roll < 0.12:
                # a sale running now
                sale = (price * Decimal(str(rng.choice((0.7, 0.8, 0.85, 0.9))))).quantize(
                    Decimal("0.01")
                )
                starts = now - timedelta(days=rng.randint(1, 10))
                ends = now + timedelta(days=rng.randint(3, 30))
                batch.sales.append((now, now, variant_id, sale, starts, ends))
            elif sale_roll < 0.15:
                # a sale scheduled for next week: not applied yet
                sale = (price * Decimal("0.75")).quantize(Decimal("0.01"))
                starts = now + timedelta(days=7)
                batch.sales.append((now, now, variant_id, sale, starts, starts + timedelta(days=7)))
    return batch


PRODUCT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "seller",
    "category",
    "product_type",
    "name",
    "slug",
    "brand",
    "description",
    "status",
    "is_featured",
    "published_at",
    "rating_avg",
    "rating_count",
)
VARIANT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "product",
    "sku",
    "name",
    "price",
    "compare_at_price",
    "currency",
    "weight_grams",
    "is_active",
    "allow_backorder",
    "max_quantity_per_order",
    "position",
)
VALUE_COLUMNS = ("variant", "attribute", "choice", "value_text", "value_number", "value_boolean")
SALE_COLUMNS = ("created_at", "updated_at", "variant", "sale_price", "starts_at", "ends_at")
IMAGE_COLUMNS = (
    "created_at",
    "updated_at",
    "product",
    "variant",
    "image",
    "thumbnail",
    "width",
    "height",
    "alt_text",
    "position",
)


def _batch_write(batch: _Batch, result: SeedResult) -> None:
    ids = _ids_reserve(ProductVariant, len(batch.variants))
    variants = [(ids[row[0]], *row[1:]) for row in batch.variants]
    values = [(ids[row[0]], *row[1:]) for row in batch.values]
    sales = [(*row[:2], ids[row[2]], *row[3:]) for row in batch.sales]
    with transaction.atomic():
        with connection.cursor() as cursor:
            # demo data: losing the last batch in a crash is fine, waiting for fsync is not
            cursor.execute("SET LOCAL synchronous_commit = off")
        result.products += _copy(Product, PRODUCT_COLUMNS, batch.products)
        result.variants += _copy(ProductVariant, VARIANT_COLUMNS, variants)
        result.attribute_values += _copy(VariantAttributeValue, VALUE_COLUMNS, values)
        result.sale_prices += _copy(VariantSalePrice, SALE_COLUMNS, sales)
        result.images += _copy(ProductImage, IMAGE_COLUMNS, batch.images)


def _reviews_write(
    *, rng: random.Random, product_ids: list[int], reviewers: list[User], now
) -> int:
    """A few published reviews on some active products, then their ratings through the
    service that owns the rating."""
    candidates = list(
        Product.objects.filter(pk__in=product_ids, status=ProductStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)[:REVIEWED_PRODUCTS_MAX]
    )
    reviews = []
    for product_id in candidates:
        for user in rng.sample(reviewers, rng.randint(1, 4)):
            rating, title, body = rng.choice(REVIEW_TEXTS)
            reviews.append(
                Review(
                    product_id=product_id,
                    user=user,
                    rating=rating,
                    title=title,
                    body=body,
                    created_at=now,
                    updated_at=now,
                )
            )
    Review.objects.bulk_create(reviews)
    # the seed rebuilds the whole search index next: flag, queue no refresh per product
    with search_index_mark_dirty_batched(refresh=False):
        for product_id in candidates:
            product_rating_recount(product_id=product_id)
    return len(reviews)


def products_delete_all(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Delete every product (and what cascades from them) in chunks, for `seed_demo --force`."""
    total = Product.objects.count()
    deleted = 0
    while True:
        ids = list(Product.objects.order_by("pk").values_list("pk", flat=True)[:10_000])
        if not ids:
            return deleted
        with transaction.atomic():
            demo_stock_delete(product_ids=ids)
            Product.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if progress:
            progress(deleted, total)


def search_reindex_hook(*, out: Output) -> bool:
    """Ask the search app to index the new products when it offers `search_index_rebuild`."""
    try:
        services = importlib.import_module("search.services")
    except ImportError:
        return False
    rebuild = getattr(services, "search_index_rebuild", None)
    if rebuild is None:
        return False
    bar = ProgressBar(out=out, total=Product.objects.count(), label="indexed")
    if "progress" in inspect.signature(rebuild).parameters:
        rebuild(progress=bar)
    else:
        rebuild()
    bar.finish()
    return True


def _statistics_refresh() -> None:
    """ANALYZE the bulk-loaded tables: until autovacuum gets to them the planner believes they
    are nearly empty and picks nested loops over a million rows (a product list page measured
    78 s before, 16 s after, on the same loaded machine)."""
    tables = [
        m._meta.db_table
        for m in (Product, ProductVariant, VariantAttributeValue, VariantSalePrice, ProductImage)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


# Tables a seed writes in bulk (COPY, then the search refresh UPDATEs every product row).
SEEDED_TABLES = (
    "sellers_seller",
    "catalog_category",
    "catalog_product",
    "catalog_productvariant",
    "catalog_variantattributevalue",
    "catalog_variantsaleprice",
    "catalog_productimage",
    "inventory_stock",
)


def seeded_tables_vacuum(*, out: Output) -> bool:
    """VACUUM (ANALYZE) the seeded tables, one line of progress each. The search refresh leaves
    a dead version of every product row, and index-only scans (category counts and page walks)
    need the visibility map that only VACUUM sets. Autovacuum would get there eventually, but
    it may be off (this project's CI machine runs PostgreSQL without it). VACUUM cannot run in
    a transaction: inside one (tests) only ANALYZE runs. Returns whether VACUUM ran."""
    vacuum = not connection.in_atomic_block
    statement = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
    with connection.cursor() as cursor:
        for table in SEEDED_TABLES:
            started = time.monotonic()
            cursor.execute(f"{statement} {connection.ops.quote_name(table)}")
            out.write(f"  {statement} {table}: {time.monotonic() - started:.1f}s\n")
    return vacuum


# The per-category list indexes (the covering ones, `Product.Meta`). Built while the seed's
# COPY batches arrive in id order (every category at once: half-full pages after splits), then
# given a second entry per row by the search refresh's UPDATE (their INCLUDE holds a column it
# writes), they end 1.5-3x the size of the same index built on the loaded table.
CATEGORY_LIST_INDEXES = tuple(index.name for index in Product._meta.indexes if index.include)


@dataclass(frozen=True)
class Rebuilt:
    """A relation (the product table or one of its indexes) rebuilt by
    `product_table_rebuild`."""

    name: str
    bytes_before: int
    bytes_after: int
    seconds: float


def product_table_rebuild(*, out: Output) -> list[Rebuilt]:
    """Rebuild the product table and its indexes after a bulk load, one line of progress each
    with the size before and after (the table's, then the per-category list indexes').
    The popularity refresh and the search refresh each UPDATE every product row, which leaves
    the table about twice its packed size (1,305 MB against 682 MB at 1M): the facet
    statement's page sample and every heap fetch then read twice the pages for the same rows.
    `VACUUM FULL` rewrites the table packed and rebuilds all its indexes. Inside a
    transaction (tests), where VACUUM cannot run, `REINDEX TABLE` rebuilds the indexes only.
    The seed owns the database: both lock the table while they run."""
    table = Product._meta.db_table
    names = [table, *CATEGORY_LIST_INDEXES]
    pack = not connection.in_atomic_block
    statement = "VACUUM (FULL)" if pack else "REINDEX TABLE"
    with connection.cursor() as cursor:
        sizes = "SELECT pg_relation_size(name::regclass) FROM unnest(%s::text[]) AS name"
        cursor.execute(sizes, [names])
        before = [row[0] for row in cursor.fetchall()]
        started = time.monotonic()
        cursor.execute(f"{statement} {connection.ops.quote_name(table)}")
        seconds = time.monotonic() - started
        cursor.execute(sizes, [names])
        after = [row[0] for row in cursor.fetchall()]
    out.write(f"  {statement} {table}: {seconds:.1f}s\n")
    rebuilt = []
    for name, size_before, size_after in zip(names, before, after, strict=True):
        rebuilt.append(Rebuilt(name, size_before, size_after, seconds))
        out.write(f"    {name}: {_megabytes(size_before)} -> {_megabytes(size_after)}\n")
    return rebuilt


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


def _ids_batches(*, products: int, batch_size: int) -> Iterator[list[int]]:
    remaining = products
    while remaining > 0:
        ids = _ids_reserve(Product, min(batch_size, remaining))
        remaining -= len(ids)
        yield ids


def demo_seed(
    *,
    products: int,
    seed: int = 42,
    out: Output,
    batch_size: int = BATCH_SIZE,
) -> SeedResult:
    """Create the demo marketplace and `products` products (appending to what exists)."""
    started = time.monotonic()
    rng = random.Random(seed)
    now = timezone.now()
    with transaction.atomic():
        password = make_password(DEMO_PASSWORD)
        _staff, _customer, seller_user, reviewers = _users_ensure(password_hash=password)
        sellers = _sellers_ensure(owner=seller_user)
        attributes, choice_ids = _attributes_ensure()
        types = _product_types_ensure(attributes=attributes)
        leaves = _categories_ensure(types=types, attributes=attributes)
    pool = _image_pool_ensure()
    ctx = _Context(
        sellers=sellers,
        leaves=leaves,
        attributes=attributes,
        choice_ids=choice_ids,
        pool=pool,
    )
    result = SeedResult(sellers=sellers)
    bar = ProgressBar(out=out, total=products, label="products")
    batch_ids = _ids_batches(products=products, batch_size=batch_size)
    first_ids = next(batch_ids, [])
    # One thread builds the next batch (pure Python, one seeded generator, so the data stays
    # deterministic) while this one waits on PostgreSQL for the current batch's COPY.
    with ThreadPoolExecutor(max_workers=1) as builder:
        pending: Future[_Batch] | None = builder.submit(
            _batch_build, ctx=ctx, rng=rng, product_ids=first_ids, now=now
        )
        while pending is not None:
            batch = pending.result()
            next_ids = next(batch_ids, None)
            pending = (
                builder.submit(_batch_build, ctx=ctx, rng=rng, product_ids=next_ids, now=now)
                if next_ids
                else None
            )
            _batch_write(batch, result)
            bar(result.products)
    if products:
        bar.finish()
    with transaction.atomic():
        result.reviews = _reviews_write(
            rng=rng, product_ids=first_ids, reviewers=reviewers, now=now
        )
    _statistics_refresh()
    result.seconds = time.monotonic() - started
    return result
