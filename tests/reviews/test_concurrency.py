"""Real races on PostgreSQL: each worker is a thread with its own connection, released at once
by a barrier."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from catalog.models import Product
from reviews.models import Review
from reviews.services import review_create
from tests.factories import ProductFactory, ProductVariantFactory, SellerMemberFactory, UserFactory
from tests.factories.orders import sold_seller_order
from tests.orders.test_concurrency import race
from tests.reviews.test_services import assert_rating_matches_recount

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _product_with_buyers(n: int):
    member = SellerMemberFactory()
    variant = ProductVariantFactory(product=ProductFactory(seller=member.seller))
    buyers = []
    for _ in range(n):
        user = UserFactory()
        sold_seller_order(
            seller=member.seller,
            placed_at=timezone.now(),
            user=user,
            variant=variant,
            delivered_at=timezone.now(),
        )
        buyers.append(user)
    return variant.product, buyers


def test_a_concurrent_double_submit_makes_one_review():
    product, (buyer,) = _product_with_buyers(1)

    outcomes = race(
        6, lambda i: str(review_create(user=buyer, product=product, rating=1 + i % 5).pk)
    )

    review = Review.objects.get()
    assert outcomes == Counter({str(review.pk): 1, "conflict": 5})
    assert Product.objects.get(pk=product.pk).rating_count == 1
    assert_rating_matches_recount(product)


def test_twenty_concurrent_reviews_of_one_product_all_count():
    product, buyers = _product_with_buyers(20)

    outcomes = race(
        20, lambda i: review_create(user=buyers[i], product=product, rating=1 + i % 5).status
    )

    assert outcomes == Counter({"published": 20})
    product.refresh_from_db()
    assert product.rating_count == 20
    assert product.rating_avg == 3  # four of each star
    assert_rating_matches_recount(product)
