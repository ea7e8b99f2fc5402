"""A seller in a real browser: creates a typed product with two variants and an image in the
portal, previews the draft, schedules a sale, publishes it and sees it on the storefront.
Headless Debian Chromium via Playwright (never `playwright install`; `apt-get install -y
chromium`)."""

from __future__ import annotations

import io

import pytest
from django.conf import settings as django_settings
from django.test import Client
from PIL import Image

from catalog.models import AttributeType, Product, ProductStatus, VariantAttributeValue
from sellers.models import MemberRole
from tests.factories import (
    AttributeFactory,
    CategoryFactory,
    ProductTypeFactory,
    SellerMemberFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_seller_creates_a_product_and_sees_it_on_the_storefront(
    live_server, browser, settings, tmp_path, monkeypatch
):
    settings.ROOT_URLCONF = "tests.e2e.urls"
    CategoryFactory(name="Furniture", slug="furniture")
    ProductTypeFactory(name="Stool").attributes.set(
        [AttributeFactory(name="Height", slug="height", type=AttributeType.NUMBER, unit="cm")]
    )
    owner = SellerMemberFactory(role=MemberRole.OWNER)
    signed_in = Client()
    signed_in.force_login(owner.user)
    session = signed_in.cookies[django_settings.SESSION_COOKIE_NAME].value

    photo = tmp_path / "stool.png"
    buffer = io.BytesIO()
    Image.new("RGB", (400, 400), (160, 110, 60)).save(buffer, format="PNG")
    photo.write_bytes(buffer.getvalue())

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/seller/products/new/")
    assert page.url.endswith("/seller/products/new/"), page.url
    page.fill("#id_name", "Walnut stool")
    page.select_option("#id_category", label="Furniture")
    page.fill("#id_variants-0-sku", "STOOL-LOW")
    page.fill("#id_variants-0-name", "Low")
    page.fill("#id_variants-0-price", "80.00")
    page.fill("#id_variants-1-sku", "STOOL-HIGH")
    page.fill("#id_variants-1-name", "High")
    page.fill("#id_variants-1-price", "95.00")
    page.select_option("#id_product_type", label="Stool")
    page.get_by_role("button", name="Save", exact=True).click()
    # the chosen type's attribute inputs appear; nothing is saved until they are filled in
    assert page.get_by_text("Fill in its attributes for each variant below").is_visible()
    page.fill("#id_variants-0-attr_height", "45")
    page.fill("#id_variants-1-attr_height", "65")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/seller/products/*/")
    assert page.get_by_text("Walnut stool was saved.").is_visible()
    assert VariantAttributeValue.objects.filter(attribute__slug="height").count() == 2

    page.get_by_role("link", name="Preview").click()
    assert page.get_by_text("Preview - not visible to shoppers").is_visible()
    assert page.get_by_role("heading", name="Walnut stool").is_visible()
    page.get_by_role("link", name="Back to editing").click()

    page.get_by_role("link", name="Schedule a sale").click()
    page.select_option("#id_variant", label="Low (STOOL-LOW)")
    page.fill("#id_sale_price", "72.00")
    page.get_by_role("button", name="Schedule sale").click()
    assert page.get_by_text("Sale price scheduled.").is_visible()
    assert page.locator(".state-active").count() == 1

    page.set_input_files("input[name=image]", str(photo))
    page.fill("input[name=alt_text]", "Walnut stool, side view")
    page.get_by_role("button", name="Upload image").click()
    assert page.get_by_text("Image added.").is_visible()
    page.get_by_role("button", name="Publish").click()
    assert page.get_by_text("is now Active").is_visible()

    product = Product.objects.get(name="Walnut stool")
    assert product.status == ProductStatus.ACTIVE
    assert product.variants.count() == 2

    page.goto(f"{live_server.url}/p/{product.slug}/")
    assert page.get_by_role("heading", name="Walnut stool").is_visible()
    assert page.get_by_text("$72.00").count() >= 1
    assert page.get_by_text("45 cm").count() >= 1
    assert page.get_by_alt_text("Walnut stool, side view").count() >= 1
    context.close()
