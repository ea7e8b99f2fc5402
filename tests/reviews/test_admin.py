"""The staff moderation queue: hide and restore with a reason through the service, so the
rating follows; deleting recounts too."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Product
from reviews.models import ContentStatus, Review
from reviews.services import question_ask, review_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


INLINE = {"revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"}


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_hiding_from_the_change_form_needs_a_reason_and_moves_the_rating(staff_client, shop):
    keep = review_create(user=shop.buyer, product=shop.product, rating=5)
    low = review_create(user=shop.buyer_new(), product=shop.product, rating=1)
    url = reverse("admin:reviews_review_change", args=[low.pk])
    assert staff_client.get(url).status_code == 200

    response = staff_client.post(url, {"status": "hidden", "status_reason": "", **INLINE})
    assert response.status_code == 200  # the form asks for the reason
    assert "status_reason" in response.context["adminform"].form.errors
    low.refresh_from_db()
    assert low.status == ContentStatus.PUBLISHED

    response = staff_client.post(url, {"status": "hidden", "status_reason": "Abusive", **INLINE})
    assert response.status_code == 302
    low.refresh_from_db()
    assert (low.status, low.status_reason, low.moderated_by.is_staff) == ("hidden", "Abusive", True)
    assert Product.objects.get(pk=shop.product.pk).rating_avg == Decimal("5.00")

    staff_client.post(
        reverse("admin:reviews_review_changelist"),
        {"action": "restore", "_selected_action": [low.pk]},
    )
    assert Product.objects.get(pk=shop.product.pk).rating_avg == Decimal("3.00")
    staff_client.post(
        reverse("admin:reviews_review_changelist"),
        {"action": "delete_selected", "_selected_action": [keep.pk], "post": "yes"},
    )
    assert not Review.objects.filter(pk=keep.pk).exists()
    product = Product.objects.get(pk=shop.product.pk)
    assert (product.rating_avg, product.rating_count) == (Decimal("1.00"), 1)


def test_the_queue_lists_held_items_and_escapes_them(staff_client, shop):
    review_create(
        user=shop.buyer, product=shop.product, rating=1, title="<b>x</b>", body="http://spam.test"
    )
    question_ask(user=UserFactory(), product=shop.product, body="<script>q</script>")
    body = staff_client.get(
        reverse("admin:reviews_review_changelist"), {"status__exact": "held"}
    ).content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in body
    assert "<b>x</b>" not in body
    questions = staff_client.get(reverse("admin:reviews_question_changelist")).content.decode()
    assert "<script>q</script>" not in questions


def test_non_staff_cannot_moderate(client, shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=1)
    client.force_login(UserFactory())
    response = client.post(
        reverse("admin:reviews_review_change", args=[review.pk]),
        {"status": "hidden", "status_reason": "x"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == ContentStatus.PUBLISHED
