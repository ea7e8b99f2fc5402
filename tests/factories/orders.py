"""Factories for carts, pricing rules and orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import (
    DiscountKind,
    Promotion,
    ShippingKind,
    ShippingMethod,
    TaxRate,
    Voucher,
)
from tests.factories import SellerFactory


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    country = "DE"
    region = ""
    tax_class = "standard"
    rate = Decimal("0.1900")


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingMethod

    seller = factory.SubFactory(SellerFactory)
    name = "Standard"
    kind = ShippingKind.FLAT
    price = Decimal("4.99")


class VoucherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Voucher

    code = factory.Sequence(lambda n: f"CODE{n}")
    kind = DiscountKind.PERCENTAGE
    value = Decimal("10")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


class PromotionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Promotion

    name = factory.Sequence(lambda n: f"Promotion {n}")
    kind = DiscountKind.PERCENTAGE
    value = Decimal("10")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
