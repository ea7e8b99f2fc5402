"""The seller portal's reviews and questions: scoped to the shop, one reply, fixed queries,
inert content."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reviews.models import Answer, ReviewReply
from reviews.services import question_ask, review_create
from sellers.models import MemberRole
from tests.factories import SellerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


def test_the_seller_sees_its_reviews_and_replies_once(client, shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=2, title=XSS, body=XSS)
    client.force_login(shop.member.user)
    body = client.get(reverse("portal:reviews")).content.decode()
    assert f'data-review="{review.pk}"' in body
    assert XSS not in body and "&lt;script&gt;" in body

    url = reverse("portal:review_reply", args=[review.pk])
    client.post(url, {"body": "Sorry, we sent a replacement"})
    client.post(url, {"body": "A second reply"})
    reply = ReviewReply.objects.get()
    assert (reply.body, reply.seller_id) == ("Sorry, we sent a replacement", shop.member.seller_id)
    storefront = client.get(reverse("catalog:product", args=[shop.product.slug])).content
    assert b"Sorry, we sent a replacement" in storefront


def test_another_shop_cannot_see_or_reply(client, shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=2, title="Mine")
    question = question_ask(user=UserFactory(), product=shop.product, body="Which size?")
    other = SellerMemberFactory()
    client.force_login(other.user)
    assert b"Mine" not in client.get(reverse("portal:reviews")).content
    assert b"Which size?" not in client.get(reverse("portal:questions")).content
    response = client.post(reverse("portal:review_reply", args=[review.pk]), {"body": "x"})
    assert response.status_code == 404
    response = client.post(reverse("portal:question_answer", args=[question.pk]), {"body": "x"})
    assert response.status_code == 404
    assert not ReviewReply.objects.exists() and not Answer.objects.exists()


def test_a_role_without_products_is_refused(client, shop):
    member = SellerMemberFactory(seller=shop.product.seller, role=MemberRole.FULFILMENT)
    client.force_login(member.user)
    assert client.get(reverse("portal:reviews")).status_code == 403


def test_the_seller_answers_questions(client, shop):
    question = question_ask(user=UserFactory(), product=shop.product, body="Which size?")
    question_ask(user=UserFactory(full_name=XSS), product=shop.product, body=XSS)
    client.force_login(shop.member.user)
    page = client.get(reverse("portal:questions")).content.decode()
    assert "Which size?" in page and XSS not in page and "&lt;script&gt;" in page
    client.post(reverse("portal:question_answer", args=[question.pk]), {"body": "Take M"})
    answer = Answer.objects.get(question=question)
    assert answer.by_seller and answer.body == "Take M"


def test_the_review_list_costs_the_same_for_1_or_10_reviews(
    client, shop, django_assert_max_num_queries
):
    client.force_login(shop.member.user)
    review_create(user=shop.buyer, product=shop.product, rating=4)
    with django_assert_max_num_queries(30) as one:
        client.get(reverse("portal:reviews"))
    for _ in range(9):
        review_create(user=shop.buyer_new(), product=shop.product, rating=4)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("portal:reviews"))
    assert len(response.context["page"].object_list) == 10
