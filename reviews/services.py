"""Writes of reviews, seller ratings, questions and answers, and their moderation. Every face
(storefront, API, seller portal, admin, the drift command) calls these.

The product's rating (`Product.rating_avg`, `rating_count` and the per-star
`ProductRatingSummary`) is recounted from the published reviews in the same transaction as the
change that moves it, under the summary row's lock, so concurrent reviews of one product
serialise there and the figures always equal a recount. The search document follows through
the catalog's dirty flag and its outbox task."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from PIL import ImageOps

from accounts.models import User
from catalog.models import Product
from catalog.services import image_validate
from orders.models import SellerOrder
from reviews.models import (
    Answer,
    ContentStatus,
    ProductRatingSummary,
    Question,
    Report,
    ReportReason,
    Review,
    ReviewPhoto,
    ReviewReply,
    ReviewRevision,
    ReviewVote,
    SellerRating,
)
from reviews.moderation import hold_reason, text_fingerprint
from reviews.selectors import purchase_completed_q, purchase_lines, user_has_bought, user_sells
from search.services import search_index_mark_dirty
from shop.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from shop.core.ratelimit import rate_limit_hit

MAX_PHOTOS = 5
TITLE_MAX = 200
BODY_MAX = 5000
QUESTION_MAX = 1000
REPLY_MAX = 2000
NOTE_MAX = 500

Moderatable = Review | Question | Answer
REPEATED = "Same text as another account's"


# --- shared checks ---------------------------------------------------------------------------


def _throttle(user: User) -> None:
    """One budget of writes per user per hour across reviews, questions, answers, votes and
    reports (a flood from one account is held back wherever it comes from)."""
    rate_limit_hit(
        scope="reviews",
        keys=[str(user.pk)],
        limit=settings.SHOP_REVIEWS_WRITES_PER_HOUR,
        window_seconds=3600,
    )


def _text(value: str, *, field: str, max_length: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError("Please fill in the text.", fields={field: ["This is required."]})
    if len(value) > max_length:
        raise ValidationError(
            "The text is too long.",
            fields={field: [f"Use at most {max_length:,} characters (this has {len(value):,})."]},
        )
    return value


def _stars(value: object, *, field: str = "rating") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError(
            "Choose a rating from 1 to 5 stars.", fields={field: ["Choose 1 to 5 stars."]}
        )
    return value


def _signed_in(user: User) -> None:
    if not user.is_authenticated:
        raise PermissionDenied("Sign in first.")


def _moderation_state(*, user: User, texts: Sequence[str], model: type[Moderatable]) -> dict:
    """Status, reason and fingerprint for a new text: held when it has a link or profanity, or
    when another account already posted the same words."""
    fingerprint = text_fingerprint(*texts)
    reason = hold_reason(*texts)
    if (
        not reason
        and fingerprint
        and model.objects.filter(fingerprint=fingerprint).exclude(user=user).exists()
    ):
        reason = REPEATED
    return {
        "status": ContentStatus.HELD if reason else ContentStatus.PUBLISHED,
        "status_reason": reason,
        "fingerprint": fingerprint,
    }


def _copies_hold(item: Moderatable) -> None:
    """A text repeated across accounts: the other accounts' published copies are held too (the
    first copy of a ring is as suspect as the rest), and the ratings they counted in recounted
    in product order."""
    if item.status_reason != REPEATED:
        return
    held = {"status": ContentStatus.HELD, "status_reason": REPEATED, "updated_at": timezone.now()}
    published = {"fingerprint": item.fingerprint, "status": ContentStatus.PUBLISHED}
    if isinstance(item, Review):
        copies = Review.objects.filter(**published).exclude(user_id=item.user_id)
        product_ids = sorted(set(copies.values_list("product_id", flat=True)))
        copies.update(**held)
        for product_id in product_ids:
            product_rating_recount(product_id=product_id)
    else:
        type(item).objects.filter(**published).exclude(user_id=item.user_id).update(**held)


# --- the rating ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingFigures:
    product_id: int
    average: Decimal
    count: int
    stars: tuple[int, int, int, int, int]  # 1..5


def _figures(product_id: int, stars: tuple[int, int, int, int, int]) -> RatingFigures:
    total = sum(stars)
    weighted = sum(n * c for n, c in zip(range(1, 6), stars, strict=True))
    average = (
        (Decimal(weighted) / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if total
        else Decimal("0.00")
    )
    return RatingFigures(product_id, average, total, stars)


def ratings_counted(*, product_ids: Sequence[int]) -> dict[int, RatingFigures]:
    """What the published reviews of these products say now (one grouped query)."""
    counted = {pk: _figures(pk, (0, 0, 0, 0, 0)) for pk in product_ids}
    rows = (
        Review.objects.filter(product_id__in=product_ids, status=ContentStatus.PUBLISHED)
        .values("product_id")
        .annotate(
            s1=Count("pk", filter=Q(rating=1)),
            s2=Count("pk", filter=Q(rating=2)),
            s3=Count("pk", filter=Q(rating=3)),
            s4=Count("pk", filter=Q(rating=4)),
            s5=Count("pk", filter=Q(rating=5)),
        )
        .order_by()
    )
    for row in rows:
        stars = (row["s1"], row["s2"], row["s3"], row["s4"], row["s5"])
        counted[row["product_id"]] = _figures(row["product_id"], stars)
    return counted


def rating_figures_counted(*, product_id: int) -> RatingFigures:
    return ratings_counted(product_ids=[product_id])[product_id]


@transaction.atomic
def product_rating_recount(*, product_id: int) -> RatingFigures:
    """Rewrite the product's rating figures from its published reviews. The summary row's lock
    orders concurrent writers: each recounts after the previous one committed."""
    ProductRatingSummary.objects.bulk_create(
        [ProductRatingSummary(product_id=product_id)], ignore_conflicts=True
    )
    summary = ProductRatingSummary.objects.select_for_update().get(product_id=product_id)
    figures = rating_figures_counted(product_id=product_id)
    for n, count in zip(range(1, 6), figures.stars, strict=True):
        setattr(summary, f"stars_{n}", count)
    summary.save()
    changed = (
        Product.objects.filter(pk=product_id)
        .exclude(rating_avg=figures.average, rating_count=figures.count)
        .update(rating_avg=figures.average, rating_count=figures.count)
    )
    if changed:
        search_index_mark_dirty(product_ids=[product_id])
    return figures


@dataclass(frozen=True)
class RatingDrift:
    product_id: int
    stored_average: Decimal
    stored_count: int
    stored_stars: tuple[int, ...]
    counted: RatingFigures


def ratings_drift_find(
    *,
    repair: bool = False,
    batch_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> list[RatingDrift]:
    """Products whose stored rating differs from a recount of their reviews (and, with
    `repair`, recounted through `product_rating_recount`). Products with reviews, a stored
    rating or a per-star row are checked, in batches of three queries."""
    id_list = list(
        Product.objects.filter(
            Q(rating_count__gt=0) | Q(reviews__isnull=False) | Q(rating_summary__isnull=False)
        )
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )
    drifts: list[RatingDrift] = []
    for start in range(0, len(id_list), batch_size):
        chunk = id_list[start : start + batch_size]
        stored = {
            p["pk"]: p
            for p in Product.objects.filter(pk__in=chunk).values("pk", "rating_avg", "rating_count")
        }
        summaries = {
            s.product_id: s for s in ProductRatingSummary.objects.filter(product_id__in=chunk)
        }
        counted = ratings_counted(product_ids=chunk)
        for product_id in chunk:
            summary = summaries.get(product_id) or ProductRatingSummary(product_id=product_id)
            stars = tuple(getattr(summary, f"stars_{n}") for n in range(1, 6))
            row, now = stored[product_id], counted[product_id]
            if (row["rating_avg"], row["rating_count"], stars) == (
                now.average,
                now.count,
                now.stars,
            ):
                continue
            drifts.append(
                RatingDrift(product_id, row["rating_avg"], row["rating_count"], stars, now)
            )
            if repair:
                product_rating_recount(product_id=product_id)
        if progress is not None:
            progress(min(start + batch_size, len(id_list)), len(id_list))
    return drifts


# --- reviews ---------------------------------------------------------------------------------


def _photos_clean(photos: Sequence[UploadedFile], *, already: int = 0) -> list[ContentFile]:
    """Validate every photo (`catalog.services.image_validate`: format, size, dimensions),
    then re-encode it without its metadata: a phone's EXIF carries where the shopper lives.
    The orientation it records is applied first; a GIF keeps its first frame, as a PNG."""
    if already + len(photos) > MAX_PHOTOS:
        raise ValidationError(
            "Too many photos.",
            fields={"photos": [f"A review may have at most {MAX_PHOTOS} photos."]},
        )
    cleaned = []
    for upload in photos:
        try:
            image = image_validate(upload=upload)
        except ValidationError as exc:
            raise ValidationError(
                exc.message, fields={"photos": exc.fields.get("image", [exc.message])}
            ) from exc
        fmt = "PNG" if image.format == "GIF" else image.format or "PNG"
        upright = ImageOps.exif_transpose(image)
        if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        out = io.BytesIO()
        upright.save(out, format=fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
        stem = (upload.name or "photo").rsplit("/", 1)[-1].rsplit(".", 1)[0][:80] or "photo"
        extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]
        cleaned.append(ContentFile(out.getvalue(), name=f"{stem}.{extension}"))
    return cleaned


def _photos_store(review: Review, photos: Sequence[ContentFile]) -> None:
    position = review.photos.count()
    for content in photos:
        photo = ReviewPhoto(review=review, position=position)
        photo.image.save(content.name or "photo.png", content, save=False)
        photo.save()
        position += 1


@transaction.atomic
def review_create(
    *,
    user: User,
    product: Product,
    rating: int,
    title: str = "",
    body: str = "",
    photos: Sequence[UploadedFile] = (),
) -> Review:
    """A buyer's one review of a product. Refused to anyone who has not bought it, to the
    seller's own people and as a duplicate (also under a concurrent double submit)."""
    _signed_in(user)
    rating = _stars(rating)
    title = _text(title, field="title", max_length=TITLE_MAX)
    body = _text(body, field="body", max_length=BODY_MAX)
    cleaned_photos = _photos_clean(photos)
    if user_sells(user=user, seller_id=product.seller_id):
        raise PermissionDenied("You cannot review your own shop's products.")
    line = purchase_lines(user=user, product=product).first()
    if line is None:
        raise PermissionDenied("Only customers who bought this product can review it.")
    _throttle(user)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                product=product,
                user=user,
                variant=line.variant,
                verified_purchase=True,
                rating=rating,
                title=title,
                body=body,
                photo_count=len(photos),
                **_moderation_state(user=user, texts=(title, body), model=Review),
            )
    except IntegrityError:
        raise Conflict(
            "You have already reviewed this product: edit your review instead."
        ) from None
    _photos_store(review, cleaned_photos)
    _copies_hold(review)
    product_rating_recount(product_id=product.pk)
    return review


