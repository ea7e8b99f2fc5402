"""The storefront faces: the product page section (sorting, filters, pagination, fixed query
count, inert user content), the review form from the order page, votes, reports, questions
and the seller rating."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reviews.models import ContentStatus, Question, Review, SellerRating
from reviews.services import question_ask, review_create, review_reply
from tests.factories import UserFactory
from tests.reviews.conftest import png_upload

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def product_url(shop) -> str:
    return reverse("catalog:product", args=[shop.product.slug])


def test_the_product_page_lists_reviews_newest_first_with_badge_variant_and_reply(client, shop):
    first = review_create(user=shop.buyer, product=shop.product, rating=2, title="Older")
    review_reply(
        review=first, seller_id=shop.member.seller_id, author=shop.member.user, body="We fixed it"
    )
    review_create(user=shop.buyer_new(), product=shop.product, rating=5, title="Newer")

    body = client.get(product_url(shop)).content.decode()

    assert body.index("Newer") < body.index("Older")
    assert "Verified purchase" in body and "Blue / M" in body
    assert "We fixed it" in body
    assert "3.5 out of 5" in body and 'data-stars="5">1<' in body


def test_sorting_filters_and_pagination(client, shop):
    for rating in (1, 5, 3) + (4,) * 10:
        review_create(
            user=shop.buyer_new(), product=shop.product, rating=rating, title=f"r{rating}"
        )
    photo = review_create(
        user=shop.buyer, product=shop.product, rating=2, title="withphoto", photos=[png_upload()]
    )
    url = product_url(shop)

    low = client.get(url, {"reviews_sort": "rating_low"}).context["page_obj"]
    assert [r.rating for r in low][:3] == [1, 2, 3]
    assert [r.rating for r in client.get(url, {"stars": "5"}).context["page_obj"]] == [5]
    assert [r.pk for r in client.get(url, {"with_photos": "1"}).context["page_obj"]] == [photo.pk]
    page1 = client.get(url).context["page_obj"]
    page2 = client.get(url, {"reviews_page": "2"}).context["page_obj"]
    assert (len(page1), len(page2), page1.paginator.count) == (10, 4, 14)
    assert not {r.pk for r in page1} & {r.pk for r in page2}
    # junk parameters fall back, never a 500
    response = client.get(url, {"stars": "9", "reviews_sort": "drop table", "reviews_page": "x"})
    assert response.status_code == 200 and response.context["page_obj"].paginator.count == 14


def test_held_and_hidden_reviews_and_questions_are_not_shown(client, shop):
    review_create(user=shop.buyer, product=shop.product, rating=1, body="see http://spam.test")
    question_ask(user=UserFactory(), product=shop.product, body="Cheaper at spam.com?")
    body = client.get(product_url(shop)).content.decode()
    assert "spam" not in body
    assert "No reviews yet" in body


def test_query_count_of_the_product_page_does_not_grow_with_reviews(
    client, shop, django_assert_max_num_queries
):
    def add_reviews(n: int) -> None:
        for _ in range(n):
            review = review_create(
                user=shop.buyer_new(), product=shop.product, rating=4, photos=[png_upload()]
            )
            review_reply(
                review=review,
                seller_id=shop.member.seller_id,
                author=shop.member.user,
                body="Thanks",
            )
            question = question_ask(user=UserFactory(), product=shop.product, body="Size?")
            from reviews.services import answer_post

            answer_post(question=question, user=review.user, body="True to size")

    viewer = shop.buyer_new()
    client.force_login(viewer)
    add_reviews(1)
    with django_assert_max_num_queries(40) as one:
        assert client.get(product_url(shop)).status_code == 200
    add_reviews(9)
    with django_assert_max_num_queries(len(one.captured_queries)) as ten:
        response = client.get(product_url(shop))
    assert len(response.context["page_obj"]) == 10
    assert len(ten.captured_queries) == len(one.captured_queries)


def test_user_content_is_inert_on_the_product_page_and_forms(client, shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=3, title=XSS, body=XSS)
    review_reply(review=review, seller_id=shop.member.seller_id, author=shop.member.user, body=XSS)
    shop.buyer.full_name = XSS
    shop.buyer.save()
    Question.objects.create(product=shop.product, user=UserFactory(full_name=XSS), body=XSS)

    body = client.get(product_url(shop)).content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    assert body.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 4

    client.force_login(shop.buyer)
    form = client.get(reverse("reviews:write", args=[shop.product.slug])).content.decode()
    assert "<script>alert" not in form and "&lt;script&gt;" in form


def test_a_buyer_writes_then_edits_the_review_from_the_order_page(client, shop):
    client.force_login(shop.buyer)
    order_page = client.get(
        reverse("orders:detail", args=[shop.seller_order.order.number])
    ).content.decode()
    write_url = reverse("reviews:write", args=[shop.product.slug])
    assert write_url in order_page
    assert reverse("reviews:rate_seller", args=[shop.seller_order.pk]) in order_page

    response = client.post(
        write_url,
        {"rating": "4", "title": "Good", "body": "Fits", "photos": [png_upload()]},
    )
    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.rating, review.photo_count) == (4, 1)

    photo = review.photos.get()
    response = client.post(
        write_url, {"rating": "5", "title": "Great", "body": "Fits", "remove_photos": [photo.pk]}
    )
    review.refresh_from_db()
    assert (review.rating, review.photo_count, review.revisions.count()) == (5, 0, 1)


def test_the_form_refuses_a_non_buyer_with_a_message_and_saves_nothing(client, shop):
    client.force_login(UserFactory())
    response = client.post(
        reverse("reviews:write", args=[shop.product.slug]), {"rating": "5", "title": "Fake"}
    )
    assert response.status_code == 400
    assert "Only customers who bought this product can review it." in response.content.decode()
    assert not Review.objects.exists()


def test_a_bad_photo_is_shown_beside_the_field(client, shop):
    client.force_login(shop.buyer)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("reviews:write", args=[shop.product.slug]),
        {"rating": "5", "photos": [SimpleUploadedFile("a.png", b"nope", "image/png")]},
    )
    assert response.status_code == 400
    assert "This file is not an image" in response.content.decode()
    assert not Review.objects.exists()


def test_posts_without_the_csrf_token_are_refused(shop):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(shop.buyer)
    response = csrf_client.post(reverse("reviews:write", args=[shop.product.slug]), {"rating": "5"})
    assert response.status_code == 403
    assert not Review.objects.exists()


def test_votes_and_reports_from_the_page(client, shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=5)
    client.force_login(UserFactory())
    client.post(reverse("reviews:helpful", args=[review.pk]))
    client.post(reverse("reviews:helpful", args=[review.pk]))  # a second vote does not count
    review.refresh_from_db()
    assert review.helpful_count == 1
    response = client.post(
        reverse("reviews:report", args=[review.pk]),
        {"reason": "spam", "next": "https://evil.example/"},
    )
    assert response["Location"].startswith("/p/")
    assert review.reports.count() == 1


def test_the_seller_cannot_vote_from_the_page(client, shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=5)
    client.force_login(shop.member.user)
    body = client.get(product_url(shop)).content.decode()
    assert reverse("reviews:helpful", args=[review.pk]) not in body
    client.post(reverse("reviews:helpful", args=[review.pk]))
    review.refresh_from_db()
    assert review.helpful_count == 0


def test_questions_asked_and_answered_from_the_page(client, shop):
    asker = UserFactory()
    client.force_login(asker)
    client.post(reverse("reviews:ask", args=[shop.product.slug]), {"body": "Machine washable?"})
    question = Question.objects.get()
    assert question.status == ContentStatus.PUBLISHED
    client.post(reverse("reviews:answer", args=[question.pk]), {"body": "I guess"})
    assert not question.answers.exists()  # not a buyer
    client.force_login(shop.buyer)
    client.post(reverse("reviews:answer", args=[question.pk]), {"body": "Yes, at 30°"})
    body = client.get(product_url(shop)).content.decode()
    assert "Machine washable?" in body and "Yes, at 30°" in body and "(verified buyer)" in body


def test_the_seller_rating_form(client, shop):
    url = reverse("reviews:rate_seller", args=[shop.seller_order.pk])
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404  # another customer's order
    client.force_login(shop.buyer)
    response = client.post(
        url, {"shipping_speed": "5", "item_as_described": "4", "communication": "3"}
    )
    assert response.status_code == 302
    rating = SellerRating.objects.get()
    assert (rating.shipping_speed, rating.item_as_described, rating.communication) == (5, 4, 3)
    assert "You rated this seller" in client.get(url).content.decode()


def test_the_seller_page_shows_buyers_average_ratings(client, shop):
    from reviews.services import seller_rate

    url = reverse("catalog:seller", args=[shop.product.seller.slug])
    assert b"data-seller-ratings" not in client.get(url).content
    seller_rate(
        seller_order=shop.seller_order,
        user=shop.buyer,
        shipping_speed=5,
        item_as_described=4,
        communication=3,
    )
    other = shop.buyer_new()
    seller_rate(
        seller_order=other.orders.get().seller_orders.get(),
        user=other,
        shipping_speed=4,
        item_as_described=4,
        communication=4,
    )
    body = client.get(url).content.decode()
    assert "<dt>Shipping speed</dt><dd>4.5 / 5</dd>" in body
    assert "<dt>Communication</dt><dd>3.5 / 5</dd>" in body


def test_questions_and_answers_can_be_reported_from_the_page(client, shop, settings):
    from reviews.services import answer_post

    settings.SHOP_REVIEWS_REPORTS_TO_HOLD = 1
    question = question_ask(user=UserFactory(), product=shop.product, body="Real question")
    answer = answer_post(question=question, user=shop.buyer, body="Buy elsewhere cheaper")
    client.force_login(UserFactory())
    body = client.get(product_url(shop)).content.decode()
    assert reverse("reviews:question_report", args=[question.pk]) in body
    assert reverse("reviews:answer_report", args=[answer.pk]) in body
    client.post(reverse("reviews:answer_report", args=[answer.pk]), {"reason": "spam"})
    answer.refresh_from_db()
    assert answer.status == ContentStatus.HELD
    assert "Buy elsewhere cheaper" not in client.get(product_url(shop)).content.decode()
