"""factory_boy factories shared by every app's tests. Apps add their own modules beside this one
(tests/factories/inventory.py, ...) and import the base factories from here."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Address, User
from catalog.models import (
    Attribute,
    AttributeChoice,
    AttributeType,
    Category,
    Product,
    ProductStatus,
    ProductType,
    ProductVariant,
    VariantAttributeValue,
)
from sellers.models import MemberRole, Seller, SellerMember, SellerStatus

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    full_name = factory.Faker("name")
    line1 = factory.Faker("street_address")
    city = "Berlin"
    postal_code = "10115"
    country = "DE"
    latitude = Decimal("52.520008")
    longitude = Decimal("13.404954")


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    name = factory.Sequence(lambda n: f"Seller {n}")
    slug = factory.Sequence(lambda n: f"seller-{n}")
    status = SellerStatus.APPROVED
    approved_at = factory.LazyFunction(timezone.now)


class SellerMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SellerMember

    seller = factory.SubFactory(SellerFactory)
    user = factory.SubFactory(UserFactory)
    role = MemberRole.OWNER


class CategoryFactory(factory.django.DjangoModelFactory):
    """Goes through `category_create` so the materialized path is right."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from catalog.services import category_create

        return category_create(**kwargs)


class AttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attribute

    name = factory.Sequence(lambda n: f"Attribute {n}")
    slug = factory.Sequence(lambda n: f"attribute-{n}")


class AttributeChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttributeChoice

    attribute = factory.SubFactory(AttributeFactory, type="choice")
    value = factory.Sequence(lambda n: f"Value {n}")
    slug = factory.Sequence(lambda n: f"value-{n}")


class ProductTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductType

    name = factory.Sequence(lambda n: f"Type {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    seller = factory.SubFactory(SellerFactory)
    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    brand = "Acme"
    description = "A fine product."
    status = ProductStatus.ACTIVE
    published_at = factory.LazyFunction(timezone.now)


class ProductVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    name = factory.Sequence(lambda n: f"Variant {n}")
    price = Decimal("19.99")
    weight_grams = 500


class VariantAttributeValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VariantAttributeValue

    variant = factory.SubFactory(ProductVariantFactory)
    attribute = factory.SubFactory(AttributeFactory)


def product_type_with_each_attribute_type(
    *,
    name: str,
    choice: str,
    options: tuple[str, ...],
    number: str,
    unit: str,
    boolean: str,
    text: str,
) -> ProductType:
    """A product type carrying one attribute of each `AttributeType`, slugs from their names."""
    attributes = [
        AttributeFactory(name=choice, slug=choice.lower(), type=AttributeType.CHOICE),
        AttributeFactory(name=number, slug=number.lower(), type=AttributeType.NUMBER, unit=unit),
        AttributeFactory(name=boolean, slug=boolean.lower(), type=AttributeType.BOOLEAN),
        AttributeFactory(name=text, slug=text.lower(), type=AttributeType.TEXT),
    ]
    for option in options:
        AttributeChoiceFactory(attribute=attributes[0], value=option, slug=option.lower())
    product_type = ProductTypeFactory(name=name)
    product_type.attributes.set(attributes)
    return product_type