@transaction.atomic
def review_update(
    *,
    review: Review,
    user: User,
    rating: int,
    title: str = "",
    body: str = "",
    photos_add: Sequence[UploadedFile] = (),
    photo_ids_remove: Sequence[int] = (),
) -> Review:
    """The author's edit: the previous text is kept as a revision. A published review whose
    new text trips a check is held; a held or hidden one stays so (staff decide)."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.user_id != user.pk:
        raise NotFound("Review not found.")
    rating = _stars(rating)
    title = _text(title, field="title", max_length=TITLE_MAX)
    body = _text(body, field="body", max_length=BODY_MAX)
    removing = list(review.photos.filter(pk__in=photo_ids_remove))
    cleaned_photos = _photos_clean(photos_add, already=review.photo_count - len(removing))
    _throttle(user)
    ReviewRevision.objects.create(
        review=review,
        rating=review.rating,
        title=review.title,
        body=review.body,
        written_at=review.edited_at or review.created_at,
    )
    state = _moderation_state(user=user, texts=(title, body), model=Review)
    if review.status == ContentStatus.PUBLISHED and state["status"] == ContentStatus.HELD:
        review.status = ContentStatus.HELD
        review.status_reason = state["status_reason"]
    review.fingerprint = state["fingerprint"]
    for photo in removing:
        photo.image.delete(save=False)
        photo.delete()
    _photos_store(review, cleaned_photos)
    review.rating, review.title, review.body = rating, title, body
    review.photo_count = review.photos.count()
    review.edited_at = timezone.now()
    review.save()
    _copies_hold(review)
    product_rating_recount(product_id=review.product_id)
    return review


@transaction.atomic
def review_delete(*, review: Review, user: User | None = None) -> None:
    """Removed by its author (`user`) or by staff (`user=None`, from the admin)."""
    if user is not None and review.user_id != user.pk:
        raise NotFound("Review not found.")
    product_id = review.product_id
    for photo in review.photos.all():
        photo.image.delete(save=False)
    review.delete()
    product_rating_recount(product_id=product_id)


@transaction.atomic
def review_vote(*, review: Review, user: User, helpful: bool = True) -> Review:
    """Mark (or with `helpful=False` unmark) a review helpful: once per user, never one's own
    review nor a review of one's own shop's product."""
    _signed_in(user)
    if review.user_id == user.pk:
        raise PermissionDenied("You cannot vote on your own review.")
    if user_sells(user=user, seller_id=review.product.seller_id):
        raise PermissionDenied("You cannot vote on reviews of your own shop's products.")
    _throttle(user)
    if helpful:
        try:
            with transaction.atomic():
                ReviewVote.objects.create(review=review, user=user)
        except IntegrityError:
            raise Conflict("You already marked this review helpful.") from None
        Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") + 1)
    else:
        removed, _ = ReviewVote.objects.filter(review=review, user=user).delete()
        if removed:
            Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") - 1)
    review.refresh_from_db(fields=["helpful_count"])
    return review


@transaction.atomic
def review_reply(*, review: Review, seller_id: int, author: User, body: str) -> ReviewReply:
    """The seller's one public reply (a second is refused; it cannot be edited)."""
    if review.product.seller_id != seller_id:
        raise NotFound("Review not found.")
    body = _text(body, field="body", max_length=REPLY_MAX, required=True)
    try:
        with transaction.atomic():
            return ReviewReply.objects.create(
                review=review, seller_id=seller_id, author=author, body=body
            )
    except IntegrityError:
        raise Conflict("This review already has your reply.") from None


