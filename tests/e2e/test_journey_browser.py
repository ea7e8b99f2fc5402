"""A newcomer's first purchase on a freshly seeded demo, in headless Chromium, on a laptop and
on a phone: sign up -> search -> product -> cart -> checkout with the seeded shipping and tax ->
pay with the built-in test gateway -> the order under "My orders". No page it visits may
scroll sideways."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from catalog.models import ProductVariant
from inventory.selectors import variant_availability
from orders.models import Order, OrderStatus
from sellers.models import SellerStatus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NO_OVERFLOW = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _buyable_product():
    variants = list(
        ProductVariant.objects.filter(
            is_active=True,
            product__status="active",
            product__seller__status=SellerStatus.APPROVED,
        )
        .select_related("product")
        .order_by("pk")[:60]
    )
    available = variant_availability(variant_ids=[v.pk for v in variants])
    return next(v.product for v in variants if available[v.pk] >= 3 and v.price >= 20)


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_a_newcomer_buys_on_the_seeded_demo(
    live_server, browser, settings, tmp_path, width, height
):
    settings.ROOT_URLCONF = "tests.e2e.urls"  # serves the seeded product images
    call_command("seed_demo", "--products", "60", stdout=io.StringIO())
    product = _buyable_product()
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    visited: list[str] = []

    def check(name: str) -> None:
        page.wait_for_load_state("load")
        assert page.evaluate(NO_OVERFLOW), f"{name} scrolls sideways at {width} px"
        page.screenshot(
            path=str(tmp_path / f"{width}-{len(visited):02d}-{name}.png"), full_page=True
        )
        visited.append(name)

    page.goto(f"{live_server.url}/")
    check("home")
    page.get_by_role("link", name="Sign up").click()
    page.wait_for_url("**/accounts/signup/**")
    check("signup")
    page.get_by_label("Email address").fill(f"newcomer{width}@example.com")
    page.get_by_label("Your name").fill("Nia Newcomer")
    page.get_by_label("Password", exact=True).fill("pale-violet-umbrella-42")
    page.get_by_label("Password confirmation").fill("pale-violet-umbrella-42")
    page.get_by_role("button", name="Create account").click()
    page.get_by_text("Welcome! Your account is ready.").wait_for()

    page.get_by_label("Search products").fill(product.name)
    page.get_by_label("Search products").press("Enter")
    page.wait_for_url("**/search/?q=**")
    check("search")
    page.get_by_role("link", name=product.name).first.click()
    page.wait_for_url(f"**/p/{product.slug}/**")
    check("product")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/cart/")
    check("cart")
    page.get_by_role("button", name="Go to checkout").click()

    page.wait_for_url("**/address/")
    check("address")
    page.get_by_label("Full name").fill("Nia Newcomer")
    page.get_by_label("Address", exact=True).fill("Invalidenstraße 117")
    page.get_by_label("Postal code").fill("10115")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Country").select_option("DE")
    page.get_by_label("Phone").fill("030 2093 0")
    page.get_by_role("button", name="Continue to shipping").click()

    page.wait_for_url("**/shipping/")
    check("shipping")
    # the seeded methods of the product's seller that ship to Germany, the first one chosen
    assert page.locator("input[type=radio][name^=seller_]:checked").count() == 1
    assert page.locator(".notice-warning").count() == 0
    page.get_by_role("button", name="Continue to review").click()

    page.wait_for_url("**/review/")
    check("review")
    tax = page.locator("[data-tax-total]").inner_text()
    assert Decimal(tax.strip("$").replace(",", "")) > 0  # German VAT from the seeded table
    total = page.locator("[data-order-total]").inner_text()
    page.get_by_role("button", name="Place order and pay").click()

    page.wait_for_url("**/confirmation/")
    check("confirmation")
    order = Order.objects.get(email=f"newcomer{width}@example.com")
    assert order.status == OrderStatus.PAID
    assert f"${order.total:,}" == total

    page.locator("[data-account-menu] > summary").click()
    page.get_by_role("link", name="My orders").click()
    page.wait_for_url("**/orders/")
    check("my-orders")
    page.get_by_role("link", name=order.number).click()
    page.wait_for_url(f"**/orders/{order.number}/")
    check("order")
    page.get_by_role("link", name="Invoice (printable)").click()
    page.wait_for_url("**/invoice/")
    check("invoice")

    assert errors == []
    assert len(visited) == 12
    print(f"screenshots in {tmp_path}")
