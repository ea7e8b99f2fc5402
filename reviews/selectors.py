"""Reads of reviews, ratings and questions, shaped for their pages (a fixed number of queries
whatever the number of rows), and the one rule of who counts as a buyer."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.db.models import Avg, Count, Prefetch, Q, QuerySet

from accounts.models import User
from catalog.models import Product
from catalog.selectors import product_queryset_public
from orders.models import OrderLine, OrderStatus, SellerOrder
from reviews.models import (
    Answer,
    ContentStatus,
    ProductRatingSummary,
    Question,
    Review,
    SellerRating,
)
from sellers.models import SellerMember
from shop.core.errors import NotFound

# A seller order counts as bought once it was delivered (fulfilment records
# `SellerOrder.delivered_at`: the buyer has had the goods in hand) and is not cancelled or refunded
# in full. This is the one place that says so.
_BOUGHT_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.PROCESSING,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
    OrderStatus.PARTIALLY_REFUNDED,
)


def purchase_completed_q(*, prefix: str = "") -> Q:
    """Q over SellerOrder (or, with `prefix`, a model reaching one) for a purchase that lets
    its buyer review the products and rate the seller."""
    return Q(**{f"{prefix}status__in": _BOUGHT_STATUSES, f"{prefix}delivered_at__isnull": False})


def product_get_reviewable(*, slug: str) -> Product:
    """A product shoppers can see (the only ones reviewed and asked about), seller loaded."""
    try:
        return product_queryset_public().select_related("seller").get(slug=slug)
    except Product.DoesNotExist:
        raise NotFound("This product is not available.") from None


def purchase_completed(seller_order: SellerOrder) -> bool:
    """The same rule as `purchase_completed_q`, for a seller order already loaded."""
    return seller_order.status in _BOUGHT_STATUSES and seller_order.delivered_at is not None


def purchase_lines(*, user: User, product: Product) -> QuerySet[OrderLine]:
    """The user's qualifying order lines of the product, newest first (variant loaded)."""
    return (
        OrderLine.objects.filter(
            purchase_completed_q(prefix="seller_order__"),
            order__user=user,
            variant__product=product,
        )
        .select_related("variant")
        .order_by("-order__placed_at", "-id")
    )


def user_has_bought(*, user: User, product: Product) -> bool:
    return user.is_authenticated and purchase_lines(user=user, product=product).exists()


def user_sells(*, user: User, seller_id: int) -> bool:
    """The user is a member of the seller: the seller's people neither review, vote on nor
    report what their shop sells."""
    return (
        user.is_authenticated
        and SellerMember.objects.filter(user=user, seller_id=seller_id).exists()
    )


def seller_order_get_for_rating(*, user: User, pk: int) -> SellerOrder:
    """The user's own seller order (not found otherwise), seller loaded."""
    try:
        return SellerOrder.objects.select_related("seller", "order").get(pk=pk, order__user=user)
    except SellerOrder.DoesNotExist:
        raise NotFound("Order not found.") from None


class ReviewSort(StrEnum):
    NEWEST = "newest"
    HELPFUL = "helpful"
    RATING_HIGH = "rating_high"
    RATING_LOW = "rating_low"


REVIEW_SORT_LABELS = {
    ReviewSort.NEWEST: "Newest",
    ReviewSort.HELPFUL: "Most helpful",
    ReviewSort.RATING_HIGH: "Highest rating",
    ReviewSort.RATING_LOW: "Lowest rating",
}

_REVIEW_ORDER = {
    ReviewSort.NEWEST: ("-created_at", "-id"),
    ReviewSort.HELPFUL: ("-helpful_count", "-created_at", "-id"),
    ReviewSort.RATING_HIGH: ("-rating", "-created_at", "-id"),
    ReviewSort.RATING_LOW: ("rating", "-created_at", "-id"),
}


def _review_shape(reviews: QuerySet[Review]) -> QuerySet[Review]:
    return reviews.select_related("user", "variant", "reply", "reply__seller").prefetch_related(
        "photos"
    )


def reviews_public(
    *,
    product_id: int,
    sort: ReviewSort = ReviewSort.NEWEST,
    stars: int | None = None,
    with_photos: bool = False,
) -> QuerySet[Review]:
    """Published reviews of a product, sorted and filtered as the shopper asked."""
    reviews = Review.objects.filter(product_id=product_id, status=ContentStatus.PUBLISHED)
    if stars is not None:
        reviews = reviews.filter(rating=stars)
    if with_photos:
        reviews = reviews.filter(photo_count__gt=0)
    return _review_shape(reviews).order_by(*_REVIEW_ORDER[sort])


