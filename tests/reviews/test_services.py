"""The rules of reviews, seller ratings, questions and moderation, through the services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalog.models import Product
from reviews.models import (
    Answer,
    ContentStatus,
    ProductRatingSummary,
    Review,
    ReviewRevision,
    SellerRating,
)
from reviews.services import (
    answer_post,
    content_moderate,
    content_report,
    product_rating_recount,
    question_ask,
    rating_figures_counted,
    review_create,
    review_delete,
    review_reply,
    review_update,
    review_vote,
    seller_rate,
)
from shop.core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationError
from tests.factories import SellerMemberFactory, UserFactory
from tests.reviews.conftest import png_upload

pytestmark = pytest.mark.django_db


def assert_rating_matches_recount(product) -> None:
    product = Product.objects.get(pk=product.pk)
    counted = rating_figures_counted(product_id=product.pk)
    summary = ProductRatingSummary.objects.get(product=product)
    assert (product.rating_avg, product.rating_count) == (counted.average, counted.count)
    assert tuple(getattr(summary, f"stars_{n}") for n in range(1, 6)) == counted.stars


# --- who may review -------------------------------------------------------------------------


def test_a_buyer_reviews_with_the_verified_badge_and_the_variant_bought(shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=4, title="Nice", body="Ok")
    assert review.verified_purchase and review.variant == shop.variant
    assert review.status == ContentStatus.PUBLISHED
    product = Product.objects.get(pk=shop.product.pk)
    assert (product.rating_avg, product.rating_count) == (Decimal("4.00"), 1)


def test_someone_who_did_not_buy_cannot_review(shop):
    with pytest.raises(PermissionDenied, match="bought"):
        review_create(user=UserFactory(), product=shop.product, rating=5)
    assert not Review.objects.exists()


@pytest.mark.parametrize("status", ["pending_payment", "cancelled", "refunded"])
def test_an_unpaid_cancelled_or_refunded_order_does_not_make_a_buyer(shop, status):
    user = shop.buyer_new(status=status)
    with pytest.raises(PermissionDenied):
        review_create(user=user, product=shop.product, rating=5)


@pytest.mark.parametrize("status", ["paid", "shipped"])
def test_a_purchase_not_yet_delivered_does_not_make_a_buyer_yet(shop, status):
    """Reviews and seller ratings come from buyers who had the goods in hand."""
    user = shop.buyer_new(status=status, delivered=False)
    with pytest.raises(PermissionDenied):
        review_create(user=user, product=shop.product, rating=5)
    from orders.models import SellerOrder

    seller_order = SellerOrder.objects.get(order__user=user)
    with pytest.raises(PermissionDenied, match="delivered"):
        seller_rate(
            seller_order=seller_order,
            user=user,
            shipping_speed=5,
            item_as_described=5,
            communication=5,
        )
    SellerOrder.objects.filter(pk=seller_order.pk).update(delivered_at=timezone.now())
    assert review_create(user=user, product=shop.product, rating=5).verified_purchase


def test_the_sellers_own_people_cannot_review_even_after_buying(shop):
    colleague = SellerMemberFactory(seller=shop.product.seller).user
    shop.buyer_new()  # another buyer exists; the colleague buys too
    from django.utils import timezone

    from tests.factories.orders import sold_seller_order

    sold_seller_order(
        seller=shop.product.seller,
        placed_at=timezone.now(),
        user=colleague,
        variant=shop.variant,
    )
    with pytest.raises(PermissionDenied, match="own shop"):
        review_create(user=colleague, product=shop.product, rating=5)


def test_a_second_review_of_the_same_product_is_refused(shop):
    review_create(user=shop.buyer, product=shop.product, rating=4)
    with pytest.raises(Conflict, match="already reviewed"):
        review_create(user=shop.buyer, product=shop.product, rating=1)
    assert Review.objects.count() == 1


@pytest.mark.parametrize("rating", [0, 6, "5", None, True])
def test_a_rating_outside_1_to_5_is_refused(shop, rating):
    with pytest.raises(ValidationError) as exc:
        review_create(user=shop.buyer, product=shop.product, rating=rating)
    assert "rating" in exc.value.fields
    assert not Review.objects.exists()


def test_over_long_text_is_refused_and_nothing_saved(shop):
    with pytest.raises(ValidationError) as exc:
        review_create(user=shop.buyer, product=shop.product, rating=3, title="x" * 201)
    assert "title" in exc.value.fields
    assert not Review.objects.exists()


# --- edits and history ----------------------------------------------------------------------


def test_an_edit_keeps_the_previous_text_and_moves_the_rating(shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=2, title="Meh", body="a")
    review_update(review=review, user=shop.buyer, rating=5, title="Grew on me", body="b")
    review.refresh_from_db()
    assert (review.rating, review.title, review.edited_at is not None) == (5, "Grew on me", True)
    revision = ReviewRevision.objects.get(review=review)
    assert (revision.rating, revision.title, revision.body) == (2, "Meh", "a")
    assert Product.objects.get(pk=shop.product.pk).rating_avg == Decimal("5.00")


def test_nobody_else_can_edit_a_review(shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=2)
    with pytest.raises(NotFound):
        review_update(review=review, user=shop.buyer_new(), rating=5)
    with pytest.raises(NotFound):
        review_update(review=review, user=shop.member.user, rating=5)


# --- photos ---------------------------------------------------------------------------------


def test_up_to_five_valid_photos_are_stored(shop):
    review = review_create(
        user=shop.buyer,
        product=shop.product,
        rating=5,
        photos=[png_upload(f"p{i}.png") for i in range(5)],
    )
    assert review.photo_count == 5
    assert [p.width for p in review.photos.all()] == [200] * 5
    with pytest.raises(ValidationError, match="Too many"):
        review_update(review=review, user=shop.buyer, rating=5, photos_add=[png_upload()])


def test_a_sixth_photo_or_a_non_image_refuses_the_whole_review(shop):
    with pytest.raises(ValidationError, match="Too many"):
        review_create(
            user=shop.buyer,
            product=shop.product,
            rating=5,
            photos=[png_upload(f"p{i}.png") for i in range(6)],
        )
    fake = SimpleUploadedFile("x.png", b"<script>alert(1)</script>", content_type="image/png")
    with pytest.raises(ValidationError) as exc:
        review_create(user=shop.buyer, product=shop.product, rating=5, photos=[fake])
    assert "photos" in exc.value.fields
    assert not Review.objects.exists()


# --- aggregates -----------------------------------------------------------------------------


def test_aggregates_match_a_recount_after_create_edit_hide_restore_and_delete(shop):
    staff = UserFactory(is_staff=True)
    reviews = [
        review_create(user=shop.buyer_new(), product=shop.product, rating=r) for r in (5, 4, 1)
    ]
    assert_rating_matches_recount(shop.product)
    assert Product.objects.get(pk=shop.product.pk).rating_avg == Decimal("3.33")
    review_update(review=reviews[2], user=reviews[2].user, rating=3)
    assert_rating_matches_recount(shop.product)
    content_moderate(item=reviews[0], status=ContentStatus.HIDDEN, reason="Spam", by=staff)
    assert_rating_matches_recount(shop.product)
    assert Product.objects.get(pk=shop.product.pk).rating_count == 2
    content_moderate(item=reviews[0], status=ContentStatus.PUBLISHED, reason="Fine", by=staff)
    assert_rating_matches_recount(shop.product)
    review_delete(review=reviews[1], user=reviews[1].user)
    assert_rating_matches_recount(shop.product)
    summary = ProductRatingSummary.objects.get(product=shop.product)
    assert summary.distribution() == [(5, 1), (4, 0), (3, 1), (2, 0), (1, 0)]


def test_the_drift_command_reports_and_repairs(shop, capsys):
    review_create(user=shop.buyer, product=shop.product, rating=4)
    call_command("reviews_ratings_check")
    Product.objects.filter(pk=shop.product.pk).update(rating_avg=Decimal("1.00"), rating_count=9)
    with pytest.raises(CommandError, match="1 product"):
        call_command("reviews_ratings_check")
    assert f"product {shop.product.pk}: stored 1.00 × 9" in capsys.readouterr().out
    call_command("reviews_ratings_check", "--repair")
    assert_rating_matches_recount(shop.product)
    call_command("reviews_ratings_check")


def test_a_recount_fixes_figures_written_around_the_service(shop):
    Review.objects.create(product=shop.product, user=shop.buyer, rating=2)
    product_rating_recount(product_id=shop.product.pk)
    assert_rating_matches_recount(shop.product)


# --- automatic holds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("Buy cheaper at http://example.test/deal", "Contains a link"),
        ("Better deals on www.knockoffs.example", "Contains a link"),
        ("visit cheapstuff.com now", "Contains a link"),
        ("This is total SHIT, do not buy", "Contains profanity"),
    ],
)
def test_links_and_profanity_are_held_and_do_not_count(shop, body, reason):
    review = review_create(user=shop.buyer, product=shop.product, rating=1, body=body)
    assert (review.status, review.status_reason) == (ContentStatus.HELD, reason)
    assert Product.objects.get(pk=shop.product.pk).rating_count == 0


@pytest.mark.parametrize(
    "body", ["Works with version 2.0 of the app. Shipped quickly.", "Scunthorpe fans, rejoice"]
)
def test_ordinary_text_is_not_held(shop, body):
    review = review_create(user=shop.buyer, product=shop.product, rating=4, body=body)
    assert review.status == ContentStatus.PUBLISHED


def test_the_same_text_from_another_account_holds_every_copy(shop):
    text = "Absolutely the best purchase I have made this year, five stars!!"
    first = review_create(user=shop.buyer, product=shop.product, rating=5, body=text)
    second = review_create(
        user=shop.buyer_new(), product=shop.product, rating=5, body=text.upper() + " "
    )
    first.refresh_from_db()
    assert (first.status, first.status_reason) == (
        ContentStatus.HELD,
        "Same text as another account's",
    )
    assert Product.objects.get(pk=shop.product.pk).rating_count == 0
    assert (second.status, second.status_reason) == (
        ContentStatus.HELD,
        "Same text as another account's",
    )
    short = review_create(user=shop.buyer_new(), product=shop.product, rating=5, body="Great!")
    again = review_create(user=shop.buyer_new(), product=shop.product, rating=5, body="Great!")
    assert short.status == again.status == ContentStatus.PUBLISHED


def test_an_edit_that_adds_a_link_holds_a_published_review(shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=5, body="Good")
    review_update(review=review, user=shop.buyer, rating=5, body="Good, see http://spam.test")
    review.refresh_from_db()
    assert review.status == ContentStatus.HELD
    assert Product.objects.get(pk=shop.product.pk).rating_count == 0


def test_writes_past_the_hourly_budget_are_refused(shop, settings):
    settings.SHOP_REVIEWS_WRITES_PER_HOUR = 2
    question_ask(user=shop.buyer, product=shop.product, body="Does it fit?")
    question_ask(user=shop.buyer, product=shop.product, body="Is it blue?")
    with pytest.raises(RateLimited):
        review_create(user=shop.buyer, product=shop.product, rating=5)
    assert not Review.objects.exists()
    review_create(user=shop.buyer_new(), product=shop.product, rating=5)  # others unaffected


# --- votes, reports, moderation -------------------------------------------------------------


def test_helpful_votes_once_per_user_never_own_nor_the_sellers(shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=5)
    voter = UserFactory()
    assert review_vote(review=review, user=voter).helpful_count == 1
    with pytest.raises(Conflict):
        review_vote(review=review, user=voter)
    with pytest.raises(PermissionDenied, match="own review"):
        review_vote(review=review, user=shop.buyer)
    with pytest.raises(PermissionDenied, match="own shop"):
        review_vote(review=review, user=shop.member.user)
    assert review_vote(review=review, user=voter, helpful=False).helpful_count == 0


def test_enough_distinct_reports_hold_a_review_and_staff_restore_it(shop, settings):
    settings.SHOP_REVIEWS_REPORTS_TO_HOLD = 2
    review = review_create(user=shop.buyer, product=shop.product, rating=5)
    reporter = UserFactory()
    content_report(item=review, user=reporter, reason="spam")
    with pytest.raises(Conflict):
        content_report(item=review, user=reporter, reason="spam")
    review.refresh_from_db()
    assert review.status == ContentStatus.PUBLISHED  # one report does not hold
    content_report(item=review, user=UserFactory(), reason="fake")
    review.refresh_from_db()
    assert (review.status, review.status_reason) == (ContentStatus.HELD, "Reported by 2 shoppers")
    assert Product.objects.get(pk=shop.product.pk).rating_count == 0
    content_moderate(
        item=review, status=ContentStatus.PUBLISHED, reason="Genuine", by=UserFactory()
    )
    assert Product.objects.get(pk=shop.product.pk).rating_count == 1
    assert not review.reports.filter(resolved_at__isnull=True).exists()


def test_a_seller_cannot_report_reviews_of_its_products_nor_an_author_their_own(shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=1)
    with pytest.raises(PermissionDenied):
        content_report(item=review, user=shop.member.user, reason="fake")
    with pytest.raises(PermissionDenied):
        content_report(item=review, user=shop.buyer, reason="fake")
    with pytest.raises(ValidationError):
        content_report(item=review, user=UserFactory(), reason="because")


# --- seller replies and ratings -------------------------------------------------------------


def test_the_seller_replies_once_and_only_to_its_own_products(shop):
    review = review_create(user=shop.buyer, product=shop.product, rating=2)
    other = SellerMemberFactory()
    with pytest.raises(NotFound):
        review_reply(review=review, seller_id=other.seller_id, author=other.user, body="Hi")
    review_reply(
        review=review, seller_id=shop.member.seller_id, author=shop.member.user, body="Sorry"
    )
    with pytest.raises(Conflict):
        review_reply(
            review=review, seller_id=shop.member.seller_id, author=shop.member.user, body="Again"
        )


def test_a_buyer_rates_the_seller_once_after_paying(shop):
    rating = seller_rate(
        seller_order=shop.seller_order,
        user=shop.buyer,
        shipping_speed=5,
        item_as_described=4,
        communication=3,
    )
    assert rating.seller_id == shop.product.seller_id
    with pytest.raises(Conflict):
        seller_rate(
            seller_order=shop.seller_order,
            user=shop.buyer,
            shipping_speed=1,
            item_as_described=1,
            communication=1,
        )
    with pytest.raises(NotFound):
        seller_rate(
            seller_order=shop.seller_order,
            user=UserFactory(),
            shipping_speed=1,
            item_as_described=1,
            communication=1,
        )
    assert SellerRating.objects.count() == 1


def test_an_unpaid_seller_order_cannot_be_rated(shop):
    from orders.models import SellerOrder

    SellerOrder.objects.filter(pk=shop.seller_order.pk).update(status="pending_payment")
    shop.seller_order.refresh_from_db()
    with pytest.raises(PermissionDenied):
        seller_rate(
            seller_order=shop.seller_order,
            user=shop.buyer,
            shipping_speed=5,
            item_as_described=5,
            communication=5,
        )


# --- questions ------------------------------------------------------------------------------


def test_questions_are_answered_by_the_seller_or_buyers_only(shop):
    question = question_ask(user=UserFactory(), product=shop.product, body="Is it waterproof?")
    seller_answer = answer_post(
        question=question,
        user=shop.member.user,
        body="Yes",
        seller_id=shop.member.seller_id,
    )
    buyer_answer = answer_post(question=question, user=shop.buyer, body="Mine survived rain")
    assert (seller_answer.by_seller, buyer_answer.by_seller) == (True, False)
    with pytest.raises(PermissionDenied):
        answer_post(question=question, user=UserFactory(), body="Probably")
    other = SellerMemberFactory()
    with pytest.raises(NotFound):
        answer_post(question=question, user=other.user, body="No", seller_id=other.seller_id)
    assert Answer.objects.count() == 2


def test_questions_with_links_are_held(shop):
    question = question_ask(user=UserFactory(), product=shop.product, body="Cheaper at x.com?")
    assert question.status == ContentStatus.HELD


def test_photos_are_stored_without_their_metadata_and_upright(shop):
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to display
    exif[0x010F] = "PhoneMaker"  # camera make
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(out, format="JPEG", exif=exif)
    upload = SimpleUploadedFile("IMG_0001.JPG", out.getvalue(), content_type="image/jpeg")

    review = review_create(user=shop.buyer, product=shop.product, rating=5, photos=[upload])

    photo = review.photos.get()
    with photo.image.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert image.size == (200, 300)  # the recorded orientation is applied
    assert photo.image.name.endswith(".jpg") and (photo.width, photo.height) == (200, 300)
