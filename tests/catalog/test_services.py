"""Catalog writes used by the seller portal (and the admin/API): typed attribute values, sale
price scheduling rules, image validation and ordering."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from catalog.models import AttributeType, ProductImage, VariantAttributeValue, VariantSalePrice
from catalog.selectors import SalePriceState, sale_price_state, variant_price_current
from catalog.services import (
    image_validate,
    product_image_add,
    product_image_update,
    product_images_reorder,
    sale_price_delete,
    sale_price_schedule,
    sale_price_update,
    variant_attributes_set,
    variant_update,
)
from shop.core.errors import ValidationError
from tests.factories import (
    AttributeChoiceFactory,
    AttributeFactory,
    ProductFactory,
    ProductVariantFactory,
    product_type_with_each_attribute_type,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def laptop_variant():
    """A variant of a product whose type carries one attribute of each type."""
    laptop = product_type_with_each_attribute_type(
        name="Laptop",
        choice="Colour",
        options=("Silver", "Black"),
        number="Screen",
        unit="in",
        boolean="Touch",
        text="Material",
    )
    return ProductVariantFactory(product=ProductFactory(product_type=laptop))


VALID = {"colour": "silver", "screen": "14.5", "touch": "false", "material": "Aluminium"}


def _values(variant) -> dict[str, str]:
    return {
        row.attribute.slug: row.display_value
        for row in VariantAttributeValue.objects.filter(variant=variant).select_related(
            "attribute", "choice"
        )
    }


def test_attribute_values_are_stored_in_the_column_of_their_type(laptop_variant):
    variant_attributes_set(variant=laptop_variant, values=VALID)
    assert _values(laptop_variant) == {
        "colour": "Silver",
        "screen": "14.5",
        "touch": "No",
        "material": "Aluminium",
    }
    touch = VariantAttributeValue.objects.get(variant=laptop_variant, attribute__slug="touch")
    assert touch.value_boolean is False and touch.value_text == "" and touch.choice_id is None

    variant_attributes_set(variant=laptop_variant, values={**VALID, "screen": Decimal("16")})
    assert _values(laptop_variant)["screen"] == "16"
    assert VariantAttributeValue.objects.filter(variant=laptop_variant).count() == 4


@pytest.mark.parametrize(
    ("slug", "raw", "message"),
    [
        ("colour", "purple", "Choose one of the Colour options: Black, Silver."),
        ("screen", "fourteen", "Enter a number, like 14 or 2.5."),
        ("screen", "1.23456", "Use at most 4 decimal places."),
        ("screen", "NaN", "Enter a number, like 14 or 2.5."),
        ("touch", "maybe", "Choose yes or no."),
        ("material", "x" * 256, "Use at most 255 characters."),
        ("material", "  ", "Enter the material: every variant needs one."),
        ("colour", None, "Enter the colour: every variant needs one."),
    ],
)
def test_each_type_refuses_what_does_not_fit_and_saves_nothing(laptop_variant, slug, raw, message):
    with pytest.raises(ValidationError) as caught:
        variant_attributes_set(variant=laptop_variant, values={**VALID, slug: raw})
    assert caught.value.fields == {slug: [message]}
    assert not VariantAttributeValue.objects.filter(variant=laptop_variant).exists()


def test_a_choice_of_another_attribute_is_refused(laptop_variant):
    foreign = AttributeChoiceFactory(value="Silver", slug="silver-other")
    with pytest.raises(ValidationError) as caught:
        variant_attributes_set(variant=laptop_variant, values={**VALID, "colour": foreign.pk})
    assert "colour" in caught.value.fields


def test_unknown_attributes_are_refused_and_other_types_values_removed(laptop_variant):
    size = AttributeFactory(slug="size", type=AttributeType.TEXT)
    with pytest.raises(ValidationError, match="size: not an attribute"):
        variant_attributes_set(variant=laptop_variant, values={**VALID, "size": "L"})
    VariantAttributeValue.objects.create(variant=laptop_variant, attribute=size, value_text="L")
    variant_attributes_set(variant=laptop_variant, values=VALID)
    assert "size" not in _values(laptop_variant)


def test_a_product_without_type_carries_no_attributes():
    variant = ProductVariantFactory()
    with pytest.raises(ValidationError, match="Choose a product type"):
        variant_attributes_set(variant=variant, values={"colour": "red"})
    assert variant_attributes_set(variant=variant, values={}) == []


# --- sale prices --------------------------------------------------------------------------------


@pytest.fixture
def variant():
    return ProductVariantFactory(price=Decimal("50.00"))


def _schedule(variant, price="40.00", start_days=1, days=7):
    start = timezone.now() + timedelta(days=start_days)
    return sale_price_schedule(
        variant=variant,
        sale_price=Decimal(price),
        starts_at=start,
        ends_at=None if days is None else start + timedelta(days=days),
    )


@pytest.mark.parametrize(
    ("price", "start_days", "days", "field"),
    [
        ("0.00", 1, 7, "sale_price"),
        ("50.00", 1, 7, "sale_price"),
        ("55.00", 1, 7, "sale_price"),
        ("40.00", 1, 0, "ends_at"),
        ("40.00", 1, -1, "ends_at"),
        ("40.00", -10, 5, "ends_at"),
    ],
)
def test_sale_price_rules(variant, price, start_days, days, field):
    with pytest.raises(ValidationError) as caught:
        _schedule(variant, price=price, start_days=start_days, days=days)
    assert list(caught.value.fields) == [field]
    assert not VariantSalePrice.objects.exists()


def test_sale_windows_of_one_variant_may_not_overlap(variant):
    first = _schedule(variant, start_days=1, days=7)
    with pytest.raises(ValidationError, match="overlaps"):
        _schedule(variant, start_days=5, days=7)
    with pytest.raises(ValidationError, match="overlaps"):
        _schedule(variant, start_days=-1, days=None)
    _schedule(variant, start_days=8, days=2)  # touching the end is fine
    _schedule(ProductVariantFactory(price=Decimal("50")), start_days=1, days=7)  # other variant
    later = VariantSalePrice.objects.get(variant=variant, starts_at__gt=first.starts_at)
    with pytest.raises(ValidationError, match="overlaps"):
        sale_price_update(
            sale=later,
            sale_price=Decimal("30"),
            starts_at=first.starts_at,
            ends_at=later.ends_at,
        )
    moved = sale_price_update(
        sale=first, sale_price=Decimal("35"), starts_at=first.starts_at, ends_at=first.ends_at
    )
    assert moved.sale_price == Decimal("35")


def test_sale_states_follow_the_clock_and_the_live_one_sets_the_price(variant):
    now = timezone.now()
    running = sale_price_schedule(
        variant=variant,
        sale_price=Decimal("45"),
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
    )
    upcoming = _schedule(variant, start_days=3)
    assert sale_price_state(sale=running) == SalePriceState.ACTIVE
    assert sale_price_state(sale=upcoming) == SalePriceState.SCHEDULED
    assert sale_price_state(sale=running, at=now + timedelta(days=2)) == SalePriceState.ENDED
    assert variant_price_current(variant=variant) == Decimal("45")
    sale_price_delete(sale=running)
    assert variant_price_current(variant=variant) == Decimal("50.00")


def test_an_ended_sale_cannot_be_edited(variant):
    now = timezone.now()
    ended = VariantSalePrice.objects.create(
        variant=variant,
        sale_price=Decimal("40"),
        starts_at=now - timedelta(days=5),
        ends_at=now - timedelta(days=1),
    )
    with pytest.raises(ValidationError, match="has ended"):
        sale_price_update(
            sale=ended, sale_price=Decimal("41"), starts_at=now, ends_at=now + timedelta(days=1)
        )


def test_lowering_the_price_to_a_scheduled_sale_is_refused(variant):
    _schedule(variant, price="40.00")
    with pytest.raises(ValidationError) as caught:
        variant_update(variant=variant, sku=variant.sku, price=Decimal("40.00"))
    assert "price" in caught.value.fields
    variant_update(variant=variant, sku=variant.sku, price=Decimal("45.00"))
    variant.refresh_from_db()
    assert variant.price == Decimal("45.00")


def test_a_sale_marks_the_product_dirty_for_search(variant, django_capture_on_commit_callbacks):
    from catalog.models import Product

    Product.objects.filter(pk=variant.product_id).update(search_dirty=False)
    with django_capture_on_commit_callbacks() as callbacks:
        sale = _schedule(variant)
    assert Product.objects.get(pk=variant.product_id).search_dirty
    assert callbacks, "a search refresh is queued after commit"
    Product.objects.filter(pk=variant.product_id).update(search_dirty=False)
    sale_price_delete(sale=sale)
    assert Product.objects.get(pk=variant.product_id).search_dirty


# --- images -------------------------------------------------------------------------------------


def _upload(size=(300, 300), fmt="PNG", name="photo.png", content=None):
    if content is None:
        buffer = io.BytesIO()
        Image.new("RGB", size, "orange").save(buffer, format=fmt)
        content = buffer.getvalue()
    return SimpleUploadedFile(name, content, content_type="image/png")


@pytest.mark.parametrize(
    ("make_upload", "message"),
    [
        (lambda: _upload(content=b"not an image at all"), "This file is not an image."),
        (lambda: _upload(fmt="BMP", name="p.bmp"), "This is a BMP file."),
        (lambda: _upload(size=(99, 300)), "This image is 99×300 pixels."),
        (lambda: _upload(size=(10_001, 100)), "at most 10000 pixels on a side"),
        (lambda: _upload(content=b"\0" * (10 * 1024 * 1024 + 1)), "Images may be at most 10 MB"),
    ],
    ids=["not-an-image", "wrong-format", "too-small", "too-wide", "too-big"],
)
def test_image_validation_says_what_is_wrong(make_upload, message):
    with pytest.raises(ValidationError) as caught:
        image_validate(upload=make_upload())
    assert message in caught.value.fields["image"][0]


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    """9,000 x 9,000 one-bit pixels: a small file, 81 megapixels once decoded."""
    buffer = io.BytesIO()
    Image.new("1", (9_000, 9_000)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < 1024 * 1024

    with pytest.raises(ValidationError):
        image_validate(upload=_upload(content=buffer.getvalue()))


def test_images_append_reorder_and_take_alt_text_and_a_variant():
    product = ProductFactory(name="Lamp")
    first, second, third = (product_image_add(product=product, upload=_upload()) for _ in "abc")
    second.delete()
    fourth = product_image_add(product=product, upload=_upload())
    assert fourth.position == 3 and first.alt_text == "Lamp"

    product_images_reorder(product=product, image_ids=[fourth.pk, first.pk, third.pk])
    assert list(product.images.order_by("position").values_list("pk", flat=True)) == [
        fourth.pk,
        first.pk,
        third.pk,
    ]
    with pytest.raises(ValidationError, match="each of this product's images once"):
        product_images_reorder(product=product, image_ids=[fourth.pk, first.pk])
    foreign = product_image_add(product=ProductFactory(), upload=_upload())
    with pytest.raises(ValidationError):
        product_images_reorder(product=product, image_ids=[fourth.pk, first.pk, foreign.pk])

    variant = ProductVariantFactory(product=product)
    product_image_update(image=first, alt_text="  Lamp, lit  ", variant=variant)
    first.refresh_from_db()
    assert (first.alt_text, first.variant_id) == ("Lamp, lit", variant.pk)
    product_image_update(image=first, alt_text="", variant=None)
    first.refresh_from_db()
    assert (first.alt_text, first.variant_id) == ("Lamp", None)
    with pytest.raises(ValidationError):
        product_image_update(image=first, alt_text="x", variant=ProductVariantFactory())
    assert ProductImage.objects.filter(product=product).count() == 3
