"""Totals against a table computed by hand (see each figure's derivation in the comments)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import TaxClass, VariantSalePrice
from pricing.models import DiscountKind, ShippingKind
from pricing.totals import Destination, DiscountApplied, PricingLine, pricing_compute
from shop.core.errors import ValidationError
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductVariantFactory,
    SellerFactory,
)
from tests.factories.orders import (
    PromotionFactory,
    ShippingMethodFactory,
    TaxRateFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def basket():
    alpha = SellerFactory(name="Alpha")
    beta = SellerFactory(name="Beta")
    parent = CategoryFactory(name="Outdoor")
    child = CategoryFactory(name="Tents", parent=parent)
    a1 = ProductVariantFactory(product=ProductFactory(seller=alpha), price=D("10.00"))
    a2 = ProductVariantFactory(
        product=ProductFactory(seller=alpha, tax_class=TaxClass.REDUCED), price=D("5.55")
    )
    b1 = ProductVariantFactory(
        product=ProductFactory(seller=beta, category=child), price=D("20.00"), weight_grams=700
    )
    VariantSalePrice.objects.create(
        variant=b1, sale_price=D("15.00"), starts_at=timezone.now() - timedelta(hours=1)
    )
    PromotionFactory(category=parent, kind=DiscountKind.PERCENTAGE, value=D("10"))
    TaxRateFactory(country="DE", tax_class=TaxClass.STANDARD, rate=D("0.19"))
    TaxRateFactory(country="DE", tax_class=TaxClass.REDUCED, rate=D("0.07"))
    ship_a = ShippingMethodFactory(seller=alpha, price=D("4.99"), free_above=D("100"))
    ship_b = ShippingMethodFactory(
        seller=beta, kind=ShippingKind.WEIGHT, price=D("3.00"), price_per_kg=D("1.50")
    )
    VoucherFactory(code="SAVE10", value=D("10"), min_spend=D("50"))
    return {
        "alpha": alpha,
        "beta": beta,
        "a1": a1,
        "a2": a2,
        "b1": b1,
        "lines": [PricingLine(a1.pk, 3), PricingLine(a2.pk, 1), PricingLine(b1.pk, 2)],
        "shipping": {alpha.pk: ship_a.pk, beta.pk: ship_b.pk},
    }


def test_mixed_sellers_taxes_discounts_and_shipping_match_the_hand_computed_table(basket):
    result = pricing_compute(
        lines=basket["lines"],
        destination=Destination("DE"),
        voucher_code="save10",
        shipping_choices=basket["shipping"],
    )
    by_variant = {line.variant.pk: line for line in result.lines}
    # variant: unit, subtotal, promotion, voucher share, tax, line total
    # a1: 3 x 10.00; voucher share 30/62.55 of 6.26 = 3.002 -> 3.00; tax 27.00 x 19% = 5.13
    # a2: 5.55; share 0.5554 -> 0.55 + the one leftover cent (largest remainder) = 0.56;
    #     tax 4.99 x 7% = 0.3493 -> 0.35
    # b1: sale 15.00 x 2 = 30.00; promotion 10% on the parent category = 3.00;
    #     share 27/62.55 of 6.26 = 2.702 -> 2.70; tax 24.30 x 19% = 4.617 -> 4.62
    expected = {
        basket["a1"].pk: (D("10.00"), D("30.00"), D("0.00"), D("3.00"), D("5.13"), D("32.13")),
        basket["a2"].pk: (D("5.55"), D("5.55"), D("0.00"), D("0.56"), D("0.35"), D("5.34")),
        basket["b1"].pk: (D("15.00"), D("30.00"), D("3.00"), D("2.70"), D("4.62"), D("28.92")),
    }
    for variant_id, row in expected.items():
        line = by_variant[variant_id]
        got = (
            line.unit_price,
            line.subtotal,
            line.promotion_discount,
            line.voucher_discount,
            line.tax,
            line.total,
        )
        assert got == row, variant_id

    alpha, beta = result.sellers
    # Alpha: flat 4.99 (31.99 is under the 100.00 threshold); Beta: 1.4 kg -> 2 kg started,
    # 3.00 + 2 x 1.50 = 6.00
    assert (alpha.shipping, beta.shipping) == (D("4.99"), D("6.00"))
    assert (alpha.total, beta.total) == (D("42.46"), D("34.92"))
    # voucher: 10% of (30.00 + 5.55 + 27.00) = 6.255 -> 6.26 (half up)
    assert result.discounts == [
        DiscountApplied("promotion", result.lines[-1].promotion, D("3.00")),
        DiscountApplied("voucher", "SAVE10", D("6.26")),
    ]
    assert result.subtotal == D("65.55")
    assert result.discount_total == D("9.26")
    assert result.shipping_total == D("10.99")
    assert result.tax_total == D("10.10")
    assert result.total == D("77.38")
    assert result.voucher_error == ""
    assert result.missing_shipping == []


def test_voucher_below_minimum_spend_is_reported_and_not_applied(basket):
    result = pricing_compute(
        lines=[PricingLine(basket["a1"].pk, 1)],
        destination=Destination("DE"),
        voucher_code="SAVE10",
        shipping_choices=basket["shipping"],
    )
    assert "at least 50.00" in result.voucher_error
    assert result.discount_total == D("0.00")
    assert result.total == D("10.00") + D("1.90") + D("4.99")


def test_region_rate_wins_and_free_shipping_threshold_applies(basket):
    TaxRateFactory(country="DE", region="BY", tax_class=TaxClass.STANDARD, rate=D("0.20"))
    result = pricing_compute(
        lines=[PricingLine(basket["a1"].pk, 10)],
        destination=Destination("DE", "by"),
        shipping_choices=basket["shipping"],
    )
    (line,) = result.lines
    assert line.tax_rate == D("0.20")
    assert line.tax == D("20.00")
    assert result.shipping_total == D("0.00")  # 100.00 reaches the free-shipping threshold


def test_seller_voucher_discounts_only_that_sellers_lines(basket):
    VoucherFactory(code="BETA5", kind=DiscountKind.FIXED, value=D("5"), seller=basket["beta"])
    result = pricing_compute(lines=basket["lines"], voucher_code="BETA5")
    by_variant = {line.variant.pk: line for line in result.lines}
    assert by_variant[basket["a1"].pk].voucher_discount == D("0")
    assert by_variant[basket["b1"].pk].voucher_discount == D("5.00")
    assert result.missing_shipping == [basket["alpha"].pk, basket["beta"].pk]


def test_price_change_since_added_is_flagged(basket):
    result = pricing_compute(lines=[PricingLine(basket["b1"].pk, 1, price_at_add=D("20.00"))])
    assert result.lines[0].price_changed


def test_unknown_variant_is_rejected():
    with pytest.raises(ValidationError):
        pricing_compute(lines=[PricingLine(999999, 1)])
