"""Shipping zones per method, shipping taxed where the destination taxes it, the tax table loaded
from data, and a pluggable tax provider."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from orders.selectors import shipping_options
from orders.services import checkout_set_shipping
from orders.services.shipping import shipping_method_create
from orders.services.taxes import tax_rates_load
from pricing.models import TaxRate
from pricing.totals import Destination, PricingLine, pricing_compute
from shop.core.errors import ValidationError
from tests.factories import ProductFactory, ProductVariantFactory, SellerFactory
from tests.factories.orders import TaxRateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    seller = SellerFactory()
    variant = ProductVariantFactory(product=ProductFactory(seller=seller), price=Decimal("100"))
    domestic = shipping_method_create(
        seller=seller, name="Domestic", kind="flat", price=Decimal("10"), countries=["de"]
    )
    abroad = shipping_method_create(
        seller=seller, name="Abroad", kind="flat", price=Decimal("30"), countries=["US", "FR"]
    )
    anywhere = shipping_method_create(
        seller=seller, name="Anywhere", kind="flat", price=Decimal("50")
    )
    return seller, variant, domestic, abroad, anywhere


def _price(variant, method, country, region=""):
    return pricing_compute(
        lines=[PricingLine(variant.pk, 1)],
        destination=Destination(country, region),
        shipping_choices={variant.product.seller_id: method.pk},
    )


def test_checkout_offers_the_methods_whose_zone_includes_the_destination(shop):
    seller, variant, domestic, abroad, anywhere = shop
    assert domestic.countries == ["DE"] and abroad.countries == ["FR", "US"]
    assert shipping_options(seller_ids=[seller.pk], country="DE")[seller.pk] == [domestic, anywhere]
    assert shipping_options(seller_ids=[seller.pk], country="us")[seller.pk] == [abroad, anywhere]
    # a method chosen for another destination is missing, not priced
    assert _price(variant, domestic, "US").missing_shipping == [seller.pk]
    assert _price(variant, abroad, "US").shipping_total == Decimal("30.00")


def test_a_zone_takes_only_countries_it_knows(shop):
    seller = shop[0]
    with pytest.raises(ValidationError) as caught:
        shipping_method_create(
            seller=seller, name="X", kind="flat", price=Decimal("1"), countries=["XX"]
        )
    assert "countries" in caught.value.fields


def test_shipping_is_taxed_where_the_destination_taxes_it(shop):
    _, variant, domestic, abroad, _ = shop
    TaxRateFactory(country="DE", tax_class="standard", rate=Decimal("0.19"))
    TaxRateFactory(country="DE", tax_class="shipping", rate=Decimal("0.19"))
    TaxRateFactory(country="US", region="CA", tax_class="standard", rate=Decimal("0.0725"))
    germany = _price(variant, domestic, "DE")
    # 100 + 19 tax on the goods, 10 shipping + 1.90 tax on it
    assert (germany.shipping_tax_total, germany.tax_total, germany.total) == (
        Decimal("1.90"),
        Decimal("20.90"),
        Decimal("130.90"),
    )
    assert germany.goods_total_incl_tax == Decimal("119.00")
    california = _price(variant, abroad, "US", "CA")  # California does not tax shipping
    assert (california.shipping_tax_total, california.total) == (Decimal("0"), Decimal("137.25"))


def test_the_tax_table_is_loaded_from_data(tmp_path):
    result = tax_rates_load()
    assert result.rates > 50
    assert TaxRate.objects.get(country="DE", region="", tax_class="shipping").rate == Decimal(
        "0.19"
    )
    assert TaxRate.objects.get(country="US", region="NY", tax_class="standard").rate == Decimal(
        "0.04"
    )
    assert not TaxRate.objects.filter(country="US", region="CA", tax_class="shipping").exists()
    again = tax_rates_load()
    assert again.rates == result.rates
    assert TaxRate.objects.count() == result.rates
    # the file is the truth for what it lists: shipping no longer taxed in DE
    custom = tmp_path / "rates.json"
    row = {"country": "de", "region": "", "standard": "0.19", "reduced": "0.07", "zero": "0"}
    custom.write_text(json.dumps({"rates": [row]}))
    assert tax_rates_load(path=custom).removed == 1
    assert not TaxRate.objects.filter(country="DE", tax_class="shipping").exists()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rates": [{**row, "standard": "19"}]}))
    with pytest.raises(ValidationError):
        tax_rates_load(path=bad)


class FlatTaxService:
    """A stand-in tax service: 10% on everything, shipping included."""

    def rates(self, *, destination):
        return {"standard": Decimal("0.10"), "shipping": Decimal("0.10")}


def test_a_tax_service_plugs_in_through_settings(shop, settings):
    _, variant, domestic, _, _ = shop
    settings.SHOP_TAX_PROVIDER = "tests.orders.test_taxes_and_zones.FlatTaxService"
    priced = _price(variant, domestic, "DE")
    assert priced.tax_total == Decimal("11.00")


def test_choosing_a_method_that_does_not_ship_to_the_address_is_refused(market):
    from orders.services.shipping import shipping_method_update

    checkout = market.ready_checkout()
    shipping_method_update(
        method=market.ship_alpha,
        name=market.ship_alpha.name,
        kind="flat",
        price=Decimal("4.00"),
        countries=["FR"],
    )
    with pytest.raises(ValidationError, match="does not ship to Germany"):
        checkout_set_shipping(
            checkout=checkout,
            choices={market.alpha.pk: market.ship_alpha.pk, market.beta.pk: market.ship_beta.pk},
        )
