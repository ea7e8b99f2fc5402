"""A small catalog whose matches and facet counts are counted by hand in the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import AttributeType, Product, ProductStatus
from search.services import search_index_rebuild
from sellers.models import SellerStatus
from tests.factories import (
    AttributeChoiceFactory,
    AttributeFactory,
    CategoryFactory,
    ProductFactory,
    ProductVariantFactory,
    SellerFactory,
    VariantAttributeValueFactory,
)


@dataclass
class Catalog:
    products: dict[str, Product]
    categories: dict
    sellers: dict


def _product(name, *, category, seller, price, colour=None, waterproof=None, **extra):
    product = ProductFactory(name=name, category=category, seller=seller, **extra)
    variant = ProductVariantFactory(
        product=product, price=Decimal(price), sku="SKU-" + name.upper().replace(" ", "-")
    )
    if colour is not None:
        VariantAttributeValueFactory(variant=variant, attribute=colour.attribute, choice=colour)
    if waterproof is not None:
        VariantAttributeValueFactory(
            variant=variant, attribute=waterproof.attribute, value_boolean=waterproof.value
        )
    return product


@dataclass
class Flag:
    attribute: object
    value: bool


@pytest.fixture
def catalog(db) -> Catalog:
    from catalog.models import VariantSalePrice

    clothing = CategoryFactory(name="Clothing", slug="clothing")
    shirts = CategoryFactory(name="Shirts", slug="shirts", parent=clothing)
    shoes = CategoryFactory(name="Shoes", slug="shoes", parent=clothing)
    electronics = CategoryFactory(name="Electronics", slug="electronics")
    alpha = SellerFactory(name="Alpha", slug="alpha")
    beta = SellerFactory(name="Beta", slug="beta")
    gamma = SellerFactory(name="Gamma", slug="gamma", status=SellerStatus.SUSPENDED)
    colour = AttributeFactory(name="Colour", slug="colour", type=AttributeType.CHOICE)
    red = AttributeChoiceFactory(attribute=colour, value="Red", slug="red")
    blue = AttributeChoiceFactory(attribute=colour, value="Blue", slug="blue")
    waterproof = AttributeFactory(name="Waterproof", slug="waterproof", type=AttributeType.BOOLEAN)
    is_waterproof = Flag(waterproof, True)

    now = timezone.now()
    products = {
        "blue_shirt": _product(
            "Blue Cotton Shirt",
            category=shirts,
            seller=alpha,
            price="20.00",
            colour=blue,
            published_at=now - timedelta(days=3),
        ),
        "red_shirt": _product(
            "Red Linen Shirt",
            category=shirts,
            seller=beta,
            price="40.00",
            colour=red,
            published_at=now - timedelta(days=2),
        ),
        "shoe": _product(
            "Trail Running Shoe",
            category=shoes,
            seller=alpha,
            price="120.00",
            colour=red,
            waterproof=is_waterproof,
            published_at=now - timedelta(days=1),
        ),
        "lamp": _product(
            "Desk Lamp",
            category=electronics,
            seller=beta,
            price="30.00",
            description="Bright light.",
        ),
        "light": _product(
            "Reading Light",
            category=electronics,
            seller=alpha,
            price="60.00",
            description="Better than a desk lamp for reading.",
        ),
        "archived": _product(
            "Blue Archived Shirt",
            category=shirts,
            seller=alpha,
            price="20.00",
            status=ProductStatus.ARCHIVED,
        ),
        "suspended": _product("Blue Suspended Shirt", category=shirts, seller=gamma, price="20.00"),
        "draft": _product(
            "Blue Draft Shirt",
            category=shirts,
            seller=alpha,
            price="20.00",
            status=ProductStatus.DRAFT,
        ),
    }
    red_variant = products["red_shirt"].variants.get()
    VariantSalePrice.objects.create(
        variant=red_variant, sale_price=Decimal("8.00"), starts_at=now - timedelta(hours=1)
    )
    search_index_rebuild()
    return Catalog(
        products=products,
        categories={
            "clothing": clothing,
            "shirts": shirts,
            "shoes": shoes,
            "electronics": electronics,
        },
        sellers={"alpha": alpha, "beta": beta, "gamma": gamma},
    )
