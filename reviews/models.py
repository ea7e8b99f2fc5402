"""Product reviews, seller ratings, questions and answers, and what moderates them.

Every write goes through `reviews.services`; the product's rating figures (`Product.rating_avg`,
`rating_count`, read by cards, pages, the rating sort and facet) and the per-star distribution
(`ProductRatingSummary`) are recomputed there in the same transaction as the review change."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from shop.core.models import BaseModel


class ContentStatus(models.TextChoices):
    """Where a review, question or answer stands with moderation. Only `published` is public
    and counts in the rating."""

    PUBLISHED = "published", "Published"
    HELD = "held", "Held for moderation"
    HIDDEN = "hidden", "Hidden by staff"


def _stars() -> list:
    return [MinValueValidator(1), MaxValueValidator(5)]


class Moderated(models.Model):
    status = models.CharField(
        max_length=10, choices=ContentStatus.choices, default=ContentStatus.PUBLISHED
    )
    # why it is held (the automatic check that tripped) or hidden/restored (staff's reason)
    status_reason = models.CharField(max_length=300, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    # normalised text hash: the same text posted from several accounts is held
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    report_count = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class Review(BaseModel, Moderated):
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    variant = models.ForeignKey(
        "catalog.ProductVariant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # the purchase that made the reviewer eligible (the verified-purchase badge)
    verified_purchase = models.BooleanField(default=False)
    rating = models.PositiveSmallIntegerField(validators=_stars())
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    helpful_count = models.PositiveIntegerField(default=0)
    photo_count = models.PositiveSmallIntegerField(default=0)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["product", "user"], name="reviews_review_one_per_user"),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="reviews_review_rating_range"
            ),
        ]
        indexes = [
            models.Index(
                fields=["product", "status", "-created_at"], name="reviews_review_product_list"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.product} by {self.user}"


class ReviewRevision(models.Model):
    """The text of a review before one of its edits (the edit history)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="revisions")
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    written_at = models.DateTimeField()
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-replaced_at", "-id"]

    def __str__(self) -> str:
        return f"Revision of review {self.review_id}"


class ReviewPhoto(BaseModel):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(
        upload_to="reviews/%Y/%m/", width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class ReviewVote(BaseModel):
    """One 'helpful' per user per review."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "user"], name="reviews_vote_one_per_user")
        ]


class ReviewReply(BaseModel):
    """The seller's one public reply to a review of its product."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="reply")
    seller = models.ForeignKey("sellers.Seller", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField()


class ProductRatingSummary(models.Model):
    """Published reviews of a product per star; `Product.rating_avg`/`rating_count` hold the
    average and total. Both are rewritten together under this row's lock."""

    product = models.OneToOneField(
        "catalog.Product", on_delete=models.CASCADE, primary_key=True, related_name="rating_summary"
    )
    stars_1 = models.PositiveIntegerField(default=0)
    stars_2 = models.PositiveIntegerField(default=0)
    stars_3 = models.PositiveIntegerField(default=0)
    stars_4 = models.PositiveIntegerField(default=0)
    stars_5 = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Rating of product {self.product_id}"

    def distribution(self) -> list[tuple[int, int]]:
        return [(n, getattr(self, f"stars_{n}")) for n in (5, 4, 3, 2, 1)]


class SellerRating(BaseModel):
    """A buyer's rating of one seller order: once, after it qualifies (see
    `reviews.selectors.purchase_completed_q`)."""

    seller_order = models.OneToOneField(
        "orders.SellerOrder", on_delete=models.CASCADE, related_name="seller_rating"
    )
    seller = models.ForeignKey("sellers.Seller", on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shipping_speed = models.PositiveSmallIntegerField(validators=_stars())
    item_as_described = models.PositiveSmallIntegerField(validators=_stars())
    communication = models.PositiveSmallIntegerField(validators=_stars())
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(shipping_speed__range=(1, 5))
                & Q(item_as_described__range=(1, 5))
                & Q(communication__range=(1, 5)),
                name="reviews_sellerrating_range",
            )
        ]


class Question(BaseModel, Moderated):
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="questions"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["product", "status", "-created_at"], name="reviews_question_list"),
        ]

    def __str__(self) -> str:
        return self.body[:60]


class Answer(BaseModel, Moderated):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # answered for the seller (from the portal) or by a verified buyer
    by_seller = models.BooleanField(default=False)
    body = models.TextField()

    class Meta:
        ordering = ["-by_seller", "created_at"]

    def __str__(self) -> str:
        return self.body[:60]


class ReportReason(models.TextChoices):
    SPAM = "spam", "Spam or advertising"
    OFFENSIVE = "offensive", "Offensive or abusive"
    OFF_TOPIC = "off_topic", "Not about the product"
    FAKE = "fake", "Looks fake"
    OTHER = "other", "Something else"


class Report(BaseModel):
    """A shopper's abuse report on a review, question or answer (exactly one)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, null=True, blank=True, related_name="reports"
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, null=True, blank=True, related_name="reports"
    )
    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, null=True, blank=True, related_name="reports"
    )
    reason = models.CharField(max_length=20, choices=ReportReason.choices)
    note = models.CharField(max_length=500, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(review__isnull=False, question__isnull=True, answer__isnull=True)
                    | Q(review__isnull=True, question__isnull=False, answer__isnull=True)
                    | Q(review__isnull=True, question__isnull=True, answer__isnull=False)
                ),
                name="reviews_report_one_target",
            ),
            models.UniqueConstraint(fields=["user", "review"], name="reviews_report_review_once"),
            models.UniqueConstraint(
                fields=["user", "question"], name="reviews_report_question_once"
            ),
            models.UniqueConstraint(fields=["user", "answer"], name="reviews_report_answer_once"),
        ]
