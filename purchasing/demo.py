"""Demo purchasing data for `seed_demo`: the first demo seller gets a supplier selling its first
variants (cost half the price, MOQ 10, cases of 6) and a markdown pricing rule, so the
purchasing pages have something to show after `make run` (forecasts come with the first run)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from catalog.models import ProductVariant
from purchasing.models import PricingStrategy, Supplier
from purchasing.services import pricing_rule_save, supplier_item_set, supplier_save
from sellers.models import Seller

DEMO_ITEMS = 20


@dataclass(frozen=True)
class DemoPurchasing:
    suppliers: int
    items: int
    rules: int


def demo_purchasing_seed(*, sellers: list[Seller]) -> DemoPurchasing:
    if not sellers or Supplier.objects.filter(seller=sellers[0]).exists():
        return DemoPurchasing(0, 0, 0)
    seller = sellers[0]
    supplier = supplier_save(
        seller=seller,
        name="Demo Wholesale",
        email="orders@wholesale.example.com",
        lead_time_days=7,
        lead_time_sd_days=Decimal("1.5"),
    )
    variants = list(
        ProductVariant.objects.filter(product__seller=seller, price__gt=1).order_by("pk")[
            :DEMO_ITEMS
        ]
    )
    for variant in variants:
        supplier_item_set(
            supplier=supplier,
            variant_id=variant.pk,
            cost_price=(variant.price / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            min_order_quantity=10,
            case_pack=6,
        )
    rules = 0
    if variants:
        first = variants[0]
        pricing_rule_save(
            seller=seller,
            variant_id=first.pk,
            strategy=PricingStrategy.MARKDOWN_AGEING,
            floor_price=(first.price * Decimal("0.6")).quantize(Decimal("0.01")),
            ceiling_price=(first.price * Decimal("1.2")).quantize(Decimal("0.01")),
            min_margin_percent=Decimal("10"),
            max_change_percent=Decimal("3"),
            step_percent=Decimal("2"),
            cover_days=60,
        )
        rules = 1
    return DemoPurchasing(1, len(variants), rules)
