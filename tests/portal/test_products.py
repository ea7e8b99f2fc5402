"""Portal products: scoped list with search/status/pagination and a fixed query count,
create/edit with variants through the catalog services, publish/archive, role refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Product, ProductStatus, ProductVariant
from sellers.models import MemberRole
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductVariantFactory,
    SellerMemberFactory,
)

pytestmark = pytest.mark.django_db


def _payload(category, variants, **product):
    data = {
        "name": "Oak chair",
        "category": category.pk,
        "product_type": "",
        "brand": "",
        "description": "Solid oak.",
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
    }
    data.update(product)
    for i, variant in enumerate(variants):
        for key, value in variant.items():
            data[f"variants-{i}-{key}"] = value
    return data


def test_create_product_with_two_variants_as_draft(owner, portal_client):
    category = CategoryFactory()
    response = portal_client(owner).post(
        reverse("portal:product_new"),
        _payload(
            category,
            [
                {"sku": "OAK-S", "name": "Small", "price": "99.50", "is_active": "on"},
                {"sku": "OAK-L", "name": "Large", "price": "129.00", "is_active": "on"},
                {"sku": "", "name": "", "price": ""},
            ],
        ),
    )
    assert response.status_code == 302
    product = Product.objects.get(seller=owner.seller)
    assert product.status == ProductStatus.DRAFT
    assert sorted(product.variants.values_list("sku", "price")) == [
        ("OAK-L", Decimal("129.00")),
        ("OAK-S", Decimal("99.50")),
    ]


def test_a_refused_variant_saves_nothing_and_shows_the_error_by_the_field(owner, portal_client):
    ProductVariantFactory(sku="TAKEN")
    category = CategoryFactory()
    before = Product.objects.count()
    response = portal_client(owner).post(
        reverse("portal:product_new"),
        _payload(
            category,
            [
                {"sku": "NEW-1", "price": "10.00", "is_active": "on"},
                {"sku": "TAKEN", "price": "12.00", "is_active": "on"},
            ],
        ),
    )
    assert response.status_code == 400
    assert b"This SKU is already used." in response.content
    assert Product.objects.count() == before
    assert not ProductVariant.objects.filter(sku="NEW-1").exists()


def test_edit_updates_a_variant_and_publish_then_archive(owner, portal_client):
    product = ProductFactory(seller=owner.seller, status=ProductStatus.DRAFT)
    variant = ProductVariantFactory(product=product, sku="V-1", price=Decimal("5.00"))
    client = portal_client(owner)
    data = _payload(
        product.category,
        [{"id": variant.pk, "sku": "V-1", "price": "6.25", "is_active": "on"}],
        name="Renamed",
    )
    data["variants-INITIAL_FORMS"] = "1"
    assert client.post(reverse("portal:product_edit", args=[product.pk]), data).status_code == 302
    variant.refresh_from_db()
    product.refresh_from_db()
    assert (product.name, variant.price) == ("Renamed", Decimal("6.25"))

    client.post(reverse("portal:product_status", args=[product.pk]), {"action": "publish"})
    product.refresh_from_db()
    assert product.status == ProductStatus.ACTIVE
    client.post(reverse("portal:product_status", args=[product.pk]), {"action": "archive"})
    product.refresh_from_db()
    assert product.status == ProductStatus.ARCHIVED


def test_publish_without_an_active_variant_is_refused_with_a_message(owner, portal_client):
    product = ProductFactory(seller=owner.seller, status=ProductStatus.DRAFT)
    response = portal_client(owner).post(
        reverse("portal:product_status", args=[product.pk]), {"action": "publish"}, follow=True
    )
    assert b"at least one active variant" in response.content
    product.refresh_from_db()
    assert product.status == ProductStatus.DRAFT


def test_another_sellers_product_and_variant_ids_are_404(owner, other_owner, portal_client):
    foreign = ProductFactory(seller=other_owner.seller)
    foreign_variant = ProductVariantFactory(product=foreign, sku="THEIRS", price=Decimal("3"))
    mine = ProductFactory(seller=owner.seller)
    client = portal_client(owner)
    assert client.get(reverse("portal:product_edit", args=[foreign.pk])).status_code == 404
    status_url = reverse("portal:product_status", args=[foreign.pk])
    assert client.post(status_url, {"action": "archive"}).status_code == 404
    data = _payload(mine.category, [{"id": foreign_variant.pk, "sku": "THEIRS", "price": "0.01"}])
    data["variants-INITIAL_FORMS"] = "1"
    response = client.post(reverse("portal:product_edit", args=[mine.pk]), data)
    assert response.status_code == 400
    foreign_variant.refresh_from_db()
    assert foreign_variant.price == Decimal("3")


def test_fulfilment_staff_cannot_edit_products(portal_client):
    staff = SellerMemberFactory(role=MemberRole.FULFILMENT)
    product = ProductFactory(seller=staff.seller)
    client = portal_client(staff)
    assert client.get(reverse("portal:products")).status_code == 403
    response = client.post(
        reverse("portal:product_status", args=[product.pk]), {"action": "archive"}
    )
    assert response.status_code == 403
    product.refresh_from_db()
    assert product.status != ProductStatus.ARCHIVED


def test_list_filters_and_keeps_a_fixed_query_count(
    owner, other_owner, portal_client, django_assert_num_queries
):
    ProductFactory(seller=other_owner.seller, name="Foreign lamp")
    ProductFactory(seller=owner.seller, name="Desk lamp", status=ProductStatus.ACTIVE)
    ProductFactory(seller=owner.seller, name="Table", status=ProductStatus.DRAFT)
    client = portal_client(owner)
    body = client.get(reverse("portal:products"), {"q": "lamp"}).content
    assert b"Desk lamp" in body and b"Foreign lamp" not in body and b"Table" not in body
    drafts = client.get(reverse("portal:products"), {"status": "draft"}).content
    assert b"Table" in drafts and b"Desk lamp" not in drafts

    few = _queries(client, reverse("portal:products"))
    for _ in range(20):
        ProductVariantFactory(product=ProductFactory(seller=owner.seller))
    assert _queries(client, reverse("portal:products")) == few


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _png_upload(size=(300, 300), name="photo.png"):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_image_upload_validated_and_delete_scoped(owner, other_owner, portal_client):
    from catalog.models import ProductImage

    product = ProductFactory(seller=owner.seller)
    client = portal_client(owner)
    url = reverse("portal:product_image", args=[product.pk])
    response = client.post(url, {"image": _png_upload(), "alt_text": "Front"})
    assert response.status_code == 302
    image = ProductImage.objects.get(product=product)
    assert image.alt_text == "Front" and image.thumbnail

    refused = client.post(url, {"image": _png_upload(size=(10, 10))}, follow=True)
    assert b"at least 100" in refused.content
    assert ProductImage.objects.filter(product=product).count() == 1

    foreign = ProductFactory(seller=other_owner.seller)
    foreign_image = ProductImage.objects.create(
        product=foreign, image="products/f.jpg", width=400, height=400
    )
    wrong = reverse("portal:product_image_delete", args=[product.pk, foreign_image.pk])
    assert client.post(wrong).status_code == 404
    assert ProductImage.objects.filter(pk=foreign_image.pk).exists()
    upload_foreign = reverse("portal:product_image", args=[foreign.pk])
    assert client.post(upload_foreign, {"image": _png_upload()}).status_code == 404

    delete = reverse("portal:product_image_delete", args=[product.pk, image.pk])
    assert client.post(delete).status_code == 302
    assert not ProductImage.objects.filter(pk=image.pk).exists()


# --- typed attributes ---------------------------------------------------------------------------


@pytest.fixture
def shirt(owner):
    """A draft shirt of `owner` with one variant, whose type carries one attribute per type."""
    from tests.factories import product_type_with_each_attribute_type

    shirt_type = product_type_with_each_attribute_type(
        name="Shirt",
        choice="Colour",
        options=("Red", "Blue"),
        number="Chest",
        unit="cm",
        boolean="Organic",
        text="Fabric",
    )
    product = ProductFactory(
        seller=owner.seller, product_type=shirt_type, status=ProductStatus.DRAFT
    )
    ProductVariantFactory(product=product, sku="SHIRT-1", price=Decimal("20.00"))
    return product


def _shirt_payload(product, **attributes):
    from catalog.models import AttributeChoice

    red = AttributeChoice.objects.get(attribute__slug="colour", slug="red")
    variant = product.variants.get()
    row = {
        "id": variant.pk,
        "sku": variant.sku,
        "price": "20.00",
        "is_active": "on",
        "attr_colour": red.pk,
        "attr_chest": "104.5",
        "attr_organic": "true",
        "attr_fabric": "Cotton",
    }
    row.update({f"attr_{slug}": value for slug, value in attributes.items()})
    data = _payload(product.category, [row], name=product.name)
    data.update(
        {
            "product_type": product.product_type_id,
            "attributes_for": product.product_type_id,
            "variants-INITIAL_FORMS": "1",
        }
    )
    return data


def test_the_variant_form_shows_each_attribute_by_its_type(owner, portal_client, shirt):
    body = portal_client(owner).get(reverse("portal:product_edit", args=[shirt.pk])).content
    html = body.decode()
    assert '<select name="variants-0-attr_colour"' in html
    assert ">Red</option>" in html and ">Blue</option>" in html
    assert 'type="number" name="variants-0-attr_chest"' in html and "Chest (cm)" in html
    assert '<option value="true">Yes</option>' in html
    assert 'type="text" name="variants-0-attr_fabric"' in html


def test_typed_attribute_values_are_saved_and_shown_again(owner, portal_client, shirt):
    from catalog.models import VariantAttributeValue

    client = portal_client(owner)
    url = reverse("portal:product_edit", args=[shirt.pk])
    assert client.post(url, _shirt_payload(shirt)).status_code == 302
    rows = {
        v.attribute.slug: v.display_value
        for v in VariantAttributeValue.objects.select_related("attribute", "choice")
    }
    assert rows == {"colour": "Red", "chest": "104.5", "organic": "Yes", "fabric": "Cotton"}
    html = client.get(url).content.decode()
    assert 'value="104.5"' in html and 'value="Cotton"' in html
    assert '<option value="true" selected>Yes</option>' in html


@pytest.mark.parametrize(
    ("slug", "value", "message"),
    [
        ("colour", "999999", "Select a valid choice."),
        ("chest", "wide", "Enter a number."),
        ("organic", "perhaps", "Select a valid choice."),
        ("fabric", "", "Enter the fabric: every variant needs one."),
        ("chest", "", "Enter the chest: every variant needs one."),
    ],
)
def test_a_bad_attribute_value_is_shown_beside_its_field_and_saves_nothing(
    owner, portal_client, shirt, slug, value, message
):
    from catalog.models import VariantAttributeValue

    data = _shirt_payload(shirt, **{slug: value})
    data["variants-0-price"] = "25.00"
    response = portal_client(owner).post(reverse("portal:product_edit", args=[shirt.pk]), data)
    assert response.status_code == 400
    html = response.content.decode()
    errors_at = html.index(f'id="id_variants-0-attr_{slug}_errors"')
    assert message in html[errors_at : errors_at + 300]
    assert not VariantAttributeValue.objects.exists()
    assert shirt.variants.get().price == Decimal("20.00")


def test_a_choice_of_another_attribute_is_refused(owner, portal_client, shirt):
    from tests.factories import AttributeChoiceFactory

    foreign = AttributeChoiceFactory(value="Red", slug="red-elsewhere")
    data = _shirt_payload(shirt, colour=foreign.pk)
    response = portal_client(owner).post(reverse("portal:product_edit", args=[shirt.pk]), data)
    assert response.status_code == 400
    assert b"Select a valid choice." in response.content


def test_choosing_a_type_first_asks_for_its_attributes(owner, portal_client, shirt):
    from catalog.models import AttributeChoice, VariantAttributeValue

    client = portal_client(owner)
    data = _payload(
        shirt.category,
        [{"sku": "TEE-1", "price": "15.00", "is_active": "on"}],
        name="Tee",
        product_type=shirt.product_type_id,
    )
    response = client.post(reverse("portal:product_new"), data)
    assert response.status_code == 400
    assert b"Fill in its attributes for each variant below" in response.content
    assert b'name="variants-0-attr_colour"' in response.content
    assert not Product.objects.filter(name="Tee").exists()

    blue = AttributeChoice.objects.get(slug="blue")
    data.update(
        {
            "attributes_for": shirt.product_type_id,
            "variants-0-attr_colour": blue.pk,
            "variants-0-attr_chest": "98",
            "variants-0-attr_organic": "false",
            "variants-0-attr_fabric": "Linen",
        }
    )
    assert client.post(reverse("portal:product_new"), data).status_code == 302
    tee = ProductVariant.objects.get(sku="TEE-1")
    assert VariantAttributeValue.objects.filter(variant=tee).count() == 4


# --- images -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_upload", "message"),
    [
        (lambda: _png_upload(name="notes.png").__class__("notes.png", b"hello"), b"not an image"),
        (lambda: _png_upload(size=(120, 60)), "This image is 120×60 pixels".encode()),
        (
            lambda: _png_upload().__class__("huge.png", b"\0" * (10 * 1024 * 1024 + 1)),
            b"Images may be at most 10 MB",
        ),
    ],
    ids=["wrong-type", "too-small", "too-big"],
)
def test_a_refused_upload_is_explained_beside_the_file_field(
    owner, portal_client, make_upload, message
):
    from catalog.models import ProductImage

    product = ProductFactory(seller=owner.seller)
    url = reverse("portal:product_image", args=[product.pk])
    response = portal_client(owner).post(url, {"image": make_upload()})
    assert response.status_code == 400
    errors_at = response.content.index(b'id="id_image_errors"')
    assert message in response.content[errors_at : errors_at + 400]
    assert not ProductImage.objects.filter(product=product).exists()


def test_images_are_reordered_and_described(owner, other_owner, portal_client):
    from catalog.models import ProductImage
    from catalog.services import product_image_add

    product = ProductFactory(seller=owner.seller, name="Lamp")
    variant = ProductVariantFactory(product=product, name="Brass")
    first, second = (product_image_add(product=product, upload=_png_upload()) for _ in "ab")
    client = portal_client(owner)

    move = reverse("portal:product_image_move", args=[product.pk, second.pk])
    assert client.post(move, {"direction": "up"}).status_code == 302
    order = list(product.images.order_by("position").values_list("pk", flat=True))
    assert order == [second.pk, first.pk]
    for malformed in ({}, {"direction": "sideways"}):  # changes nothing (it used to mean down)
        assert client.post(move, malformed).status_code == 302
        order = list(product.images.order_by("position").values_list("pk", flat=True))
        assert order == [second.pk, first.pk]

    edit = reverse("portal:product_image_edit", args=[product.pk, first.pk])
    data = {f"image-{first.pk}-alt_text": "Lamp, lit", f"image-{first.pk}-variant": variant.pk}
    assert client.post(edit, data).status_code == 302
    first.refresh_from_db()
    assert (first.alt_text, first.variant_id) == ("Lamp, lit", variant.pk)

    foreign_variant = ProductVariantFactory(product=ProductFactory(seller=other_owner.seller))
    data[f"image-{first.pk}-variant"] = foreign_variant.pk
    refused = client.post(edit, data, follow=True)
    assert b"The image was not changed" in refused.content
    first.refresh_from_db()
    assert first.variant_id == variant.pk

    foreign = ProductFactory(seller=other_owner.seller)
    foreign_image = ProductImage.objects.create(
        product=foreign, image="products/f.jpg", width=400, height=400
    )
    for name in ("portal:product_image_move", "portal:product_image_edit"):
        assert client.post(reverse(name, args=[product.pk, foreign_image.pk])).status_code == 404
        assert client.post(reverse(name, args=[foreign.pk, foreign_image.pk])).status_code == 404


# --- preview ------------------------------------------------------------------------------------


def test_owner_and_manager_preview_a_draft_that_shoppers_cannot_see(owner, portal_client):
    product = ProductFactory(seller=owner.seller, name="Secret sofa", status=ProductStatus.DRAFT)
    ProductVariantFactory(product=product, name="Green", price=Decimal("499.00"))
    manager = SellerMemberFactory(seller=owner.seller, role=MemberRole.MANAGER)
    for member in (owner, manager):
        response = portal_client(member).get(reverse("portal:product_preview", args=[product.pk]))
        assert response.status_code == 200
        assert b"Preview - not visible to shoppers" in response.content
        assert b"Secret sofa" in response.content and b"$499.00" in response.content
        assert b"noindex" in response.content
        assert b"data-add-to-cart" not in response.content
    from django.test import Client

    assert Client().get(reverse("catalog:product", args=[product.slug])).status_code == 404


def test_preview_is_scoped_to_the_shop_and_the_role(owner, other_owner, portal_client):
    foreign = ProductFactory(seller=other_owner.seller, status=ProductStatus.DRAFT)
    ProductVariantFactory(product=foreign)
    url = reverse("portal:product_preview", args=[foreign.pk])
    assert portal_client(owner).get(url).status_code == 404
    staff = SellerMemberFactory(seller=other_owner.seller, role=MemberRole.FULFILMENT)
    assert portal_client(staff).get(url).status_code == 403


def test_preview_without_an_active_variant_explains_what_is_missing(owner, portal_client):
    product = ProductFactory(seller=owner.seller, status=ProductStatus.DRAFT)
    ProductVariantFactory(product=product, is_active=False)
    response = portal_client(owner).get(
        reverse("portal:product_preview", args=[product.pk]), follow=True
    )
    assert b"Add an active variant to preview" in response.content


def test_preview_of_a_live_product_says_so(owner, portal_client):
    product = ProductFactory(seller=owner.seller, status=ProductStatus.ACTIVE)
    ProductVariantFactory(product=product)
    response = portal_client(owner).get(reverse("portal:product_preview", args=[product.pk]))
    assert b"this product is live" in response.content
    assert b"not visible to shoppers" not in response.content


def test_preview_queries_do_not_grow_with_variants_and_images(owner, portal_client):
    from catalog.services import product_image_add

    product = ProductFactory(seller=owner.seller, status=ProductStatus.DRAFT)
    client = portal_client(owner)
    url = reverse("portal:product_preview", args=[product.pk])
    ProductVariantFactory(product=product)
    product_image_add(product=product, upload=_png_upload())
    few = _queries(client, url)
    for _ in range(5):
        ProductVariantFactory(product=product)
        product_image_add(product=product, upload=_png_upload())
    assert _queries(client, url) == few


# --- CSRF ---------------------------------------------------------------------------------------


def test_product_writes_need_the_csrf_token(owner):
    from django.test import Client

    from catalog.services import product_image_add

    product = ProductFactory(seller=owner.seller, status=ProductStatus.DRAFT, name="Kept")
    image = product_image_add(product=product, upload=_png_upload())
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    posts = [
        (reverse("portal:product_edit", args=[product.pk]), _payload(product.category, [])),
        (reverse("portal:product_status", args=[product.pk]), {"action": "archive"}),
        (reverse("portal:product_image_move", args=[product.pk, image.pk]), {}),
        (reverse("portal:product_image_delete", args=[product.pk, image.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    product.refresh_from_db()
    assert (product.name, product.status) == ("Kept", ProductStatus.DRAFT)
    assert product.images.count() == 1


def test_edit_page_queries_do_not_grow_with_variants_images_and_sales(owner, portal_client, shirt):
    from datetime import timedelta

    from django.utils import timezone

    from catalog.models import VariantSalePrice
    from catalog.services import product_image_add

    client = portal_client(owner)
    url = reverse("portal:product_edit", args=[shirt.pk])

    def grow() -> None:
        variant = ProductVariantFactory(product=shirt, price=Decimal("30"))
        product_image_add(product=shirt, upload=_png_upload())
        VariantSalePrice.objects.create(
            variant=variant, sale_price=Decimal("20"), starts_at=timezone.now() + timedelta(days=1)
        )

    grow()
    few = _queries(client, url)
    for _ in range(4):
        grow()
    assert _queries(client, url) == few
