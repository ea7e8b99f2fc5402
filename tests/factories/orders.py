"""Factories for carts, pricing rules and orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from pricing.models import DiscountKind, Promotion, ShippingKind, ShippingMethod, TaxRate, Voucher
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


def sold_seller_order(
    *,
    seller,
    placed_at,
    total: Decimal = Decimal("10.00"),
    line_total: Decimal | None = None,
    status: str = "paid",
    user=None,
    variant=None,
    currency: str = "USD",
    delivered_at=None,
):
    """An order placed at `placed_at` with one seller order of `total` (one line of
    `line_total`, default the whole total; delivered at `delivered_at` if given), paid at
    placement: the paid event is recorded like `order_place` does. Further status events:
    `seller_order_event`."""
    from orders.models import Order, OrderLine, OrderStatus, SellerOrder
    from tests.factories import ProductFactory, ProductVariantFactory, UserFactory

    user = user or UserFactory()
    variant = variant or ProductVariantFactory(product=ProductFactory(seller=seller))
    order = Order.objects.create(
        number=f"T{Order.objects.count() + 1:08d}",
        user=user,
        email=user.email,
        currency=currency,
        total=total,
        placed_at=placed_at,
        status=OrderStatus.PAID,
    )
    seller_order = SellerOrder.objects.create(
        order=order,
        seller=seller,
        currency=currency,
        subtotal=total,
        total=total,
        status=status,
        delivered_at=delivered_at,
    )
    OrderLine.objects.create(
        order=order,
        seller_order=seller_order,
        variant=variant,
        sku=variant.sku,
        product_name=variant.product.name,
        quantity=1,
        unit_price=line_total or total,
        subtotal=line_total or total,
        total=line_total or total,
    )
    if status != OrderStatus.PENDING_PAYMENT:
        seller_order_event(
            seller_order, OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, at=placed_at
        )
    return seller_order


def seller_order_event(seller_order, from_status: str, to_status: str, *, at, actor=None):
    """A recorded status change at a chosen time (`created_at` is auto_now_add, so it is set
    with an UPDATE after the insert)."""
    from orders.models import OrderEvent

    event = OrderEvent.objects.create(
        order_id=seller_order.order_id,
        seller_order=seller_order,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
    )
    OrderEvent.objects.filter(pk=event.pk).update(created_at=at)
    return event