def review_get_public(*, pk: int) -> Review:
    try:
        return Review.objects.select_related("product").get(pk=pk, status=ContentStatus.PUBLISHED)
    except Review.DoesNotExist:
        raise NotFound("Review not found.") from None


def review_shaped(*, pk: int) -> Review:
    """One review loaded like the lists (the API's answer after a write)."""
    return _review_shape(Review.objects.filter(pk=pk)).get()


def review_get_own(*, user: User, pk: int) -> Review:
    """The user's own review, whatever its moderation state (they may edit a held one)."""
    try:
        return Review.objects.select_related("product").get(pk=pk, user=user)
    except Review.DoesNotExist:
        raise NotFound("Review not found.") from None


def review_of_user(*, user: User, product: Product) -> Review | None:
    if not user.is_authenticated:
        return None
    return Review.objects.filter(user=user, product=product).prefetch_related("photos").first()


def rating_summary(*, product: Product) -> ProductRatingSummary:
    """The per-star counts (zeros for a product never reviewed), without writing."""
    summary = ProductRatingSummary.objects.filter(product=product).first()
    return summary or ProductRatingSummary(product=product)


def questions_public(*, product_id: int) -> QuerySet[Question]:
    """Published questions with their published answers (seller's first), users loaded."""
    answers = Answer.objects.filter(status=ContentStatus.PUBLISHED).select_related("user")
    return (
        Question.objects.filter(product_id=product_id, status=ContentStatus.PUBLISHED)
        .select_related("user")
        .prefetch_related(Prefetch("answers", queryset=answers))
        .order_by("-created_at", "-id")
    )


def question_get_public(*, pk: int) -> Question:
    try:
        return Question.objects.select_related("product").get(pk=pk, status=ContentStatus.PUBLISHED)
    except Question.DoesNotExist:
        raise NotFound("Question not found.") from None


def answer_get_public(*, pk: int) -> Answer:
    try:
        return Answer.objects.select_related("question__product").get(
            pk=pk, status=ContentStatus.PUBLISHED, question__status=ContentStatus.PUBLISHED
        )
    except Answer.DoesNotExist:
        raise NotFound("Answer not found.") from None


# --- the seller portal: only the seller's own products ------------------------------------


def reviews_for_seller(*, seller_id: int) -> QuerySet[Review]:
    """Every review of the seller's products (held and hidden ones too, marked), with the
    product and any reply loaded."""
    return (
        Review.objects.filter(product__seller_id=seller_id)
        .select_related("product", "user", "variant", "reply")
        .order_by("-created_at", "-id")
    )


def review_get_for_seller(*, seller_id: int, pk: int) -> Review:
    """A review of one of the seller's products; another seller's is not found."""
    try:
        return Review.objects.select_related("product", "reply").get(
            pk=pk, product__seller_id=seller_id, status=ContentStatus.PUBLISHED
        )
    except Review.DoesNotExist:
        raise NotFound("Review not found.") from None


def questions_for_seller(*, seller_id: int) -> QuerySet[Question]:
    return (
        Question.objects.filter(product__seller_id=seller_id, status=ContentStatus.PUBLISHED)
        .select_related("product", "user")
        .prefetch_related(
            Prefetch("answers", queryset=Answer.objects.filter(status=ContentStatus.PUBLISHED))
        )
        .order_by("-created_at", "-id")
    )


def question_get_for_seller(*, seller_id: int, pk: int) -> Question:
    try:
        return Question.objects.select_related("product").get(
            pk=pk, product__seller_id=seller_id, status=ContentStatus.PUBLISHED
        )
    except Question.DoesNotExist:
        raise NotFound("Question not found.") from None


# --- seller ratings --------------------------------------------------------------------------


@dataclass(frozen=True)
class SellerRatingSummary:
    count: int
    shipping_speed: Decimal | None
    item_as_described: Decimal | None
    communication: Decimal | None


def seller_rating_summary(*, seller_id: int) -> SellerRatingSummary:
    """Buyers' average of each seller rating (one query; None without ratings)."""
    fields = ("shipping_speed", "item_as_described", "communication")
    row = SellerRating.objects.filter(seller_id=seller_id).aggregate(
        count=Count("pk"), **{f: Avg(f) for f in fields}
    )

    def one_decimal(value: object) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    return SellerRatingSummary(row["count"], *(one_decimal(row[f]) for f in fields))