# --- seller ratings --------------------------------------------------------------------------


@transaction.atomic
def seller_rate(
    *,
    seller_order: SellerOrder,
    user: User,
    shipping_speed: int,
    item_as_described: int,
    communication: int,
    comment: str = "",
) -> SellerRating:
    """The buyer rates the seller of one of their seller orders, once, after it qualifies."""
    if seller_order.order.user_id != user.pk:
        raise NotFound("Order not found.")
    if not SellerOrder.objects.filter(purchase_completed_q(), pk=seller_order.pk).exists():
        raise PermissionDenied("You can rate the seller once the order has been delivered.")
    values = {
        "shipping_speed": _stars(shipping_speed, field="shipping_speed"),
        "item_as_described": _stars(item_as_described, field="item_as_described"),
        "communication": _stars(communication, field="communication"),
    }
    comment = _text(comment, field="comment", max_length=BODY_MAX)
    _throttle(user)
    try:
        with transaction.atomic():
            return SellerRating.objects.create(
                seller_order=seller_order,
                seller_id=seller_order.seller_id,
                user=user,
                comment=comment,
                **values,
            )
    except IntegrityError:
        raise Conflict("You have already rated this seller for this order.") from None


# --- questions and answers -------------------------------------------------------------------


@transaction.atomic
def question_ask(*, user: User, product: Product, body: str) -> Question:
    _signed_in(user)
    body = _text(body, field="body", max_length=QUESTION_MAX, required=True)
    if user_sells(user=user, seller_id=product.seller_id):
        raise PermissionDenied("Answer questions about your products from the seller portal.")
    _throttle(user)
    question = Question.objects.create(
        product=product,
        user=user,
        body=body,
        **_moderation_state(user=user, texts=(body,), model=Question),
    )
    _copies_hold(question)
    return question


