"""A shopper's first visit in a real browser: home -> category -> product, against a live server.

Runs headless Debian Chromium through Playwright's Python package (never `playwright install`).
Install the browser with `apt-get install -y chromium`.
"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from catalog.models import AttributeType, VariantSalePrice
from catalog.services import product_image_add
from search.services import search_index_rebuild
from tests.factories import (
    AttributeChoiceFactory,
    AttributeFactory,
    CategoryFactory,
    ProductFactory,
    ProductVariantFactory,
    SellerFactory,
    VariantAttributeValueFactory,
)
from tests.factories.inventory import WarehouseFactory, stock_with

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def picture(name: str, colour: tuple[int, int, int]) -> SimpleUploadedFile:
    image = Image.new("RGB", (480, 480), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((120, 120, 360, 360), fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def shop():
    clothing = CategoryFactory(name="Clothing", slug="clothing", is_featured=True)
    shirts = CategoryFactory(name="Shirts", slug="shirts", parent=clothing)
    CategoryFactory(name="Home & Garden", slug="home-garden", is_featured=True)
    size = AttributeFactory(name="Size", slug="size", type=AttributeType.CHOICE)
    clothing.attributes.add(size)
    small = AttributeChoiceFactory(attribute=size, value="Small", slug="s")
    large = AttributeChoiceFactory(attribute=size, value="Large", slug="l")
    seller = SellerFactory(name="Harbour Outfitters", slug="harbour", description="Sea-worthy.")
    warehouse = WarehouseFactory(seller=seller)
    colours = [(31, 95, 209), (192, 38, 45), (28, 124, 67), (216, 155, 0)]
    first_variants = []
    for i, colour in enumerate(colours):
        product = ProductFactory(
            name=f"Linen shirt no. {i + 1}",
            slug=f"linen-shirt-{i + 1}",
            category=shirts,
            seller=seller,
            is_featured=i < 2,
            description="Breathable linen for warm days.",
        )
        for position, (choice, price) in enumerate([(small, "39.00"), (large, "44.00")]):
            variant = ProductVariantFactory(
                product=product, name=choice.value, price=Decimal(price), position=position
            )
            VariantAttributeValueFactory(variant=variant, attribute=size, choice=choice)
            stock_with(variant=variant, warehouse=warehouse, on_hand=10)
            if position == 0:
                first_variants.append(variant)
        product_image_add(product=product, upload=picture(f"shirt{i}.png", colour))
        product_image_add(product=product, upload=picture(f"shirt{i}b.png", (90, 90, 90)))
    VariantSalePrice.objects.create(
        variant=first_variants[0],
        sale_price=Decimal("29.00"),
        starts_at=timezone.now() - timedelta(days=1),
    )
    # what the after-commit search refresh does: attribute filters read the stored facet values
    search_index_rebuild()
    return clothing


def test_home_category_and_product_pages_in_chromium(
    shop, live_server, browser, settings, tmp_path
):
    settings.ROOT_URLCONF = "tests.e2e.urls"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Featured products").is_visible()
    assert page.get_by_role("link", name="Linen shirt no. 1").first.is_visible()
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)

    page.get_by_role("navigation", name="Categories").get_by_role("link", name="Clothing").click()
    page.wait_for_url("**/c/clothing/")
    assert page.get_by_role("heading", name="Clothing", level=1).is_visible()
    assert page.get_by_text("4 products").is_visible()
    assert page.get_by_role("link", name="Shirts").is_visible()
    page.screenshot(path=str(tmp_path / "category.png"), full_page=True)

    # filtering by a size narrows nothing here (every shirt comes in S) but keeps the choice
    page.get_by_label("Small").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**attr_size=s**")
    assert page.get_by_label("Small").is_checked()

    page.get_by_role("link", name="Linen shirt no. 1").click()
    page.wait_for_url("**/p/linen-shirt-1/")
    assert page.get_by_role("heading", name="Linen shirt no. 1").is_visible()
    price = page.locator("#product-price [data-price-now]")
    assert price.inner_text() == "$29.00"
    assert page.locator("#product-price [data-price-was]").inner_text() == "$39.00"
    images = page.locator(".gallery img")
    assert images.count() == 3  # the main image and two thumbnails
    assert all(images.nth(i).evaluate("img => img.naturalWidth > 0") for i in range(3))
    page.screenshot(path=str(tmp_path / "product.png"), full_page=True)

    # with JavaScript, choosing another option updates the price in place
    page.get_by_text("Large").first.click()
    assert price.inner_text() == "$44.00"
    assert page.locator("#product-price [data-price-was]").is_hidden()
    assert "variant=" in page.url

    mobile = browser.new_page(viewport={"width": 390, "height": 844})
    mobile.goto(f"{live_server.url}/c/clothing/")
    assert mobile.get_by_role("heading", name="Clothing", level=1).is_visible()
    # on a phone the filter panel starts folded so the results come first
    assert mobile.locator("details[data-filters-panel]").evaluate("panel => !panel.open")
    mobile.screenshot(path=str(tmp_path / "category-mobile.png"), full_page=True)

    assert errors == []
    for name in ["home", "category", "product", "category-mobile"]:
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    print(f"screenshots in {tmp_path}")


def test_pages_work_without_javascript(shop, live_server, browser, settings):
    settings.ROOT_URLCONF = "tests.e2e.urls"
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()

    page.goto(f"{live_server.url}/p/linen-shirt-1/")
    assert page.locator("#product-price [data-price-now]").inner_text() == "$29.00"
    page.get_by_text("Large").first.click()
    page.get_by_role("button", name="Show this option").click()
    page.wait_for_url("**variant=**")
    assert page.locator("#product-price [data-price-now]").inner_text() == "$44.00"

    page.goto(f"{live_server.url}/c/clothing/")
    page.get_by_label("Sort by").select_option("name")
    page.get_by_role("button", name="Sort").click()
    page.wait_for_url("**sort=name**")
    names = page.locator(".product-card h3").all_inner_texts()
    assert names == sorted(names)
    context.close()


def test_sign_up_and_apply_to_sell_in_chromium(shop, live_server, browser, settings, tmp_path):
    settings.ROOT_URLCONF = "tests.e2e.urls"
    page = browser.new_page(viewport={"width": 1280, "height": 800})

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Sell on Marketplace").click()
    # signing in is required first; the sign-in page offers to create an account
    page.wait_for_url("**/accounts/login/**")
    page.screenshot(path=str(tmp_path / "login.png"), full_page=True)
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email address").fill("maker@example.com")
    page.get_by_label("Your name").fill("Mia Maker")
    page.get_by_label("Password", exact=True).fill("pale-violet-umbrella-42")
    page.get_by_label("Password confirmation").fill("pale-violet-umbrella-42")
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url("**/sellers/apply/")
    # signed in: the header's account menu (a details element) holds the account links
    page.locator("[data-account-menu] > summary").click()
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert page.get_by_role("link", name="My orders").is_visible()
    page.locator("[data-account-menu] > summary").click()
    page.get_by_label("Shop name").fill("Mia's Makery")
    page.get_by_label("What will you sell?").fill("Hand-thrown pottery.")
    page.screenshot(path=str(tmp_path / "apply.png"), full_page=True)
    page.get_by_role("button", name="Send application").click()

    page.wait_for_url("**/sellers/apply/done/")
    assert page.get_by_text("Mia's Makery — Pending approval").is_visible()
    page.screenshot(path=str(tmp_path / "apply-done.png"), full_page=True)

    page.locator("[data-account-menu] > summary").click()
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("link", name="Sign in").is_visible()
