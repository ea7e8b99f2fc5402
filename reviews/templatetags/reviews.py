"""The product page's reviews and questions section, rendered from the reviews app so the
catalog does not import it: `{% load reviews %}{% product_reviews %}`. A fixed number of
queries whatever the number of reviews (pinned by tests/reviews/test_views.py)."""

from __future__ import annotations

from django import template
from django.core.paginator import Paginator

from orders.models import SellerOrder
from reviews.forms import STAR_CHOICES
from reviews.models import ReportReason
from reviews.selectors import (
    REVIEW_SORT_LABELS,
    ReviewSort,
    purchase_completed,
    questions_public,
    rating_summary,
    review_of_user,
    reviews_public,
    seller_rating_summary,
    user_has_bought,
    user_sells,
)
from shop.core.numbers import NumberError, integer_parse

register = template.Library()

REVIEWS_PER_PAGE = 10
QUESTIONS_SHOWN = 20


@register.filter
def bought_by(seller_order: SellerOrder, user) -> bool:
    """The signed-in `user` placed this seller order and it counts as bought: the order page
    offers the review and seller-rating forms."""
    return bool(
        user.is_authenticated
        and seller_order.order.user_id == user.pk
        and purchase_completed(seller_order)
    )


@register.inclusion_tag("storefront/reviews/_section.html", takes_context=True)
def product_reviews(context: template.Context) -> dict:
    request = context["request"]
    product = context["product"]
    params = request.GET
    try:
        sort = ReviewSort(params.get("reviews_sort", ReviewSort.NEWEST))
    except ValueError:
        sort = ReviewSort.NEWEST
    try:
        stars = integer_parse(params.get("stars", ""), min_value=1, max_value=5) or None
    except NumberError:
        stars = None
    with_photos = params.get("with_photos") == "1"
    page = Paginator(
        reviews_public(product_id=product.pk, sort=sort, stars=stars, with_photos=with_photos),
        REVIEWS_PER_PAGE,
    ).get_page(params.get("reviews_page"))
    user = request.user
    own = review_of_user(user=user, product=product) if user.is_authenticated else None
    total = product.rating_count
    distribution = rating_summary(product=product).distribution() if total else []
    return {
        "request": request,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "product": product,
        "page_obj": page,
        "distribution": [
            (n, count, round(100 * count / total) if total else 0) for n, count in distribution
        ],
        "sort": sort,
        "sort_options": REVIEW_SORT_LABELS.items(),
        "stars": stars,
        "star_choices": STAR_CHOICES,
        "with_photos": with_photos,
        "own_review": own,
        "can_review": own is None and user_has_bought(user=user, product=product),
        "is_seller": user_sells(user=user, seller_id=product.seller_id),
        "questions": questions_public(product_id=product.pk)[:QUESTIONS_SHOWN],
        "report_reasons": ReportReason.choices,
    }


@register.inclusion_tag("storefront/reviews/_seller_ratings.html")
def seller_ratings(seller) -> dict:
    return {"summary": seller_rating_summary(seller_id=seller.pk)}
