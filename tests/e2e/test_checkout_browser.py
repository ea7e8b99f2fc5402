"""A guest buys from two sellers in headless Chromium with the built-in test gateway:
product pages -> cart (quantity changed in place by JavaScript) -> checkout steps -> order.

Uses Debian's Chromium through Playwright's Python package (never `playwright install`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Stock
from orders.models import Order
from tests.factories import ProductFactory, ProductVariantFactory, SellerFactory
from tests.factories.inventory import stock_with
from tests.factories.orders import ShippingMethodFactory, TaxRateFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_sellers():
    lamp = ProductVariantFactory(
        product=ProductFactory(
            name="Brass lamp", slug="brass-lamp", seller=SellerFactory(name="Lumen")
        ),
        price=Decimal("30.00"),
    )
    mug = ProductVariantFactory(
        product=ProductFactory(
            name="Stone mug", slug="stone-mug", seller=SellerFactory(name="Kiln")
        ),
        price=Decimal("12.50"),
    )
    for variant in (lamp, mug):
        stock_with(variant=variant, on_hand=5)
        ShippingMethodFactory(seller=variant.product.seller, name="Courier", price=Decimal("5.00"))
    TaxRateFactory(country="DE", tax_class="standard", rate=Decimal("0.19"))
    return lamp, mug


def test_guest_buys_from_two_sellers_in_chromium(
    two_sellers, live_server, browser, tmp_path, monkeypatch
):
    _, mug = two_sellers
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/p/brass-lamp/")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/cart/")
    page.goto(f"{live_server.url}/p/stone-mug/")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/cart/")
    assert page.get_by_role("link", name="Brass lamp").is_visible()
    assert page.get_by_role("link", name="Stone mug").is_visible()

    # JavaScript: the quantity applies without a page load, totals come back from the server
    page.get_by_label("Quantity of Stone mug").fill("2")
    page.locator("[data-subtotal]", has_text="$55.00").wait_for()
    page.screenshot(path=str(tmp_path / "cart.png"), full_page=True)

    page.get_by_role("button", name="Go to checkout").click()
    page.wait_for_url("**/address/")
    assert page.get_by_text("held for you until").is_visible()
    page.get_by_label("Email for the receipt").fill("guest@example.com")
    page.get_by_label("Full name").fill("Grace Guest")
    page.get_by_label("Address", exact=True).fill("1 Market Square")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Postal code").fill("10115")
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("button", name="Continue to shipping").click()

    page.wait_for_url("**/shipping/")
    page.get_by_role("button", name="Continue to review").click()
    page.wait_for_url("**/review/")
    # 30.00 + 2 x 12.50 = 55.00; tax 19% = 10.45; shipping 2 x 5.00 -> 75.45
    assert page.locator("[data-order-total]").inner_text() == "$75.45"
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    page.get_by_role("button", name="Place order and pay $75.45").click()

    page.wait_for_url("**/confirmation/")
    order = Order.objects.get()
    assert page.get_by_role("heading", name=f"Thank you — order {order.number}").is_visible()
    assert order.status == "paid" and order.total == Decimal("75.45")
    assert sorted(so.seller.name for so in order.seller_orders.all()) == ["Kiln", "Lumen"]
    assert Stock.objects.get(variant=mug).allocated == 2
    page.screenshot(path=str(tmp_path / "confirmation.png"), full_page=True)
    assert errors == []
