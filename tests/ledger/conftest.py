from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.models import CommissionRule
from orders.models import FraudStatus, Order, SellerOrder
from tests.factories import CategoryFactory, ProductFactory, ProductVariantFactory
from tests.factories.inventory import stock_with
from tests.orders.conftest import Market


class LedgerMarket(Market):
    """The orders tests' market (Alpha: a1 10.00, a2 5.00, shipping 4.00; Beta: b1 20.00,
    shipping 6.00; 19% tax on goods, none on shipping) with commission rules:
    - a platform default: 12%;
    - a1's category sits under "Home", which has a rule: 15% + 0.30 per unit;
    - Beta has a rule of its own (8%) and one for b1's category (5%)."""

    def __init__(self) -> None:
        super().__init__()
        self.home = CategoryFactory(name="Home")
        self.kitchen = CategoryFactory(name="Kitchen", parent=self.home)
        self.a1.product.category = self.kitchen
        self.a1.product.save(update_fields=["category"])
        CommissionRule.objects.create(rate=Decimal("0.12"), note="platform default")
        CommissionRule.objects.create(
            category=self.home, rate=Decimal("0.15"), fixed=Decimal("0.30")
        )
        CommissionRule.objects.create(seller=self.beta, rate=Decimal("0.08"))
        CommissionRule.objects.create(
            seller=self.beta, category=self.b1.product.category, rate=Decimal("0.05")
        )

    def variant(self, seller, price: str):
        variant = ProductVariantFactory(product=ProductFactory(seller=seller), price=Decimal(price))
        self.stocks[variant.pk] = stock_with(variant=variant, on_hand=10)
        return variant


@pytest.fixture
def ledger_market(db):
    return LedgerMarket()


def deliver_and_approve(order: Order, *, days_ago: int = 30) -> None:
    """What fulfilment and the fraud check do (built elsewhere): delivered long enough ago for
    the return window to be over, and approved."""
    Order.objects.filter(pk=order.pk).update(fraud_status=FraudStatus.APPROVED)
    SellerOrder.objects.filter(order=order).update(
        delivered_at=timezone.now() - timedelta(days=days_ago)
    )
