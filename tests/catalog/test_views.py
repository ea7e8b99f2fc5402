"""Storefront catalog pages: what a shopper sees, what stays hidden, and what each page costs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductVariantFactory,
)

pytestmark = pytest.mark.django_db


def make_product(*, price="19.99", variant_kwargs=None, **kwargs):
    product = ProductFactory(**kwargs)
    ProductVariantFactory(product=product, price=Decimal(price), **(variant_kwargs or {}))
    return product


def names_in(response) -> list[str]:
    page = response.context["page_obj"]
    return [p.name for p in page.object_list] if page else []


# --- home ---------------------------------------------------------------------------------------


def test_home_shows_featured_categories_and_products(client):
    root = CategoryFactory(name="Garden", is_featured=True)
    make_product(name="Watering Can", category=root, is_featured=True)
    make_product(name="Spade", category=root)

    response = client.get(reverse("catalog:home"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Featured categories" in body and "Garden" in body
    assert [p.name for p in response.context["featured_products"]] == ["Watering Can"]
    assert {p.name for p in response.context["new_products"]} == {"Watering Can", "Spade"}
    # the header lists top-level categories and the account links
    assert reverse("catalog:category", args=[root.slug]) in body
    assert reverse("accounts:login") in body and reverse("sellers:apply") in body
