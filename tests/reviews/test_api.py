"""The mobile API: list, create, edit, vote, report, questions, seller rating; the error shape
and query counts."""

from __future__ import annotations

import pytest

from reviews.models import Review, SellerRating
from reviews.services import review_create
from tests.factories import UserFactory
from tests.reviews.conftest import png_upload

pytestmark = pytest.mark.django_db


def reviews_url(shop) -> str:
    return f"/api/v1/products/{shop.product.slug}/reviews/"


def test_a_buyer_creates_with_photos_and_edits_through_the_api(api_client, shop):
    api_client.force_authenticate(shop.buyer)
    response = api_client.post(
        reviews_url(shop),
        {"rating": "4", "title": "Solid", "body": "Nice", "photos": [png_upload(), png_upload()]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rating"], body["verified_purchase"], body["variant"]) == (4, True, "Blue / M")
    assert len(body["photos"]) == 2 and body["photos"][0].startswith("http://testserver/")

    response = api_client.patch(
        f"/api/v1/reviews/{body['id']}/", {"rating": 2, "title": "Broke"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["rating"], response.json()["edited_at"] is not None) == (2, True)
    assert Review.objects.get().revisions.count() == 1


def test_refusals_come_in_the_error_shape_and_change_nothing(api_client, shop):
    api_client.force_authenticate(UserFactory())
    response = api_client.post(reviews_url(shop), {"rating": 5}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"

    api_client.force_authenticate(shop.buyer)
    response = api_client.post(reviews_url(shop), {"rating": 9}, format="json")
    assert response.status_code == 400 and "rating" in response.json()["fields"]
    response = api_client.post(reviews_url(shop), {"rating": 5, "title": "x" * 500}, format="json")
    assert response.status_code == 400
    assert api_client.post(reviews_url(shop), {"rating": 5}, format="json").status_code == 201
    response = api_client.post(reviews_url(shop), {"rating": 5}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "conflict")
    assert Review.objects.count() == 1
    api_client.force_authenticate(None)
    assert api_client.post(reviews_url(shop), {"rating": 5}, format="json").status_code in (
        401,
        403,
    )


def test_only_the_author_edits_or_deletes(api_client, shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=3)
    api_client.force_authenticate(shop.member.user)
    assert api_client.patch(f"/api/v1/reviews/{review.pk}/", {"rating": 1}).status_code == 404
    assert api_client.delete(f"/api/v1/reviews/{review.pk}/").status_code == 404
    api_client.force_authenticate(shop.buyer)
    assert api_client.delete(f"/api/v1/reviews/{review.pk}/").status_code == 204
    assert not Review.objects.exists()


def test_list_sort_filter_and_a_fixed_query_count(api_client, shop, django_assert_max_num_queries):
    review_create(user=shop.buyer, product=shop.product, rating=2, photos=[png_upload()])
    with django_assert_max_num_queries(10) as one:
        first = api_client.get(reviews_url(shop))
    for rating in (5, 4, 1, 5):
        review_create(
            user=shop.buyer_new(), product=shop.product, rating=rating, photos=[png_upload()]
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = api_client.get(reviews_url(shop), {"sort": "rating_high"})
    assert first.status_code == 200
    assert [r["rating"] for r in response.json()["results"]] == [5, 5, 4, 2, 1]
    assert response.json()["count"] == 5
    stars = api_client.get(reviews_url(shop), {"stars": "5"}).json()
    assert [r["rating"] for r in stars["results"]] == [5, 5]
    bad = api_client.get(reviews_url(shop), {"stars": "7"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
    assert api_client.get("/api/v1/products/no-such/reviews/").status_code == 404


def test_votes_and_reports(api_client, shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=3)
    api_client.force_authenticate(UserFactory())
    url = f"/api/v1/reviews/{review.pk}/vote/"
    assert api_client.post(url).json()["helpful_count"] == 1
    assert api_client.post(url).status_code == 409
    assert api_client.delete(url).json()["helpful_count"] == 0
    response = api_client.post(f"/api/v1/reviews/{review.pk}/report/", {"reason": "spam"})
    assert response.status_code == 201
    api_client.force_authenticate(shop.member.user)
    assert api_client.post(url).status_code == 403
    api_client.force_authenticate(shop.buyer)
    assert api_client.post(url).status_code == 403


def test_questions_and_answers(api_client, shop):
    api_client.force_authenticate(UserFactory())
    url = f"/api/v1/products/{shop.product.slug}/questions/"
    question = api_client.post(url, {"body": "Does it come in red?"}, format="json").json()
    response = api_client.post(
        f"/api/v1/questions/{question['id']}/answers/", {"body": "No idea"}, format="json"
    )
    assert response.status_code == 403
    api_client.force_authenticate(shop.buyer)
    response = api_client.post(
        f"/api/v1/questions/{question['id']}/answers/", {"body": "Only blue"}, format="json"
    )
    assert response.status_code == 201
    listed = api_client.get(url).json()["results"]
    assert listed[0]["body"] == "Does it come in red?"
    assert listed[0]["answers"][0]["body"] == "Only blue"


def test_seller_rating_through_the_api(api_client, shop):
    url = f"/api/v1/seller-orders/{shop.seller_order.pk}/rating/"
    payload = {"shipping_speed": 5, "item_as_described": 5, "communication": 4}
    api_client.force_authenticate(UserFactory())
    assert api_client.post(url, payload, format="json").status_code == 404
    api_client.force_authenticate(shop.buyer)
    assert api_client.post(url, {**payload, "communication": 0}, format="json").status_code == 400
    assert api_client.post(url, payload, format="json").status_code == 201
    assert api_client.post(url, payload, format="json").status_code == 409
    assert SellerRating.objects.count() == 1
