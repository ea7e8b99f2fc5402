from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import ProductStatus
from catalog.selectors import (
    ProductFilters,
    ProductSort,
    category_ancestors,
    category_subtree,
    product_get_public,
    product_list,
)
from catalog.services import category_create, category_move, sale_price_schedule
from sellers.models import SellerStatus
from shop.core.errors import NotFound, ValidationError
from tests.factories import ProductFactory, ProductVariantFactory, SellerFactory

pytestmark = pytest.mark.django_db


def test_subtree_and_breadcrumbs_follow_moves():
    root = category_create(name="Home")
    kitchen = category_create(name="Kitchen", parent=root)
    knives = category_create(name="Knives", parent=kitchen)
    garden = category_create(name="Garden")

    assert set(category_subtree(category=root)) == {root, kitchen, knives}
    assert category_ancestors(category=knives) == [root, kitchen, knives]

    category_move(category=kitchen, new_parent=garden)
    knives.refresh_from_db()
    assert category_ancestors(category=knives) == [garden, kitchen, knives]
    assert knives.depth == 2
    assert set(category_subtree(category=root)) == {root}


def test_category_cannot_move_under_its_own_descendant():
    root = category_create(name="Root")
    child = category_create(name="Child", parent=root)
    with pytest.raises(ValidationError):
        category_move(category=root, new_parent=child)


def test_price_from_uses_live_sale_price_and_sorts_by_it():
    cheap_on_sale = ProductVariantFactory(price=Decimal("50.00")).product
    ProductVariantFactory(product=cheap_on_sale, price=Decimal("70.00"))
    mid = ProductVariantFactory(price=Decimal("30.00")).product
    now = timezone.now()
    sale_price_schedule(
        variant=cheap_on_sale.variants.order_by("price").first(),
        sale_price=Decimal("20.00"),
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
    )

    listed = list(product_list(filters=ProductFilters(sort=ProductSort.PRICE_ASC)))
    assert [p.pk for p in listed] == [cheap_on_sale.pk, mid.pk]
    assert listed[0].price_from == Decimal("20.00")

    after_sale = list(product_list(at=now + timedelta(hours=2)))
    prices = {p.pk: p.price_from for p in after_sale}
    assert prices[cheap_on_sale.pk] == Decimal("50.00")


def test_hidden_products_are_not_public():
    draft = ProductVariantFactory(product__status=ProductStatus.DRAFT).product
    suspended = ProductVariantFactory(
        product__seller=SellerFactory(status=SellerStatus.SUSPENDED)
    ).product
    no_variant = ProductFactory()
    visible = ProductVariantFactory().product

    assert [p.pk for p in product_list()] == [visible.pk]
    for hidden in (draft, suspended, no_variant):
        with pytest.raises(NotFound):
            product_get_public(slug=hidden.slug)
