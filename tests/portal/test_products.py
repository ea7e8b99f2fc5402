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

    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("portal:products")).status_code == 200
        return len(ctx.captured_queries)

    few = count_queries()
    for _ in range(20):
        ProductVariantFactory(product=ProductFactory(seller=owner.seller))
    assert count_queries() == few


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
