"""Dynamic pricing: a preview first, then changes recorded with their reason; never under the
floor (raised to cost + margin), never over the ceiling, at most the day's allowance, and never
while an open checkout holds the variant (checkout charges the price in force at placement)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import ProductVariant
from inventory.services import ReserveLine, stock_release, stock_reserve
from purchasing.models import DemandForecast, PriceChange, PricingStrategy
from purchasing.services import (
    pricing_apply,
    pricing_preview,
    pricing_rule_save,
    rule_floor,
)
from shop.core.errors import ValidationError


def _demand(shop, *, mean_daily: str, available: int) -> None:
    DemandForecast.objects.update_or_create(
        stock=shop.stock,
        defaults={
            "seller": shop.seller,
            "model": "test",
            "mean_daily": Decimal(mean_daily),
            "sigma_daily": Decimal("0"),
            "available": available,
        },
    )


def _rule(shop, **values):
    defaults = {
        "strategy": PricingStrategy.RAISE_LOW_COVER,
        "floor_price": Decimal("10.00"),
        "ceiling_price": Decimal("21.00"),
        "max_change_percent": Decimal("5"),
        "step_percent": Decimal("10"),
        "cover_days": 14,
    }
    defaults.update(values)
    return pricing_rule_save(seller=shop.seller, variant_id=shop.variant.pk, **defaults)


def test_a_floor_under_cost_plus_margin_is_refused(shop):
    # cost 8.00 + 30% = 10.40
    with pytest.raises(ValidationError) as exc:
        _rule(shop, floor_price=Decimal("10.00"), min_margin_percent=Decimal("30"))
    assert "10.40" in exc.value.fields["floor_price"][0]


def test_low_cover_raises_within_the_daily_allowance_and_the_ceiling(shop):
    rule = _rule(shop)
    _demand(shop, mean_daily="10", available=50)  # 5 days of cover < 14
    [proposal] = pricing_preview(seller=shop.seller)
    # target 20.00 + 10% = 22.00; today's allowance 5% -> 21.00, also the ceiling
    assert (proposal.current, proposal.proposed) == (Decimal("20.00"), Decimal("21.00"))
    assert "5.0 days of cover" in proposal.reason
    assert ProductVariant.objects.get(pk=shop.variant.pk).price == Decimal("20.00")  # preview
    [change] = pricing_apply(seller=shop.seller)
    assert (change.old_price, change.new_price, change.rule) == (
        Decimal("20.00"),
        Decimal("21.00"),
        rule,
    )
    assert ProductVariant.objects.get(pk=shop.variant.pk).price == Decimal("21.00")
    # the same day, at the ceiling: nothing more
    assert pricing_apply(seller=shop.seller) == []


def test_the_days_allowance_counts_from_the_opening_price(shop):
    _rule(shop, ceiling_price=Decimal("40.00"))
    _demand(shop, mean_daily="10", available=50)
    pricing_apply(seller=shop.seller)  # 20 -> 21 (5% of 20)
    assert pricing_apply(seller=shop.seller) == []  # still 5% of the day's opening 20
    assert ProductVariant.objects.get(pk=shop.variant.pk).price == Decimal("21.00")


def test_no_price_changes_while_an_open_checkout_holds_the_variant(shop):
    _rule(shop)
    _demand(shop, mean_daily="10", available=50)
    stock_reserve(holder="checkout:open", lines=[ReserveLine(shop.variant.pk, 1)])
    [proposal] = pricing_preview(seller=shop.seller)
    assert proposal.blocked and not proposal.changes
    assert pricing_apply(seller=shop.seller) == []
    assert ProductVariant.objects.get(pk=shop.variant.pk).price == Decimal("20.00")
    stock_release(holder="checkout:open")
    assert len(pricing_apply(seller=shop.seller)) == 1


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    strategy=st.sampled_from(list(PricingStrategy)),
    floor=st.decimals(min_value=Decimal("9"), max_value=Decimal("30"), places=2),
    spread=st.decimals(min_value=Decimal("0"), max_value=Decimal("20"), places=2),
    mean_daily=st.sampled_from(["0", "0.5", "3", "20"]),
    available=st.integers(min_value=0, max_value=500),
    max_change=st.decimals(min_value=Decimal("0.5"), max_value=Decimal("50"), places=1),
    step=st.decimals(min_value=Decimal("0.5"), max_value=Decimal("50"), places=1),
    runs=st.integers(min_value=1, max_value=3),
)
def test_applied_prices_never_leave_the_rules_bounds(
    shop, strategy, floor, spread, mean_daily, available, max_change, step, runs
):
    """Whatever the rule and the demand: every recorded price lies within [floor (raised to
    cost + margin), ceiling]."""
    PriceChange.objects.all().delete()
    ProductVariant.objects.filter(pk=shop.variant.pk).update(price=Decimal("20.00"))
    from purchasing.models import PricingRule

    PricingRule.objects.all().delete()
    rule = _rule(
        shop,
        strategy=strategy,
        floor_price=floor,
        ceiling_price=floor + spread,
        max_change_percent=max_change,
        step_percent=step,
    )
    _demand(shop, mean_daily=mean_daily, available=available)
    for _ in range(runs):
        pricing_apply(seller=shop.seller)
    low, high = rule_floor(rule=rule), rule.ceiling_price
    for change in PriceChange.objects.all():
        assert low <= change.new_price <= high


def test_a_category_rule_prices_its_variants_except_those_with_their_own_rule(shop):
    from tests.factories import ProductVariantFactory

    category = shop.variant.product.category
    sibling = ProductVariantFactory(product__seller=shop.seller, product__category=category)
    elsewhere = ProductVariantFactory(product__seller=shop.seller)
    foreign = ProductVariantFactory(product__category=category)  # another shop's
    for variant in (sibling, elsewhere, foreign):
        assert variant.price == Decimal("19.99")
    pricing_rule_save(
        seller=shop.seller,
        category_id=category.pk,
        strategy=PricingStrategy.MARKDOWN_AGEING,
        floor_price=Decimal("5.00"),
        ceiling_price=Decimal("50.00"),
        step_percent=Decimal("10"),
        max_change_percent=Decimal("10"),
    )
    _rule(shop, strategy=PricingStrategy.RAISE_LOW_COVER)  # shop.variant's own rule
    proposals = {p.variant.pk: p for p in pricing_preview(seller=shop.seller)}
    assert set(proposals) == {shop.variant.pk, sibling.pk}
    assert proposals[shop.variant.pk].rule.variant_id == shop.variant.pk
    assert proposals[sibling.pk].rule.category_id == category.pk
    # one rule per category and seller
    with pytest.raises(ValidationError):
        pricing_rule_save(
            seller=shop.seller,
            category_id=category.pk,
            strategy=PricingStrategy.MARKDOWN_AGEING,
            floor_price=Decimal("5.00"),
            ceiling_price=Decimal("50.00"),
        )
    with pytest.raises(ValidationError):  # both a variant and a category
        pricing_rule_save(
            seller=shop.seller,
            variant_id=sibling.pk,
            category_id=category.pk,
            strategy=PricingStrategy.MARKDOWN_AGEING,
            floor_price=Decimal("5.00"),
            ceiling_price=Decimal("50.00"),
        )