@transaction.atomic
def answer_post(
    *, question: Question, user: User, body: str, seller_id: int | None = None
) -> Answer:
    """An answer from the seller (`seller_id`, the portal) or from a verified buyer."""
    _signed_in(user)
    body = _text(body, field="body", max_length=QUESTION_MAX, required=True)
    product = question.product
    if seller_id is not None:
        if product.seller_id != seller_id:
            raise NotFound("Question not found.")
    elif not user_has_bought(user=user, product=product):
        raise PermissionDenied("Only the seller and customers who bought it can answer.")
    _throttle(user)
    answer = Answer.objects.create(
        question=question,
        user=user,
        by_seller=seller_id is not None,
        body=body,
        **_moderation_state(user=user, texts=(body,), model=Answer),
    )
    _copies_hold(answer)
    return answer


# --- reports and moderation ------------------------------------------------------------------


@transaction.atomic
def content_report(*, item: Moderatable, user: User, reason: str, note: str = "") -> Report:
    """A shopper's abuse report; enough distinct reports hold the item for staff. The seller's
    own people cannot report reviews of their products (reports are not a way to hide them)."""
    _signed_in(user)
    if reason not in ReportReason.values:
        raise ValidationError("Choose a reason.", fields={"reason": ["Choose a listed reason."]})
    note = _text(note, field="note", max_length=NOTE_MAX)
    if item.user_id == user.pk:
        raise PermissionDenied("You cannot report what you wrote.")
    product = item.question.product if isinstance(item, Answer) else item.product
    if isinstance(item, Review) and user_sells(user=user, seller_id=product.seller_id):
        raise PermissionDenied("Contact support about reviews of your products.")
    _throttle(user)
    target = {type(item).__name__.lower(): item}
    try:
        with transaction.atomic():
            report = Report.objects.create(user=user, reason=reason, note=note, **target)
    except IntegrityError:
        raise Conflict("You have already reported this.") from None
    model = type(item)
    locked = model.objects.select_for_update().get(pk=item.pk)
    locked.report_count += 1
    if (
        locked.status == ContentStatus.PUBLISHED
        and locked.report_count >= settings.SHOP_REVIEWS_REPORTS_TO_HOLD
    ):
        locked.status = ContentStatus.HELD
        locked.status_reason = f"Reported by {locked.report_count} shoppers"
    locked.save(update_fields=["report_count", "status", "status_reason", "updated_at"])
    if isinstance(locked, Review) and locked.status != ContentStatus.PUBLISHED:
        product_rating_recount(product_id=locked.product_id)
    return report


@transaction.atomic
def content_moderate(*, item: Moderatable, status: str, reason: str, by: User) -> Moderatable:
    """Staff hide or restore (publish) a review, question or answer, with a reason; its open
    reports are resolved."""
    if status not in (ContentStatus.PUBLISHED, ContentStatus.HIDDEN):
        raise ValidationError("Hide or restore.", fields={"status": ["Hide or restore."]})
    reason = _text(reason, field="status_reason", max_length=300, required=True)
    model = type(item)
    locked = model.objects.select_for_update().get(pk=item.pk)
    locked.status = status
    locked.status_reason = reason
    locked.moderated_by = by
    locked.moderated_at = timezone.now()
    locked.save()
    target = {type(item).__name__.lower(): locked}
    Report.objects.filter(resolved_at__isnull=True, **target).update(resolved_at=timezone.now())
    if isinstance(locked, Review):
        product_rating_recount(product_id=locked.product_id)
    return locked


def review_for_product_get(*, product_id: int, user: User) -> Review:
    try:
        return Review.objects.get(product_id=product_id, user=user)
    except Review.DoesNotExist:
        raise NotFound("Review not found.") from None
