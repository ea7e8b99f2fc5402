"""The seller's catalog over the API: products and variants with the portal's rules, through
the same services; scoped to the seller; owners and managers only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Product, ProductStatus
from catalog.services import sale_price_schedule
from sellers.models import MemberRole
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    SellerMemberFactory,
    product_type_with_each_attribute_type,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return SellerMemberFactory(role=MemberRole.OWNER)


def _client(member) -> APIClient:
    client = APIClient()
    client.force_authenticate(member.user)
    return client


def test_a_seller_creates_a_product_adds_variants_and_publishes_it(owner):
    api = _client(owner)
    category = CategoryFactory(slug="desk-lamps")
    product_type = product_type_with_each_attribute_type(
        name="Lamp",
        choice="Finish",
        options=("Brass", "Steel"),
        number="Height",
        unit="cm",
        boolean="Dimmable",
        text="Bulb",
    )
    created = api.post(
        "/api/v1/seller/products/",
        {"name": "Brass desk lamp", "category": "desk-lamps", "product_type": product_type.pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    product = created.json()
    assert product["status"] == ProductStatus.DRAFT and product["category"] == category.slug

    attributes = {"finish": "brass", "height": "42", "dimmable": "yes", "bulb": "E27"}
    variants_url = f"/api/v1/seller/products/{product['id']}/variants/"
    missing = api.post(variants_url, {"sku": "LAMP-1", "price": "49.00"}, format="json")
    assert missing.status_code == 201  # attributes may follow later
    wrong = api.post(
        variants_url,
        {"sku": "LAMP-2", "price": "59.00", "attributes": {**attributes, "finish": "gold"}},
        format="json",
    )
    assert wrong.status_code == 400 and "finish" in wrong.json()["fields"]
    assert not Product.objects.get(pk=product["id"]).variants.filter(sku="LAMP-2").exists()
    duplicate = api.post(variants_url, {"sku": "LAMP-1", "price": "9.00"}, format="json")
    assert duplicate.status_code == 400 and "sku" in duplicate.json()["fields"]

    variant_id = missing.json()["variants"][0]["id"]
    patched = api.patch(
        f"/api/v1/seller/variants/{variant_id}/", {"attributes": attributes}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["variants"][0]["attributes"]["finish"] == "brass"

    published = api.post(f"/api/v1/seller/products/{product['id']}/publish/")
    assert published.status_code == 200 and published.json()["status"] == ProductStatus.ACTIVE
    listed = api.get("/api/v1/seller/products/?status=active").json()
    assert listed["count"] == 1 and {"next", "previous", "results"} <= set(listed)


def test_variant_prices_follow_the_portal_rules(owner):
    product = ProductFactory(seller=owner.seller)
    api = _client(owner)
    created = api.post(
        f"/api/v1/seller/products/{product.pk}/variants/",
        {"sku": "S-1", "price": "50.00"},
        format="json",
    ).json()
    variant_id = created["variants"][0]["id"]
    from catalog.models import ProductVariant

    sale_price_schedule(
        variant=ProductVariant.objects.get(pk=variant_id),
        sale_price=Decimal("40.00"),
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=None,
    )
    refused = api.patch(f"/api/v1/seller/variants/{variant_id}/", {"price": "39.00"}, format="json")
    assert refused.status_code == 400 and "price" in refused.json()["fields"]
    compare = api.patch(
        f"/api/v1/seller/variants/{variant_id}/", {"compare_at_price": "10.00"}, format="json"
    )
    assert compare.status_code == 400


def test_another_sellers_products_are_not_found_and_staff_roles_are_refused(owner):
    theirs = ProductFactory()
    api = _client(owner)
    assert api.get(f"/api/v1/seller/products/{theirs.pk}/").status_code == 404
    assert api.patch(f"/api/v1/seller/products/{theirs.pk}/", {"name": "X"}).status_code == 404
    fulfilment = SellerMemberFactory(seller=owner.seller, role=MemberRole.FULFILMENT)
    refused = _client(fulfilment).get("/api/v1/seller/products/")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
