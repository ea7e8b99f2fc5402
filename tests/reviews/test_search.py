"""Reviews are the real source of the rating the catalog lists sort and filter by."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product
from reviews.services import review_create
from search.services import search_index_refresh, search_index_refresh_dirty
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductVariantFactory,
    SellerMemberFactory,
    UserFactory,
)
from tests.factories.orders import sold_seller_order

pytestmark = pytest.mark.django_db


def _reviewed(name: str, category, seller, ratings: list[int]) -> Product:
    product = ProductFactory(name=name, category=category, seller=seller)
    variant = ProductVariantFactory(product=product, price=Decimal("10.00"))
    search_index_refresh(product_ids=[product.pk])
    for rating in ratings:
        buyer = UserFactory()
        sold_seller_order(
            seller=seller,
            placed_at=timezone.now(),
            user=buyer,
            variant=variant,
            delivered_at=timezone.now(),
        )
        review_create(user=buyer, product=product, rating=rating)
    return product


def test_reviews_order_the_rating_sort_and_feed_the_rating_filter(client):
    category = CategoryFactory()
    seller = SellerMemberFactory().seller
    poor = _reviewed("Poor lamp", category, seller, [2, 1])
    good = _reviewed("Good lamp", category, seller, [5, 4])
    unrated = _reviewed("Plain lamp", category, seller, [])

    # the rating changed in the review's transaction; the search document follows by the
    # dirty flag (its refresh runs after commit through the outbox)
    assert Product.objects.get(pk=good.pk).search_dirty
    search_index_refresh_dirty()

    page = client.get(reverse("catalog:category", args=[category.slug]), {"sort": "rating"})
    assert [p.name for p in page.context["page_obj"].object_list] == [
        good.name,
        poor.name,
        unrated.name,
    ]
    found = client.get("/search/", {"q": "lamp", "rating": "4"}).context["page_obj"]
    assert [p.name for p in found.object_list] == [good.name]
    card = page.content.decode()
    assert "4.5 (2 reviews)" in card
