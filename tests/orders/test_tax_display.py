"""Tax-inclusive display (SHOP_PRICES_INCLUDE_TAX): prices are shown with the tax of the
shopper's destination, or of SHOP_TAX_DISPLAY_COUNTRY before an address is known; what is
charged never changes. Figures below are worked out by hand (ROUND_HALF_UP to the cent)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalog.models import TaxClass
from orders.services.placement import checkout_price
from pricing.totals import price_with_tax
from tests.factories import ProductFactory, ProductVariantFactory, UserFactory
from tests.factories.inventory import stock_with
from tests.factories.orders import TaxRateFactory
from tests.orders.test_views import checkout_to_review

pytestmark = pytest.mark.django_db

# amount, rate -> shown          (hand computation)
DISPLAY_TABLE = [
    ("10.00", "0.19", "11.90"),  # 10 x 1.19 = 11.90
    ("9.99", "0.19", "11.89"),  # 11.8881
    ("4.15", "0.10", "4.57"),  # 4.565: half up (half-even would give 4.56)
    ("0.05", "0.19", "0.06"),  # 0.0595
    ("20.00", "0", "20.00"),  # zero-rated
]


@pytest.mark.parametrize(("amount", "rate", "shown"), DISPLAY_TABLE)
def test_price_with_tax_matches_the_hand_computed_table(amount, rate, shown):
    assert price_with_tax(amount=Decimal(amount), rate=Decimal(rate)) == Decimal(shown)


@pytest.fixture
def inclusive(settings):
    settings.SHOP_PRICES_INCLUDE_TAX = True
    settings.SHOP_TAX_DISPLAY_COUNTRY = "DE"
    return settings


@pytest.fixture
def reduced(market):
    """A reduced-rate book at 4.15 (DE reduced rate 10% for this table)."""
    TaxRateFactory(country="DE", tax_class=TaxClass.REDUCED, rate=Decimal("0.10"))
    variant = ProductVariantFactory(
        product=ProductFactory(seller=market.alpha, tax_class=TaxClass.REDUCED),
        price=Decimal("4.15"),
    )
    stock_with(variant=variant, on_hand=10)
    return variant


def _api_cart(market, reduced) -> dict:
    client = APIClient()
    client.force_authenticate(UserFactory())
    for variant, qty in [(market.a1, 2), (reduced, 1)]:
        client.post(
            "/api/v1/cart/lines/", {"variant_id": variant.pk, "quantity": qty}, format="json"
        )
    return client.get("/api/v1/cart/").json()


def test_api_cart_shows_prices_with_default_country_tax(market, reduced, inclusive):
    body = _api_cart(market, reduced)
    totals = body["totals"]
    lines = {line["sku"]: line for seller in totals["sellers"] for line in seller["lines"]}
    assert totals["prices_include_tax"] is True
    # a1: 10.00 -> 11.90; 2 x 10.00 = 20.00 + tax 3.80 = 23.80
    assert lines[market.a1.sku]["unit_price_incl_tax"] == "11.90"
    assert lines[market.a1.sku]["total"] == "23.80"
    # book: 4.15 -> 4.57; tax 0.415 -> 0.42, line 4.57
    assert lines[reduced.sku]["unit_price_incl_tax"] == "4.57"
    assert lines[reduced.sku]["total"] == "4.57"
    # goods 24.15 + tax 4.22 = 28.37
    assert (totals["goods_total_incl_tax"], totals["tax_total"]) == ("28.37", "4.22")


def test_api_cart_is_tax_exclusive_by_default(market, reduced):
    totals = _api_cart(market, reduced)["totals"]
    assert totals["prices_include_tax"] is False
    assert (totals["subtotal"], totals["tax_total"]) == ("24.15", "0.00")


def test_checkout_total_is_the_same_with_either_display(market, settings):
    checkout = market.ready_checkout()
    settings.SHOP_PRICES_INCLUDE_TAX = False
    exclusive = checkout_price(checkout=checkout)
    settings.SHOP_PRICES_INCLUDE_TAX = True
    settings.SHOP_TAX_DISPLAY_COUNTRY = "FR"  # the address (DE) wins over the default
    inclusive = checkout_price(checkout=checkout)
    # 2 x 10 + 5 + 20 = 45.00, tax 8.55, shipping 10 -> 63.55
    assert exclusive.total == inclusive.total == Decimal("63.55")
    assert inclusive.tax_total == Decimal("8.55")


def test_product_page_and_listing_show_prices_with_tax(market, inclusive, client):
    product = market.a1.product
    page = client.get(f"/p/{product.slug}/").content.decode()
    assert "$11.90" in page and "incl. tax" in page
    assert 'data-price="$11.90"' in page
    listing = client.get(f"/s/{market.alpha.slug}/").content.decode()
    assert "$11.90" in listing and "$5.95" in listing


def test_product_page_shows_the_net_price_when_display_is_exclusive(market, client):
    page = client.get(f"/p/{market.a1.product.slug}/").content.decode()
    assert "$10.00" in page and "incl. tax" not in page


def test_review_shows_the_destination_rate_not_the_default(market, inclusive, client):
    TaxRateFactory(country="FR", tax_class="standard", rate=Decimal("0.20"))
    inclusive.SHOP_TAX_DISPLAY_COUNTRY = "FR"
    token = checkout_to_review(market, client)  # ships to DE
    review = client.get(f"/checkout/{token}/review/").content.decode()
    assert "$11.90" in review  # a1 at DE 19%, not FR 20% (12.00)
    assert "$12.00" not in review
    # 10 + 20 = 30 + tax 5.70 = 35.70 goods; + shipping 10 = 45.70, as without the setting
    assert "$35.70" in review and "$45.70" in review


def test_cart_page_shows_the_default_country_total_with_tax(market, inclusive, client):
    client.post("/cart/add/", {"variant": market.a1.pk, "quantity": "2"})
    page = client.get("/cart/").content.decode()
    assert "$11.90" in page  # unit
    assert "$23.80" in page  # line and total incl. tax
    assert "Includes tax" in page
