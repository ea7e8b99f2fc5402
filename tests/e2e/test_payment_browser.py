"""A guest pays in headless Chromium through the built-in test gateway's faces: a declined
card, a bank check (3-D Secure) that fails, then one that is approved. The hold on the stock
lasts through all of it; one order, paid once.

Uses Debian's Chromium through Playwright's Python package (never `playwright install`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Stock
from orders.models import Order
from payments.models import Payment, PaymentStatus
from tests.factories import ProductFactory, ProductVariantFactory, SellerFactory
from tests.factories.inventory import stock_with
from tests.factories.orders import ShippingMethodFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def kettle():
    variant = ProductVariantFactory(
        product=ProductFactory(
            name="Copper kettle", slug="copper-kettle", seller=SellerFactory(name="Forge")
        ),
        price=Decimal("40.00"),
    )
    ShippingMethodFactory(seller=variant.product.seller, name="Courier", price=Decimal("5.00"))
    return stock_with(variant=variant, on_hand=3)


def _to_review(page, base_url: str) -> None:
    page.goto(f"{base_url}/p/copper-kettle/")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/cart/")
    page.get_by_role("button", name="Go to checkout").click()
    page.wait_for_url("**/address/")
    page.get_by_label("Email for the receipt").fill("payer@example.com")
    page.get_by_label("Full name").fill("Pat Payer")
    page.get_by_label("Address", exact=True).fill("2 Hafenstrasse")
    page.get_by_label("City").fill("Hamburg")
    page.get_by_label("Postal code").fill("20459")
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("button", name="Continue to shipping").click()
    page.wait_for_url("**/shipping/")
    page.get_by_role("button", name="Continue to review").click()
    page.wait_for_url("**/review/")


def test_declined_then_failed_check_then_approved_in_chromium(kettle, live_server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    assert page.goto(f"{live_server.url}/").ok
    assert page.get_by_text("Test mode").first.is_visible()  # the banner: no money moves
    _to_review(page, live_server.url)
    pay = page.get_by_role("button", name="Place order and pay $45.00")

    # 1. declined: back at review with the reason, nothing placed, the stock still held
    page.get_by_label("Test card that is declined").check()
    pay.click()
    page.wait_for_url("**/review/")
    assert page.get_by_role("status").filter(has_text="declined").first.is_visible()
    assert not Order.objects.exists()
    assert Stock.objects.get(pk=kettle.pk).reserved == 1

    # 2. the bank's check, failed: back at review, payable again
    page.get_by_label("Test card that asks the bank's check (3-D Secure)").check()
    pay.click()
    page.get_by_role("heading", name="Confirm your payment").wait_for()
    assert Stock.objects.get(pk=kettle.pk).reserved == 1  # held while the shopper is away
    page.get_by_role("button", name="Fail the check").click()
    page.wait_for_url("**/review/")
    assert not Order.objects.exists()

    # 3. the bank's check, approved: the order is placed on return
    page.get_by_label("Test card that asks the bank's check (3-D Secure)").check()
    pay.click()
    page.get_by_role("button", name="Approve the payment").click()
    page.wait_for_url("**/confirmation/")
    order = Order.objects.get()
    assert page.get_by_role("heading", name=f"Thank you — order {order.number}").is_visible()
    assert order.status == "paid" and order.total == Decimal("45.00")
    stock = Stock.objects.get(pk=kettle.pk)
    assert (stock.reserved, stock.allocated) == (0, 1)
    statuses = sorted(Payment.objects.values_list("status", flat=True))
    assert statuses.count(PaymentStatus.CAPTURED) == 1
    assert Payment.objects.get(status=PaymentStatus.CAPTURED).order_id == order.pk

    # returning to the bank's page link again places nothing twice
    page.go_back()
    page.goto(f"{live_server.url}/checkout/{order.checkout.token}/payment/return/")
    assert Order.objects.count() == 1
    assert errors == []
